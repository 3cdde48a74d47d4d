/**
 * Exact number literals: rationals (integers, decimals, fractions, mixed
 * numbers, scientific notation), base-n numerals (`4210_7`), clock times and
 * decimal-comma readings. Pure BigInt arithmetic, no CAS.
 */

/** An exact rational n/d (d > 0) and whether it has a terminating decimal expansion. */
export interface Rational { n: bigint; d: bigint; terminating: boolean }

function gcd(a: bigint, b: bigint): bigint {
  if (a < 0n) a = -a;
  if (b < 0n) b = -b;
  while (b) [a, b] = [b, a % b];
  return a;
}

export function makeRational(n: bigint, d: bigint): Rational | null {
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

const negate = (r: Rational | null, sign: string | undefined): Rational | null => (r && sign === '-' ? { ...r, n: -r.n } : r);

/**
 * Exact rational literals: 12, -3.50, .5, 1/3, \frac{-1}{3}, \frac12, 2.5e-3,
 * 3 \times 10^{8}, and mixed numbers 12\frac{3}{5} / 4\frac12 (= 4.5, never 4 * 1/2).
 */
export function parseRational(s: string): Rational | null {
  let m = /^([+-])?(\d*)(?:\.(\d*))?$/.exec(s);
  if (m && (m[2] || m[3])) return decimalRational(m[1], m[2], m[3] ?? '');
  m = /^([+-])?(\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+)| ?(?:\\times|\\cdot|\*) ?10 ?\^ ?\{?([+-]?\d+)\}?)$/.exec(s);
  if (m && (m[2] || m[3])) return decimalRational(m[1], m[2], m[3] ?? '', Number(m[4] ?? m[5]));
  m = /^([+-])?\\frac\{([+-]?\d+)\}\{([+-]?\d+)\}$/.exec(s) ?? /^([+-])?\\frac(\d)(\d)$/.exec(s) ?? /^([+-])?\(?(-?\d+)\)? ?\/ ?\(?(-?\d+)\)?$/.exec(s);
  if (m) return negate(makeRational(BigInt(m[2]), BigInt(m[3])), m[1]);
  m = /^([+-])?(\d+) ?\\frac(?:\{(\d+)\}\{(\d+)\}|(\d)(\d))$/.exec(s); // mixed number
  if (m) {
    const num = BigInt(m[3] ?? m[5]);
    const d = BigInt(m[4] ?? m[6]);
    if (d === 0n) return null;
    return negate(makeRational(BigInt(m[2]) * d + num, d), m[1]);
  }
  return null;
}

/** Exact equality, or for a non-terminating value against a truncated/float decimal, 1e-9 relative. */
export function rationalsEqual(a: Rational, b: Rational): boolean {
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

export function rationalToNumber(r: Rational): number { return Number(r.n) / Number(r.d); }

/**
 * The only number in a prose answer ("64 square inches", "Jane started 3 hours
 * ago"), or null. A digit glued to letters (`AZYUK2A`, `x2`) is not a number.
 */
export function soleNumber(s: string): Rational | null {
  const nums = s.match(/(?<![\w.])[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w.]*\d)(?![A-Za-z])/g);
  if (!nums || nums.length !== 1) return null;
  if (/(?<=[A-Za-z])\d|\d(?=[A-Za-z]{1,2}\d)/.test(s)) return null;
  return parseRational(nums[0].replace(/,/g, ''));
}

/** Every number written in a prose answer (thousands commas removed; digits glued to letters skipped). */
export function numbersIn(s: string): Rational[] {
  const out: Rational[] = [];
  for (const m of s.matchAll(/(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\w]*\d)/g)) {
    const r = parseRational(m[0].replace(/,/g, ''));
    if (r) out.push(r);
  }
  return out;
}

/** A base-n numeral `4210_7` / `4210_{7}` (base 2..36): its value, or null. */
export function baseNumeral(s: string): { digits: string; base: number; value: bigint } | null {
  const m = /^([0-9A-Za-z]+)_\{?(\d{1,2})\}?$/.exec(s);
  if (!m) return null;
  const base = Number(m[2]);
  if (base < 2 || base > 36) return null;
  let value = 0n;
  for (const ch of m[1].toLowerCase()) {
    const d = parseInt(ch, 36);
    if (!(d < base)) return null;
    value = value * BigInt(base) + BigInt(d);
  }
  return { digits: m[1], base, value };
}

/**
 * A clock time `4:30`, `4:30 p.m.`, `16:30:05`, `4 pm`: minutes (and seconds)
 * since midnight, or null. Without am/pm the clock is read as 24-hour.
 */
export function clockTime(s: string): number | null {
  const m = /^(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?\s*(?:\\text\{\s*)?([ap])\.?\s*m\.?(?:\s*\})?$/i.exec(s) ??
    /^(\d{1,2}):(\d{2})(?::(\d{2}))?()$/.exec(s);
  if (!m) return null;
  let h = Number(m[1]);
  const min = Number(m[2] ?? 0);
  const sec = Number(m[3] ?? 0);
  if (min > 59 || sec > 59) return null;
  const ampm = (m[4] ?? '').toLowerCase();
  if (ampm) {
    if (h < 1 || h > 12) return null;
    if (h === 12) h = 0;
    if (ampm === 'p') h += 12;
  } else if (h > 24) return null;
  return (h * 60 + min) * 60 + sec;
}

/** `1,22` / `1000,99` / `0,111` read with a decimal comma (when it cannot be a thousands grouping), or null. */
export function decimalComma(s: string): Rational | null {
  const m = /^(-)?(\d+),(\d+)$/.exec(s.replace(/\s+/g, ''));
  if (!m) return null;
  const groupable = /^[1-9]\d{0,2}$/.test(m[2]) && m[3].length === 3;
  if (groupable) return null;
  return decimalRational(m[1], m[2], m[3]);
}
