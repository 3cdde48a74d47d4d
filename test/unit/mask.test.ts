import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  IGNORE_INDEX, labelsFor, packLayout, summarizeMask, tokensOverlapping, traceLayout, unpackLayout, type TraceLayout,
} from '../../src/core/trace/mask';
import { renderTrace } from '../../src/core/trace/template';
import { engineFor, resolveTokenizerSource, tokenizeTraceWith, type TokenEngine } from '../../src/core/tokenizer';
import { fixtureCorpus } from '../fixtures/tokenizer/oracle';

let engine: TokenEngine;
before(async () => { engine = engineFor(await resolveTokenizerSource()); });

const offs = (...spans: Array<[number, number]>): Int32Array => Int32Array.from(spans.flat());

test('tokensOverlapping: tokens that touch a character span, boundaries included or not', () => {
  const o = offs([0, 3], [3, 5], [5, 9], [9, 10]);
  assert.deepEqual(tokensOverlapping(o, { start: 3, end: 5 }), [1, 2]);
  assert.deepEqual(tokensOverlapping(o, { start: 4, end: 6 }), [1, 3]);
  assert.deepEqual(tokensOverlapping(o, { start: 0, end: 10 }), [0, 4]);
  assert.deepEqual(tokensOverlapping(o, { start: 5, end: 5 }), [2, 2]);
  // A character split over two tokens (same span) belongs to both.
  assert.deepEqual(tokensOverlapping(offs([0, 1], [1, 2], [1, 2], [2, 3]), { start: 1, end: 2 }), [1, 3]);
});

const layout: TraceLayout = { tokens: 100, thinkStart: 10, draft: [13, 40], verdict: [80, 90], answer: [90, 100] };

test('labels: paper trains from the think tag to the end, mask-draft also masks the draft', () => {
  const ids = Int32Array.from({ length: 100 }, (_, i) => 1000 + i);
  const paper = labelsFor(ids, layout, 'paper', 1000);
  assert.equal(paper.length, 100);
  for (let i = 0; i < 100; i++) assert.equal(paper[i], i >= 10 ? ids[i] : IGNORE_INDEX, `paper label ${i}`);
  const md = labelsFor(ids, layout, 'mask-draft', 1000);
  for (let i = 0; i < 100; i++) assert.equal(md[i], i >= 10 && !(i >= 13 && i < 40) ? ids[i] : IGNORE_INDEX, `mask-draft label ${i}`);
  assert.deepEqual(summarizeMask(layout, 'paper', 1000), { tokens: 100, trained: 90, flags: { truncated: false, verdict_cut: false, answer_cut: false, zero_trained: false } });
  assert.equal(summarizeMask(layout, 'mask-draft', 1000).trained, 63);
});

test('truncation cuts from the end and flags what it cuts', () => {
  const ids = Int32Array.from({ length: 100 }, (_, i) => i);
  assert.equal(labelsFor(ids, layout, 'paper', 95).length, 95);
  assert.deepEqual(summarizeMask(layout, 'paper', 95).flags, { truncated: true, verdict_cut: false, answer_cut: true, zero_trained: false });
  assert.deepEqual(summarizeMask(layout, 'paper', 85).flags, { truncated: true, verdict_cut: true, answer_cut: true, zero_trained: false });
  assert.equal(summarizeMask(layout, 'paper', 85).trained, 75);
  assert.equal(summarizeMask(layout, 'paper', 100).flags.truncated, false);
  // Cut inside the draft: mask-draft trains only the 3 tokens before it.
  assert.equal(summarizeMask(layout, 'mask-draft', 30).trained, 3);
  // Cut before the think tag: nothing trained.
  const zero = summarizeMask(layout, 'paper', 10);
  assert.equal(zero.trained, 0);
  assert.ok(zero.flags.zero_trained && zero.flags.verdict_cut);
  assert.ok(labelsFor(ids, layout, 'paper', 10).every((l) => l === IGNORE_INDEX));
  // mask-draft with an empty answer... and a trace whose only trained tokens are the draft's.
  const onlyDraft: TraceLayout = { tokens: 20, thinkStart: 10, draft: [10, 20], verdict: [20, 20], answer: [20, 20] };
  assert.equal(summarizeMask(onlyDraft, 'mask-draft', 100).flags.zero_trained, true);
  assert.equal(summarizeMask(onlyDraft, 'paper', 100).flags.zero_trained, false);
});

test('packed layouts round-trip', () => {
  assert.deepEqual(unpackLayout(packLayout(layout)), layout);
});

test('real traces: the mask starts at the <|im_start|> of the think tag and ends with the final <|im_end|>', () => {
  for (const s of fixtureCorpus()) {
    const t = tokenizeTraceWith(engine, s.text, { maxLength: 1_000_000 });
    const { rendered, layout: l } = t;
    assert.equal(t.ids[l.thinkStart], 151644, `${s.id}: <|im_start|> opens the trained part`);
    assert.equal(t.offsets[2 * l.thinkStart], rendered.thinkStart);
    assert.equal(s.text.slice(t.offsets[2 * (l.thinkStart + 1)], t.offsets[2 * (l.thinkStart + 1) + 1]), 'think');
    assert.equal(t.ids[t.ids.length - 1], 151645, 'the final <|im_end|> is the last token');
    assert.equal(t.labels[t.labels.length - 1], 151645, 'and it is trained');
    // System, user and the assistant header: all masked; "assistant\n" is right before the think tag.
    for (let i = 0; i < l.thinkStart; i++) assert.equal(t.labels[i], IGNORE_INDEX);
    assert.equal(s.text.slice(t.offsets[2 * (l.thinkStart - 2)], t.offsets[2 * (l.thinkStart - 1) + 1]), 'assistant\n');
    for (let i = l.thinkStart; i < t.ids.length; i++) assert.equal(t.labels[i], t.ids[i]);
    // The verdict tokens spell the verdict sentence; the answer stage starts with <|im_start|> then "answer".
    const vStart = t.offsets[2 * l.verdict[0]], vEnd = t.offsets[2 * (l.verdict[1] - 1) + 1];
    assert.ok(s.text.slice(vStart, vEnd).includes(s.text.slice(rendered.regions.verdict.start, rendered.regions.verdict.end)));
    assert.equal(t.ids[l.answer[0]], 151644);
    assert.equal(t.offsets[2 * l.answer[0]], rendered.answerTagStart);
    assert.equal(t.trainedTokens, t.ids.length - l.thinkStart);
  }
});

test('real traces, mask-draft: exactly the tokens that overlap the draft are masked after the think tag', () => {
  for (const s of fixtureCorpus()) {
    const t = tokenizeTraceWith(engine, s.text, { policy: 'mask-draft', maxLength: 1_000_000 });
    const d = t.rendered.regions.draft;
    let trained = 0;
    for (let i = 0; i < t.ids.length; i++) {
      const overlapsDraft = t.offsets[2 * i + 1] > d.start && t.offsets[2 * i] < d.end;
      const expected = i >= t.layout.thinkStart && !overlapsDraft ? t.ids[i] : IGNORE_INDEX;
      assert.equal(t.labels[i], expected, `${s.id} token ${i}`);
      if (expected !== IGNORE_INDEX) trained++;
    }
    assert.equal(t.trainedTokens, trained);
    assert.ok(t.layout.draft[1] - t.layout.draft[0] > 0);
  }
});

test('real traces: truncation flags on a 34k-token trace and on small max_length', () => {
  const long = fixtureCorpus().find((s) => s.id === '534935f53a641871')!;
  const t = tokenizeTraceWith(engine, long.text);
  assert.equal(t.ids.length, 32768);
  assert.ok(t.totalTokens > 32768);
  assert.deepEqual(t.flags, { truncated: true, verdict_cut: true, answer_cut: true, zero_trained: false });
  // Keep the verdict, cut the answer.
  const keepVerdict = tokenizeTraceWith(engine, long.text, { maxLength: t.layout.verdict[1] });
  assert.deepEqual(keepVerdict.flags, { truncated: true, verdict_cut: false, answer_cut: true, zero_trained: false });
  // Cut right before the think tag: nothing trained.
  const none = tokenizeTraceWith(engine, long.text, { maxLength: t.layout.thinkStart });
  assert.equal(none.flags.zero_trained, true);
  assert.ok(none.labels.every((l) => l === IGNORE_INDEX));
});

test('an empty draft leaves an empty draft range; both policies then train the same tokens', () => {
  const { text } = renderTrace({ question: 'What is 1+1?', draft: '', chain: 'Compute: 1+1=2.', verdict: 'incorrect', final_answer: '2' });
  const a = tokenizeTraceWith(engine, text, { policy: 'paper' });
  const b = tokenizeTraceWith(engine, text, { policy: 'mask-draft' });
  assert.equal(a.layout.draft[0], a.layout.draft[1]);
  assert.deepEqual(Array.from(a.labels), Array.from(b.labels));
  assert.equal(traceLayout(a.offsets, a.rendered).tokens, a.ids.length);
});
