/**
 * JSONL parsing that loses nothing: every line is kept, in order, either as a
 * parsed value or as an error row with its 1-based line number and raw text.
 */
import { Buffer, isUtf8 } from 'node:buffer';

export type JsonlRow<T> =
  | { kind: 'value'; line: number; value: T; raw: string }
  | { kind: 'error'; line: number; raw: string; message: string; code: JsonlErrorCode; byte?: number };

/** Why a line is an error row. */
export type JsonlErrorCode = 'malformed-json' | 'not-an-object' | 'invalid-utf8' | 'too-long' | 'too-deep';

/**
 * Lines longer than this are refused before they are decoded: no corpus line
 * comes near it (the longest s1K-1.1 sample is well under 1 MB), and a line of
 * this size without structure is an attack or a broken file, not a sample.
 */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Deeper JSON than this is refused: every later walk of the value (search, re-serialising an edit) recurses. */
export const MAX_JSON_DEPTH = 256;

export interface JsonlError { file?: string; line: number; message: string; raw: string }

/** Splits text into lines ("\n" or "\r\n"); a leading byte-order mark is dropped and a final empty line is not a row. */
export function splitLines(text: string): string[] {
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Parses JSONL text; blank lines are skipped (not errors), malformed lines become error rows. */
export function parseJsonl<T = unknown>(text: string): JsonlRow<T>[] {
  const rows: JsonlRow<T>[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const row = classifyJsonlLine<T>(lines[i], i + 1);
    if (row) rows.push(row);
  }
  return rows;
}

/** The error rows of a parse, as reportable errors. */
export function jsonlErrors<T>(rows: JsonlRow<T>[], file?: string): JsonlError[] {
  return rows.filter((r): r is Extract<JsonlRow<T>, { kind: 'error' }> => r.kind === 'error')
    .map((r) => ({ file, line: r.line, message: r.message, raw: r.raw }));
}

/** Serialises values as JSONL lines (compact JSON, each ending in a newline), lazily: feed it to writeFileAtomic. */
export function* jsonlLines(values: Iterable<unknown>): Generator<string> {
  for (const v of values) yield JSON.stringify(v) + '\n';
}

/** Serialises values as one JSONL string (small outputs; large ones should stream jsonlLines). */
export function toJsonl(values: Iterable<unknown>): string {
  let out = '';
  for (const line of jsonlLines(values)) out += line;
  return out;
}

export function formatJsonlError(e: JsonlError): string {
  return `${e.file ?? '<input>'}:${e.line}: ${e.message}`;
}

/** Classifies one line as parseJsonl does: undefined for a blank line, else a value or an error row. */
export function classifyJsonlLine<T>(raw: string, line: number): JsonlRow<T> | undefined {
  if (raw.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { kind: 'error', code: 'malformed-json', line, raw, message: (err as Error).message };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'error', code: 'not-an-object', line, raw, message: 'line is valid JSON but not an object' };
  if (deeperThan(value, MAX_JSON_DEPTH)) return { kind: 'error', code: 'too-deep', line, raw, message: `JSON nested deeper than ${MAX_JSON_DEPTH} levels` };
  return { kind: 'value', line, value: value as T, raw };
}

/** Whether arrays and objects nest deeper than `max`; iterative, so the check itself cannot overflow the stack. */
export function deeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (depth > max) return true;
    if (v === null || typeof v !== 'object') continue;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * Classifies the line buf[from, to) (terminator excluded) from its bytes: a
 * line over MAX_LINE_BYTES or with invalid UTF-8 is an error row, never
 * decoded with replacement characters; `offset` is buf[0]'s byte offset in the
 * file, so the error can name the file offset of the bad byte.
 */
export function classifyJsonlBytes<T>(buf: Buffer, from: number, to: number, line: number, offset = 0): JsonlRow<T> | undefined {
  if (to - from > MAX_LINE_BYTES) return tooLongRow(to - from, line, offset + from);
  const bad = invalidUtf8At(buf, from, to);
  if (bad >= 0) {
    return {
      kind: 'error', code: 'invalid-utf8', line, byte: offset + bad, raw: buf.toString('utf8', from, to),
      message: `invalid UTF-8 at byte ${offset + bad} (column ${bad - from + 1} of the line's bytes)`,
    };
  }
  return classifyJsonlLine<T>(buf.toString('utf8', from, to), line);
}

/** The error row of a line of `bytes` bytes over MAX_LINE_BYTES. */
export function tooLongRow(bytes: number, line: number, byte?: number): Extract<JsonlRow<never>, { kind: 'error' }> {
  return { kind: 'error', code: 'too-long', line, byte, raw: '', message: `line is ${bytes} bytes, over the ${MAX_LINE_BYTES}-byte limit` };
}

/**
 * Classifies a line that is already text (an editor's line) as
 * classifyJsonlBytes classifies its UTF-8 bytes, the length limit included.
 */
export function classifyJsonlText<T>(raw: string, line: number): JsonlRow<T> | undefined {
  // Three UTF-8 bytes per UTF-16 unit at most: shorter strings need no byte count.
  if (raw.length * 3 > MAX_LINE_BYTES) {
    const bytes = Buffer.byteLength(raw, 'utf8');
    if (bytes > MAX_LINE_BYTES) return tooLongRow(bytes, line);
  }
  return classifyJsonlLine<T>(raw, line);
}

/** Index of the first byte of buf[from, to) that is not part of valid UTF-8, or -1. */
export function invalidUtf8At(buf: Buffer, from: number, to: number): number {
  if (isUtf8(buf.subarray(from, to))) return -1;
  for (let i = from; i < to;) {
    const b = buf[i];
    const n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (n === 0 || i + n > to) return i;
    for (let k = 1; k < n; k++) if ((buf[i + k] & 0xc0) !== 0x80) return i;
    const b1 = buf[i + 1];
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    if ((b === 0xe0 && b1 < 0xa0) || (b === 0xed && b1 > 0x9f) || (b === 0xf0 && b1 < 0x90) || (b === 0xf4 && b1 > 0x8f)) return i;
    i += n;
  }
  return -1;
}
