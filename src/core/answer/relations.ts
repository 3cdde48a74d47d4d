/**
 * Relations in answers: labels (`x =`, `(p,q) =`, `|AB| =`, `S:T =`),
 * one-variable inequalities read as intervals (`x \ge 5`, `5 \le x`,
 * `-1 < x \le 2`), other inequalities as `f > 0` / `f >= 0`, and `\ne`.
 * String work only; the CAS comparison lives in scalars.ts.
 */
import { splitTopLevel } from './latexText';

/** A name that an answer may be assigned to: x, x_1, y', \alpha, f(x), a word, (p,q), |AB|, AB, S:T, \angle ABC. */
const NAME = String.raw`(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?'*|\\[a-zA-Z]+(?:_\{?[a-zA-Z0-9]+\}?)?)`;
export const LABEL = String.raw`(?:${NAME}|[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?\([^()=]*\)|[A-Za-z]{3,}(?: [A-Za-z]+){0,3}` +
  String.raw`|\(\s*${NAME}(?:\s*,\s*${NAME})+\s*\)|\|\s*[A-Za-z]{1,3}\s*\||[A-Z]{2,3}|[A-Z]{1,3}\s*:\s*[A-Z]{1,3}` +
  String.raw`|(?:m\s*)?\\angle\s*[A-Z]{1,3}|\\overline\{[A-Z]{2}\})`;
const LABEL_RE = new RegExp(`^${LABEL}$`);

export function isLabel(s: string): boolean {
  const t = s.trim();
  return t !== '' && LABEL_RE.test(t) && !/^\\(?:pi|infty|emptyset|e)$/.test(t);
}

export type IneqOp = 'lt' | 'le' | 'gt' | 'ge';
const OPS: Readonly<Record<string, IneqOp>> = { '<': 'lt', '\\lt': 'lt', '\\le': 'le', '>': 'gt', '\\gt': 'gt', '\\ge': 'ge' };
const INEQ_SPLIT = /(<|>|\\le(?![a-zA-Z])|\\ge(?![a-zA-Z])|\\lt(?![a-zA-Z])|\\gt(?![a-zA-Z]))/;

/** `x \ge 5` split at top-level relation symbols: [side, op, side, op, side…], or null if none. */
export function splitInequality(s: string): { sides: string[]; ops: IneqOp[] } | null {
  if (!/[<>]|\\[lg][et](?![a-zA-Z])/.test(s)) return null;
  const sides: string[] = [];
  const ops: IneqOp[] = [];
  let depth = 0;
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(' || c === '[' || c === '{') { depth++; continue; }
    if (c === ')' || c === ']' || c === '}') { depth--; continue; }
    if (depth !== 0) continue;
    const m = INEQ_SPLIT.exec(s.slice(i, i + 4));
    if (m && m.index === 0) {
      sides.push(s.slice(last, i).trim());
      ops.push(OPS[m[1]]);
      i += m[1].length - 1;
      last = i + 1;
    } else if (c === '\\') {
      const cmd = /^\\[a-zA-Z]+/.exec(s.slice(i, i + 30));
      if (cmd) i += cmd[0].length - 1;
    }
  }
  if (!ops.length) return null;
  sides.push(s.slice(last).trim());
  if (sides.some((x) => !x)) return null;
  return { sides, ops };
}

const flip = (op: IneqOp): IneqOp => ({ lt: 'gt', le: 'ge', gt: 'lt', ge: 'le' } as const)[op];
const VAR = /^[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?$/;

export interface IntervalSpec { open: '(' | '['; close: ')' | ']'; lo: string; hi: string }

/** `x > 3` -> (3, \infty); `5 \le x` -> [5, \infty); `-1 \le x < 2` -> [-1, 2). Null if not a one-variable inequality. */
export function inequalityInterval(sides: string[], ops: IneqOp[]): IntervalSpec | null {
  const isVar = (s: string) => VAR.test(s) && s !== 'e' && s !== 'i';
  if (ops.length === 1) {
    let [l, r] = sides;
    let op = ops[0];
    if (!isVar(l) && isVar(r)) { [l, r] = [r, l]; op = flip(op); }
    if (!isVar(l) || isVar(r) || /[a-zA-Z]/.test(r.replace(/\\[a-zA-Z]+/g, ''))) return null;
    if (op === 'lt' || op === 'le') return { open: '(', close: op === 'le' ? ']' : ')', lo: '-\\infty', hi: r };
    return { open: op === 'ge' ? '[' : '(', close: ')', lo: r, hi: '\\infty' };
  }
  if (ops.length === 2 && isVar(sides[1]) && !isVar(sides[0]) && !isVar(sides[2])) {
    const [o1, o2] = ops;
    const up = (o: IneqOp) => o === 'lt' || o === 'le';
    if (up(o1) && up(o2)) return { open: o1 === 'le' ? '[' : '(', close: o2 === 'le' ? ']' : ')', lo: sides[0], hi: sides[2] };
    if (!up(o1) && !up(o2)) return { open: o2 === 'ge' ? '[' : '(', close: o1 === 'ge' ? ']' : ')', lo: sides[2], hi: sides[0] };
  }
  return null;
}

/** A single inequality L op R as `f > 0` (strict) or `f >= 0`: f = R - L for < and <=, L - R for > and >=. */
export function inequalityAsPositive(l: string, op: IneqOp, r: string): { expr: string; strict: boolean } {
  const expr = op === 'lt' || op === 'le' ? `(${r})-(${l})` : `(${l})-(${r})`;
  return { expr, strict: op === 'lt' || op === 'gt' };
}

/** `A \ne B` / `A \neq B` / `A != B`: the two sides, or null. */
export function splitNotEqual(s: string): [string, string] | null {
  const parts = splitTopLevel(s, '\\ne');
  if (parts.length === 2 && !/^[a-zA-Z]/.test(parts[1]) && parts[0].trim() && parts[1].trim()) return [parts[0].trim(), parts[1].trim()];
  return null;
}
