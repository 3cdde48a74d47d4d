/**
 * The Eval Samples view's comparison with another run (src/eval/samplesCompare.ts, the compare
 * request handlers of src/eval/uriRequests.ts) driven through the real webview protocol endpoint,
 * on real lm-eval logs (test/fixtures/lmeval-dcd, test/fixtures/lmeval).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { Endpoint, type Envelope } from '../../src/core/protocols/endpoint';
import type { EvalComparison, EvalSamplesHostApi, EvalSamplesWebviewApi } from '../../src/core/protocols/eval';
import { OfferedUris } from '../../src/core/protocols/offeredUris';
import { parseSamplesJsonl } from '../../src/core/eval/samples';
import { comparableTasks, comparedPair, comparisonView, holdComparison, type HeldComparison } from '../../src/eval/samplesCompare';
import { compareUriHandlers } from '../../src/eval/uriRequests';

const DCD_FIX = path.join(__dirname, '../fixtures/lmeval-dcd');
const FIX = path.join(__dirname, '../fixtures/lmeval');

function log(dir: string, prefix: string): { file: string; text: string } {
  const name = readdirSync(dir).find((f) => f.startsWith(prefix))!;
  return { file: path.join(dir, name), text: readFileSync(path.join(dir, name), 'utf8') };
}
const baseDir = path.join(DCD_FIX, 'base_seed1', 'Qwen__Qwen2.5-1.5B-Instruct');
const dcdDir = path.join(DCD_FIX, 'dcd_seed1', 'runs__dcd-1__final');

function held(): HeldComparison {
  const a = log(baseDir, 'samples_gsm8k_');
  const b = log(dcdDir, 'samples_dcd_gsm8k_');
  return holdComparison(
    { task: 'gsm8k', file: 'base/samples_gsm8k.jsonl', parse: parseSamplesJsonl(a.text, path.basename(a.file)), label: 'base/samples_gsm8k.jsonl', model: 'Qwen__Qwen2.5-1.5B-Instruct' },
    { task: 'dcd_gsm8k', file: 'dcd/samples_dcd_gsm8k.jsonl', parse: parseSamplesJsonl(b.text, path.basename(b.file)), label: 'dcd/samples_dcd_gsm8k.jsonl', model: 'runs__dcd-1__final', uri: `file://${b.file}` },
  );
}

/** A host and a webview joined by the real endpoint; the webview side is what a hostile page controls. */
function connectPair(h: HeldComparison, offered: OfferedUris, compared: string[]) {
  // eslint-disable-next-line prefer-const
  let view: Endpoint<EvalSamplesWebviewApi, EvalSamplesHostApi>;
  const events: Array<EvalComparison | null> = [];
  const host = new Endpoint<EvalSamplesHostApi, EvalSamplesWebviewApi>((m: Envelope) => { void view.receive(JSON.parse(JSON.stringify(m))); }, {
    getInit: () => { throw new Error('unused'); },
    getSample: () => { throw new Error('unused'); },
    similar: () => { throw new Error('unused'); },
    pickCorpus: () => { throw new Error('unused'); },
    openCorpusSample: () => { throw new Error('unused'); },
    pickComparison: () => null,
    getPair: ({ docId }) => comparedPair(h, docId),
    clearComparison: () => ({}),
    ...compareUriHandlers(offered, {
      candidates: async () => [{ uri: h.b.uri, label: h.b.label, task: h.b.task }],
      compare: async (uri) => { compared.push(uri); return comparisonView(h); },
    }),
  }, {});
  view = new Endpoint<EvalSamplesWebviewApi, EvalSamplesHostApi>((m) => { void host.receive(JSON.parse(JSON.stringify(m))); }, {}, {
    init: () => undefined, select: () => undefined, comparison: (c) => { events.push(c); },
  });
  return { host, view, events };
}

test('the comparison the view lists: flips with both answers, graded per side', () => {
  const h = held();
  const v = comparisonView(h);
  assert.deepEqual([v.a.task, v.b.task, v.gradingA, v.gradingB, v.filterA], ['gsm8k', 'dcd_gsm8k', 'logged', 'dcd-verify', 'strict-match']);
  assert.equal(v.matched, 6);
  assert.equal(v.bothRight + v.bothWrong + v.wrongToRight.length + v.rightToWrong.length, 6);
  assert.ok(v.wrongToRight.length + v.rightToWrong.length > 0, 'the fixtures flip some questions');
  for (const f of [...v.wrongToRight, ...v.rightToWrong]) {
    assert.notEqual(f.a.correct, f.b.correct);
    assert.ok(f.preview.length > 0 && !f.preview.includes('\n'));
    assert.ok(f.b.rule, 'the verifier says which rule decided');
  }
  assert.ok(comparableTasks('gsm8k', 'dcd_gsm8k'));
  assert.ok(!comparableTasks('gsm8k', 'dcd_aime24'));
  assert.ok(comparableTasks('openai_math', 'openai_math'));
});

test('the side-by-side pair: both generations, stage segments, the text after the answer tag', () => {
  const h = held();
  const v = comparisonView(h);
  const f = [...v.wrongToRight, ...v.rightToWrong][0];
  const p = comparedPair(h, f.docId);
  assert.equal(p.docId, f.docId);
  assert.equal(p.a.model, 'Qwen__Qwen2.5-1.5B-Instruct');
  assert.ok(p.a.output.includes('####'));
  assert.equal(p.a.answerSection, null, 'the base model writes no answer tag');
  assert.ok(p.b.output.startsWith('<|im_start|>think'));
  assert.ok(p.b.segments.some((s) => s.region === 'final_answer' || s.region === 'tag'));
  assert.equal(p.a.correct, f.a.correct);
  assert.equal(p.b.correct, f.b.correct);
  const notFlipped = parseSamplesJsonl(log(baseDir, 'samples_gsm8k_').text).rows.map((r) => r.docId!).find((d) => ![...v.wrongToRight, ...v.rightToWrong].some((x) => x.docId === d));
  if (notFlipped !== undefined) assert.throws(() => comparedPair(h, notFlipped), /not among the questions that flipped/);
});

test('over the protocol: candidates are offered, only offered logs are compared, pairs come back as data', async () => {
  const h = held();
  const offered = new OfferedUris();
  const compared: string[] = [];
  const { view } = connectPair(h, offered, compared);
  // before any candidate was sent, nothing can be compared: not the fixture, not a path escape
  for (const uri of [h.b.uri, 'file:///etc/passwd', `${h.b.uri}/../../../../etc/passwd`, 'https://example.com/x.jsonl']) {
    await assert.rejects(view.request('compareWith', { uri }), /is not a file this view offered/);
  }
  assert.deepEqual(compared, []);
  const list = await view.request('compareCandidates', {});
  assert.deepEqual(list.map((c) => c.task), ['dcd_gsm8k']);
  const c = await view.request('compareWith', { uri: list[0].uri });
  assert.deepEqual(compared, [h.b.uri]);
  assert.equal(c.b.label, 'dcd/samples_dcd_gsm8k.jsonl');
  const first = [...c.wrongToRight, ...c.rightToWrong][0];
  const pair = await view.request('getPair', { docId: first.docId });
  assert.equal(typeof pair.a.output, 'string');
  await assert.rejects(view.request('getPair', { docId: 999999 }), /not among the questions that flipped/);
  assert.deepEqual(await view.request('clearComparison', {}), {});
});

test('hostile text in a log stays data: it travels as strings, never as markup the view would run', async () => {
  const a = log(path.join(FIX, 'gemma3-12b-it-q4_K_M_base_gsm8k5shot'), 'samples_gsm8k_');
  const b = log(path.join(FIX, 'gemma3-12b-u1_tuned_gsm8k5shot'), 'samples_gsm8k_');
  const evil = '<img src=x onerror=alert(1)><script>alert(2)</script>';
  const bText = b.text.split('\n').filter(Boolean).map((l) => {
    const v = JSON.parse(l);
    if (v.doc_id === 18) v.resps = [[`${evil}\n#### 3.5`]];
    return JSON.stringify(v);
  }).join('\n');
  const h = holdComparison(
    { task: 'gsm8k', file: 'a', parse: parseSamplesJsonl(a.text), label: 'a', model: null },
    { task: 'gsm8k', file: 'b', parse: parseSamplesJsonl(bText), label: evil, model: evil, uri: 'file:///ws/b/samples_gsm8k_2025-01-01T00-00-00.jsonl' },
  );
  const { view } = connectPair(h, new OfferedUris(), []);
  const pair = await view.request('getPair', { docId: 18 });
  assert.ok(pair.b.output.startsWith(evil), 'delivered verbatim, as text');
  assert.equal(pair.b.model, evil);
  // the webview sets every such string with textContent: no innerHTML anywhere in the view's source
  const src = readFileSync(path.join(__dirname, '../../webview/evalSamples/main.ts'), 'utf8');
  assert.ok(!/innerHTML|outerHTML|insertAdjacentHTML|document\.write/.test(src));
});
