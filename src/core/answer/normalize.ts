/**
 * String normalisation of an extracted answer, before any parsing: math
 * delimiters, `\boxed`, spacing commands, `\left`/`\right`, `\dfrac`/`\tfrac`,
 * text wrappers, currency, degrees, percent, units, thousands separators and
 * `x =` prefixes. Table-driven; every rule is one line below.
 */
import { matchBrace, splitTopLevel, stripMathDelimiters, unwrapCommands } from './latexText';
import { isLabel, LABEL } from './relations';
import { hasFreeVariables } from './scalars';

export interface NormalizedAnswer {
  /** Canonical text, single-spaced. */
  text: string;
  /** A percent sign (or the word "percent") was removed: the value /100 is also accepted. */
  percent: boolean;
}

/** Plain replacements applied in order. */
const REPLACEMENTS: ReadonlyArray<readonly [RegExp, string]> = [
  [/[−–—]/g, '-'], [/×/g, '\\times '], [/÷/g, '\\div '], [/[·⋅]/g, '\\cdot '], [/π/g, '\\pi '],
  [/∞/g, '\\infty '], [/≤/g, '\\le '], [/≥/g, '\\ge '], [/≠/g, '\\ne '], [/√/g, '\\sqrt '],
  [/∪/g, '\\cup '], [/∅/g, '\\emptyset '], [/²/g, '^2'], [/³/g, '^3'], [/[‘’′]/g, "'"], [/±/g, '\\pm '],
  [/>=/g, '\\ge '], [/<=/g, '\\le '], [/!=/g, '\\ne '], [/\\(?:gt)(?![a-zA-Z])/g, '>'], [/\\(?:lt)(?![a-zA-Z])/g, '<'],
  [/\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![a-zA-Z])/g, ''],
  [/\\(?:left|right)\s*\.(?![0-9])/g, ''],
  [/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|bigg|Bigg|big|Big)(?![a-zA-Z])/g, ''],
  [/,\\!\s*/g, ','], [/…|\\[lc]?dots(?![a-zA-Z])/g, '...'], [/(?<!\\)\\!/g, ''], [/(?<!\\)\\[,;: >]/g, ' '], [/\\q?quad(?![a-zA-Z])/g, ' '], [/~/g, ' '],
  [/\\[dtc]frac(?![a-zA-Z])/g, '\\frac'], [/\\[dt]binom(?![a-zA-Z])/g, '\\binom'],
  [/\\(?:leq|leqslant)(?![a-zA-Z])/g, '\\le'], [/\\(?:geq|geqslant)(?![a-zA-Z])/g, '\\ge'],
  [/\\neq(?![a-zA-Z])/g, '\\ne'], [/\\varnothing(?![a-zA-Z])/g, '\\emptyset'],
  [/\\\{\s*\\\}/g, '\\emptyset'], [/\\infinity(?![a-zA-Z])/g, '\\infty'],
  [/\s*(?<!\\)\{\s*,\s*\}\s*/g, ','],
  // Trigonometric functions of degrees: \tan 30^\circ -> \tan(30\pi/180).
  [/(\\(?:sin|cos|tan|cot|sec|csc))\s*\(?\s*(-?\d+(?:\.\d+)?)\s*(?:\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z])|°|\\degree(?![a-zA-Z]))\s*\)?/g, '$1($2*\\pi/180)'],
  // Degrees: 48^\circ, 48^{\circ}, \degree.
  [/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])|°/g, ''],
  // Base subscripts: 4210_{7} -> 4210_7.
  [/(?<=[0-9A-Za-z])_\{(\d+)\}/g, '_$1'],
  // Inverse trigonometric spellings: \asin = \arcsin, \operatorname{arcsin} is unwrapped later.
  [/\\a(sin|cos|tan|cot|sec|csc)(?![a-zA-Z])/g, '\\arc$1'],
  // Currency signs (math delimiters are already gone, so any `$` left is money).
  [/\\\$|\$/g, ''],
];

/** Text-style wrappers whose content is the answer. */
const TEXT_WRAPPERS = ['text', 'textbf', 'textit', 'textrm', 'textsf', 'texttt', 'textnormal', 'mathrm', 'mathbf',
  'mathit', 'mathsf', 'mathtt', 'mathnormal', 'mbox', 'operatorname', 'boldsymbol', 'bm', 'emph', 'hbox'];

/** Unit words removed after a number (with optional square/cubic and ^2/^3). Single letters need a space. */
const UNIT_WORDS = [
  'units?', 'square units?', 'sq units?', 'cubic units?',
  'cm', 'mm', 'km', 'meters?', 'metres?', 'centimeters?', 'centimetres?', 'millimeters?', 'kilometers?',
  'inch(?:es)?', 'in\\.', 'ft', 'feet', 'foot', 'yd', 'yards?', 'mi', 'miles?', 'mph', 'km/h', 'kph', 'm/s',
  'kg', 'grams?', 'kilograms?', 'mg', 'lbs?', 'pounds?', 'oz', 'ounces?', 'tons?',
  'mL', 'ml', 'liters?', 'litres?', 'gallons?', 'quarts?', 'pints?', 'cups?',
  'sec', 'secs', 'seconds?', 'mins?', 'minutes?', 'hrs?', 'hours?', 'days?', 'weeks?', 'months?', 'years?',
  'dollars?', 'cents?', 'degrees?', 'deg', 'radians?', 'percent', 'points?', 'people', 'persons?', 'students?',
  'pages?', 'items?', 'times', 'ways',
];
const UNIT_SINGLE_LETTERS = ['m', 's', 'g', 'h', 'L', 'K', 'N', 'J', 'W', 'V', 'A', 'T'];
const UNIT_TAIL = new RegExp(
  `(?<=[\\d})])\\s*(?:square |sq\\.? |cubic )?(?:${UNIT_WORDS.join('|')})(?:\\s*\\^\\s*\\{?[23]\\}?)?\\.?$`, 'i');
const UNIT_TAIL_LETTER = new RegExp(`(?<=[\\d}])\\s+(?:${UNIT_SINGLE_LETTERS.join('|')})(?:\\s*\\^\\s*\\{?[23]\\}?)?$`);

/** An assignment's left side (relations.ts LABEL): x, x_1, \alpha, f(x), y', (p,q), |AB|, S:T, or a word such as "Area". */
const ASSIGN = new RegExp(`^${LABEL}\\s*(?:=|\\\\in(?![a-zA-Z]))\\s*`);
const PLAIN_NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;
const THOUSANDS = /^-?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$/;

/** Removes `\boxed{…}`/`\fbox{…}` wrappers that enclose the whole answer. */
function unwrapWhole(s: string): string {
  for (;;) {
    const m = /^\\(?:boxed|fbox)\s*\{/.exec(s);
    if (!m) return s;
    const close = matchBrace(s, m[0].length - 1);
    if (close !== s.length - 1) return s;
    s = s.slice(m[0].length, -1).trim();
  }
}

/**
 * `x = 5` -> `5`, `(p,q) = (3,2)` -> `(3,2)`, `x \in [1,2)` -> `[1,2)`, `2 = x` -> `2`.
 * A right side with free variables stays an equation (`y = 2x + 1`: structures.ts
 * compares it as a labelled value or as an equation).
 */
function stripAssignment(s: string): string {
  const m = ASSIGN.exec(s);
  if (m) {
    const rest = s.slice(m[0].length);
    if (!rest || splitTopLevel(rest, '=').length > 1) return s;
    if (/=\s*$/.test(m[0]) && hasFreeVariables(rest) && !/[A-Za-z]{4,}/.test(rest.replace(/\\[a-zA-Z]+/g, ''))) return s;
    return rest;
  }
  const sides = splitTopLevel(s, '=');
  if (sides.length === 2 && isLabel(sides[1]) && sides[0].trim() && !hasFreeVariables(sides[0])) return sides[0].trim();
  return s;
}

/** `x = 5+5+1 = 7 = 11` -> `11`; `6080/7350 = .82721` -> `.82721`: a computation ends in its value. */
function chainValue(s: string): string {
  const chain = splitTopLevel(s, '=');
  if (chain.length < 2) return s;
  const lastSeg = chain[chain.length - 1].trim();
  if (!lastSeg || hasFreeVariables(lastSeg) || /[<>]|\\[lg]e(?![a-zA-Z])/.test(lastSeg)) return s;
  const arithmetic = !hasFreeVariables(chain[0]);
  // `5x - 7y + 4 = 0` is an equation, not a computation: kept.
  if (chain.length > 2) return lastSeg;
  if (chain.length === 2 && arithmetic) return lastSeg;
  return s;
}

/** Normalises one answer string. Idempotent. */
export function normalizeAnswer(raw: string): NormalizedAnswer {
  let s = raw.trim();
  if (PLAIN_NUMBER.test(s)) return { text: s, percent: false }; // the common case, fast
  s = unwrapWhole(stripMathDelimiters(s));
  let percent = false;
  if (/[\\$~{%^<>!]|[^\x00-\x7f]/.test(s)) {
    for (const [re, rep] of REPLACEMENTS) { re.lastIndex = 0; s = s.replace(re, rep); }
  }
  if (s.indexOf('\\') >= 0) s = unwrapCommands(s, TEXT_WRAPPERS);
  s = s.replace(/\s+/g, ' ').trim();
  if (/(?:\\%|%|\b(?:percent(?:age)?|pct))$/.test(s)) { percent = true; s = s.replace(/\s*(?:\\%|%|\b(?:percent(?:age)?|pct))$/, ''); }
  s = s.replace(/\\%|%/g, '');
  s = s.replace(/^(?:[\s*]|\.(?!\d))+/, '').replace(/^(?:so|thus|hence|therefore|then|finally)\b\s*,?\s*/i, '');
  if (!s.endsWith('...')) s = s.replace(/[\s*.,;]+$/, '');
  s = s.replace(/^(?:\\approx|\\sim|≈|\\(?:Rightarrow|implies|therefore|to|Longrightarrow)(?![a-zA-Z])|∴|=)\s*/, '');
  // "2 or 3", "1 and -1": a list, when the rest is math rather than prose.
  if (/\s(?:or|and)\s/.test(s)) {
    const list = s.replace(/\s*,?\s+(?:or|and)\s+/g, ', ');
    if (!/(?<![\\a-zA-Z])[A-Za-z]{3,}/.test(list)) s = list;
  }
  for (let k = 0; k < 2; k++) {
    const t = s.replace(UNIT_TAIL, '').replace(UNIT_TAIL_LETTER, '').trim();
    if (t === s || !t) break;
    s = t;
  }
  if (/(?:\\%|%)$/.test(s)) { percent = true; s = s.replace(/\s*(?:\\%|%)$/, ''); }
  // `x \approx 11` -> 11; `x = 1/3 \approx 0.33` -> the exact value before the approximation.
  if (s.indexOf('\\approx') >= 0) {
    const parts = splitTopLevel(s, '\\approx').map((p) => p.trim());
    if (parts.length > 1) s = parts[0] && !isLabel(parts[0]) ? parts[0] : parts[parts.length - 1];
  }
  // `x = 5`, `x \in [1,2)`, and "x = 2, y = 3" item by item.
  // (Not in prose: "we know $S$ is 121, so $N = 11$" is a sentence, not a computation.)
  const prose = (s.replace(/\\[a-zA-Z]+/g, ' ').match(/[A-Za-z]{4,}/g) ?? []).length >= 2;
  if (!prose && (s.indexOf('=') >= 0 || s.indexOf('\\in') >= 0)) {
    const items = splitTopLevel(s, ',');
    if (items.length > 1) {
      // Item by item: a chain never runs across a comma.
      if (items.every((it) => ASSIGN.test(it.trim()) || splitTopLevel(it, '=').length > 1)) s = items.map((it) => stripAssignment(chainValue(it.trim()))).join(', ');
    } else s = stripAssignment(chainValue(s));
  }
  // Thousands separated by spaces: `1 000 000`.
  if (/^-?\d{1,3}(?: \d{3})+(?:\.\d+)?$/.test(s)) s = s.replace(/ /g, '');
  if (THOUSANDS.test(s)) s = s.replace(/,/g, '');
  // In prose ("She pays 1,200 dollars") a comma between digit groups is a separator, not a list.
  else if (/[A-Za-z]{4,}/.test(s)) s = s.replace(/(?<=(?<![\d.])\d{1,3}(?:,\d{3})*),(?=\d{3}(?!\d))/g, '');
  s = s.replace(/\s+/g, ' ').trim();
  return { text: s, percent };
}
