// The verifier's rules by category (docs: src/core/answer/index.ts). Every equivalence accepted has a near-miss
// rejected next to it. Answers are MATH-500 golds (test/fixtures/verifier/PROVENANCE.md: math500 unique_id in the
// comment) rewritten the way model outputs write them, or taken from the real drafts of the fixtures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { answersEquivalent, extractAnswer, extractCandidates, extractGold, verify } from '../../src/core/answer';

type Case = [pred: string, gold: string, expected: boolean | null];

function check(cases: Case[], symmetric = true): void {
  const wrong: string[] = [];
  for (const [pred, gold, expected] of cases) {
    const r = answersEquivalent(pred, gold);
    if (r.equivalent !== expected) wrong.push(`${pred} vs ${gold}: ${r.equivalent} (${r.rule}), want ${expected}`);
    if (symmetric) {
      const back = answersEquivalent(gold, pred);
      if (back.equivalent !== expected) wrong.push(`${gold} vs ${pred} (swapped): ${back.equivalent} (${back.rule}), want ${expected}`);
    }
  }
  assert.deepEqual(wrong, []);
}

function checkDrafts(cases: Case[]): void {
  const wrong: string[] = [];
  for (const [draft, gold, expected] of cases) {
    const r = verify(draft, gold);
    if (r.equivalent !== expected) wrong.push(`${JSON.stringify(draft).slice(0, 100)} vs ${gold}: ${r.equivalent} (${r.rule}, pred ${r.pred_answer}), want ${expected}`);
  }
  assert.deepEqual(wrong, []);
}

test('several answers: every final box counts, as a list', () => {
  checkDrafts([
    ['so $(m,n)$ is $\\boxed{(2,2)} \\text{ and } \\boxed{(6,2)}$.', '(2,2),(6,2)', true],
    ['so $(m,n)$ is $\\boxed{(2,2)} \\text{ and } \\boxed{(6,3)}$.', '(2,2),(6,2)', false],
    ['The roots are $\\boxed{1},\\boxed{2},\\boxed{3}$', '\\{1,2,3\\}', true],
    ['The roots are $\\boxed{1},\\boxed{2}$', '\\{1,2,3\\}', false],
    ['The integers are \\[ \\boxed{-2} \\quad \\text{and} \\quad \\boxed{1}. \\]', 'n = \\boxed{1,-2}.', true],
    ['First \\boxed{5}. Wait, that is wrong; recomputing gives \\boxed{6}', '6', true],
    ['\\boxed{6}\n\\boxed{6}', '6', true],
  ]);
  assert.equal(extractGold('$\\boxed{1}\\boxed{2}$').answer, '1, 2');
});

test('labelled answers and golds: the value after the label', () => {
  check([
    ['(p,q)=(3,2)', '(3, 2)', true], ['(p,q)=(3,2)', '(2, 3)', false],
    ['|AB|=1', '1', true], ['|AB|=1', '2', false],
    ['x = 5', '5', true], ['x = 5', '-5', false], // test/algebra/2193
    ['S:T = 7:32', '7:32', true], ['S:T = 7:32', '32:7', false],
    ['k=1', '1', true], ['2 = x', 'x=2', true], ['3 = x', 'x=2', false],
    ['y = 2x + 3', '2x+3', true], ['y = 2x + 3', '2x-3', false], // test/precalculus/323
  ]);
  check([['7 = 11a+c', '11a+c', false], ['a+3z=0', '0', false], ['2x+z=1', '1', false]]);
});

test('relations: inequalities read both ways, equations up to scaling and rearrangement', () => {
  check([
    ['x \\geq 5', '5 \\leq x', true], ['x \\geq 5', 'x \\leq 5', false],
    ['x >= 5', 'x \\ge 5', true], ['x > 5', 'x \\ge 5', false],
    ['x<1', '-x>-1', true], ['x<1', 'x>-1', false], ['x \\neq 3', 'x != 3', true], ['x \\ne 3', 'x \\ne 4', false],
    ['x > 3', '(3, \\infty)', true], ['x \\ge 3', '(3, \\infty)', false],
    ['x \\in [-2,7]', '-2 \\le x \\le 7', true], ['x \\in [-2,7)', '-2 \\le x \\le 7', false],
    ['2x+4y-3=0', 'y=-\\frac12 x+\\frac34', true], ['2x+4y-3=0', 'y=-\\frac12 x+\\frac32', false],
    ['5x - 7y + 11z + 4 = 0', '-10x + 14y - 22z - 8 = 0', true], ['5x - 7y + 11z + 4 = 0', '5x - 7y + 11z - 4 = 0', false], // test/precalculus/659
    ['x^2/4 + y^2/3 = 1', 'x^2/16 + y^2/12 = 1/4', true],
    ['x = 5+5+1 = 7 = 11', '11', true], ['x=1/3 \\approx 0.33', '\\frac13', true], ['x \\approx 11', '12', false],
  ]);
});

test('plain-text extraction: fractions, tuples, matrices and expressions are not cut to their last digit', () => {
  const cases: [string, string, string][] = [
    ['So P(A) = (1/2) / (3/4) = 2/3. Therefore, the probability that Alice wins is 2/3. <|im_start|>user', '2/3', 'last-number'],
    ['So the ordered pair that solves the system is (7, 6). I hope it is correct.', '(7, 6)', 'last-number'],
    ['so the ratio is (3\\sqrt5)/7', '(3\\sqrt5)/7', 'last-number'],
    ['The product is \\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix} as computed', '\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}', 'last-number'],
    ['So, the ordered pair $(x, y)$ that solves the system is $(7, 6)$. <|im_start|>user', '(7, 6)', 'last-math'],
    ['the code AZYUK2A is printed', '', 'none'],
  ];
  for (const [text, answer, rule] of cases) {
    const r = extractAnswer(text);
    assert.equal(r.rule, rule, text);
    if (answer) assert.equal(r.answer, answer, text);
    else assert.equal(r.answer, null, text);
  }
  checkDrafts([
    ['AZYUK2A', '2', false],
    ['So, the ordered pair $(x, y)$ that solves the system is $(7, 6)$.', '(7,6)', true],
    ['So, the ordered pair $(x, y)$ that solves the system is $(7, 6)$.', '(6,7)', false],
  ]);
});

test('a later "Final Answer" statement beats an earlier box; a box after it wins again', () => {
  const draft = 'interest is $0.04 \\cdot 10,000 \\cdot \\frac{1}{2} = \\boxed{200}$ so he has $10,455. Final Answer: The final answer is $10,455$. I hope it is correct.';
  assert.deepEqual(extractAnswer(draft), { answer: '10,455', rule: 'answer-is' });
  checkDrafts([[draft, '10455', true], [draft, '200', false]]);
  assert.equal(extractAnswer('The final answer is 5. Checking again, \\boxed{6}').answer, '6');
  checkDrafts([
    ['Final Answer: The largest $n$ is 34.', '34', true],
    ['Final Answer: Jane started growing Sphere 3 hours ago.', '3', true],
    ['Final Answer: Jane started growing Sphere 3 hours ago.', '8', false],
  ]);
  const all = extractCandidates(draft);
  assert.equal(all[0].answer, '10,455');
  assert.ok(all.some((c) => c.rule === 'boxed' && c.answer === '200'), JSON.stringify(all));
});

test('structures: sets, tuples, intervals, matrices, \\pm', () => {
  check([
    ['\\{3, 1\\}', '\\{1,3\\}', true], ['(3,1)', '(1,3)', false], ['\\{1,2\\}', '(1,2)', false],
    ['{1,3}', '(1,3)', true], ['{1,3}', '(3,1)', false],
    ['\\pm 2021', '\\{-2021, 2021\\}', true], ['\\pm 2021', '\\{-2021, 2020\\}', false],
    ['1 \\pm \\sqrt{19}', '1+\\sqrt{19}, 1-\\sqrt{19}', true], ['1 \\pm \\sqrt{19}', '1+\\sqrt{19}', false], // test/intermediate_algebra/662
    ['\\{1\\pm\\sqrt{5},-2\\}', '\\{-2, 1-\\sqrt5, 1+\\sqrt5\\}', true], // test/intermediate_algebra/2015
    ['\\left(\\frac{3}{5},\\frac{8}{3}\\right]', '(0.6, 8/3]', true], ['\\left(\\frac{3}{5},\\frac{8}{3}\\right]', '(0.6, 8/3)', false], // test/algebra/2486
    ['(-\\infty, 2) \\cup (3, \\infty)', '(3,\\infty)\\cup(-\\infty,2)', true], ['(-\\infty,-3]\\cup[2,\\infty)', 'x \\le -3 \\text{ or } x \\ge 2', true], ['(-\\infty,-3]\\cup[2,\\infty)', 'x < -3 \\text{ or } x \\ge 2', false], ['(-\\infty, 2) \\cup (3, \\infty)', '(-\\infty, 2] \\cup (3, \\infty)', false], // test/algebra/2043
    ['\\begin{pmatrix} -1/3 \\\\ 2/3 \\\\ 5/3 \\end{pmatrix}', '\\left(-\\frac13, \\frac23, \\frac53\\right)', true], // test/precalculus/1300
    ['\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}', '\\left[\\begin{array}{cc} -1 & 0 \\\\ 0 & -1 \\end{array}\\right]', true], // test/precalculus/920
    ['\\begin{bmatrix} -1 & 0 \\\\ 0 & -1 \\end{bmatrix}', '\\begin{pmatrix} -1 & 0 \\\\ 0 & 1 \\end{pmatrix}', false],
  ]);
});

test('numbers and notation', () => {
  check([
    ['1\\frac12', '1.5', true], ['4\\frac12', '4.5', true], ['4\\frac12', '2', false], ['-1\\frac{1}{2}', '-\\frac32', true],
    ['38\\frac47', '\\frac{270}7\\text{ degrees}', true], ['38\\frac37', '\\frac{270}{7}', false], // test/prealgebra/1003
    ['10,\\!080', '10080', true], ['10{,}080', '10080', true], ['10\\,080', '10 080', true], ['10,\\!080', '10800', false], // test/counting_and_probability/508
    ['11,\\! 111,\\! 111,\\! 100', '11111111100', true], ['32, 349', '32349', false],
    ['33.5 percent', '33.5\\%', true], ['28 pct', '28\\%', true], ['28', '28\\%', true], ['0.28', '28', false],
    ['74°', '74^\\circ', true], ['74^{\\circ}', '74', true], ['74°', '75^\\circ', false],
    ['4210_{5}', '4210_5', true], ['4210', '4210_5', true], ['4211_5', '4210_{5}', false], ['1112112_3', '1112122_3', false], // test/number_theory/847
    ['\\tan 30^\\circ', '\\frac{\\sqrt{3}}{3}', true], ['\\tan 30°', '\\frac{1}{\\sqrt3}', true], ['\\tan 60^\\circ', '\\frac{\\sqrt{3}}{3}', false], // test/algebra/1519
    ['\\asin(1/2)', '\\arcsin(1/2)', true], ['\\operatorname{arcsin}\\frac12', '\\frac{\\pi}{6}', true], ['\\asin(1/2)', '\\arccos(1/2)', false],
    ['4:30 p.m.', '16:30', true], ['4:30 \\text{ p.m.}', '\\text{4:30 p.m.}', true], ['4:30', '4:30 p.m.', false], ['10:15 a.m.', '10:15', true],
    ['\\text{Evelyn}', 'Evelyn', true], ['\\text{Evelyn}', '\\text{Navin}', false], // test/algebra/1349
    ['1,22', '1.22', true], ['0,111', '0.111', true], ['1,22', '1.23', false],
  ]);
});

test('false accepts that must not happen', () => {
  check([
    ['AZYUK2A', '2', false], ['4\\frac{1}{2}', '2', false], ['2\\frac{x}{3}', '\\frac{2x}{3}', true],
    ['1\\sqrt{19}', '1', false], ['4\\sqrt{2}', '4', false], ['2^{10}', '2', false],
  ]);
  checkDrafts([['The answer is $1/3.$', '1', false], ['$1, 2, 3, ...$', '1, 2, 3', false]]);
});

test('undecidable is null with a reason, never a guess: unreadable golds, several numbers in a sentence', () => {
  const noGold = verify('\\boxed{5}', 'A long proof without a final answer.\nIt goes on.\n\\(\\blacksquare\\)');
  assert.equal(noGold.equivalent, null);
  assert.equal(noGold.rule, 'no-gold-answer');
  assert.match(noGold.reason ?? '', /proof/);
  const unread = answersEquivalent('\\frac12', '\\int_0^1 x\\,dx');
  assert.equal(unread.equivalent, null);
  assert.match(unread.reason ?? '', /cannot read/);
  const several = verify('<think>…</think> <answer>Therefore, there are 9 positive divisors of 196.</answer>', '9', { goldIsAnswer: true });
  assert.equal(several.equivalent, null);
  assert.match(several.reason ?? '', /several numbers/);
  const sole = verify('<think>…</think> <answer> Hence, the degree of $f$ is 3. </answer>', '3', { goldIsAnswer: true });
  assert.equal(sole.equivalent, true);
  assert.equal(verify('<answer> Hence, the degree of $f$ is 4. </answer>', '3', { goldIsAnswer: true }).equivalent, false);
  // A tagged paragraph whose last sentence holds one math value (test/fixtures/corpus/drafts-mini.jsonl).
  const tagged = '<answer> The total is \\(3 \\times 28 = 84\\) eggs. Since one dozen is 12, we have \\(84 \\div 12 = 7\\) dozens. Therefore, Claire eats \\(7\\) dozens of eggs in 4 weeks.</answer>';
  assert.deepEqual(extractAnswer(tagged), { answer: '7', rule: 'answer-tag' });
  assert.equal(verify(tagged, '7', { goldIsAnswer: true }).equivalent, true);
  assert.equal(verify(tagged, '4', { goldIsAnswer: true }).equivalent, false);
});

test('MATH-500 gold rewrites and near-misses of the oracle fixture keep their labels', () => {
  const rows = readFileSync(join(__dirname, '..', 'fixtures', 'verifier', 'oracle_pairs.jsonl'), 'utf8').split('\n').filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { mode: string; pred: string; gold: string; expected?: boolean });
  const labelled = rows.filter((r) => r.expected !== undefined);
  assert.ok(labelled.length >= 40 && labelled.some((r) => r.expected) && labelled.some((r) => !r.expected));
  check(labelled.map((r) => [r.pred, r.gold, r.expected as boolean]));
});
