/**
 * Where each top-level member of a one-line JSON object sits in its raw text:
 * the one scanner behind the diagnostics' ranges and fixes, the trace editor's
 * splices and the workbench's field edits, all of which change one value and
 * must leave every other byte of the line alone.
 */

export interface JsonMember {
  key: string;
  /** The key's opening quote. */
  keyStart: number;
  valueStart: number;
  /** Just after the value. */
  valueEnd: number;
}

export interface ValueSpan { keyStart: number; start: number; end: number }

/**
 * The top-level members of a JSON object text, in order (duplicate keys
 * included), with the indices of its braces; null when the text is not one
 * object. A leading byte-order mark is allowed.
 */
export function topLevelMembers(s: string): { members: JsonMember[]; open: number; close: number } | null {
  let i = skipWs(s, s.charCodeAt(0) === 0xfeff ? 1 : 0);
  if (s.charCodeAt(i) !== 0x7b /* { */) return null;
  const open = i;
  const members: JsonMember[] = [];
  i = skipWs(s, i + 1);
  if (s.charCodeAt(i) === 0x7d /* } */) return { members, open, close: i };
  for (;;) {
    if (s.charCodeAt(i) !== 0x22 /* " */) return null;
    const keyStart = i;
    const keyEnd = endOfString(s, i);
    if (keyEnd < 0) return null;
    let key: string;
    try { key = JSON.parse(s.slice(keyStart, keyEnd)) as string; } catch { return null; }
    i = skipWs(s, keyEnd);
    if (s.charCodeAt(i) !== 0x3a /* : */) return null;
    const valueStart = skipWs(s, i + 1);
    const valueEnd = endOfValue(s, valueStart);
    if (valueEnd < 0) return null;
    members.push({ key, keyStart, valueStart, valueEnd });
    i = skipWs(s, valueEnd);
    if (s.charCodeAt(i) === 0x2c /* , */) { i = skipWs(s, i + 1); continue; }
    if (s.charCodeAt(i) === 0x7d) return { members, open, close: i };
    return null;
  }
}

/** Spans of the top-level values of a line that is a JSON object (empty when it is not). Later duplicates win, as in JSON.parse. */
export function topLevelSpans(raw: string): Map<string, ValueSpan> {
  const spans = new Map<string, ValueSpan>();
  for (const m of topLevelMembers(raw)?.members ?? []) spans.set(m.key, { keyStart: m.keyStart, start: m.valueStart, end: m.valueEnd });
  return spans;
}

export function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
    i++;
  }
  return i;
}

/** Index just after the closing quote of the string starting at `i`, or -1 when it is not closed. */
function endOfString(s: string, i: number): number {
  // indexOf, not a character loop: chains are long and mostly free of quotes.
  let j = i + 1;
  for (;;) {
    const q = s.indexOf('"', j);
    if (q < 0) return -1;
    let backslashes = 0;
    for (let k = q - 1; k > i && s.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** Index just after the value starting at `i`, or -1 when it does not end. */
function endOfValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x22) return endOfString(s, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < s.length; j++) {
      const d = s.charCodeAt(j);
      if (d === 0x22) { j = endOfString(s, j) - 1; if (j < 0) return -1; continue; }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) { depth--; if (depth === 0) return j + 1; }
    }
    return -1;
  }
  let j = i;
  while (j < s.length) {
    const d = s.charCodeAt(j);
    if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x09 || d === 0x0a || d === 0x0d) break;
    j++;
  }
  return j > i ? j : -1;
}

/**
 * Raw index, in `raw`, of decoded UTF-16 offset `offset` of the JSON string whose
 * opening quote is at `quote`. Each escape (`\n`, `\"`, `\uXXXX`) decodes to one unit.
 */
export function rawIndexOfDecoded(raw: string, quote: number, offset: number): number {
  let j = quote + 1;
  let remaining = offset;
  while (remaining > 0) {
    const b = raw.indexOf('\\', j);
    if (b < 0 || b - j >= remaining) return j + remaining;
    remaining -= b - j;
    j = b + (raw.charCodeAt(b + 1) === 0x75 /* u */ ? 6 : 2);
    remaining--;
  }
  return j;
}
