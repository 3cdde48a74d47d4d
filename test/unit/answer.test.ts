import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  answersEquivalent, extractAnswer, extractGold, normalizeAnswer, verify, convertLatex, findBoxed,
} from '../../src/core/answer';

const FIXTURES = join(__dirname, '..', 'fixtures', 'verifier');

interface PairRow { pred: string; gold: string; expected: boolean | null; note: string; source: string; extract?: boolean }
const pairs = readFileSync(join(FIXTURES, 'pairs.jsonl'), 'utf8').split('\n').filter((l) => l.trim())
  .map((l) => JSON.parse(l) as PairRow);

test('the pairs table holds at least 150 real-world pairs plus the constructed hard negatives', () => {
  const real = pairs.filter((p) => p.source !== 'constructed');
  assert.ok(real.length >= 150, `only ${real.length} real pairs`);
  assert.ok(pairs.some((p) => p.expected === true) && pairs.some((p) => p.expected === false));
});

test('every pair of the table gets its expected verdict', () => {
  const wrong: string[] = [];
  for (const p of pairs) {
    const v = p.extract ? verify(p.pred, p.gold) : answersEquivalent(p.pred, p.gold);
    if (v.equivalent !== p.expected) {
      wrong.push(`[${p.source}] ${p.note}: ${JSON.stringify(p.pred).slice(0, 80)} vs ${JSON.stringify(p.gold).slice(0, 80)} -> ${v.equivalent} (${v.rule})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('equivalence is symmetric on the table', () => {
  for (const p of pairs.filter((x) => !x.extract)) {
    const ab = answersEquivalent(p.pred, p.gold).equivalent;
    const ba = answersEquivalent(p.gold, p.pred).equivalent;
    assert.equal(ab, ba, `${p.pred} vs ${p.gold}`);
  }
});

interface GoldRow { index: number; solution: string; expected_answer: string | null; expected_rule: string }
const golds = readFileSync(join(FIXTURES, 's1k_gold.jsonl'), 'utf8').split('\n').filter((l) => l.trim())
  .map((l) => JSON.parse(l) as GoldRow);

test('gold extraction on real s1K solutions', () => {
  assert.ok(golds.length >= 30);
  for (const g of golds) {
    const r = extractGold(g.solution);
    assert.equal(r.answer, g.expected_answer, `s1K row ${g.index}`);
    assert.equal(r.rule, g.expected_rule, `s1K row ${g.index}`);
    if (r.answer === null) assert.ok(r.reason && r.reason.length > 10, `s1K row ${g.index} has a reason`);
  }
});

test('gold rows without an answer say why: proofs vs worked solutions', () => {
  const proof = golds.find((g) => g.index === 2);
  const worked = golds.find((g) => g.index === 19);
  assert.ok(proof && worked);
  assert.match(extractGold(proof.solution).reason ?? '', /proof/);
  assert.match(extractGold(worked.solution).reason ?? '', /no \\boxed/);
  assert.deepEqual(extractGold('   '), { answer: null, rule: 'none', reason: 'empty solution' });
});

test('gold extraction: boxed with nested braces and \\fbox, ####, answer markers, choices', () => {
  assert.deepEqual(extractGold('so $x = \\boxed{\\frac{\\sqrt{3}}{2}}$ and then \\fbox{\\{1, 2\\}}.'), { answer: '\\{1, 2\\}', rule: 'boxed' });
  assert.deepEqual(extractGold('She has 3 + 4 = <<3+4=7>>7 apples.\n#### 7'), { answer: '7', rule: 'hash' });
  assert.deepEqual(extractGold('Long text. The answer is $\\frac{1}{2}$. Done'), { answer: '\\frac{1}{2}', rule: 'answer-is' });
  assert.deepEqual(extractGold('Reasoning about options.\n\nAnswer: D'), { answer: 'D', rule: 'answer-colon' });
  assert.deepEqual(extractGold('Reasoning about the options at length.\n(C)'), { answer: 'C', rule: 'choice' });
  assert.deepEqual(extractGold('(2,3)'), { answer: '(2,3)', rule: 'bare' });
  // A markdown heading "#### Lemma" is not a GSM8K answer line.
  assert.equal(extractGold('#### Lemma 1\nProof goes on and on.\nMore text here that ends.').rule, 'none');
});

test('draft extraction: the last answer wins when a text changes its mind', () => {
  assert.deepEqual(extractAnswer('First \\boxed{5}. Wait, I made an error. Final: \\boxed{6}'), { answer: '6', rule: 'boxed' });
  assert.deepEqual(extractAnswer('So the answer is 12. Hmm, no: the answer is 15.'), { answer: '15', rule: 'answer-is' });
  assert.deepEqual(extractAnswer('The answer is 4.\nRechecking...\nAnswer: 5'), { answer: '5', rule: 'answer-colon' });
  // An unclosed box (truncated output) is skipped.
  assert.deepEqual(extractAnswer('\\boxed{3} then \\boxed{4'), { answer: '3', rule: 'boxed' });
});

test('draft extraction: markers, final A: line, answer tags, last number, nothing', () => {
  assert.deepEqual(extractAnswer('Janet has 16 - 3 = <<16-3=13>>13 eggs\nA: 26'), { answer: '26', rule: 'answer-colon' });
  assert.deepEqual(extractAnswer('blah </think> The final answer is $\\frac{3}{4}$.'), { answer: '\\frac{3}{4}', rule: 'answer-is' });
  assert.deepEqual(extractAnswer('<think>try 3</think> <answer> 12 </answer>'), { answer: '12', rule: 'answer-tag' });
  assert.deepEqual(extractAnswer('she pays 5 * 2 = <<5*2=10>>10 dollars and then 3 more, so 13'), { answer: '13', rule: 'last-number' });
  assert.deepEqual(extractAnswer('we check if the answer is correct. It costs -7 dollars'), { answer: '-7', rule: 'last-number' });
  assert.deepEqual(extractAnswer('\\frac{1}{2}'), { answer: '\\frac{1}{2}', rule: 'bare' });
  const none = extractAnswer('I do not know how to solve this.');
  assert.equal(none.answer, null);
  assert.equal(none.rule, 'none');
  assert.ok(none.reason);
});

test('verify: no-pred-answer is false, no-gold-answer is null (with a reason), both with their own rule; undecidable is null', () => {
  const noPred = verify('I give up.', '#### 5');
  assert.deepEqual(noPred, { equivalent: false, pred_answer: null, gold_answer: '5', rule: 'no-pred-answer' });
  const noGold = verify('\\boxed{5}', 'A long proof without a final answer.\nIt goes on.\n\\(\\blacksquare\\)');
  assert.equal(noGold.equivalent, null);
  assert.equal(noGold.rule, 'no-gold-answer');
  assert.ok(noGold.reason);
  assert.equal(noGold.pred_answer, '5');
  const bareBoth = verify('0.5', '1/2', { predIsAnswer: true, goldIsAnswer: true });
  assert.deepEqual(bareBoth, { equivalent: true, pred_answer: '0.5', gold_answer: '1/2', rule: 'numeric' });
  // Unknown functions cannot be evaluated and simplify cannot cancel them.
  assert.deepEqual(answersEquivalent('f(x)\\cdot\\Gamma(x)+1', 'f(x)\\cdot\\Gamma(x)+2'), { equivalent: false, rule: 'mismatch' });
});

test('rules name how the verdict was reached', () => {
  const cases: [string, string, string][] = [
    ['42', '42', 'exact'], ['\\dfrac{1}{2}', '\\frac{1}{2}', 'normalized-string'], ['0.5', '\\frac{1}{2}', 'numeric'],
    ['2i+1', '1+2i', 'complex'], ['2(a+1)', '2a+2', 'symbolic'], ['[1,2)', '[1, 2)', 'interval'], ['(1,2,3)', '(1, 2, 3.0)', 'tuple'],
    ['\\{3,1\\}', '\\{1,3\\}', 'set'], ['\\text{(A)}', 'A', 'choice'], ['3', '4', 'mismatch'],
  ];
  for (const [a, b, rule] of cases) assert.equal(answersEquivalent(a, b).rule, rule, `${a} vs ${b}`);
});

test('numeric tolerance stays tight', () => {
  assert.equal(answersEquivalent('0.33', '1/3').equivalent, false);
  assert.equal(answersEquivalent('0.3333', '1/3').equivalent, false);
  assert.equal(answersEquivalent('0.333333333333', '1/3').equivalent, true);
  assert.equal(answersEquivalent('1.4142', '\\sqrt{2}').equivalent, false);
  assert.equal(answersEquivalent('1.41421356237', '\\sqrt{2}').equivalent, true);
  assert.equal(answersEquivalent('1000001', '1000000').equivalent, false);
  assert.equal(answersEquivalent('0.1', '0.10000001').equivalent, false);
});

test('normalisation strips the usual wrappers', () => {
  const cases: [string, string][] = [
    ['$\\boxed{\\dfrac{1}{2}}$', '\\frac{1}{2}'], ['\\left( 3, 4 \\right]', '( 3, 4 ]'], ['\\text{Devon}', 'Devon'],
    ['\\$1{,}000', '1000'], ['48^{\\circ}', '48'], ['x = \\tfrac{3}{4}', '\\frac{3}{4}'], ['5\\!,\\!000', '5000'],
    ['12\\,\\text{cm}^2', '12'], ['100\\text{ square units}', '100'],
  ];
  for (const [raw, norm] of cases) assert.equal(normalizeAnswer(raw).text, norm, raw);
  assert.deepEqual(normalizeAnswer('25\\%'), { text: '25', percent: true });
});

test('LaTeX to mathjs conversion', () => {
  assert.equal(convertLatex('\\frac{1}{2}'), '((1)/(2))');
  assert.equal(convertLatex('\\frac12'), '(1/2)');
  assert.equal(convertLatex('2xy'), '2*x*y');
  assert.equal(convertLatex('\\sqrt[3]{8}'), 'nthRoot((8),3)');
  assert.equal(convertLatex('12\\cdot 3^{2}'), '12*3^(2)');
  assert.equal(convertLatex('\\sin^2 x'), '(sin(x))^(2)');
  assert.equal(convertLatex('|x-1|'), 'abs(x-1)');
  assert.equal(convertLatex('\\int_0^1 x dx'), null);
  assert.equal(convertLatex('4:30'), null);
});

test('findBoxed keeps nested braces and escaped braces', () => {
  assert.deepEqual(findBoxed('a \\boxed{\\frac{1}{\\{2\\}}} b \\boxed 7 c').map((b) => b.answer), ['\\frac{1}{\\{2\\}}', '7']);
});

test('typical numeric pairs are fast (loose floor, the bench measures precisely)', () => {
  const n = 2000;
  const t0 = performance.now();
  for (let k = 0; k < n; k++) answersEquivalent(String(k), `${k}.0`);
  const perSecond = n / ((performance.now() - t0) / 1000);
  assert.ok(perSecond > 2000, `${Math.round(perSecond)} pairs/s`);
});
