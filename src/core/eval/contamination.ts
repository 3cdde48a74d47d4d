/**
 * "Check Contamination": every benchmark question against every corpus
 * question, by exact word n-gram containment (see similarity.ts), as a table
 * with thresholds. A benchmark question is flagged when the corpus holds a
 * question containing at least `threshold` of its n-grams.
 *
 * Defaults (n = 8, threshold = 0.5) were chosen on real data: MATH-500 vs
 * s1K, where the four human-confirmed overlaps (three identical, one "same
 * setup, different question") score 0.91–1.0 and the next best pair 0.24;
 * GSM8K test vs s1K scores 0 everywhere at n = 8.
 */
import { promises as fs } from 'node:fs';
import { deeperThan, invalidUtf8At, MAX_JSON_DEPTH, parseJsonl } from '../io/jsonl';
import { checkCorpusBytes, problem, scanCorpusInput, type InputProblem } from '../io/corpusInput';
import { DEFAULT_NGRAM, NgramIndex, type SimilarityMatch } from './similarity';

export const DEFAULT_CONTAMINATION_THRESHOLD = 0.5;
/** Thresholds the report always counts at, besides the chosen one. */
export const REPORT_THRESHOLDS = [0.2, 0.4, 0.6, 0.8, 1.0];

export interface TextItem {
  /** An id from the record (`id`, `unique_id`, `doc_id`, …) or null. */
  id: string | null;
  text: string;
}

export interface ContaminationOptions {
  n?: number;
  threshold?: number;
  /** Matches listed per benchmark question (default 3). */
  topK?: number;
}

export interface ContaminationMatch extends SimilarityMatch {
  id: string | null;
  question: string;
}

export interface ContaminationRow {
  /** 0-based position of the question in the benchmark file. */
  index: number;
  id: string | null;
  question: string;
  /** Best containment (0 when no corpus question shares an n-gram). */
  score: number;
  flagged: boolean;
  matches: ContaminationMatch[];
}

export interface ContaminationReport {
  n: number;
  threshold: number;
  benchmarkCount: number;
  corpusCount: number;
  /** Distinct corpus questions after normalisation (a DCD corpus repeats each question per sample). */
  corpusUnique: number;
  flagged: number;
  /** Benchmark questions with score ≥ t, for each reported threshold t. */
  countsByThreshold: Array<{ threshold: number; count: number }>;
  /** One row per benchmark question, highest score first (then file order). */
  rows: ContaminationRow[];
}

/** The options with their defaults; throws on a bad n, threshold or topK. */
export function checkOptions(o: ContaminationOptions): Required<ContaminationOptions> {
  const n = o.n ?? DEFAULT_NGRAM;
  const threshold = o.threshold ?? DEFAULT_CONTAMINATION_THRESHOLD;
  const topK = o.topK ?? 3;
  if (!Number.isInteger(n) || n < 1) throw new Error(`n must be a positive integer, got ${n}`);
  if (!(Number.isFinite(threshold) && threshold > 0 && threshold <= 1)) throw new Error(`threshold must be in (0, 1], got ${threshold}`);
  if (!Number.isInteger(topK) || topK < 1) throw new Error(`topK must be a positive integer, got ${topK}`);
  return { n, threshold, topK };
}

export function checkContamination(
  benchmark: readonly TextItem[],
  corpus: readonly TextItem[],
  options: ContaminationOptions = {},
): ContaminationReport {
  const { n, threshold, topK } = checkOptions(options);
  const index = new NgramIndex(corpus.map((c) => c.text), n);
  const matches = benchmark.map((b) => index.query(b.text, topK).map((m) => ({ ...m, id: corpus[m.index].id, question: corpus[m.index].text })));
  return contaminationReport(benchmark, matches, { n, threshold, corpusCount: corpus.length, corpusUnique: index.uniqueSize });
}

/** The report of each benchmark question's best matches (best first): rows by score, counts by threshold. Shared by checkContamination and the streaming ContaminationScanner. */
export function contaminationReport(
  benchmark: readonly TextItem[],
  matchesOf: readonly ContaminationMatch[][],
  c: { n: number; threshold: number; corpusCount: number; corpusUnique: number },
): ContaminationReport {
  const { n, threshold } = c;
  const rows: ContaminationRow[] = benchmark.map((b, i) => {
    const matches = matchesOf[i];
    const score = matches.length ? matches[0].containment : 0;
    return { index: i, id: b.id, question: b.text, score, flagged: score >= threshold, matches };
  });
  rows.sort((a, b) => b.score - a.score || a.index - b.index);
  const ts = [...new Set([...REPORT_THRESHOLDS, threshold])].sort((a, b) => a - b);
  return {
    n,
    threshold,
    benchmarkCount: benchmark.length,
    corpusCount: c.corpusCount,
    corpusUnique: c.corpusUnique,
    flagged: rows.filter((r) => r.flagged).length,
    countsByThreshold: ts.map((t) => ({ threshold: t, count: rows.filter((r) => r.score >= t).length })),
    rows,
  };
}

/** The most similar corpus questions for one eval question (drill-down). Uses a short n so paraphrases rank too. */
export function similarQuestions(index: NgramIndex, corpus: readonly TextItem[], question: string, k = 5): ContaminationMatch[] {
  return index.query(question, k).map((m) => ({ ...m, id: corpus[m.index].id, question: corpus[m.index].text }));
}

/** n-gram size for the drill-down's "most similar" list (short, so near-paraphrases rank). */
export const DRILLDOWN_NGRAM = 3;

// ---------------------------------------------------------------------------
// Reading question files

/** Reads records from a JSONL file or a JSON array file (or `{data: [...]}` / `{rows: [...]}`). */
export function parseRecords(text: string, file = 'input'): Record<string, unknown>[] {
  const t = text.trimStart();
  if (t.startsWith('[') || t.startsWith('{')) {
    try {
      const v: unknown = JSON.parse(t);
      const arr = Array.isArray(v) ? v : v && typeof v === 'object' ? ((v as Record<string, unknown>).data ?? (v as Record<string, unknown>).rows) : undefined;
      if (Array.isArray(arr)) {
        return arr.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x));
      }
      if (v && typeof v === 'object' && !Array.isArray(v)) return [v as Record<string, unknown>];
    } catch {
      // not one JSON document: read it as JSONL below
    }
  }
  const rows = parseJsonl<Record<string, unknown>>(text);
  const bad = rows.find((r) => r.kind === 'error');
  if (bad && bad.kind === 'error') throw new Error(`${file}:${bad.line}: ${bad.message}`);
  return rows.flatMap((r) => (r.kind === 'value' ? [r.value] : []));
}

/** A field by name, or by dotted path (`doc.question`). */
export function getField(rec: Record<string, unknown>, field: string): unknown {
  if (field in rec) return rec[field];
  let cur: unknown = rec;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

const ID_FIELDS = ['id', 'unique_id', 'doc_id', 'index', 'question_id', 'math500_id', 'train_id'];

/** The text items of records: `field` must be a string in every record (else an error names the line). */
export function recordsToItems(records: readonly Record<string, unknown>[], field: string, file = 'input', idField?: string): TextItem[] {
  return records.map((r, i) => {
    const v = getField(r, field);
    if (typeof v !== 'string') throw new Error(`${file}: record ${i + 1} has no string field "${field}"`);
    return { id: itemId(r, idField), text: v };
  });
}

/** A record's id: `idField`, or the first of ID_FIELDS it has (string or number). */
export function itemId(r: Record<string, unknown>, idField?: string): string | null {
  for (const k of idField ? [idField] : ID_FIELDS) {
    const x = getField(r, k);
    if (typeof x === 'string' || typeof x === 'number') return String(x);
  }
  return null;
}

/**
 * The text items of a question file, through the corpus input layer: a JSON
 * document (array, `{data}`, `{rows}`) or JSONL, with the same problems
 * (invalid UTF-8, malformed or too-deep lines, an empty file, a record without
 * the string field, duplicate ids) as every corpus reader.
 */
export async function readTextItems(file: string, field: string, idField?: string): Promise<{ items: TextItem[]; problems: InputProblem[] }> {
  // A DCD corpus is held to the sample rules every corpus command applies, and
  // streamed (corpora run to gigabytes): only each sample's question is kept.
  if (file.endsWith('.dcd.jsonl')) {
    const items: TextItem[] = [];
    const problems = await scanDcdTextItems(file, field, idField, (it) => items.push(it));
    return { items: problems.some((p) => p.severity === 'error') ? [] : items, problems };
  }
  const bytes = await fs.readFile(file);
  const idOf = (r: Record<string, unknown>) => itemId(r, idField);
  const asDocument = jsonDocumentRecords(bytes, file);
  if (asDocument) {
    const { records, problems } = asDocument;
    records.forEach((r, i) => {
      if (typeof getField(r, field) !== 'string') problems.push(problem('invalid-field', file, `record ${i + 1} has no string field "${field}"`, { field }));
    });
    if (!problems.length) {
      const seen = new Map<string, number>();
      records.forEach((r, i) => {
        const id = idOf(r);
        if (id === null) return;
        if (seen.has(id)) problems.push(problem('duplicate-id', file, `record ${i + 1}: duplicate id ${JSON.stringify(id)} (also record ${seen.get(id)! + 1})`, { field: 'id' }));
        else seen.set(id, i);
      });
    }
    return { items: problems.some((p) => p.severity === 'error') ? [] : recordsToItems(records, field, file, idField), problems };
  }
  const read = checkCorpusBytes(bytes, file, { kind: 'field', field, read: (r) => getField(r, field), idOf });
  const ok = !read.problems.some((p) => p.severity === 'error');
  return { items: ok ? recordsToItems(read.samples.map((s) => s.value as Record<string, unknown>), field, file, idField) : [], problems: read.problems };
}

/**
 * Streams a DCD corpus (`*.dcd.jsonl`) under every sample rule, handing each
 * record's `field` text to onItem in order, until the first record without it
 * (then an invalid-field error names it). Returns the problems: with an error
 * among them, the items handed over are not the corpus' items.
 */
export async function scanDcdTextItems(file: string, field: string, idField: string | undefined, onItem: (item: TextItem) => void): Promise<InputProblem[]> {
  let missing: string | null = null;
  const scan = await scanCorpusInput(file, {
    onSample: (s) => {
      const r = s.value as unknown as Record<string, unknown>;
      const v = getField(r, field);
      if (typeof v !== 'string') missing ??= `${file}: record ${s.index + 1} has no string field "${field}"`;
      else if (!missing) onItem({ id: itemId(r, idField), text: v });
    },
  });
  if (scan.problems.some((p) => p.severity === 'error') || !missing) return scan.problems;
  return [...scan.problems, problem('invalid-field', file, missing, { field })];
}

/** Records of a file that is one JSON document, with its problems; null when it is not one (then it is JSONL). */
function jsonDocumentRecords(bytes: Buffer, file: string): { records: Record<string, unknown>[]; problems: InputProblem[] } | null {
  const from = jsonStart(bytes, true, bytes.length);
  if (bytes[from] !== 0x5b && bytes[from] !== 0x7b) return null;
  const bad = invalidUtf8At(bytes, from, bytes.length);
  if (bad >= 0) return null; // the JSONL reader names the line and byte
  let v: unknown;
  try { v = JSON.parse(bytes.toString('utf8', from)); } catch { return null; }
  const arr = Array.isArray(v) ? v : v && typeof v === 'object' ? ((v as Record<string, unknown>).data ?? (v as Record<string, unknown>).rows) : undefined;
  if (!Array.isArray(arr) && !(v && typeof v === 'object')) return null;
  const records = Array.isArray(arr)
    ? arr.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x))
    : [v as Record<string, unknown>];
  const problems: InputProblem[] = [];
  if (!records.length) problems.push(problem('empty', file, 'no records'));
  records.forEach((r, i) => {
    if (deeperThan(r, MAX_JSON_DEPTH)) problems.push(problem('too-deep', file, `record ${i + 1}: JSON nested deeper than ${MAX_JSON_DEPTH} levels`));
  });
  return { records, problems };
}

/** The offset of the first byte of bytes[0, end) after a byte-order mark (when `atFileStart`) and JSON whitespace; `end` when there is none. */
export function jsonStart(bytes: Buffer, atFileStart: boolean, end: number): number {
  let i = atFileStart && end >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (i < end && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return i;
}
