/**
 * Equivalence of two extracted answers, the entry point: multiple-choice
 * letters first, then the structures (structures.ts: sets, tuples, intervals,
 * matrices, relations), which end in scalars (scalars.ts: exact rationals, the
 * CAS). Parsed answers are cached: a corpus grades many drafts against one gold.
 */
import { normalizeAnswer, type NormalizedAnswer } from './normalize';
import { CACHE_MAX, clearScalarCaches, MISMATCH, type Equivalence } from './scalars';
import { compareStructs, parseStruct, type Struct } from './structures';

export { REL_TOL, type Equivalence } from './scalars';
export { parseRational } from './numbers';

interface Choice { letters: string; pure: boolean }

/** Multiple-choice answers: `B`, `(B)`, `\text{(B)}` (already unwrapped), `B) 42`, `(B) 42`, `Option B`, `ACD`, `A, C`. */
export function parseChoice(text: string): Choice | null {
  const t = text.replace(/\*\*/g, '').trim();
  let m = /^(?:(?:option|choice)\s*:?\s*)?\(?([A-J])\)?$/i.exec(t);
  if (m && /[A-J]/.test(m[1])) return { letters: m[1], pure: true };
  m = /^\(([A-J])\)\s*\S|^([A-J])\)\s*\S|^([A-J])[.:]\s+\S/.exec(t);
  if (m) return { letters: m[1] ?? m[2] ?? m[3], pure: false };
  const t2 = t.replace(/\band\b/g, ' ');
  if (/^[\sA-J(),&]+$/.test(t2)) {
    const letters = t2.replace(/[^A-J]/g, '');
    const separated = /[\s,&()]/.test(t2.trim());
    const sorted = [...letters].sort().join('');
    if (letters.length >= 2 && new Set(letters).size === letters.length && (separated || sorted === letters)) {
      return { letters: sorted, pure: true };
    }
  }
  return null;
}

/** Empties the parse caches (benchmarks measure cold runs with it). */
export function clearCompareCaches(): void { structCache.clear(); clearScalarCaches(); }

const structCache = new Map<string, { norm: NormalizedAnswer; struct: Struct; choice: Choice | null }>();

function prepared(answer: string) {
  let p = structCache.get(answer);
  if (!p) {
    const norm = normalizeAnswer(answer);
    p = { norm, struct: parseStruct(norm.text, norm.percent), choice: parseChoice(norm.text) };
    if (structCache.size >= CACHE_MAX) structCache.clear();
    structCache.set(answer, p);
  }
  return p;
}

/** Compares two already-extracted answers. */
export function compareAnswers(a: string, b: string): Equivalence {
  const x = a.trim();
  const y = b.trim();
  if (x === y && x !== '') return { equivalent: true, rule: 'exact' };
  const pa = prepared(x);
  const pb = prepared(y);
  if (pa.choice && pb.choice) return pa.choice.letters === pb.choice.letters ? { equivalent: true, rule: 'choice' } : MISMATCH;
  if ((pa.choice?.pure && !pb.choice) || (pb.choice?.pure && !pa.choice)) {
    // A choice letter against something that is not one: only an identical normalised form can match.
    return pa.norm.text === pb.norm.text ? { equivalent: true, rule: 'normalized-string' } : MISMATCH;
  }
  if (!pa.norm.text || !pb.norm.text) return MISMATCH;
  return compareStructs(pa.struct, pb.struct);
}
