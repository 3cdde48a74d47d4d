/**
 * The DCD answer verifier (docs/SPEC.md §1–2): extracts the final answer of a draft
 * and the gold answer a_gt of an s1K `solution`, and decides whether they are
 * equivalent. Pure core: no `vscode`, no process spawn; mathjs is the CAS.
 *
 * `rule` values are stable strings (scripts and corpus lines keep them):
 *
 * | rule                | equivalent | meaning |
 * |---------------------|------------|---------|
 * | `exact`             | true       | identical strings after trimming |
 * | `normalized-string` | true       | identical after normalisation (delimiters, `\text{}`, `\dfrac`, `\left`, spacing, units, degrees, `$`, `x =`, case for words) |
 * | `numeric`           | true       | equal numbers: exact rationals; floats or truncated decimals of non-terminating values within 1e-9 relative; `25\%` also = 0.25 |
 * | `complex`           | true       | equal complex numbers (`3+4i` = `4i+3`) |
 * | `symbolic`          | true       | equal expressions: agree at random points (mathjs), or mathjs `simplify` of the difference is 0 |
 * | `interval`          | true       | equal intervals/unions, ends open or closed alike (`(3,4)` != `(3,4]`) |
 * | `tuple`             | true       | equal ordered tuples/points/vectors/matrices |
 * | `set`               | true       | equal sets, order-insensitive (`\{1,2\}`, "1, 2", `\pm`) |
 * | `choice`            | true       | same multiple-choice letter(s): `B`, `(B)`, `\text{(B)}`, `B) 42`, `ACD` |
 * | `mismatch`          | false      | both answers read, not equivalent |
 * | `no-pred-answer`    | false      | no answer could be extracted from the draft: wrong by default (docs/SPEC.md §2), counted separately |
 * | `no-gold-answer`    | false      | no gold answer in the solution: the row must be reported, never graded (docs/SPEC.md §1) |
 * | `undecidable`       | null       | both are expressions but neither evaluation nor simplification decides |
 *
 * Extraction rules (`extractAnswer`/`extractGold`): `boxed` (last `\boxed{}`/`\fbox{}`),
 * `hash` (a final `#### N` line), `answer-is`, `answer-colon` ("Answer: …", a
 * final `A: …` line), `answer-tag` (drafts: a bare answer in `<answer>…</answer>`),
 * `bare` (a one-line text that is only an answer), `last-number` (drafts only,
 * a weak last resort), `choice` (gold: a final letter line), `none` (with `reason`).
 *
 * Numbers: two terminating decimals/integers compare exactly (37.50 = 37.5,
 * 0.33 != 1/3, 1000001 != 1000000); a float or a truncated decimal of a
 * non-terminating value matches within REL_TOL = 1e-9 relative (0.3333333333 =
 * 1/3, 0.333333 != 1/3); values beyond float range are compared in 64-digit
 * decimals.
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
