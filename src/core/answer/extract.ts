/**
 * Final-answer extraction: from a student draft (`extractAnswer`) and from an
 * s1K `solution` (`extractGold`). Pure string work, no CAS.
 *
 * Draft order: inside a final `<answer>…</answer>` if there is one (rule
 * `answer-tag` when it holds a bare answer); last `\boxed{}`/`\fbox{}`; else the last answer statement
 * ("answer is …", "Answer: …", a final `#### …` or `A: …` line); else a text
 * that is only an answer (`bare`: one short line without prose); else the
 * last number in the text (`last-number`, a weak last resort). Within a tier
 * the last occurrence wins, so a text that changes its mind is graded on its
 * final answer.
 *
 * Gold order (docs/SPEC.md §1): last `\boxed{}`/`\fbox{}`, `####`, "The answer is",
 * "Answer:", a final multiple-choice letter line, and a short bare solution
 * ("128", "(2,3)") which is itself the answer. Anything else has no gold and
 * says why.
 */
import { matchBrace, stripMathDelimiters } from './latexText';

export interface Extraction { answer: string | null; rule: string; reason?: string }

interface Found { start: number; answer: string; end?: number }

/** One candidate final answer and the form it was written in (rule names as in `Extraction.rule`). */
export interface Candidate { answer: string; rule: string; start: number }

const BOX_RE = /\\(?:boxed|fbox|framebox)(?![a-zA-Z])/g;

/** Every complete `\boxed{…}` / `\fbox{…}` (nested braces kept; unclosed ones skipped), in text order. */
export function findBoxed(text: string): Found[] {
  const out: Found[] = [];
  if (text.indexOf('box') < 0) return out;
  BOX_RE.lastIndex = 0;
  for (let m = BOX_RE.exec(text); m; m = BOX_RE.exec(text)) {
    let j = m.index + m[0].length;
    while (j < text.length && (text[j] === ' ' || text[j] === '\t')) j++;
    if (text[j] === '[') { // \framebox[width]{…}
      const k = text.indexOf(']', j);
      if (k < 0) continue;
      j = k + 1;
    }
    if (text[j] === '{') {
      const close = matchBrace(text, j);
      if (close < 0) continue;
      out.push({ start: m.index, answer: text.slice(j + 1, close), end: close + 1 });
      BOX_RE.lastIndex = close + 1;
    } else if (j > m.index + m[0].length) { // `\boxed 5`: one token up to space or `$`
      const tok = /^[^\s$]+/.exec(text.slice(j, j + 200));
      if (tok) out.push({ start: m.index, answer: tok[0], end: j + tok[0].length });
    }
  }
  return out;
}

/** Tidies an extracted answer: math delimiters, markdown bold, trailing full stop, blank runs. */
export function cleanAnswer(raw: string): string {
  let s = raw.trim().replace(/^\*\*|\*\*$/g, '').trim();
  s = stripMathDelimiters(s);
  s = s.replace(/\s+/g, ' ').trim();
  // A sentence-final full stop (not a decimal point, not an ellipsis).
  while (/[^.]\.$/.test(s) || /^[\d\s]+ \.$/.test(s)) s = s.slice(0, -1).trim();
  s = s.replace(/[,;:]$/, '').trim();
  s = stripMathDelimiters(s).trim();
  // A lone `$` left by a sentence that closed its math late ("… \right)^{2}$").
  if ((s.match(/(?<!\\)\$/g) ?? []).length === 1) s = s.replace(/(?<!\\)\$/, '').trim();
  return s;
}

/** Text between two boxes that joins them into one answer: `\boxed{1}, \boxed{2}`, `\boxed{a} \text{ and } \boxed{b}`. */
function joinsBoxes(gap: string): boolean {
  if (gap.length > 80) return false;
  const g = gap.replace(/\\(?:text|textrm|mbox)\s*\{([^{}]*)\}/g, ' $1 ')
    .replace(/\\q?quad(?![a-zA-Z])|\\[,;!:]|\$|\\\[|\\\]|\\\(|\\\)|\\\\/g, ' ');
  return /^(?:[\s,;&]|\band\b|\bor\b)*$/i.test(g);
}

/**
 * The boxed answer of a text: the last `\boxed{}` together with the boxes
 * written right before it as one list (`\boxed{1},\boxed{2}` -> `1, 2`;
 * repeated identical boxes count once). Null when no box has content.
 */
export function boxedAnswer(text: string): Found | null {
  const boxes = findBoxed(text).map((b) => ({ ...b, answer: cleanAnswer(b.answer) })).filter((b) => b.answer);
  if (!boxes.length) return null;
  let k = boxes.length - 1;
  while (k > 0 && boxes[k - 1].end !== undefined && joinsBoxes(text.slice(boxes[k - 1].end, boxes[k].start))) k--;
  const items = [...new Set(boxes.slice(k).map((b) => b.answer))];
  return { start: boxes[k].start, end: boxes[boxes.length - 1].end, answer: items.join(', ') };
}

// Words that follow "answer is" in meta-talk ("the answer is correct") rather than an answer.
const META_AFTER_ANSWER = /^(?:correct|incorrect|wrong|right|valid|invalid|consistent|reasonable|plausible|exact|different|same|the same|not|that|to|in|given|as follows|below|above|still|also|unchanged|indeed|yes or no|an integer|in the form|easy|simple|straightforward|obvious|clear|unique)\b/i;
const FILLER = /^(?:therefore|thus|hence|so|then|simply|just|clearly|actually|indeed|likely|probably|finally|now)\b[\s,]*/i;

/**
 * The answer stated right after a marker ending at `pos`: a math block
 * ($…$, $$…$$, \(…\), \[…\]) or the rest of the sentence.
 */
function captureAfter(text: string, pos: number): string | null {
  let s = text.slice(pos, pos + 1500);
  const lead = /^[\s*:：]*/.exec(s)?.[0] ?? '';
  if ((lead.match(/\n/g)?.length ?? 0) > 2) return null;
  s = s.slice(lead.length).replace(FILLER, '');
  const mathOpen = /^(\$\$|\$|\\\[|\\\()/.exec(s);
  if (mathOpen) {
    const closeTok = ({ $$: '$$', $: '$', '\\[': '\\]', '\\(': '\\)' } as Record<string, string>)[mathOpen[1]];
    const end = s.indexOf(closeTok, mathOpen[1].length);
    if (end > 0) return s.slice(mathOpen[1].length, end);
  }
  // The rest of the line, cut at the end of the sentence.
  const nl = s.search(/\n|<\/?[a-z|]/i);
  let line = nl >= 0 ? s.slice(0, nl) : s;
  const stop = /(?:[^\d\s.]|\d)\.(?=\s|$)|\s\.(?=\s|$)/.exec(line);
  if (stop) line = line.slice(0, stop.index + (line[stop.index] === ' ' ? 0 : 1));
  // "the answer is unique? Or …": a question, not an answer.
  const q = line.indexOf('?');
  if (q >= 0 && !/\$/.test(line.slice(0, q))) return null;
  line = line.trim();
  if (!line) return null;
  if (META_AFTER_ANSWER.test(line) || /^(?:a|an)\s+[a-z]{2}/.test(line)) return null;
  // "twice this, which is $\frac{12}{17}$": the math that the sentence lands on.
  const maths = [...line.matchAll(/\$([^$]+)\$|\\\((.+?)\\\)/g)];
  if (maths.length && maths[0].index !== 0) {
    const lastM = maths[maths.length - 1];
    const before = line.slice(0, lastM.index).trimEnd();
    if (/(?:\bis|\bbe|=|:|\bequals|\bgives|\bget)$/i.test(before)) return lastM[1] ?? lastM[2];
  }
  // "5, since …": drop a trailing subordinate clause.
  const clause = /\s*(?:,\s*|\s+)(?:since|because|which|as|so that|but|where|when|given|and we|and so)\b/i.exec(line);
  if (clause && clause.index > 0) line = line.slice(0, clause.index);
  return line;
}

const ANSWER_IS_RE = /\banswer\**\s+(?:is|was|would be|should be|will be|becomes)\b\s*:?/gi;
const ANSWER_COLON_RE = /\banswer\**\s*[:：]/gi;

function lastCapture(text: string, re: RegExp): Found | null {
  re.lastIndex = 0;
  const matches = [...text.matchAll(re)];
  for (let k = matches.length - 1; k >= 0; k--) {
    const m = matches[k];
    const cap = captureAfter(text, (m.index ?? 0) + m[0].length);
    if (cap === null) continue;
    const ans = cleanAnswer(cap);
    if (ans && ans.length <= 300) return { start: m.index ?? 0, answer: ans };
  }
  return null;
}

function lastNonEmptyLine(text: string): string {
  const t = text.trimEnd();
  return t.slice(t.lastIndexOf('\n') + 1).trim();
}

/** `#### 18` or `A: 18` as the final line (GSM8K gold / OpenAI GSM8K drafts). */
function finalLineMarker(text: string, which: 'hash' | 'a-line'): string | null {
  const line = lastNonEmptyLine(text);
  const m = which === 'hash' ? /^####\s*(.+)$/.exec(line) : /^A:\s*(.+)$/.exec(line);
  if (!m) return null;
  const ans = cleanAnswer(m[1]);
  return ans || null;
}

/** The last number in the text (GSM8K calculator annotations `<<…>>` ignored). */
export function lastNumber(text: string): string | null {
  const t = text.indexOf('<<') >= 0 ? text.replace(/<<[^>]*>>/g, '') : text;
  const re = /(?<![A-Za-z_])(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)/g;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(t); m; m = re.exec(t)) last = m;
  if (!last) return null;
  let num = last[0];
  if (/^\d{1,3}(?:,\d{3})+/.test(num)) num = num.replace(/,/g, '');
  const i = last.index;
  if (t[i - 1] === '-' && (i - 1 === 0 || /[\s(=$:[{]/.test(t[i - 2]))) num = '-' + num;
  return num;
}

const FINAL_RE = /\bfinal answer\b(?:\**\s*(?:is\b|:|：)\**|\*\*\s*(?=\n))/gi;

/** An answer that a "final answer" statement may put ahead of an earlier box: math, a number, or a few words. */
function answerLike(a: string): boolean {
  return /[\d\\^_=()]/.test(a) || proseWords(a) <= 2;
}

/**
 * The last "final answer" statement ("Final Answer: The final answer is $X$.",
 * "**Final Answer** 34", "Final Answer: The largest $n$ is 34." -> 34).
 */
function finalAnswerStatement(text: string): Found | null {
  const found = lastCapture(text, FINAL_RE);
  if (!found) return null;
  let a = found.answer.replace(/^(?:the\s+)?final answer\s*(?:is|:)\s*/i, '');
  // Prose ending in "… is X": X.
  const is = /^(?=.*[a-z]{3}).*\s(?:is|are|was|equals|=)\s+(.+)$/i.exec(a);
  if (is && proseWords(is[1]) <= 2) a = is[1];
  a = cleanAnswer(a);
  if (!a || !answerLike(a)) return null;
  return { start: found.start, answer: a };
}

const MATH_SPAN = /\$\$([\s\S]{1,400}?)\$\$|\\\[([\s\S]{1,400}?)\\\]|\\\(([\s\S]{1,400}?)\\\)|(?<!\\)\$((?:\\\$|[^$\n]){1,300}?)(?<!\\)\$/g;

/** A math span that can be a final answer: no prose, not ending in an operator, not a lone variable. */
function spanAnswer(inner: string): string | null {
  const a = cleanAnswer(inner);
  if (!a || a.length > 250 || proseWords(a) > 0) return null;
  if (/[=+\-*/,^_{(]$|^[=+*/,)]/.test(a) || /\\(?:begin\{(?:align|cases|array\}\{[^}]*\|))/.test(a) && !/matrix|array/.test(a)) return null;
  if (/^[a-zA-Z](?:_\w)?$|^\\[a-zA-Z]+$/.test(a) && !/^\\(?:pi|infty|emptyset)$/.test(a)) return null;
  return a;
}

/** The last math span ($…$, $$…$$, \(…\), \[…\]) that reads as an answer, with where it ends. */
function lastMathSpan(text: string): (Found & { end: number }) | null {
  let best: (Found & { end: number }) | null = null;
  MATH_SPAN.lastIndex = 0;
  for (let m = MATH_SPAN.exec(text); m; m = MATH_SPAN.exec(text)) {
    const a = spanAnswer(m[1] ?? m[2] ?? m[3] ?? m[4] ?? '');
    if (a) best = { start: m.index, end: m.index + m[0].length, answer: a };
  }
  return best;
}

// Plain-text answers, latest-ending wins: a matrix, a (3\sqrt5)/7, a tuple (7, 6), a fraction 2/3, a number.
// A digit glued to a letter before it (`AZYUK2A`, `x2`) is never a number.
// Nor is an exponent or subscript (`x^2`, `a_3`), or the coefficient of a variable (`0.699x^2`, `3x + 1`).
const NUM = String.raw`(?<![A-Za-z_\d.,^{])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\d|\.\d)(?![a-zA-Z](?:[\^_(]|\s*[+\-*/=]))`;
const PLAIN_ANSWER = new RegExp([
  String.raw`\\begin\{([pbBvV]?matrix)\}[\s\S]{1,400}?\\end\{\1\}`,
  String.raw`\([^()\n]{1,40}\)\s*/\s*\d+(?!\d|\.\d)`,
  String.raw`\(\s*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)+\s*\)`,
  String.raw`${NUM}\s*/\s*\d+(?!\d|\.\d)`,
  NUM,
].join('|'), 'g');

/** The last plain-text answer outside math spans (GSM8K `<<…>>` annotations ignored), with where it ends. */
function lastPlainAnswer(text: string): (Found & { end: number }) | null {
  const blank = (m: string) => ' '.repeat(m.length);
  let t = text.indexOf('<<') >= 0 ? text.replace(/<<[^>\n]*>>/g, blank) : text;
  t = t.replace(/\$\$[\s\S]*?\$\$|(?<!\\)\$[^$\n]*?(?<!\\)\$|\\\([\s\S]*?\\\)|\\\[[\s\S]*?\\\]/g, (m) => (/\\begin\{[pbBvV]?matrix\}/.test(m) ? m.replace(/^\$+|\$+$|^\\[[(]|\\[\])]$/g, (d) => blank(d)) : blank(m)));
  let best: (Found & { end: number }) | null = null;
  PLAIN_ANSWER.lastIndex = 0;
  for (let m = PLAIN_ANSWER.exec(t); m; m = PLAIN_ANSWER.exec(t)) {
    const end = m.index + m[0].length;
    if (!best || end > best.end || (end === best.end && m.index < best.start)) best = { start: m.index, end, answer: m[0].trim() };
  }
  if (!best) return null;
  let a = best.answer;
  if (/^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(a)) a = a.replace(/,/g, '');
  const i = best.start;
  if (a[0] !== '-' && t[i - 1] === '-' && (i - 1 === 0 || /[\s(=$:[{]/.test(t[i - 2]))) a = '-' + a;
  return { ...best, answer: a };
}

function answerStatement(text: string): Extraction | null {
  let best: Found | null = null;
  let rule = '';
  const is = lastCapture(text, ANSWER_IS_RE);
  if (is) { best = is; rule = 'answer-is'; }
  const colon = lastCapture(text, ANSWER_COLON_RE);
  if (colon && (!best || colon.start > best.start)) { best = colon; rule = 'answer-colon'; }
  if (best) return { answer: best.answer, rule };
  return null;
}

/** The part of a response after its reasoning: text after `</think>` or `<|im_start|>answer`, if any. */
function answerSection(text: string): string | null {
  for (const tag of ['<|im_start|>answer', '</think>']) {
    const k = text.lastIndexOf(tag);
    if (k >= 0) {
      const rest = text.slice(k + tag.length);
      if (rest.trim()) return rest;
    }
  }
  return null;
}

/** The content of the last complete `<answer>…</answer>` (R1-Zero style prompts), if any. */
function answerTag(text: string): string | null {
  const end = text.lastIndexOf('</answer>');
  if (end < 0) return null;
  const start = text.lastIndexOf('<answer>', end);
  if (start < 0) return null;
  const inner = text.slice(start + 8, end);
  return inner.trim() ? inner : null;
}

/**
 * A stated answer: the box group and the last "final answer" statement (the
 * later of the two wins: a text that ends "Final Answer: … is $10,455$" after an
 * earlier box has changed its mind); then a final `#### N` or `A: N` line; then
 * the last "answer is …" / "Answer: …" statement.
 */
function extractStated(text: string): Extraction | null {
  const box = boxedAnswer(text);
  const fin = finalAnswerStatement(text);
  if (fin && (!box || fin.start > (box.end ?? box.start))) return { answer: fin.answer, rule: /final answer\s*\**\s*[:：]/i.test(text.slice(fin.start, fin.start + 20)) ? 'answer-colon' : 'answer-is' };
  if (box) return { answer: box.answer, rule: 'boxed' };
  const hash = finalLineMarker(text, 'hash');
  if (hash) return { answer: hash, rule: 'hash' };
  const aLine = finalLineMarker(text, 'a-line');
  if (aLine) return { answer: aLine, rule: 'answer-colon' };
  return answerStatement(text);
}

/** The last answer written without a marker: the last math span or plain-text answer, whichever ends later. */
function lastWritten(text: string): Extraction | null {
  const span = lastMathSpan(text);
  const plain = lastPlainAnswer(text);
  if (span && (!plain || span.end >= plain.end)) return { answer: span.answer, rule: 'last-math' };
  if (plain) return { answer: plain.answer, rule: 'last-number' };
  return null;
}

/**
 * The final answer of a draft/response. The LAST answer wins when a text
 * changes its mind. `answer: null` (rule `none`) when nothing can be found.
 */
export function extractAnswer(text: string): Extraction {
  if (typeof text !== 'string' || !text.trim()) return { answer: null, rule: 'none', reason: 'empty text' };
  const tag = answerTag(text);
  if (tag !== null) {
    const inner = extractStated(tag);
    if (inner) return inner;
    const ans = cleanAnswer(tag);
    if (ans && ans.length <= 120 && proseWords(ans) <= 3) return { answer: ans, rule: 'answer-tag' };
    // A sentence as the tagged answer ("Therefore, there are 9 divisors of 196."): kept whole; the comparison
    // reads its only number, or is undecided when it holds several.
    if (ans && ans.length <= 300 && tag.trim().indexOf('\n\n') < 0) {
      // "… Therefore, Claire eats \(7\) dozens of eggs in 4 weeks.": the one math value of the last sentence.
      const sentences = tag.trim().split(/(?<=[.!?])\s+(?=[A-Z\\$])/);
      const spans = [...sentences[sentences.length - 1].matchAll(MATH_SPAN)].map((m) => spanAnswer(m[1] ?? m[2] ?? m[3] ?? m[4] ?? '')).filter((a) => a !== null);
      if (sentences.length > 1 && spans.length === 1) return { answer: spans[0] as string, rule: 'answer-tag' };
      return { answer: ans, rule: 'answer-tag' };
    }
  }
  const section = answerSection(text);
  const stated = (section !== null ? extractStated(section) : null) ?? extractStated(text);
  if (stated) return stated;
  // A text that is only an answer ("\frac{1}{2}", "x = 5", "(B)", "True").
  const t = text.trim();
  if (t.indexOf('\n') < 0 && t.length <= 100 && (proseWords(t) === 0 || /^[A-Za-z]+$/.test(t))) {
    const ans = cleanAnswer(t);
    if (ans) return { answer: ans, rule: 'bare' };
  }
  const last = lastWritten(section ?? text);
  if (last) return last;
  return { answer: null, rule: 'none', reason: 'no \\boxed{}, answer statement, math or number in the text' };
}

/**
 * Every candidate final answer of a text with its form, best first (the order
 * `extractAnswer` uses): `answer-tag` content, the box group (`boxed`, all of
 * the final adjacent boxes as one list), "final answer" statements, `hash` /
 * `A:` lines, "answer is"/"Answer:" statements, `bare`, the last math span
 * (`last-math`) and the last plain-text answer (`last-number`: a number, a
 * fraction `2/3`, a tuple `(7, 6)`, a matrix, `(3\sqrt5)/7`). `start` is the
 * offset in the text. Candidates that repeat an earlier answer are dropped.
 */
export function extractCandidates(text: string): Candidate[] {
  if (typeof text !== 'string' || !text.trim()) return [];
  const out: Candidate[] = [];
  const add = (answer: string | null | undefined, rule: string, start: number) => {
    if (answer && !out.some((c) => c.answer === answer)) out.push({ answer, rule, start });
  };
  const first = extractAnswer(text);
  if (first.answer !== null) add(first.answer, first.rule, Math.max(0, text.lastIndexOf(first.answer)));
  const box = boxedAnswer(text);
  if (box) add(box.answer, 'boxed', box.start);
  const fin = finalAnswerStatement(text);
  if (fin) add(fin.answer, 'answer-is', fin.start);
  const hash = finalLineMarker(text, 'hash');
  if (hash) add(hash, 'hash', text.lastIndexOf('####'));
  const stated = answerStatement(text);
  if (stated?.answer) add(stated.answer, stated.rule, Math.max(0, text.lastIndexOf(stated.answer)));
  const span = lastMathSpan(text);
  if (span) add(span.answer, 'last-math', span.start);
  const plain = lastPlainAnswer(text);
  if (plain) add(plain.answer, 'last-number', plain.start);
  return out;
}

const CHOICE_LINE = /^(?:\*\*)?\(?([A-J])\)?(?:\*\*)?\.?$/;

function proseWords(s: string): number {
  const outsideMath = s.replace(/\$[^$]*\$/g, ' ').replace(/\\(?:begin|end)\s*\{[^}]*\}(?:\{[^}]*\})?/g, ' ').replace(/\\[a-zA-Z]+/g, ' ');
  return (outsideMath.match(/[A-Za-z]{3,}/g) ?? []).length;
}

/**
 * The gold answer a_gt of an s1K `solution` (docs/SPEC.md §1). A short one-line
 * solution with no marker is the answer itself (rule `bare`).
 */
export function extractGold(solution: string): Extraction {
  if (typeof solution !== 'string' || !solution.trim()) return { answer: null, rule: 'none', reason: 'empty solution' };
  const s = solution.trim();
  const box = boxedAnswer(s);
  if (box) return { answer: box.answer, rule: 'boxed' };
  const hash = finalLineMarker(s, 'hash');
  if (hash) return { answer: hash, rule: 'hash' };
  const stated = answerStatement(s);
  if (stated) return stated;
  const aLine = finalLineMarker(s, 'a-line');
  if (aLine) return { answer: aLine, rule: 'answer-colon' };
  const last = lastNonEmptyLine(s);
  const choice = CHOICE_LINE.exec(last);
  if (choice) return { answer: choice[1], rule: 'choice' };
  if (/\\blacksquare|∎|\\qed\b|Q\.E\.D/i.test(s)) {
    return { answer: null, rule: 'none', reason: 'proof: the solution ends without a final answer' };
  }
  if (s.indexOf('\n') < 0 && s.length <= 100 && proseWords(s) <= 4) {
    const ans = cleanAnswer(s);
    if (ans) return { answer: ans, rule: 'bare' };
  }
  return { answer: null, rule: 'none', reason: 'worked solution with no \\boxed{}, ####, "answer is" or "Answer:" marker' };
}
