/**
 * JSONL parsing that loses nothing: every line is kept, in order, either as a
 * parsed value or as an error row with its 1-based line number and raw text.
 */

export type JsonlRow<T> =
  | { kind: 'value'; line: number; value: T; raw: string }
  | { kind: 'error'; line: number; raw: string; message: string };

export interface JsonlError { file?: string; line: number; message: string; raw: string }

/** Splits text into lines ("\n" or "\r\n"); a final empty line is not a row. */
export function splitLines(text: string): string[] {
  const lines = text.split('\n');
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
  try {
    const value = JSON.parse(raw) as T;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'error', line, raw, message: 'line is valid JSON but not an object' };
    return { kind: 'value', line, value, raw };
  } catch (err) {
    return { kind: 'error', line, raw, message: (err as Error).message };
  }
}
