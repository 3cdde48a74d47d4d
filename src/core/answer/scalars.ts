/**
 * Equality of two scalar answers: exact rationals, base-n numerals, clock
 * times, prose, then the CAS (mathjs): numeric evaluation (real or complex,
 * 64-digit decimals beyond float range) and symbolic equality by agreement at
 * seeded random points, with mathjs `simplify` of the difference as a last
 * resort, inside a time budget.
 */
import { seededRandom } from '../random';
import type * as MathJs from 'mathjs';
import type { MathJsInstance, MathNode, EvalFunction } from 'mathjs';
import { convertLatex } from './latex';
import { baseNumeral, clockTime, makeRational, numbersIn, parseRational, rationalsEqual, rationalToNumber, soleNumber, type Rational } from './numbers';

export interface Equivalence { equivalent: boolean | null; rule: string; reason?: string }

/** Relative tolerance for values that were computed (floats) or written as truncated decimals. */
export const REL_TOL = 1e-9;
/** Relative tolerance between two expressions evaluated at the same random point. */
const SYMBOLIC_REL_TOL = 1e-8;
const ABS_TOL = 1e-12;
/** Expressions longer than this are not handed to mathjs `simplify` (its time is unbounded). */
const SIMPLIFY_MAX_CHARS = 160;

let mathjsModule: typeof MathJs | undefined;
/**
 * mathjs, loaded on first use: building its typed functions costs about 0.6 s
 * of CPU, which every `dcd` call would otherwise pay at start-up, and most
 * comparisons (exact numbers, structures, prose) never reach the CAS.
 */
function mathjs(): typeof MathJs {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a deferred load (see above); esbuild keeps it lazy
  return (mathjsModule ??= require('mathjs') as typeof MathJs);
}

export const MISMATCH: Equivalence = { equivalent: false, rule: 'mismatch' };
export const undecidable = (reason: string): Equivalence => ({ equivalent: null, rule: 'undecidable', reason });

export interface MathForm { expr: string; fn: EvalFunction; node: MathNode; symbols: string[]; constant?: Val | null }

export interface ScalarInfo {
  text: string;
  compact: string;
  percent: boolean;
  rational: Rational | null;
  /** Non-math prose ("Devon", "INCIDENT ROOM", "True"). */
  isText: boolean;
  /** Lazily computed: undefined = not yet, null = not convertible. */
  math?: MathForm | null;
}

export type Val = { re: number; im: number };

const FUNCTION_WORDS = '(?:sqrt|sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan|asin|acos|atan|sinh|cosh|tanh|ln|log|exp|pi)(?![a-zA-Z])';
/** A word of 4+ letters (not a function name): prose. */
const TEXT_WORD = new RegExp(`(?<![\\\\a-zA-Z])(?!${FUNCTION_WORDS})[A-Za-z]{4,}`);
/** A 3-letter word counts as prose only in a text with no digits or operators ("Yes", "odd"; not "2abc+1"). */
const SHORT_WORD = new RegExp(`(?<![\\\\a-zA-Z])(?!${FUNCTION_WORDS})[A-Za-z]{3}(?![a-zA-Z])`);

function looksLikeText(text: string): boolean {
  if (TEXT_WORD.test(text)) return true;
  return SHORT_WORD.test(text) && !/[\d+\-*/^=\\{}()]/.test(text);
}

const scalarCache = new Map<string, ScalarInfo>();
export const CACHE_MAX = 20000;

export function clearScalarCaches(): void { scalarCache.clear(); bigCache.clear(); }

export function scalarInfo(text: string, percent: boolean): ScalarInfo {
  const key = (percent ? '%' : '') + text;
  let info = scalarCache.get(key);
  if (info) return info;
  const compact = text.replace(/\s+/g, '');
  info = {
    text, compact, percent,
    rational: parseRational(compact.replace(/^\+/, '')),
    isText: looksLikeText(text) || /^(?:no|ok)$/i.test(text),
  };
  if (scalarCache.size >= CACHE_MAX) scalarCache.clear();
  scalarCache.set(key, info);
  return info;
}

function toVal(v: unknown): Val | null {
  if (typeof v === 'number') return { re: v, im: 0 };
  const t = mathjs().typeOf(v);
  if (t === 'Complex') { const c = v as { re: number; im: number }; return { re: c.re, im: c.im }; }
  if (t === 'BigNumber' || t === 'Fraction') return { re: Number(v), im: 0 };
  return null;
}

export function mathForm(info: ScalarInfo): MathForm | null {
  if (info.math !== undefined) return info.math;
  info.math = null;
  const expr = convertLatex(info.text);
  if (expr === null) return null;
  try {
    const node = mathjs().parse(expr);
    const symbols = new Set<string>();
    node.traverse((n, path, parent) => {
      if ((n as { isSymbolNode?: boolean }).isSymbolNode && !(parent && (parent as { isFunctionNode?: boolean }).isFunctionNode && path === 'fn')) {
        const name = (n as unknown as { name: string }).name;
        if (name !== 'e' && name !== 'i' && name !== 'pi' && name !== 'Infinity') symbols.add(name);
      }
    });
    const form: MathForm = { expr, node, fn: node.compile(), symbols: [...symbols].sort() };
    if (!form.symbols.length) {
      try { form.constant = toVal(form.fn.evaluate({})); } catch { form.constant = null; }
    }
    info.math = form;
  } catch {
    info.math = null;
  }
  return info.math;
}

export function valsEqual(a: Val, b: Val, rel: number): boolean {
  if (!Number.isFinite(a.re) || !Number.isFinite(b.re) || !Number.isFinite(a.im) || !Number.isFinite(b.im)) {
    return a.re === b.re && a.im === b.im; // +-Infinity compare exactly; NaN never equal
  }
  const d = Math.hypot(a.re - b.re, a.im - b.im);
  const scale = Math.max(Math.hypot(a.re, a.im), Math.hypot(b.re, b.im));
  return d <= ABS_TOL || d <= rel * scale;
}

function isFiniteVal(v: Val): boolean { return Number.isFinite(v.re) && Number.isFinite(v.im); }

let bigMath: MathJsInstance | null = null;
const bigCache = new Map<string, unknown>();

function bigValue(expr: string): unknown {
  if (bigCache.has(expr)) return bigCache.get(expr);
  bigMath ??= mathjs().create(mathjs().all, { number: 'BigNumber', precision: 64 });
  let v: unknown = null;
  try {
    v = bigMath.evaluate(expr) as unknown;
    if (mathjs().typeOf(v) !== 'BigNumber') v = null;
  } catch { v = null; }
  if (bigCache.size >= 1000) bigCache.clear();
  bigCache.set(expr, v);
  return v;
}

/** Equality of two constant expressions in 64-digit decimals (for values beyond floats); null if not real numbers. */
function bigEqual(exprA: string, exprB: string): boolean | null {
  const a = bigValue(exprA);
  const b = bigValue(exprB);
  if (a === null || b === null) return null;
  try {
    type Dec = { minus(x: Dec): Dec; abs(): Dec; lte(x: Dec): boolean; times(x: number): Dec; isFinite(): boolean; gt(x: Dec): boolean };
    const x = a as Dec; const y = b as Dec;
    if (!x.isFinite() || !y.isFinite()) return null;
    const scale = x.abs().gt(y.abs()) ? x.abs() : y.abs();
    return x.minus(y).abs().lte(scale.times(REL_TOL));
  } catch {
    return null;
  }
}

/** Percent answers are also accepted at value/100 ("25%" = 0.25). */
function percentVariants(v: Val, percent: boolean): Val[] {
  return percent ? [v, { re: v.re / 100, im: v.im / 100 }] : [v];
}

/**
 * The values of both expressions at up to 12 pseudo-random points (a fixed
 * seed, so verdicts are reproducible), skipping points where either fails to
 * evaluate. Points in [0.2, 3.2) avoid the usual poles at 0 and keep roots
 * real where the answer's domain is positive.
 */
function* valuesAtRandomPoints(a: MathForm, b: MathForm, names: string[], seed: number): Generator<[Val | null, Val | null]> {
  const rand = seededRandom(seed);
  for (let k = 0; k < 12; k++) {
    const scope: Record<string, number> = {};
    for (const n of names) scope[n] = 0.2 + 3 * rand();
    try { yield [toVal(a.fn.evaluate(scope)), toVal(b.fn.evaluate(scope))]; } catch { continue; }
  }
}

function symbolicEqual(a: MathForm, b: MathForm): boolean | null {
  const names = [...new Set([...a.symbols, ...b.symbols])];
  let agree = 0;
  for (const [va, vb] of valuesAtRandomPoints(a, b, names, 0x5eed)) {
    if (agree >= 6) break;
    if (!va || !vb || Number.isNaN(va.re) || Number.isNaN(vb.re)) continue;
    if (!valsEqual(va, vb, SYMBOLIC_REL_TOL)) return false;
    agree++;
  }
  if (agree >= 3) return true;
  const text = `(${a.node.toString()}) - (${b.node.toString()})`;
  if (text.length > SIMPLIFY_MAX_CHARS) return null; // time budget: simplify is unbounded
  try {
    if (mathjs().simplify(text).toString() === '0') return true;
  } catch { /* fall through */ }
  return null;
}

/**
 * Whether two expressions are constant non-zero multiples of each other
 * (equations L-R = 0; with `positive`, inequalities f > 0, where only a
 * positive factor keeps the direction).
 */
export function proportional(a: MathForm, b: MathForm, positive = false): boolean | null {
  const names = [...new Set([...a.symbols, ...b.symbols])];
  if (!names.length) return null;
  let ratio: Val | null = null;
  let agree = 0;
  for (const [va, vb] of valuesAtRandomPoints(a, b, names, 0xe9a7)) {
    if (agree >= 6) break;
    if (!va || !vb || !Number.isFinite(va.re) || !Number.isFinite(vb.re) || va.im !== 0 || vb.im !== 0) continue;
    if (Math.abs(va.re) < 1e-9 || Math.abs(vb.re) < 1e-9) continue;
    const r = { re: va.re / vb.re, im: 0 };
    if (ratio === null) ratio = r;
    else if (!valsEqual(ratio, r, SYMBOLIC_REL_TOL)) return false;
    agree++;
  }
  if (agree < 3 || !ratio) return null;
  return positive ? ratio.re > 0 : true;
}

/** Letters that are free variables (not commands, not e/i): the answer is an expression, not a value. */
export function hasFreeVariables(s: string): boolean {
  const t = s.replace(/\\[a-zA-Z]+/g, ' ').replace(/(?<![a-zA-Z])(?:sqrt|sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan|asin|acos|atan|ln|log|exp|pi)(?![a-zA-Z])/g, ' ');
  return /(?<![a-zA-Z])(?:[a-df-hj-zA-Z]|[a-zA-Z]{2})(?![a-zA-Z])/.test(t);
}

export function compareScalars(a: ScalarInfo, b: ScalarInfo): Equivalence {
  if (a.compact === b.compact && a.percent === b.percent) return { equivalent: true, rule: 'normalized-string' };
  if (a.rational && b.rational) {
    if (rationalsEqual(a.rational, b.rational)) return { equivalent: true, rule: 'numeric' };
    if (a.percent !== b.percent) {
      const [p, q] = a.percent ? [a.rational, b.rational] : [b.rational, a.rational];
      const scaled = makeRational(p.n, p.d * 100n);
      if (scaled && rationalsEqual(scaled, q)) return { equivalent: true, rule: 'numeric' };
    }
    return MISMATCH;
  }
  // Base-n numerals (`204_5`): equal values when both are numerals; a numeral is not its decimal value's spelling.
  const na = baseNumeral(a.compact);
  const nb = baseNumeral(b.compact);
  if (na || nb) {
    // `4210` for `4210_5`: the same digits, the base being the one the question asked for.
    if (na && !nb && b.rational && /^\d+$/.test(b.compact)) return na.digits === b.compact ? { equivalent: true, rule: 'normalized-string' } : MISMATCH;
    if (nb && !na && a.rational && /^\d+$/.test(a.compact)) return nb.digits === a.compact ? { equivalent: true, rule: 'normalized-string' } : MISMATCH;
    if (na && nb) return na.value === nb.value && (na.base === nb.base || na.digits === nb.digits) ? { equivalent: true, rule: 'numeric' } : MISMATCH;
    return MISMATCH;
  }
  const ta = clockTime(a.text);
  const tb = clockTime(b.text);
  if (ta !== null && tb !== null) return ta === tb ? { equivalent: true, rule: 'normalized-string' } : MISMATCH;
  if (a.isText || b.isText) {
    // "64 square inches" or "the bag cost 220" against a number: that number.
    const ra = a.rational ?? (a.isText ? soleNumber(a.text) : null);
    const rb = b.rational ?? (b.isText ? soleNumber(b.text) : null);
    if (ra && rb && (a.isText !== b.isText)) {
      return rationalsEqual(ra, rb) ? { equivalent: true, rule: 'numeric' } : MISMATCH;
    }
    // A sentence with several numbers, one of them the other answer's: which one it states cannot be told.
    const [prose, value] = a.isText ? [a, b.rational] : [b, a.rational];
    const other = a.isText ? b : a;
    if (a.isText !== b.isText && ((value && numbersIn(prose.text).some((r) => rationalsEqual(r, value))) ||
        (other.compact.length >= 3 && prose.compact.includes(other.compact)))) {
      return undecidable('a sentence with several numbers or values, one of them equal to the other answer');
    }
    const fold = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
    if (a.isText && b.isText && fold(a.text) === fold(b.text)) return { equivalent: true, rule: 'normalized-string' };
    return MISMATCH;
  }
  const ma = mathForm(a);
  const mb = mathForm(b);
  if (!ma || !mb) {
    if (a.compact.toLowerCase() === b.compact.toLowerCase() && a.percent === b.percent) return { equivalent: true, rule: 'normalized-string' };
    // A number against a time or ratio we could not read: different kinds of answer.
    if ((ma && !ma.symbols.length && ta !== null) || (mb && !mb.symbols.length && tb !== null)) return MISMATCH;
    const unread = !ma ? a.text : b.text;
    return undecidable(`cannot read ${JSON.stringify(unread.length > 60 ? unread.slice(0, 57) + '...' : unread)} as math`);
  }
  if (!ma.symbols.length && !mb.symbols.length) {
    const va = ma.constant ?? (a.rational ? { re: rationalToNumber(a.rational), im: 0 } : null);
    const vb = mb.constant ?? (b.rational ? { re: rationalToNumber(b.rational), im: 0 } : null);
    if (!va || !vb) return undecidable('a constant did not evaluate to a number');
    if (!isFiniteVal(va) || !isFiniteVal(vb)) {
      // Written infinities compare as such; overflow (2^{5000}, \binom{4019}{2011}) is redone in 64-digit decimals.
      if (/\\infty/.test(a.text + b.text)) return va.re === vb.re && va.im === vb.im ? { equivalent: true, rule: 'numeric' } : MISMATCH;
      // A float overflow (+-Infinity) against a finite float cannot be equal.
      if ((Math.abs(va.re) === Infinity && isFiniteVal(vb)) || (Math.abs(vb.re) === Infinity && isFiniteVal(va))) return MISMATCH;
      const big = bigEqual(ma.expr, mb.expr);
      if (big === null) return undecidable('values beyond float range that 64-digit decimals cannot compare');
      return big ? { equivalent: true, rule: 'numeric' } : MISMATCH;
    }
    const complex = Math.abs(va.im) > ABS_TOL || Math.abs(vb.im) > ABS_TOL;
    for (const x of percentVariants(va, a.percent && !b.percent)) {
      for (const y of percentVariants(vb, b.percent && !a.percent)) {
        if (valsEqual(x, y, REL_TOL)) return { equivalent: true, rule: complex ? 'complex' : 'numeric' };
      }
    }
    return MISMATCH;
  }
  const eq = symbolicEqual(ma, mb);
  if (eq === null) return undecidable('neither evaluation at random points nor simplification decides');
  return eq ? { equivalent: true, rule: 'symbolic' } : MISMATCH;
}
