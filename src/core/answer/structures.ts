/**
 * Structured answers: sets (unordered), tuples/points/vectors (ordered),
 * intervals and unions, matrices (pmatrix, bmatrix, array…), ratios `7:32`,
 * `\pm`, equations (`L = R`, equal when proportional) and inequalities
 * (one-variable ones as intervals, others as `f > 0` up to a positive factor).
 */
import { matchAnyBracket, matchBrace, splitTopLevel } from './latexText';
import { inequalityAsPositive, inequalityInterval, isLabel, splitInequality, splitNotEqual } from './relations';
import { compareScalars, hasFreeVariables, mathForm, MISMATCH, proportional, scalarInfo, undecidable, type Equivalence, type ScalarInfo } from './scalars';
import { clockTime, decimalComma, rationalsEqual } from './numbers';

export type Struct =
  | { kind: 'scalar'; info: ScalarInfo }
  | { kind: 'seq'; open: string; close: string; items: Struct[] }
  | { kind: 'set'; items: Struct[]; bare: boolean; pm?: boolean }
  | { kind: 'union'; parts: Struct[] }
  /** `L = R`, kept as L - R (equal when proportional); `label`/`value` when L is a name (`y = 2x + 1`). */
  | { kind: 'equation'; info: ScalarInfo; label: string | null; value: Struct | null }
  /** `f > 0` (strict) or `f >= 0`; `interval` when it is a one-variable inequality (`x < 1`). */
  | { kind: 'ineq'; info: ScalarInfo; strict: boolean; interval: Struct | null }
  /** `A \ne B`, kept as A - B. */
  | { kind: 'neq'; info: ScalarInfo };

function seq(open: string, close: string, items: string[]): Struct {
  return { kind: 'seq', open, close, items: items.map((t) => parseStruct(t.trim(), false)) };
}

const MATRIX = /^\\begin\{([pbBvV]?matrix|array|smallmatrix)\}(?:\{[^}]*\})?([\s\S]*)\\end\{\1\}$/;

function parseMatrix(t: string): Struct | null {
  const mat = MATRIX.exec(t);
  if (!mat) return null;
  const rows = mat[2].split(/\\\\/).map((r) => r.replace(/\\hline/g, '').trim()).filter(Boolean).map((r) => r.split('&').map((c) => c.trim()));
  if (!rows.length) return null;
  if (rows.every((r) => r.length === 1)) return seq('(', ')', rows.map((r) => r[0]));
  if (rows.length === 1) return seq('(', ')', rows[0]);
  return { kind: 'seq', open: 'M', close: 'M', items: rows.map((r) => seq('(', ')', r)) };
}

function parseRelation(t: string, percent: boolean): Struct | null {
  const ineq = splitInequality(t);
  if (ineq) {
    const iv = inequalityInterval(ineq.sides, ineq.ops);
    const interval = iv ? seq(iv.open, iv.close, [iv.lo, iv.hi]) : null;
    if (ineq.ops.length === 1) {
      const { expr, strict } = inequalityAsPositive(ineq.sides[0], ineq.ops[0], ineq.sides[1]);
      return { kind: 'ineq', info: scalarInfo(expr, false), strict, interval };
    }
    return interval;
  }
  const ne = splitNotEqual(t);
  if (ne) return { kind: 'neq', info: scalarInfo(`(${ne[0]})-(${ne[1]})`, false) };
  const sides = splitTopLevel(t, '=');
  if (sides.length === 2 && sides[0].trim() && sides[1].trim()) {
    const [l, r] = [sides[0].trim(), sides[1].trim()];
    const label = isLabel(l) ? l : null;
    return { kind: 'equation', info: scalarInfo(`(${l})-(${r})`, false), label, value: label ? parseStruct(r, percent) : null };
  }
  return null;
}

/** Words of 4+ letters outside commands: 2 or more make a sentence. */
function proseWordCount(t: string): number {
  return (t.replace(/\\[a-zA-Z]+/g, ' ').match(/[A-Za-z]{4,}/g) ?? []).length;
}

/** `\{1 \pm \sqrt5, -2\}`: the two values of a `\pm` item are members of the enclosing set. */
function flattenPm(items: Struct[]): Struct[] {
  return items.flatMap((it) => (it.kind === 'set' && it.pm ? it.items : [it]));
}

export function parseStruct(text: string, percent: boolean): Struct {
  let t = text.trim();
  // A plain TeX group around the whole answer: `{1,3}`.
  while (t[0] === '{' && matchBrace(t, 0) === t.length - 1) t = t.slice(1, -1).trim();
  const union = splitTopLevel(t, '\\cup');
  if (union.length > 1) return { kind: 'union', parts: union.map((p) => parseStruct(p, false)) };
  if (t === '\\emptyset') return { kind: 'set', items: [], bare: false };
  const mat = parseMatrix(t);
  if (mat) return mat;
  if (t.startsWith('\\{') && t.endsWith('\\}') && matchAnyBracket(t, 0) === t.length - 1) {
    const inner = t.slice(2, -2).trim();
    return { kind: 'set', items: inner ? flattenPm(splitTopLevel(inner, ',').map((p) => parseStruct(p, false))) : [], bare: false };
  }
  if ((t[0] === '(' || t[0] === '[') && (t.endsWith(')') || t.endsWith(']')) && matchAnyBracket(t, 0) === t.length - 1) {
    const inner = t.slice(1, -1);
    const parts = splitTopLevel(inner, ',');
    if (parts.length > 1) return seq(t[0], t[t.length - 1], parts);
    if ((t[0] === '(') === t.endsWith(')')) return parseStruct(inner, percent);
  }
  const items = splitTopLevel(t, ',');
  // A sentence with commas is prose, not a list.
  if (items.length > 1 && proseWordCount(t) >= 2) return { kind: 'scalar', info: scalarInfo(t, percent) };
  if (items.length > 1) return { kind: 'set', items: flattenPm(items.map((p) => parseStruct(p, false))), bare: true };
  for (const pm of ['\\pm', '\\mp']) {
    const parts = splitTopLevel(t, pm);
    if (parts.length === 2) {
      const [x, y] = parts.map((p) => p.trim());
      return { kind: 'set', items: [x ? `${x}+${y}` : y, x ? `${x}-(${y})` : `-(${y})`].map((p) => parseStruct(p, false)), bare: false, pm: true };
    }
  }
  // A sentence ("60 sheets per week * 4 = 240 sheets") is prose, not a relation.
  const rel = proseWordCount(t) >= 2 ? null : parseRelation(t, percent);
  if (rel) return rel;
  // A ratio `7:32` (integers or simple values on each side; a clock time `4:30 p.m.` stays a scalar).
  const ratio = splitTopLevel(t, ':');
  if (ratio.length > 1 && ratio.every((p) => /^-?[\d.]+$|^\\frac/.test(p.trim()))) {
    return { kind: 'seq', open: ':', close: ':', items: ratio.map((p) => parseStruct(p.trim(), false)) };
  }
  return { kind: 'scalar', info: scalarInfo(t, percent) };
}

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

function verdict(eq: boolean | null, rule: string, why = 'an element could not be decided'): Equivalence {
  if (eq === null) return undecidable(why);
  return eq ? { equivalent: true, rule } : MISMATCH;
}

function seqRule(s: { open: string; close: string; items: Struct[] }): string {
  if (s.open === 'M' || s.open === ':') return 'tuple';
  const isInterval = s.items.length === 2 && (s.open !== '(' || s.close !== ')' ||
    s.items.some((it) => it.kind === 'scalar' && /\\infty/.test(it.info.text)));
  return isInterval ? 'interval' : 'tuple';
}

/** `1,22` (a two-item bare list) against the single number 1.22: the decimal-comma reading. */
function decimalCommaMatch(list: Struct, scalar: Struct): boolean {
  if (list.kind !== 'set' || !list.bare || list.items.length !== 2 || scalar.kind !== 'scalar' || !scalar.info.rational) return false;
  const [x, y] = list.items;
  if (x.kind !== 'scalar' || y.kind !== 'scalar') return false;
  const r = decimalComma(`${x.info.compact},${y.info.compact}`);
  return !!r && rationalsEqual(r, scalar.info.rational);
}

function compareRelations(a: ScalarInfo, b: ScalarInfo, positive: boolean): Equivalence {
  if (a.compact === b.compact) return { equivalent: true, rule: 'normalized-string' };
  const ma = mathForm(a);
  const mb = mathForm(b);
  if (!ma || !mb) return undecidable('a side of a relation cannot be read as math');
  if (!ma.symbols.length && !mb.symbols.length) return MISMATCH;
  return verdict(proportional(ma, mb, positive), 'symbolic', 'the relations could not be compared at random points');
}

function constantStruct(s: Struct): boolean {
  if (s.kind === 'scalar') return !hasFreeVariables(s.info.text);
  if (s.kind === 'seq' || s.kind === 'set') return s.items.every(constantStruct);
  return false;
}

export function compareStructs(a: Struct, b: Struct): Equivalence {
  if (a.kind === 'scalar' && b.kind === 'scalar') return compareScalars(a.info, b.info);
  // A labelled value (`y = 2x + 1`, `(p,q) = (3,2)`) against an unlabelled answer: the value.
  if (a.kind === 'equation' && a.value && b.kind !== 'equation') return compareStructs(a.value, b);
  if (b.kind === 'equation' && b.value && a.kind !== 'equation') return compareStructs(a, b.value);
  // A one-element set or list against a scalar: compare the element.
  if (a.kind === 'set' && a.items.length === 1 && b.kind === 'scalar') return compareStructs(a.items[0], b);
  if (b.kind === 'set' && b.items.length === 1 && a.kind === 'scalar') return compareStructs(a, b.items[0]);
  if (decimalCommaMatch(a, b) || decimalCommaMatch(b, a)) return { equivalent: true, rule: 'numeric' };
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
  // `x \le -3 or x \ge 2` (a list of one-variable inequalities) against the union it describes.
  const orList = (x: Struct): Struct[] | null => (x.kind === 'set' && x.bare && x.items.every((it) => it.kind === 'ineq' && it.interval)
    ? x.items.map((it) => (it.kind === 'ineq' && it.interval ? it.interval : it)) : null);
  if (a.kind === 'union' && orList(b)) return verdict(sameItems(a.parts, orList(b) as Struct[]), 'interval');
  if (b.kind === 'union' && orList(a)) return verdict(sameItems(orList(a) as Struct[], b.parts), 'interval');
  if (a.kind === 'equation' && b.kind === 'equation') {
    if (a.info.compact === b.info.compact) return { equivalent: true, rule: 'normalized-string' };
    // Two labelled answers: the same name, or constant values under any names (`x = 5`, `k = 5`), compare by value.
    if (a.value && b.value && (a.label === b.label || (constantStruct(a.value) && constantStruct(b.value)))) return compareStructs(a.value, b.value);
    return compareRelations(a.info, b.info, false);
  }
  if (a.kind === 'ineq' && b.kind === 'ineq') {
    if (a.strict !== b.strict) return MISMATCH;
    if (a.interval && b.interval) return compareStructs(a.interval, b.interval);
    return compareRelations(a.info, b.info, true);
  }
  // `x < 1` against the interval (-\infty, 1).
  if (a.kind === 'ineq' && a.interval && b.kind !== 'ineq') return compareStructs(a.interval, b);
  if (b.kind === 'ineq' && b.interval && a.kind !== 'ineq') return compareStructs(a, b.interval);
  // A ratio-shaped `16:30` against a clock time `4:30 p.m.`.
  const time = (x: Struct, y: Struct) => x.kind === 'seq' && x.open === ':' && x.items.length === 2 && y.kind === 'scalar' &&
    x.items.every((it) => it.kind === 'scalar') && clockTime(y.info.text) !== null &&
    clockTime(x.items.map((it) => (it.kind === 'scalar' ? it.info.compact : '')).join(':')) === clockTime(y.info.text);
  if (time(a, b) || time(b, a)) return { equivalent: true, rule: 'normalized-string' };
  if (a.kind === 'neq' && b.kind === 'neq') return compareRelations(a.info, b.info, false);
  return MISMATCH;
}
