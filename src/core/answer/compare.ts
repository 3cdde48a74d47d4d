/**
 * Equivalence of two extracted answers: structure (choice letters, intervals,
 * tuples, sets, unions), then scalars: exact rationals, numeric evaluation
 * (real or complex) and symbolic equality by random-point evaluation with
 * mathjs (plus mathjs `simplify` where evaluation is impossible).
 */
import { seededRandom } from '../random';
import { all, create, parse, simplify, typeOf, type MathJsInstance, type MathNode, type EvalFunction } from 'mathjs';
import { convertLatex } from './latex';
import { matchAnyBracket, splitTopLevel } from './latexText';
import { normalizeAnswer, type NormalizedAnswer } from './normalize';

export interface Equivalence { equivalent: boolean | null; rule: string }

/** Relative tolerance for values that were computed (floats) or written as truncated decimals. */
export const REL_TOL = 1e-9;
/** Relative tolerance between two expressions evaluated at the same random point. */
const SYMBOLIC_REL_TOL = 1e-8;
const ABS_TOL = 1e-12;

// ---------------------------------------------------------------- scalars

/** An exact rational n/d (d > 0) and whether it has a terminating decimal expansion. */
interface Rational { n: bigint; d: bigint; terminating: boolean }

interface MathForm { expr: string; fn: EvalFunction; node: MathNode; symbols: string[]; constant?: Val | null }

interface ScalarInfo {
  text: string;
  compact: string;
  percent: boolean;
  rational: Rational | null;
  /** Non-math prose ("Devon", "INCIDENT ROOM", "True"). */
  isText: boolean;
  /** Lazily computed: undefined = not yet, null = not convertible. */
  math?: MathForm | null;
}

type Val = { re: number; im: number };

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b) [a, b] = [b, a % b];
  return a;
}

function makeRational(n: bigint, d: bigint): Rational | null {
  if (d === 0n) return null;
  if (d < 0n) { n = -n; d = -d; }
  const g = gcd(n, d) || 1n;
  n /= g; d /= g;
  let t = d;
  while (t % 2n === 0n) t /= 2n;
  while (t % 5n === 0n) t /= 5n;
  return { n, d, terminating: t === 1n };
}

function decimalRational(sign: string | undefined, intPart: string, frac: string, exp = 0): Rational | null {
  if (Math.abs(exp) > 400 || intPart.length + frac.length > 5000) return null; // leave absurd literals to floats
  let n = BigInt((intPart || '0') + frac);
  let d = 10n ** BigInt(frac.length);
  if (exp > 0) n *= 10n ** BigInt(exp);
  else if (exp < 0) d *= 10n ** BigInt(-exp);
  if (sign === '-') n = -n;
  return makeRational(n, d);
}

/** Exact rational literals: 12, -3.50, .5, 1/3, \frac{-1}{3}, 12\frac{3}{5}, 2.5e-3, 3 \times 10^{8}. */
export function parseRational(s: string): Rational | null {
  let m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(s);
  if (m && (m[2] || m[3])) return decimalRational(m[1], m[2], m[3] ?? '');
  m = /^([+-])?(\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+)| ?(?:\\times|\\cdot|\*) ?10 ?\^ ?\{?([+-]?\d+)\}?)$/.exec(s);
  if (m && (m[2] || m[3])) return decimalRational(m[1], m[2], m[3] ?? '', Number(m[4] ?? m[5]));
  m = /^([+-])?\\frac\{([+-]?\d+)\}\{([+-]?\d+)\}$/.exec(s) ?? /^([+-])?\\frac(\d)(\d)$/.exec(s) ?? /^([+-])?\(?(-?\d+)\)? ?\/ ?\(?(-?\d+)\)?$/.exec(s);
  if (m) {
    const r = makeRational(BigInt(m[2]), BigInt(m[3]));
    return r && m[1] === '-' ? { ...r, n: -r.n } : r;
  }
  m = /^([+-])?(\d+) ?\\frac\{(\d+)\}\{(\d+)\}$/.exec(s); // mixed number
  if (m) {
    const d = BigInt(m[4]);
    const r = makeRational(BigInt(m[2]) * d + BigInt(m[3]), d);
    return r && m[1] === '-' ? { ...r, n: -r.n } : r;
  }
  return null;
}

function rationalsEqual(a: Rational, b: Rational): boolean {
  const x = a.n * b.d;
  const y = b.n * a.d;
  if (x === y) return true;
  // Two terminating decimals/integers are exact: no tolerance (0.33 != 1/3, 1000001 != 1000000).
  if (a.terminating && b.terminating) return false;
  const diff = x > y ? x - y : y - x;
  const ax = x < 0n ? -x : x;
  const ay = y < 0n ? -y : y;
  const scale = ax > ay ? ax : ay;
  return diff * 1_000_000_000n <= scale; // REL_TOL = 1e-9
}

const FUNCTION_WORDS = '(?:sqrt|sin|cos|tan|cot|sec|csc|arcsin|arccos|arctan|sinh|cosh|tanh|ln|log|exp|pi)(?![a-zA-Z])';
/** A word of 4+ letters (not a function name): prose. */
const TEXT_WORD = new RegExp(`(?<![\\\\a-zA-Z])(?!${FUNCTION_WORDS})[A-Za-z]{4,}`);
/** A 3-letter word counts as prose only in a text with no digits or operators ("Yes", "odd"; not "2abc+1"). */
const SHORT_WORD = new RegExp(`(?<![\\\\a-zA-Z])(?!${FUNCTION_WORDS})[A-Za-z]{3}(?![a-zA-Z])`);

function looksLikeText(text: string): boolean {
  if (TEXT_WORD.test(text)) return true;
  return SHORT_WORD.test(text) && !/[\d+\-*/^=\\{}()]/.test(text);
}

const scalarCache = new Map<string, ScalarInfo>();
const CACHE_MAX = 20000;

function scalarInfo(text: string, percent: boolean): ScalarInfo {
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
  const t = typeOf(v);
  if (t === 'Complex') { const c = v as { re: number; im: number }; return { re: c.re, im: c.im }; }
  if (t === 'BigNumber' || t === 'Fraction') return { re: Number(v), im: 0 };
  return null;
}

function mathForm(info: ScalarInfo): MathForm | null {
  if (info.math !== undefined) return info.math;
  info.math = null;
  const expr = convertLatex(info.text);
  if (expr === null) return null;
  try {
    const node = parse(expr);
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

function valsEqual(a: Val, b: Val, rel: number): boolean {
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
  bigMath ??= create(all, { number: 'BigNumber', precision: 64 });
  let v: unknown = null;
  try {
    v = bigMath.evaluate(expr) as unknown;
    if (typeOf(v) !== 'BigNumber') v = null;
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
  try {
    const diff = simplify(`(${a.node.toString()}) - (${b.node.toString()})`);
    if (diff.toString() === '0') return true;
  } catch { /* fall through */ }
  return null;
}

/** Whether two expressions are constant non-zero multiples of each other (equations L-R = 0). */
function proportional(a: MathForm, b: MathForm): boolean | null {
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
  return agree >= 3 ? true : null;
}

/** The only number in a prose answer ("64 square inches", "Jillian's handbag cost 220"), or null. */
function soleNumber(s: string): Rational | null {
  const nums = s.match(/(?<![\w.])[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w.]*\d)/g);
  if (!nums || nums.length !== 1) return null;
  return parseRational(nums[0].replace(/,/g, ''));
}

function rationalToVal(r: Rational): Val { return { re: Number(r.n) / Number(r.d), im: 0 }; }

function compareScalars(a: ScalarInfo, b: ScalarInfo): Equivalence {
  if (a.compact === b.compact && a.percent === b.percent) return { equivalent: true, rule: 'normalized-string' };
  if (a.rational && b.rational) {
    if (rationalsEqual(a.rational, b.rational)) return { equivalent: true, rule: 'numeric' };
    if (a.percent !== b.percent) {
      const [p, q] = a.percent ? [a.rational, b.rational] : [b.rational, a.rational];
      const scaled = makeRational(p.n, p.d * 100n);
      if (scaled && rationalsEqual(scaled, q)) return { equivalent: true, rule: 'numeric' };
    }
    return { equivalent: false, rule: 'mismatch' };
  }
  if (a.isText || b.isText) {
    // "64 square inches" or "the bag cost 220" against a number: that number.
    const ra = a.rational ?? (a.isText ? soleNumber(a.text) : null);
    const rb = b.rational ?? (b.isText ? soleNumber(b.text) : null);
    if (ra && rb && (a.isText !== b.isText)) {
      return rationalsEqual(ra, rb) ? { equivalent: true, rule: 'numeric' } : { equivalent: false, rule: 'mismatch' };
    }
    const fold = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
    if (a.isText && b.isText && fold(a.text) === fold(b.text)) return { equivalent: true, rule: 'normalized-string' };
    return { equivalent: false, rule: 'mismatch' };
  }
  const ma = mathForm(a);
  const mb = mathForm(b);
  if (!ma || !mb) {
    if (a.compact.toLowerCase() === b.compact.toLowerCase() && a.percent === b.percent) return { equivalent: true, rule: 'normalized-string' };
    // Not both expressions we can read: different strings are different answers.
    return { equivalent: false, rule: 'mismatch' };
  }
  if (!ma.symbols.length && !mb.symbols.length) {
    const va = ma.constant ?? (a.rational ? rationalToVal(a.rational) : null);
    const vb = mb.constant ?? (b.rational ? rationalToVal(b.rational) : null);
    if (!va || !vb) return { equivalent: null, rule: 'undecidable' };
    if (!isFiniteVal(va) || !isFiniteVal(vb)) {
      // Written infinities compare as such; overflow (2^{5000}, \binom{4019}{2011}) is redone in 64-digit decimals.
      if (/\\infty/.test(a.text + b.text)) return va.re === vb.re && va.im === vb.im ? { equivalent: true, rule: 'numeric' } : MISMATCH;
      // A float overflow (+-Infinity) against a finite float cannot be equal.
      if ((Math.abs(va.re) === Infinity && isFiniteVal(vb)) || (Math.abs(vb.re) === Infinity && isFiniteVal(va))) return MISMATCH;
      const big = bigEqual(ma.expr, mb.expr);
      if (big === null) return { equivalent: null, rule: 'undecidable' };
      return big ? { equivalent: true, rule: 'numeric' } : MISMATCH;
    }
    const complex = Math.abs(va.im) > ABS_TOL || Math.abs(vb.im) > ABS_TOL;
    for (const x of percentVariants(va, a.percent && !b.percent)) {
      for (const y of percentVariants(vb, b.percent && !a.percent)) {
        if (valsEqual(x, y, REL_TOL)) return { equivalent: true, rule: complex ? 'complex' : 'numeric' };
      }
    }
    return { equivalent: false, rule: 'mismatch' };
  }
  const eq = symbolicEqual(ma, mb);
  if (eq === null) return { equivalent: null, rule: 'undecidable' };
  return eq ? { equivalent: true, rule: 'symbolic' } : { equivalent: false, rule: 'mismatch' };
}

// ---------------------------------------------------------------- structures

type Struct =
  | { kind: 'scalar'; info: ScalarInfo }
  | { kind: 'seq'; open: string; close: string; items: Struct[] }
  | { kind: 'set'; items: Struct[]; bare: boolean }
  | { kind: 'union'; parts: Struct[] }
  /** `L = R`, kept as L - R: equal when proportional (`x + y = 1` = `2x + 2y = 2`). */
  | { kind: 'equation'; info: ScalarInfo };

const INEQ: Readonly<Record<string, 'lt' | 'le' | 'gt' | 'ge'>> = { '<': 'lt', '\\lt': 'lt', '\\le': 'le', '>': 'gt', '\\gt': 'gt', '\\ge': 'ge' };
const INEQ_OP = String.raw`(<|>|\\le|\\ge|\\lt|\\gt)(?![a-zA-Z])`;
const ONE_SIDED = new RegExp(String.raw`^([a-zA-Z])\s*${INEQ_OP}\s*(.+)$`);
const TWO_SIDED = new RegExp(String.raw`^(.+?)\s*${INEQ_OP}\s*([a-zA-Z])\s*${INEQ_OP}\s*(.+)$`);

/** `x > 3` -> (3, \infty); `-1 \le x < 2` -> [-1, 2). Null if not a one-variable inequality. */
function inequalityToInterval(s: string): Struct | null {
  const one = ONE_SIDED.exec(s);
  if (one && !TWO_SIDED.test(s)) {
    const op = INEQ[one[2]];
    const v = one[3];
    if (op === 'lt' || op === 'le') return seq('(', op === 'le' ? ']' : ')', ['-\\infty', v]);
    return seq(op === 'ge' ? '[' : '(', ')', [v, '\\infty']);
  }
  const two = TWO_SIDED.exec(s);
  if (two) {
    const o1 = INEQ[two[2]]; const o2 = INEQ[two[4]];
    if ((o1 === 'lt' || o1 === 'le') && (o2 === 'lt' || o2 === 'le')) return seq(o1 === 'le' ? '[' : '(', o2 === 'le' ? ']' : ')', [two[1], two[5]]);
    if ((o1 === 'gt' || o1 === 'ge') && (o2 === 'gt' || o2 === 'ge')) return seq(o2 === 'ge' ? '[' : '(', o1 === 'ge' ? ']' : ')', [two[5], two[1]]);
  }
  return null;
}

function seq(open: string, close: string, items: string[]): Struct {
  return { kind: 'seq', open, close, items: items.map((t) => parseStruct(t.trim(), false)) };
}

const MATRIX = /^\\begin\{([pbBvV]?matrix|array)\}(?:\{[^}]*\})?([\s\S]*)\\end\{\1\}$/;

function parseStruct(text: string, percent: boolean): Struct {
  const t = text.trim();
  const union = splitTopLevel(t, '\\cup');
  if (union.length > 1) return { kind: 'union', parts: union.map((p) => parseStruct(p, false)) };
  if (t === '\\emptyset') return { kind: 'set', items: [], bare: false };
  const mat = MATRIX.exec(t);
  if (mat) {
    const rows = mat[2].split(/\\\\/).map((r) => r.trim()).filter(Boolean).map((r) => r.split('&').map((c) => c.trim()));
    if (rows.every((r) => r.length === 1)) return seq('(', ')', rows.map((r) => r[0]));
    if (rows.length === 1) return seq('(', ')', rows[0]);
    return { kind: 'seq', open: 'M', close: 'M', items: rows.map((r) => seq('(', ')', r)) };
  }
  if (t.startsWith('\\{') && t.endsWith('\\}') && matchAnyBracket(t, 0) === t.length - 1) {
    const inner = t.slice(2, -2).trim();
    return { kind: 'set', items: inner ? splitTopLevel(inner, ',').map((p) => parseStruct(p, false)) : [], bare: false };
  }
  if ((t[0] === '(' || t[0] === '[') && (t.endsWith(')') || t.endsWith(']')) && matchAnyBracket(t, 0) === t.length - 1) {
    const inner = t.slice(1, -1);
    const parts = splitTopLevel(inner, ',');
    if (parts.length > 1) return seq(t[0], t[t.length - 1], parts);
    if ((t[0] === '(') === t.endsWith(')')) return parseStruct(inner, percent);
  }
  const items = splitTopLevel(t, ',');
  if (items.length > 1) return { kind: 'set', items: items.map((p) => parseStruct(p, false)), bare: true };
  const pm = splitTopLevel(t, '\\pm');
  if (pm.length === 2) {
    const [x, y] = pm.map((p) => p.trim());
    return { kind: 'set', items: [x ? `${x}+${y}` : y, x ? `${x}-(${y})` : `-(${y})`].map((p) => parseStruct(p, false)), bare: false };
  }
  if (/[<>]|\\[lg][et](?![a-zA-Z])/.test(t)) {
    const iv = inequalityToInterval(t);
    if (iv) return iv;
  }
  const sides = splitTopLevel(t, '=');
  if (sides.length === 2 && sides[0].trim() && sides[1].trim()) {
    return { kind: 'equation', info: scalarInfo(`(${sides[0].trim()})-(${sides[1].trim()})`, false) };
  }
  return { kind: 'scalar', info: scalarInfo(t, percent) };
}

const MISMATCH: Equivalence = { equivalent: false, rule: 'mismatch' };

/** Unordered matching of two item lists. */
function sameItems(a: Struct[], b: Struct[]): boolean | null {
  if (a.length !== b.length) return false;
  const used = new Array<boolean>(b.length).fill(false);
  let unknown = false;
  for (const x of a) {
    let found = false;
    for (let j = 0; j < b.length; j++) {
      if (used[j]) continue;
      const r = compareStructs(x, b[j]).equivalent;
      if (r === true) { used[j] = true; found = true; break; }
      if (r === null) unknown = true;
    }
    if (!found) return unknown ? null : false;
  }
  return true;
}

function orderedItems(a: Struct[], b: Struct[]): boolean | null {
  if (a.length !== b.length) return false;
  let unknown = false;
  for (let k = 0; k < a.length; k++) {
    const r = compareStructs(a[k], b[k]).equivalent;
    if (r === false) return false;
    if (r === null) unknown = true;
  }
  return unknown ? null : true;
}

function verdict(eq: boolean | null, rule: string): Equivalence {
  if (eq === null) return { equivalent: null, rule: 'undecidable' };
  return eq ? { equivalent: true, rule } : MISMATCH;
}

function seqRule(s: { open: string; close: string; items: Struct[] }): string {
  if (s.open === 'M') return 'tuple';
  const isInterval = s.items.length === 2 && (s.open !== '(' || s.close !== ')' ||
    s.items.some((it) => it.kind === 'scalar' && /\\infty/.test(it.info.text)));
  return isInterval ? 'interval' : 'tuple';
}

function compareStructs(a: Struct, b: Struct): Equivalence {
  if (a.kind === 'scalar' && b.kind === 'scalar') return compareScalars(a.info, b.info);
  // A one-element set or list against a scalar: compare the element.
  if (a.kind === 'set' && a.items.length === 1 && b.kind === 'scalar') return compareStructs(a.items[0], b);
  if (b.kind === 'set' && b.items.length === 1 && a.kind === 'scalar') return compareStructs(a, b.items[0]);
  if (a.kind === 'seq' && b.kind === 'seq') {
    // Open/closed ends matter: (3,4) != (3,4].
    if (a.open !== b.open || a.close !== b.close) return MISMATCH;
    return verdict(orderedItems(a.items, b.items), seqRule(a));
  }
  if (a.kind === 'set' && b.kind === 'set') return verdict(sameItems(a.items, b.items), 'set');
  // A bare list "2, 3" reads as the tuple (2, 3) in the same order (never against an explicit {set}).
  if (a.kind === 'set' && a.bare && b.kind === 'seq' && b.open === '(' && b.close === ')') return verdict(orderedItems(a.items, b.items), 'tuple');
  if (b.kind === 'set' && b.bare && a.kind === 'seq' && a.open === '(' && a.close === ')') return verdict(orderedItems(a.items, b.items), 'tuple');
  if (a.kind === 'union' && b.kind === 'union') return verdict(sameItems(a.parts, b.parts), 'interval');
  if (a.kind === 'equation' && b.kind === 'equation') {
    if (a.info.compact === b.info.compact) return { equivalent: true, rule: 'normalized-string' };
    const ma = mathForm(a.info);
    const mb = mathForm(b.info);
    if (!ma || !mb) return MISMATCH;
    return verdict(proportional(ma, mb), 'symbolic');
  }
  return MISMATCH;
}

// ---------------------------------------------------------------- choices

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

// ---------------------------------------------------------------- entry point

/** Empties the parse caches (benchmarks measure cold runs with it). */
export function clearCompareCaches(): void { structCache.clear(); scalarCache.clear(); }

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
