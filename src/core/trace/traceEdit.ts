/**
 * Editing one sample of a corpus through its trace (the trace editor): the pure part of
 * "save a trace document". A trace text is parsed back into its fields
 * (template.ts), the fields are applied to the sample, and the sample's JSONL
 * line is replaced in the file's bytes.
 *
 * Guarantees:
 * - every other line of the file stays byte for byte as it was (the file is
 *   handled as bytes: no decode/encode round trip, BOM and `\r\n` kept);
 * - inside the edited line only the values that changed are re-encoded, in
 *   place; key order, unknown fields, spacing and escaping of the rest stay;
 * - `text` is always re-rendered from the fields;
 * - a text that does not parse (a removed or moved stage tag) throws
 *   TraceStructureError and nothing is produced.
 */
import { topLevelSpans } from '../io/jsonMembers';
import { verify } from '../answer';
import { parseTrace, renderTrace, type TraceFields } from './template';
import type { Verdict } from './model';

/** The fields a trace document edits. */
export const TRACE_EDIT_FIELDS = ['question', 'draft', 'chain', 'verdict', 'final_answer'] as const;

// ---------------------------------------------------------------------------
// Lines of a file, as bytes

const LF = 0x0a;
const CR = 0x0d;

/** Byte range of line `index` (0-based) without its terminator, and where its terminator ends. */
export interface LineBytes { start: number; end: number; next: number }

/** The byte range of line `index`; null when the file has fewer lines. A final line without "\n" counts. */
export function lineBytes(file: Uint8Array, index: number): LineBytes | null {
  let start = 0;
  for (let i = 0; i < index; i++) {
    const nl = file.indexOf(LF, start);
    if (nl < 0) return null;
    start = nl + 1;
  }
  if (start >= file.length && index > 0) return null;
  const nl = file.indexOf(LF, start);
  const next = nl < 0 ? file.length : nl + 1;
  let end = nl < 0 ? file.length : nl;
  if (end > start && file[end - 1] === CR) end--;
  return { start, end, next };
}

/**
 * Replaces the content of line `index` by `newLine` (UTF-8), keeping its
 * terminator (`\n`, `\r\n` or none) and a leading BOM; every other byte of the
 * file is copied unchanged.
 */
export function replaceLineBytes(file: Uint8Array, index: number, newLine: string): Uint8Array {
  if (/[\r\n]/.test(newLine)) throw new Error('A JSONL line cannot contain a line break.');
  const at = lineBytes(file, index);
  if (!at) throw new Error(`The file has no line ${index + 1}.`);
  let start = at.start;
  if (index === 0 && file[0] === 0xef && file[1] === 0xbb && file[2] === 0xbf) start = Math.min(3, at.end);
  const line = new TextEncoder().encode(newLine);
  const out = new Uint8Array(start + line.length + (file.length - at.end));
  out.set(file.subarray(0, start), 0);
  out.set(line, start);
  out.set(file.subarray(at.end), start + line.length);
  return out;
}

/** Where a sample is in a corpus: its 0-based line number and its raw line (BOM stripped). */
export interface SampleLine { line: number; raw: string; sample: Record<string, unknown> }

/**
 * Finds the sample with `id` in a corpus's text (decoded). Line numbers of the
 * decoded text are those of the bytes: "\n" never occurs inside a UTF-8 sequence.
 * Malformed lines are skipped; the first sample with the id wins.
 */
export function findSampleLine(text: string, id: string): SampleLine | null {
  let line = 0;
  let start = 0;
  const needle = JSON.stringify(id).slice(1, -1);
  while (start <= text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    let raw = text.slice(start, end);
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (line === 0 && raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
    // Cheap pre-filter: the id's JSON text must occur in the line (ASCII-escaped lines are parsed anyway).
    if (raw.includes(needle) || /\\u/.test(raw)) {
      const sample = parseObject(raw);
      if (sample && sample.id === id) return { line, raw, sample };
    }
    if (nl < 0) break;
    start = nl + 1;
    line++;
  }
  return null;
}

function parseObject(raw: string): Record<string, unknown> | null {
  if (!raw.trim()) return null;
  try {
    const v = JSON.parse(raw) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------
// Fields → sample → line

/** The trace fields of a sample object; null if one is missing or of the wrong type. */
export function traceFieldsOf(sample: Record<string, unknown>): TraceFields | null {
  const { question, draft, chain, verdict, final_answer: finalAnswer } = sample;
  if (typeof question !== 'string' || typeof draft !== 'string' || typeof chain !== 'string' || typeof finalAnswer !== 'string') return null;
  if (verdict !== 'correct' && verdict !== 'incorrect') return null;
  return { question, draft, chain, verdict, final_answer: finalAnswer };
}

/**
 * The sample with the trace fields applied and `text` re-rendered; key order
 * and every other field are kept (new keys go last). `extra` sets more fields
 * (e.g. `draft_answer`).
 */
export function applyTraceFields(sample: Record<string, unknown>, fields: TraceFields, preset = 'paper', extra: Record<string, unknown> = {}): Record<string, unknown> {
  const text = renderTrace(fields, preset).text;
  const out: Record<string, unknown> = { ...sample };
  for (const f of TRACE_EDIT_FIELDS) out[f] = fields[f];
  Object.assign(out, extra);
  out.text = text;
  return out;
}

/** JSON text of a value; non-ASCII escaped when the line it goes into is ASCII-only (Python's ensure_ascii). */
function encodeValue(value: unknown, asciiOnly: boolean): string {
  const json = JSON.stringify(value);
  return asciiOnly ? json.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) : json;
}

function sameJson(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Rewrites a raw JSONL line so that it decodes to `updated`: only values that
 * differ from the line's are re-encoded, in place; keys missing from the line
 * are appended before its closing brace. Keys absent from `updated` are left alone.
 */
export function spliceLine(raw: string, updated: Record<string, unknown>): { line: string; changed: string[] } {
  const current = parseObject(raw);
  if (!current) throw new Error('The corpus line is not a JSON object.');
  const spans = topLevelSpans(raw);
  const asciiOnly = !/[^\x00-\x7f]/.test(raw);
  const edits: Array<{ start: number; end: number; value: string }> = [];
  const appended: string[] = [];
  const changed: string[] = [];
  for (const [key, value] of Object.entries(updated)) {
    if (key in current && sameJson(current[key], value)) continue;
    changed.push(key);
    const span = spans.get(key);
    if (span) edits.push({ start: span.start, end: span.end, value: encodeValue(value, asciiOnly) });
    else appended.push(`${encodeValue(key, asciiOnly)}:${encodeValue(value, asciiOnly)}`);
  }
  if (appended.length) {
    const close = raw.lastIndexOf('}');
    const empty = spans.size === 0;
    edits.push({ start: close, end: close, value: (empty ? '' : ',') + appended.join(',') });
  }
  edits.sort((a, b) => b.start - a.start);
  let line = raw;
  for (const e of edits) line = line.slice(0, e.start) + e.value + line.slice(e.end);
  return { line, changed };
}

// ---------------------------------------------------------------------------
// The verifier on an edited draft

export interface VerdictCheck {
  /** What the verifier says the verdict should be; null when it cannot decide or there is no gold answer. */
  verifierVerdict: Verdict | null;
  rule: string;
  /** The draft's extracted answer. */
  draftAnswer: string | null;
  /** The verifier decided and contradicts `verdict`. */
  disagrees: boolean;
}

/** Re-runs the answer verifier on a draft against the sample's gold answer (a bare answer, as stored). */
export function checkVerdict(draft: string, gold: unknown, verdict: Verdict): VerdictCheck {
  if (typeof gold !== 'string' || !gold.trim()) {
    return { verifierVerdict: null, rule: 'no-gold-answer', draftAnswer: null, disagrees: false };
  }
  const v = verify(draft, gold, { goldIsAnswer: true });
  const verifierVerdict: Verdict | null = v.equivalent === null ? null : v.equivalent ? 'correct' : 'incorrect';
  return { verifierVerdict, rule: v.rule, draftAnswer: v.pred_answer, disagrees: verifierVerdict !== null && verifierVerdict !== verdict };
}

// ---------------------------------------------------------------------------
// The whole save

export interface TraceSaveResult {
  /** The new file bytes. */
  bytes: Uint8Array;
  /** The new line (without terminator). */
  line: string;
  /** The sample as written. */
  sample: Record<string, unknown>;
  /** Keys whose value changed (always includes `text` when any field changed). */
  changed: string[];
  /** Set when the draft changed: the verifier's view of the new draft. */
  check?: VerdictCheck;
}

/** The sample's line is no longer the one the trace was read from: saving would discard that change. */
export class TraceLineChangedError extends Error {
  constructor(readonly id: string) {
    super(`Sample "${id}" has been changed in the corpus file since this trace was opened (another editor, the workbench, git or dcd build): not written over.`);
    this.name = 'TraceLineChangedError';
  }
}

/**
 * Applies an edited trace text to the sample with `id` in a corpus file.
 * Throws TraceStructureError when the text does not parse as a trace of the
 * preset, and Error when the sample is not in the file. When the draft
 * changes, the verifier re-runs and `draft_answer` follows the new draft;
 * the verdict is never changed here (it comes from the text, as edited).
 * With `readLine` (the raw line the trace was rendered from), a sample whose
 * line has changed since throws TraceLineChangedError.
 */
export function saveTraceToCorpus(file: Uint8Array, id: string, traceText: string, preset = 'paper', readLine?: string): TraceSaveResult {
  const { fields } = parseTrace(traceText, preset);
  const decoded = new TextDecoder('utf-8', { ignoreBOM: true }).decode(file);
  const found = findSampleLine(decoded, id);
  if (!found) throw new Error(`Sample "${id}" is no longer in the corpus file.`);
  if (readLine !== undefined && found.raw !== readLine) throw new TraceLineChangedError(id);
  const before = found.sample;
  const extra: Record<string, unknown> = {};
  let check: VerdictCheck | undefined;
  const draftChanged = before.draft !== fields.draft;
  if (draftChanged || before.verdict !== fields.verdict) {
    check = checkVerdict(fields.draft, before.gold_answer, fields.verdict);
    if (draftChanged && 'draft_answer' in before) extra.draft_answer = check.draftAnswer;
  }
  const sample = applyTraceFields(before, fields, preset, extra);
  const { line, changed } = spliceLine(found.raw, sample);
  const bytes = changed.length ? replaceLineBytes(file, found.line, line) : file;
  return { bytes, line, sample, changed, check };
}
