/**
 * The DCD answer verifier (docs/SPEC.md §1–2): extracts the final answer of a draft
 * and the gold answer a_gt of an s1K `solution`, and decides whether they are
 * equivalent. Pure core: no `vscode`, no process spawn; mathjs is the CAS.
 * Modules: extract.ts (candidates), normalize.ts (strings), compare.ts (entry,
 * choices), structures.ts (sets, tuples, intervals, matrices, relations),
 * relations.ts (labels, inequalities), scalars.ts (numbers, CAS), numbers.ts
 * (exact literals), latex.ts (LaTeX -> mathjs).
 *
 * `rule` values are stable strings (scripts and corpus lines keep them):
 *
 * | rule                | equivalent | meaning |
 * |---------------------|------------|---------|
 * | `exact`             | true       | identical strings after trimming |
 * | `normalized-string` | true       | identical after normalisation (delimiters, `\text{}`, `\dfrac`, `\left`, spacing, units, degrees, `$`, labels, case for words), or the same clock time |
 * | `numeric`           | true       | equal numbers: exact rationals (mixed numbers `4\frac12` = 4.5), base-n numerals, decimal commas; floats or truncated decimals of non-terminating values within 1e-9 relative; `25\%` also = 0.25 |
 * | `complex`           | true       | equal complex numbers (`3+4i` = `4i+3`) |
 * | `symbolic`          | true       | equal expressions (agree at seeded random points, or mathjs `simplify` of the difference is 0); equations equal up to a non-zero factor, inequalities up to a positive one |
 * | `interval`          | true       | equal intervals/unions, ends open or closed alike (`(3,4)` != `(3,4]`); one-variable inequalities read as intervals |
 * | `tuple`             | true       | equal ordered tuples/points/vectors/matrices/ratios |
 * | `set`               | true       | equal sets, order-insensitive (`\{1,2\}`, "1, 2", several boxes, `\pm`) |
 * | `choice`            | true       | same multiple-choice letter(s): `B`, `(B)`, `\text{(B)}`, `B) 42`, `ACD` |
 * | `mismatch`          | false      | both answers read, not equivalent |
 * | `no-pred-answer`    | false      | no answer could be extracted from the draft: wrong by default (docs/SPEC.md §2), counted separately |
 * | `no-gold-answer`    | null       | no gold answer in the solution (`reason` says why): reported, never graded (docs/SPEC.md §1) |
 * | `undecidable`       | null       | `reason` says why: a side cannot be read as math, a sentence holds several numbers one of which matches, or the CAS cannot decide in its budget |
 *
 * Extraction rules (`extractAnswer`/`extractGold`; `extractCandidates` lists every
 * candidate, best first): inside a final `<answer>…</answer>` first (`answer-tag`);
 * then the later of the box group (`boxed`: the last `\boxed{}`/`\fbox{}` together
 * with the boxes right before it, `\boxed{1},\boxed{2}` -> `1, 2`) and the last
 * "final answer" statement ("Final Answer: The final answer is $X$", rules
 * `answer-is`/`answer-colon`: a text that ends with one after an earlier box has
 * changed its mind); a final `#### N` line (`hash`) or `A: N` line; the last
 * "answer is …" / "Answer: …" statement; a one-line text that is only an answer
 * (`bare`); the last math span `$…$`/`\(…\)`/`\[…\]` (`last-math`) or the last
 * plain-text answer (`last-number`: a number, fraction `2/3`, tuple `(7, 6)`,
 * matrix, `(3\sqrt5)/7`), whichever ends later. A digit glued to a letter
 * (`AZYUK2A`), an exponent (`x^2`) or a coefficient (`3x`) is never a number.
 * `choice` (gold: a final letter line), `none` (with `reason`).
 *
 * Numbers: two terminating decimals/integers compare exactly (37.50 = 37.5,
 * 0.33 != 1/3, 1000001 != 1000000); a float or a truncated decimal of a
 * non-terminating value matches within REL_TOL = 1e-9 relative (0.3333333333 =
 * 1/3, 0.333333 != 1/3); values beyond float range are compared in 64-digit
 * decimals. mathjs `simplify` only sees differences under 160 characters (its
 * time is unbounded); the bench records the slowest pair.
 */
import { clearCompareCaches, compareAnswers, type Equivalence } from './compare';
export { compareAnswers, parseChoice } from './compare';
import { cleanAnswer, extractAnswer, extractGold, type Extraction } from './extract';

export { boxedAnswer, extractAnswer, extractCandidates, extractGold, findBoxed, lastNumber } from './extract';
export type { Candidate, Extraction } from './extract';
export { normalizeAnswer } from './normalize';
export type { NormalizedAnswer } from './normalize';
export { convertLatex } from './latex';
export { REL_TOL } from './compare';

export interface Verification {
  equivalent: boolean | null; pred_answer: string | null; gold_answer: string | null; rule: string;
  /** Why the verdict is null (undecidable, or no gold answer), or why an answer is missing. */
  reason?: string;
}

export interface VerifyOptions {
  /** `pred` is already a bare answer: do not extract. */
  predIsAnswer?: boolean;
  /** `gold` is already a bare answer: do not extract. */
  goldIsAnswer?: boolean;
}

/** Compares two already-extracted answers. */
export function answersEquivalent(a: string, b: string): { equivalent: boolean | null; rule: string; reason?: string } {
  const r: Equivalence = compareAnswers(a, b);
  return r.reason ? { equivalent: r.equivalent, rule: r.rule, reason: r.reason } : { equivalent: r.equivalent, rule: r.rule };
}

const goldCache = new Map<string, Extraction>();
const GOLD_CACHE_MAX = 10000;

/** Empties every verifier cache (gold extractions, parsed answers). */
export function clearVerifierCaches(): void { goldCache.clear(); clearCompareCaches(); }

/** extractGold, memoised: a corpus grades many drafts against the same solution. */
function cachedGold(solution: string): Extraction {
  let g = goldCache.get(solution);
  if (!g) {
    g = extractGold(solution);
    if (goldCache.size >= GOLD_CACHE_MAX) goldCache.clear();
    goldCache.set(solution, g);
  }
  return g;
}

function bare(answer: string): Extraction {
  const a = typeof answer === 'string' ? cleanAnswer(answer) : '';
  return a ? { answer: a, rule: 'bare' } : { answer: null, rule: 'none', reason: 'empty answer' };
}

/**
 * Grades `pred` (a draft, or a bare answer with `predIsAnswer`) against
 * `gold` (an s1K solution, or a bare answer with `goldIsAnswer`).
 */
export function verify(pred: string, gold: string, opts: VerifyOptions = {}): Verification {
  const g = opts.goldIsAnswer ? bare(gold) : cachedGold(gold);
  const p = opts.predIsAnswer ? bare(pred) : extractAnswer(pred);
  // No gold: undecidable (null), never a verdict to train on.
  if (g.answer === null) return { equivalent: null, pred_answer: p.answer, gold_answer: null, rule: 'no-gold-answer', reason: g.reason ?? 'no gold answer' };
  if (p.answer === null) return { equivalent: false, pred_answer: null, gold_answer: g.answer, rule: 'no-pred-answer' };
  const r = compareAnswers(p.answer, g.answer);
  const v: Verification = { equivalent: r.equivalent, pred_answer: p.answer, gold_answer: g.answer, rule: r.rule };
  if (r.reason) v.reason = r.reason;
  return v;
}
