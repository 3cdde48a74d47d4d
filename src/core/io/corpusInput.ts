/**
 * The one input layer for corpus files: every command that reads a
 * `*.dcd.jsonl` corpus (and the workbench, line by line) reads it through
 * here, so a hostile or broken file gets the same answer everywhere.
 *
 * Outcome classes (INPUT_OUTCOMES is the single table):
 * - ok: nothing to say (a byte-order mark, CRLF endings, no final newline);
 * - warning: the command runs, and says so (stderr, JSON `warnings`);
 * - error: the command refuses the input, names the line (and field or byte),
 *   exits non-zero and writes nothing.
 * Lines are never dropped or rewritten: a bad line is reported and kept as an
 * error row (docs/ARCHITECTURE.md, data flow 1).
 */
import { promises as fs } from 'node:fs';
import { createHash } from 'node:crypto';
import type { JsonlErrorCode, JsonlRow } from './jsonl';
import { forEachJsonlRow, forEachJsonlRowInBuffer, type JsonlReadOptions, type LineSpan } from './jsonlFile';
import { SAMPLE_REQUIRED_FIELDS, type DcdSample } from '../trace/model';

export type InputOutcome = 'ok' | 'warning' | 'error';
export type InputProblemCode = JsonlErrorCode | 'empty' | 'missing-field' | 'invalid-field' | 'duplicate-id';

/** What each input problem means for every command. */
export const INPUT_OUTCOMES: Record<InputProblemCode, Exclude<InputOutcome, 'ok'>> = {
  'invalid-utf8': 'error',
  'malformed-json': 'error',
  'not-an-object': 'error',
  'too-long': 'error',
  'too-deep': 'error',
  empty: 'error',
  'missing-field': 'error',
  'invalid-field': 'error',
  'duplicate-id': 'warning',
};

export interface InputProblem {
  code: InputProblemCode;
  severity: Exclude<InputOutcome, 'ok'>;
  file: string;
  /** 1-based line; absent for problems of the whole file. */
  line?: number;
  /** Byte offset in the file (invalid UTF-8, overlong lines). */
  byte?: number;
  field?: string;
  message: string;
}

export interface CorpusSampleRow {
  /** 0-based among the well-formed samples. */
  index: number;
  line: number;
  value: DcdSample;
}

export interface CorpusRead {
  file: string;
  bytes: Buffer;
  /** Every non-blank line, in order: samples and error rows. */
  rows: JsonlRow<DcdSample>[];
  samples: CorpusSampleRow[];
  problems: InputProblem[];
}

/** Which fields a reader needs: every sample rule of the core, or one named string field (contamination's `--corpus-field`). */
export type FieldRules = { kind: 'sample' } | { kind: 'field'; field: string; read?: (v: Record<string, unknown>) => unknown; idOf?: (v: Record<string, unknown>) => string | null };

export function problem(code: InputProblemCode, file: string, message: string, at: { line?: number; byte?: number; field?: string } = {}): InputProblem {
  return { code, severity: INPUT_OUTCOMES[code], file, ...at, message };
}

/** The sample field rules (the same ones the corpus diagnostics apply): required fields present, strings, a known verdict. */
export function sampleFieldProblems(v: Record<string, unknown>, file: string, line: number): InputProblem[] {
  const out: InputProblem[] = [];
  for (const f of SAMPLE_REQUIRED_FIELDS) {
    const x = v[f];
    if (x === undefined || x === null) out.push(problem('missing-field', file, `missing required field "${f}"`, { line, field: f }));
    else if (typeof x !== 'string') out.push(problem('invalid-field', file, `field "${f}" must be a string, not ${jsonType(x)}`, { line, field: f }));
  }
  if (typeof v.verdict === 'string' && v.verdict !== 'correct' && v.verdict !== 'incorrect') {
    out.push(problem('invalid-field', file, `field "verdict" must be "correct" or "incorrect", not ${JSON.stringify(v.verdict)}`, { line, field: 'verdict' }));
  }
  return out;
}

/** A sample's id as the duplicate check reads it: a string id, or none. */
export function sampleIdOf(v: Record<string, unknown>): string | null {
  return typeof v.id === 'string' ? v.id : null;
}

/** Line `line` repeats the id first seen on line `first` (both 1-based). */
export function duplicateIdProblem(file: string, id: string, line: number, first: number): InputProblem {
  return problem('duplicate-id', file, `duplicate id ${JSON.stringify(id)} (also on line ${first})`, { line, field: 'id' });
}

function jsonType(x: unknown): string {
  return Array.isArray(x) ? 'an array' : x === null ? 'null' : typeof x === 'object' ? 'an object' : `a ${typeof x}`;
}

/**
 * The checks of the input layer, one row at a time: the field rules, duplicate
 * ids (one map entry per distinct id: the only per-sample state) and, at the
 * end, an empty corpus. The in-memory read (checkCorpusBytes) and the
 * streaming scan (scanCorpusInput) both feed it, so they cannot disagree.
 */
export class CorpusChecker {
  readonly problems: InputProblem[] = [];
  /** Non-blank lines seen (samples and error rows). */
  rows = 0;
  samples = 0;
  /** 1-based lines of the error rows (malformed JSON, invalid UTF-8, …). */
  readonly errorLines: number[] = [];
  private readonly firstLineOfId = new Map<string, number>();

  constructor(readonly file: string, readonly rules: FieldRules = { kind: 'sample' }) {}

  /** Checks one row; returns the sample row (with its 0-based index among the samples) or null for an error row. */
  add(row: JsonlRow<DcdSample>): CorpusSampleRow | null {
    const { file, rules } = this;
    this.rows++;
    if (row.kind === 'error') {
      this.errorLines.push(row.line);
      this.problems.push(problem(row.code, file, row.message, { line: row.line, byte: row.byte }));
      return null;
    }
    const v = row.value as Record<string, unknown>;
    if (rules.kind === 'sample') this.problems.push(...sampleFieldProblems(v, file, row.line));
    else if (typeof (rules.read ?? ((r) => r[rules.field]))(v) !== 'string') {
      this.problems.push(problem('invalid-field', file, `no string field "${rules.field}"`, { line: row.line, field: rules.field }));
    }
    const id = rules.kind === 'field' && rules.idOf ? rules.idOf(v) : sampleIdOf(v);
    if (id !== null) {
      const first = this.firstLineOfId.get(id);
      if (first === undefined) this.firstLineOfId.set(id, row.line);
      else this.problems.push(duplicateIdProblem(file, id, row.line, first));
    }
    return { index: this.samples++, line: row.line, value: row.value };
  }

  /** Ends the check: an input without a row is an error; returns the problems. */
  finish(fileBytes: number): InputProblem[] {
    if (!this.rows) this.problems.push(problem('empty', this.file, fileBytes ? 'the corpus has only blank lines: no samples' : 'the corpus is empty: no samples'));
    this.firstLineOfId.clear();
    return this.problems;
  }
}

/** Checks corpus bytes: every line classified, the field rules applied, duplicate ids and an empty corpus reported. */
export function checkCorpusBytes(bytes: Buffer, file: string, rules: FieldRules = { kind: 'sample' }): CorpusRead {
  const rows: JsonlRow<DcdSample>[] = [];
  const samples: CorpusSampleRow[] = [];
  const checker = new CorpusChecker(file, rules);
  forEachJsonlRowInBuffer<DcdSample>(bytes, (row) => {
    rows.push(row);
    const s = checker.add(row);
    if (s) samples.push(s);
  });
  return { file, bytes, rows, samples, problems: checker.finish(bytes.length) };
}

/** Reads and checks a corpus file held in memory whole (small files, tests); commands stream with scanCorpusInput. */
export async function readCorpusInput(file: string, rules?: FieldRules): Promise<CorpusRead> {
  return checkCorpusBytes(await fs.readFile(file), file, rules);
}

/** What a streaming scan of a corpus found: the same problems as checkCorpusBytes, without the rows. */
export interface CorpusScan {
  file: string;
  problems: InputProblem[];
  /** Well-formed samples (they have 0-based indexes 0…samples-1). */
  samples: number;
  /** Non-blank lines. */
  rows: number;
  /** 1-based lines of the error rows. */
  errorLines: number[];
  /** File size in bytes (what was read). */
  size: number;
  /** SHA-256 of the bytes read, hex (only when asked for). */
  sha256?: string;
}

export interface ScanOptions extends JsonlReadOptions {
  rules?: FieldRules;
  /** Each well-formed sample with its line's byte span; a returned promise is awaited before reading on. */
  onSample?: (sample: CorpusSampleRow, span: LineSpan) => void | Promise<void>;
  /** Each non-blank row (samples and error rows), before onSample. */
  onRow?: (row: JsonlRow<DcdSample>, span: LineSpan) => void;
  /** Also hash the bytes (SHA-256) as they are read: the export manifest's corpus hash, without a second read. */
  hash?: boolean;
}

/**
 * Reads and checks a corpus file through the streaming reader: the problems
 * of checkCorpusBytes (line numbers, bytes, fields, duplicate ids, empty), with
 * every sample handed to onSample and then dropped. Memory: the longest line,
 * the problems, and one map entry per distinct id. An unreadable file throws.
 */
export async function scanCorpusInput(file: string, opts: ScanOptions = {}): Promise<CorpusScan> {
  const checker = new CorpusChecker(file, opts.rules);
  const hash = opts.hash ? createHash('sha256') : null;
  let size = 0;
  await forEachJsonlRow<DcdSample>(file, (row, span) => {
    opts.onRow?.(row, span);
    const s = checker.add(row);
    return s && opts.onSample ? opts.onSample(s, span) : undefined;
  }, {
    chunkBytes: opts.chunkBytes,
    onBytes: (chunk) => { size += chunk.length; hash?.update(chunk); opts.onBytes?.(chunk); },
  });
  return {
    file, problems: checker.finish(size), samples: checker.samples, rows: checker.rows, errorLines: checker.errorLines, size,
    ...(hash ? { sha256: hash.digest('hex') } : {}),
  };
}

/** Line bytes per batch of scanCorpusBatches (default). */
export const BATCH_BYTES = 32 * 1024 * 1024;

/**
 * Streams a corpus in batches of well-formed samples (about `batchBytes` of
 * line bytes each), calling onBatch in file order. With `inFlight` n > 1 the
 * reader goes on while up to n batches are being processed (pack tokenizes
 * batch k+1 while batch k finishes; it keeps its own output in order); with 1
 * (the default) onBatch is awaited before reading on. The reader holds at
 * most the batches in flight and the one being filled. A batch that fails
 * stops the reading, and its error is thrown.
 */
export async function scanCorpusBatches(file: string, onBatch: (batch: CorpusSampleRow[]) => Promise<void>, opts: ScanOptions & { batchBytes?: number; inFlight?: number } = {}): Promise<CorpusScan> {
  const limit = opts.batchBytes ?? BATCH_BYTES;
  const most = Math.max(1, opts.inFlight ?? 1);
  const running: Promise<void>[] = [];
  const start = async (full: CorpusSampleRow[]): Promise<void> => {
    while (running.length >= most) await running.shift();
    const p = onBatch(full);
    p.catch(() => undefined); // awaited in turn; a failure must not be reported as unhandled meanwhile
    running.push(p);
  };
  let batch: CorpusSampleRow[] = [];
  let bytes = 0;
  const scan = await scanCorpusInput(file, {
    ...opts,
    onSample: async (s, span) => {
      await opts.onSample?.(s, span);
      batch.push(s);
      bytes += span.end - span.offset;
      if (bytes >= limit) { const full = batch; batch = []; bytes = 0; await start(full); }
    },
  });
  if (batch.length) await start(batch);
  while (running.length) await running.shift();
  return scan;
}

export function errorsOf(problems: readonly InputProblem[]): InputProblem[] {
  return problems.filter((p) => p.severity === 'error');
}

export function warningsOf(problems: readonly InputProblem[]): InputProblem[] {
  return problems.filter((p) => p.severity === 'warning');
}

export function outcomeOf(problems: readonly InputProblem[]): InputOutcome {
  return problems.some((p) => p.severity === 'error') ? 'error' : problems.length ? 'warning' : 'ok';
}

/** `file:line: message` (the shape of formatJsonlError). */
export function formatProblem(p: InputProblem): string {
  return `${p.file}${p.line ? `:${p.line}` : ''}: ${p.message}`;
}

/** An input the command refuses: every error, one per line. */
export class CorpusInputError extends Error {
  constructor(readonly problems: InputProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'CorpusInputError';
  }
}

/** Throws CorpusInputError when the read has errors; returns it otherwise. */
export function requireClean<R extends { problems: InputProblem[] }>(read: R): R {
  const errors = errorsOf(read.problems);
  if (errors.length) throw new CorpusInputError(errors);
  return read;
}
