import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compareSamples, diffSide, locateAnswer, wordDiff, type DiffOp } from '../../src/core/trace/draftCompare';
import { getPreset } from '../../src/core/trace/template';
import { splitMath } from '../../webview/workbench/math';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'workbench', 'pairs.dcd.jsonl');
const samples = fs.readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

const sideText = (ops: DiffOp[], side: 'left' | 'right') => diffSide(ops, side).map((p) => p.text).join('');

describe('word diff', () => {
  it('marks the changed words and rebuilds both texts', () => {
    const ops = wordDiff('She sells 9 eggs for $2 each.', 'She sells 7 eggs for $3 each!');
    assert.equal(sideText(ops, 'left'), 'She sells 9 eggs for $2 each.');
    assert.equal(sideText(ops, 'right'), 'She sells 7 eggs for $3 each!');
    assert.deepEqual(ops.filter((o) => o.op === 'delete').map((o) => o.text), ['9', '2', '.']);
    assert.deepEqual(ops.filter((o) => o.op === 'insert').map((o) => o.text), ['7', '3', '!']);
  });

  it('keeps the longest common text: unchanged words stay equal', () => {
    const ops = wordDiff('a b c d e f', 'x b c y e f z');
    const equal = ops.filter((o) => o.op === 'equal').map((o) => o.text).join('');
    assert.equal(equal.replace(/\s/g, ''), 'bcef');
  });

  it('handles empty sides and identical texts', () => {
    assert.deepEqual(wordDiff('', 'new text'), [{ op: 'insert', text: 'new text' }]);
    assert.deepEqual(wordDiff('old', ''), [{ op: 'delete', text: 'old' }]);
    assert.deepEqual(wordDiff('same words', 'same words'), [{ op: 'equal', text: 'same words' }]);
  });

  it('diffs long multi-line drafts word by word and rebuilds both sides', () => {
    const a = Array.from({ length: 400 }, (_, i) => `line ${i} alpha`).join('\n');
    const b = a.replace('line 3 alpha', 'line 3 beta').replace('line 350 alpha', 'line 350 gamma');
    const ops = wordDiff(a, b);
    assert.equal(sideText(ops, 'left'), a);
    assert.equal(sideText(ops, 'right'), b);
    assert.deepEqual(ops.filter((o) => o.op !== 'equal').map((o) => o.text), ['alpha', 'beta', 'alpha', 'gamma']);
  });

  it('diffs real drafts of one question and rebuilds them exactly', () => {
    const ops = wordDiff(samples[0].draft, samples[1].draft);
    assert.equal(sideText(ops, 'left'), samples[0].draft);
    assert.equal(sideText(ops, 'right'), samples[1].draft);
    assert.ok(ops.some((o) => o.op === 'equal') && ops.some((o) => o.op !== 'equal'));
  });
});

describe('pair comparison', () => {
  it('aligns the stages of a draft-correct and a draft-wrong sample', () => {
    const [correct, wrong] = [samples[0], samples[1]];
    const cmp = compareSamples(correct, wrong);
    assert.deepEqual(cmp.stages.map((s) => s.name), ['question', 'draft', 'bridge', 'chain', 'verdict', 'answer']);
    const by = Object.fromEntries(cmp.stages.map((s) => [s.name, s]));
    assert.equal(by.question.identical, true);
    assert.equal(by.chain.identical, true, 'both share the teacher chain');
    assert.equal(by.chain.left, correct.chain);
    assert.equal(by.answer.identical, true);
    assert.equal(by.bridge.identical, true);
    assert.equal(by.draft.identical, false);
    assert.equal(by.verdict.identical, false);
    assert.equal(by.verdict.left, getPreset().verdicts.correct);
    assert.equal(by.verdict.right, getPreset().verdicts.incorrect);
    assert.deepEqual(cmp.parsed, { left: true, right: true });
    assert.ok(cmp.leftAnswer && correct.draft.slice(cmp.leftAnswer.start, cmp.leftAnswer.end) === correct.draft_answer);
    assert.ok(cmp.rightAnswer && wrong.draft.slice(cmp.rightAnswer.start, cmp.rightAnswer.end) === wrong.draft_answer);
  });

  it('uses the fields when the text does not parse as a trace', () => {
    const cmp = compareSamples({ ...samples[0], text: 'not a trace' }, samples[2]);
    assert.deepEqual(cmp.parsed, { left: false, right: true });
    assert.equal(cmp.stages[0].identical, true);
  });

  it('locates an answer by its last occurrence', () => {
    assert.deepEqual(locateAnswer('x = 4, so 2x = 8. Answer: 8', '8'), { start: 26, end: 27 });
    assert.equal(locateAnswer('no answer here', '42'), null);
    assert.equal(locateAnswer('text', null), null);
  });
});

describe('math splitting for KaTeX', () => {
  const kinds = (t: string) => splitMath(t).map((s) => (s.kind === 'text' ? `T:${s.text}` : `${s.display ? 'D' : 'I'}:${s.tex}`));

  it('finds inline and display math with every delimiter', () => {
    assert.deepEqual(kinds('So $x^2$ and $$\\frac12$$ then \\(a\\) and \\[b\\].'),
      ['T:So ', 'I:x^2', 'T: and ', 'D:\\frac12', 'T: then ', 'I:a', 'T: and ', 'D:b', 'T:.']);
    assert.deepEqual(kinds('\\begin{align*}a&=b\\end{align*}'), ['D:\\begin{align*}a&=b\\end{align*}']);
  });

  it('leaves currency, escaped dollars and unclosed math as text', () => {
    assert.deepEqual(kinds('It costs $5 and $6 today.'), ['T:It costs $5 and $6 today.']);
    assert.deepEqual(kinds('Price \\$3 and $ x$'), ['T:Price \\$3 and $ x$']);
    assert.deepEqual(kinds('open $x+1 never closed'), ['T:open $x+1 never closed']);
    assert.deepEqual(kinds('a $x\n\ny$ b'), ['T:a $x\n\ny$ b'], 'no inline math across a blank line');
  });

  it('loses no character: the raw pieces rebuild the text', () => {
    for (const s of samples) {
      const rebuilt = splitMath(s.text).map((seg) => (seg.kind === 'text' ? seg.text : seg.raw)).join('');
      assert.equal(rebuilt, s.text);
    }
    const html = 'x <img src=x onerror=alert(1)> $<script>$';
    assert.equal(splitMath(html).map((seg) => (seg.kind === 'text' ? seg.text : seg.raw)).join(''), html);
  });
});
