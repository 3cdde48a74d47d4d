/**
 * Importers for the two inputs of a DCD corpus (docs/SPEC.md §1): s1K-1.1 (parquet,
 * JSONL or a JSON array) and student drafts (JSONL). Nothing is dropped
 * silently: malformed lines and rows missing columns come back as errors with
 * their file and line (or row) number.
 */
import { promises as fs } from 'node:fs';
import { parquetMetadataAsync, parquetReadObjects, asyncBufferFromFile } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { type JsonlError } from '../io/jsonl';
import { forEachJsonlRow } from '../io/jsonlFile';
import { S1K_REQUIRED_COLUMNS, type S1kRow, type StudentDraft } from '../trace/model';

export type S1kFormat = 'parquet' | 'jsonl' | 'json';

export interface S1kImport {
  format: S1kFormat;
  rows: S1kRow[];
  /** Row number (1-based, in the file's order) of each entry of `rows`. */
  rowNumbers: number[];
  /** Malformed lines and rows that lack required columns. */
  errors: JsonlError[];
}

/** Raised when a whole input cannot be used (e.g. a required column is absent). */
export class ImportError extends Error {
  constructor(message: string) { super(message); this.name = 'ImportError'; }
}

/** Parquet by its magic bytes (or extension); otherwise a JSON array when the first non-blank character is `[`. Reads only the file's head. */
export async function detectS1kFormat(file: string): Promise<S1kFormat> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    for (let position = 0; ; position += buf.length) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      if (position === 0 && (buf.toString('latin1', 0, 4) === 'PAR1' || /\.parquet$/i.test(file))) return 'parquet';
      if (bytesRead === 0) return 'jsonl';
      let head = buf.toString('utf8', 0, bytesRead);
      if (position === 0) head = head.replace(/^\uFEFF/, '');
      head = head.trimStart();
      if (head) return head[0] === '[' ? 'json' : 'jsonl';
    }
  } finally {
    await handle.close();
  }
}

function missingColumns(columns: Iterable<string>): string[] {
  const have = new Set(columns);
  return S1K_REQUIRED_COLUMNS.filter((c) => !have.has(c));
}

/** Coerces a row's cells to strings (parquet nulls become empty strings) and checks required columns. */
function checkRow(value: Record<string, unknown>): { row?: S1kRow; missing: string[] } {
  const missing = S1K_REQUIRED_COLUMNS.filter((c) => typeof value[c] !== 'string');
  if (missing.length) return { missing };
  return { row: value as S1kRow, missing };
}

export async function importS1k(file: string, format?: S1kFormat): Promise<S1kImport> {
  format ??= await detectS1kFormat(file);
  const out: S1kImport = { format, rows: [], rowNumbers: [], errors: [] };
  if (format === 'parquet') {
    // Read by row group (s1K-like and OpenThoughts-like files run to gigabytes): the
    // file is read in ranges, and one group's decoded columns are the most held at once.
    const buffer = await asyncBufferFromFile(file);
    const metadata = await parquetMetadataAsync(buffer);
    let start = 0;
    for (const group of metadata.row_groups) {
      const n = Number(group.num_rows);
      if (!n) continue;
      const records = (await parquetReadObjects({ file: buffer, metadata, rowStart: start, rowEnd: start + n, compressors })) as Record<string, unknown>[];
      if (start === 0) {
        const absent = missingColumns(records.length ? Object.keys(records[0]) : []);
        if (absent.length) throw new ImportError(`${file}: the parquet file lacks the s1K column(s) ${absent.join(', ')}.`);
      }
      records.forEach((r, i) => {
        for (const [k, v] of Object.entries(r)) if (v === null || v === undefined) r[k] = '';
        const { row, missing } = checkRow(r);
        const line = start + i + 1;
        if (row) { out.rows.push(row); out.rowNumbers.push(line); } else out.errors.push({ file, line, message: `row lacks ${missing.join(', ')}`, raw: '' });
      });
      start += n;
    }
    if (start === 0) {
      const absent = missingColumns([]);
      if (absent.length) throw new ImportError(`${file}: the parquet file lacks the s1K column(s) ${absent.join(', ')}.`);
    }
    return out;
  }
  if (format === 'json') {
    const text = await fs.readFile(file, 'utf8');
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch (err) { throw new ImportError(`${file}: not valid JSON: ${(err as Error).message}`); }
    if (!Array.isArray(parsed)) throw new ImportError(`${file}: expected a JSON array of s1K rows.`);
    const absent = missingColumns(parsed.length && parsed[0] && typeof parsed[0] === 'object' ? Object.keys(parsed[0]) : []);
    if (absent.length) throw new ImportError(`${file}: the rows lack the s1K column(s) ${absent.join(', ')}.`);
    parsed.forEach((r: unknown, i) => {
      if (!r || typeof r !== 'object') { out.errors.push({ file, line: i + 1, message: 'row is not an object', raw: JSON.stringify(r) }); return; }
      const { row, missing } = checkRow(r as Record<string, unknown>);
      if (row) { out.rows.push(row); out.rowNumbers.push(i + 1); } else out.errors.push({ file, line: i + 1, message: `row lacks ${missing.join(', ')}`, raw: '' });
    });
    return out;
  }
  // JSONL, streamed: only the raw text of lines that are reported is kept.
  const seen = new Set<string>();
  let values = 0;
  await forEachJsonlRow<Record<string, unknown>>(file, (r) => {
    if (r.kind === 'error') { out.errors.push({ file, line: r.line, message: r.message, raw: r.raw }); return; }
    values++;
    for (const k in r.value) seen.add(k);
    const { row, missing } = checkRow(r.value);
    if (row) { out.rows.push(row); out.rowNumbers.push(r.line); } else out.errors.push({ file, line: r.line, message: `row lacks ${missing.join(', ')}`, raw: r.raw });
  });
  // A column that no row has is a problem of the whole file: say so once, by name.
  const absent = missingColumns(seen);
  if (absent.length && values) throw new ImportError(`${file}: the rows lack the s1K column(s) ${absent.join(', ')}.`);
  return out;
}

export interface DraftImport {
  drafts: (StudentDraft & { line: number })[];
  errors: JsonlError[];
}

const DRAFT_ALIASES = ['draft', 'response', 'output', 'completion'] as const;

/** Student drafts (docs/SPEC.md §1): `{question|index, draft|response|output|completion, …}` per line. */
export async function importDrafts(file: string): Promise<DraftImport> {
  const out: DraftImport = { drafts: [], errors: [] };
  await forEachJsonlRow<Record<string, unknown>>(file, (r) => {
    if (r.kind === 'error') { out.errors.push({ file, line: r.line, message: r.message, raw: r.raw }); return; }
    const v = r.value;
    const key = DRAFT_ALIASES.find((k) => typeof v[k] === 'string');
    const hasQuestion = typeof v.question === 'string';
    const hasIndex = Number.isInteger(v.index) && (v.index as number) >= 0;
    const missing: string[] = [];
    if (!key) missing.push(`draft (or ${DRAFT_ALIASES.slice(1).join('/')})`);
    if (!hasQuestion && !hasIndex) missing.push('question (or index)');
    if (missing.length) { out.errors.push({ file, line: r.line, message: `line lacks ${missing.join(' and ')}`, raw: r.raw }); return; }
    const { [key!]: draft, ...rest } = v;
    out.drafts.push({ ...rest, draft: draft as string, line: r.line });
  });
  return out;
}
