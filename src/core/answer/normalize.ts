/**
 * String normalisation of an extracted answer, before any parsing: math
 * delimiters, `\boxed`, spacing commands, `\left`/`\right`, `\dfrac`/`\tfrac`,
 * text wrappers, currency, degrees, percent, units, thousands separators and
 * `x =` prefixes. Table-driven; every rule is one line below.
 */
import { matchBrace, splitTopLevel, stripMathDelimiters, unwrapCommands } from './latexText';

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
  [/∪/g, '\\cup '], [/∅/g, '\\emptyset '], [/²/g, '^2'], [/³/g, '^3'], [/[‘’′]/g, "'"],
  [/\\(?:displaystyle|textstyle|scriptstyle|limits|nolimits)(?![a-zA-Z])/g, ''],
  [/\\(?:left|right)\s*\.(?![0-9])/g, ''],
  [/\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|bigg|Bigg|big|Big)(?![a-zA-Z])/g, ''],
  [/,\\!/g, ','], [/(?<!\\)\\!/g, ''], [/(?<!\\)\\[,;: >]/g, ' '], [/\\q?quad(?![a-zA-Z])/g, ' '], [/~/g, ' '],
  [/\\[dtc]frac(?![a-zA-Z])/g, '\\frac'], [/\\[dt]binom(?![a-zA-Z])/g, '\\binom'],
  [/\\(?:leq|leqslant)(?![a-zA-Z])/g, '\\le'], [/\\(?:geq|geqslant)(?![a-zA-Z])/g, '\\ge'],
  [/\\neq(?![a-zA-Z])/g, '\\ne'], [/\\varnothing(?![a-zA-Z])/g, '\\emptyset'],
  [/\\\{\s*\\\}/g, '\\emptyset'], [/\\infinity(?![a-zA-Z])/g, '\\infty'],
  [/\{,\}/g, ','],
  // Degrees: 48^\circ, 48^{\circ}, \degree.
  [/\^\s*\{\s*\\circ\s*\}|\^\s*\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])/g, ''],
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

/** An assignment's left side: x, x_1, \alpha, f(x), y', or a word such as "Area". */
const LHS = String.raw`(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?'*|\\[a-zA-Z]+(?:_\{?[a-zA-Z0-9]+\}?)?|[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?\([^()=]*\)|[A-Za-z]{3,}(?: [A-Za-z]+){0,3})`;
const ASSIGN = new RegExp(`^${LHS}\\s*(?:=|\\\\in(?![a-zA-Z]))\\s*`);
const PLAIN_NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;
const THOUSANDS = /^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;

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

function stripAssignment(s: string): string {
  const m = ASSIGN.exec(s);
  if (!m) return s;
  const rest = s.slice(m[0].length);
  if (!rest || splitTopLevel(rest, '=').length > 1) return s;
  return rest;
}

/** Normalises one answer string. Idempotent. */
export function normalizeAnswer(raw: string): NormalizedAnswer {
  let s = raw.trim();
  if (PLAIN_NUMBER.test(s)) return { text: s, percent: false }; // the common case, fast
  s = unwrapWhole(stripMathDelimiters(s));
  let percent = false;
  if (/[\\$~{%^]|[^\x00-\x7f]/.test(s)) {
    for (const [re, rep] of REPLACEMENTS) { re.lastIndex = 0; s = s.replace(re, rep); }
  }
  if (s.indexOf('\\') >= 0) s = unwrapCommands(s, TEXT_WRAPPERS);
  s = s.replace(/\s+/g, ' ').trim();
  if (/(?:\\%|%|\bpercent)$/.test(s)) { percent = true; s = s.replace(/\s*(?:\\%|%|\bpercent)$/, ''); }
  s = s.replace(/\\%|%/g, '');
  s = s.replace(/^(?:[\s*]|\.(?!\d))+|[\s*.,;]+$/g, '');
  s = s.replace(/^(?:\\approx|\\sim|≈)\s*/, '');
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
  // `x = 5`, `x \in [1,2)`, and "x = 2, y = 3" item by item.
  if (s.indexOf('=') >= 0 || s.indexOf('\\in') >= 0) {
    const items = splitTopLevel(s, ',');
    if (items.length > 1 && items.every((it) => ASSIGN.test(it.trim()))) s = items.map((it) => stripAssignment(it.trim())).join(', ');
    else s = stripAssignment(s);
    // A computation that ends in a number: `6080/7350 = .82721`, `6x+5 = 18+5 = 23` -> the number.
    // (`5x - 7y + 4 = 0` is an equation, not a computation: kept.)
    const chain = splitTopLevel(s, '=');
    if (chain.length > 1) {
      const lastSeg = chain[chain.length - 1].trim();
      const arithmetic = !/[a-zA-Z]/.test(chain[0].replace(/\\[a-zA-Z]+/g, ''));
      if (PLAIN_NUMBER.test(lastSeg.replace(/,/g, '')) && (chain.length > 2 || arithmetic)) s = lastSeg;
    }
  }
  if (THOUSANDS.test(s)) s = s.replace(/,/g, '');
  // In prose ("She pays 1,200 dollars") a comma between digit groups is a separator, not a list.
  else if (/[A-Za-z]{4,}/.test(s)) s = s.replace(/(?<=(?<![\d.])\d{1,3}(?:,\d{3})*),(?=\d{3}(?!\d))/g, '');
  s = s.replace(/\s+/g, ' ').trim();
  return { text: s, percent };
}
