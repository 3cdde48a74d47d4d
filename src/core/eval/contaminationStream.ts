/**
 * The contamination check with the corpus streamed (`dcd contamination`):
 * the inverted n-gram index is built over the BENCHMARK questions (small:
 * AIME 30, GSM8K 1,319), and the corpus is read once through the input
 * layer's streaming reader, each record matched against it and dropped.
 * Memory: the benchmark index, the longest line, the top-k matches of each
 * benchmark question, and per distinct corpus question one SHA-256 key and a
 * copy counter (a few dozen bytes), never the corpus questions or their
 * n-grams. The report is the one checkContamination gives over the whole
 * corpus read by readTextItems (same matches, order, counts and problems).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { errorsOf, scanCorpusInput, type InputProblem } from '../io/corpusInput';
import {
  checkOptions, contaminationReport, getField, itemId, jsonStart, readTextItems, scanDcdTextItems,
  type ContaminationMatch, type ContaminationOptions, type ContaminationReport, type TextItem,
} from './contamination';
import { countShared, ngramSetOfTokens, tokenize } from './similarity';

/** A kept match: the corpus question's first occurrence and its distinct-question number (copies are counted to the end). */
interface Kept { unique: number; index: number; id: string | null; question: string; shared: number; containment: number; jaccard: number }

/**
 * Benchmark questions indexed by n-gram; corpus questions are added one at a
 * time, in corpus order, and each benchmark question keeps its top-k matches
 * (containment desc, then Jaccard desc, then corpus index asc, as NgramIndex.query).
 */
export class ContaminationScanner {
  private readonly n: number;
  private readonly threshold: number;
  private readonly topK: number;
  /** n-gram → the benchmark questions holding it. */
  private readonly postings = new Map<string, number[]>();
  /** Distinct n-grams of each benchmark question. */
  private readonly benchGrams: Int32Array;
  private readonly counts: Int32Array;
  private readonly top: Kept[][];
  /** Digest of a normalised corpus question → its distinct-question number. */
  private readonly seen = new Map<string, number>();
  /** Corpus records per distinct question. */
  private readonly copies: number[] = [];
  private count = 0;

  constructor(private readonly benchmark: readonly TextItem[], options: ContaminationOptions = {}) {
    ({ n: this.n, threshold: this.threshold, topK: this.topK } = checkOptions(options));
    this.benchGrams = new Int32Array(benchmark.length);
    this.counts = new Int32Array(benchmark.length);
    this.top = benchmark.map(() => []);
    benchmark.forEach((b, i) => {
      const grams = ngramSetOfTokens(tokenize(b.text), this.n);
      this.benchGrams[i] = grams.size;
      for (const g of grams) {
        const list = this.postings.get(g);
        if (list) list.push(i);
        else this.postings.set(g, [i]);
      }
    });
  }

  /** The next corpus question (record order); an identical question (after normalisation) only counts as a copy. */
  add(text: string, id: string | null): void {
    const index = this.count++;
    const toks = tokenize(text);
    const key = createHash('sha256').update(toks.join(' ')).digest('base64');
    const dup = this.seen.get(key);
    if (dup !== undefined) {
      this.copies[dup]++;
      return;
    }
    const unique = this.copies.length;
    this.seen.set(key, unique);
    this.copies.push(1);
    const grams = ngramSetOfTokens(toks, this.n);
    const { counts } = this;
    for (const b of countShared(grams, this.postings, counts)) {
      const shared = counts[b];
      counts[b] = 0;
      const q = this.benchGrams[b];
      this.keep(this.top[b], { unique, index, id, question: text, shared, containment: shared / q, jaccard: shared / (q + grams.size - shared) });
    }
  }

  /** Inserts m into a best-first list of at most topK; m has the largest index so far, so it goes after every tie. */
  private keep(list: Kept[], m: Kept): void {
    let at = list.length;
    while (at > 0) {
      const e = list[at - 1];
      if (m.containment > e.containment || (m.containment === e.containment && m.jaccard > e.jaccard)) at--;
      else break;
    }
    if (at >= this.topK) return;
    list.splice(at, 0, m);
    if (list.length > this.topK) list.length = this.topK;
  }

  /** Corpus records added so far. */
  get corpusCount(): number {
    return this.count;
  }

  /** The report of everything added (what checkContamination gives for the same corpus). */
  report(): ContaminationReport {
    const matches = this.top.map((list) => list.map((k): ContaminationMatch => ({
      index: k.index, copies: this.copies[k.unique], shared: k.shared, containment: k.containment, jaccard: k.jaccard, id: k.id, question: k.question,
    })));
    return contaminationReport(this.benchmark, matches, { n: this.n, threshold: this.threshold, corpusCount: this.count, corpusUnique: this.copies.length });
  }
}

export interface StreamedContamination {
  /** The corpus file's problems, as readTextItems reports them. */
  problems: InputProblem[];
  /** The report (over no corpus question when the corpus has errors, as checkContamination on readTextItems' empty items); throws on bad options. */
  report(): ContaminationReport;
}

/**
 * checkContamination(benchmark, readTextItems(corpusFile, field, idField).items)
 * with the corpus streamed: a `*.dcd.jsonl` corpus or a JSONL file is read
 * once, line by line; a file that is one JSON document (an array,
 * `{data}`, `{rows}`) is read whole, as readTextItems does. Options are
 * checked when the report is asked for, so that the corpus' problems come first.
 */
export async function checkContaminationFile(
  benchmark: readonly TextItem[],
  corpusFile: string,
  field: string,
  options: ContaminationOptions = {},
  idField?: string,
): Promise<StreamedContamination> {
  let scanner: ContaminationScanner | null = null;
  let bad: Error | null = null;
  try { scanner = new ContaminationScanner(benchmark, options); } catch (err) { bad = err as Error; }
  const result = (problems: InputProblem[], s: ContaminationScanner | null): StreamedContamination => ({
    problems,
    report: () => {
      if (bad) throw bad;
      return (errorsOf(problems).length || !s ? new ContaminationScanner(benchmark, options) : s).report();
    },
  });
  const inMemory = async () => {
    const read = await readTextItems(corpusFile, field, idField);
    const s = bad ? null : new ContaminationScanner(benchmark, options);
    for (const it of read.items) s?.add(it.text, it.id);
    return result(read.problems, s);
  };
  if (corpusFile.endsWith('.dcd.jsonl')) {
    // readTextItems' rules: every sample rule, then the first record without the field.
    const problems = await scanDcdTextItems(corpusFile, field, idField, (it) => scanner?.add(it.text, it.id));
    return result(problems, errorsOf(problems).length ? null : scanner);
  }
  const first = await firstByte(corpusFile);
  if (first === 0x5b) return inMemory(); // "[": a JSON array
  const scan = await scanCorpusInput(corpusFile, {
    rules: { kind: 'field', field, read: (r) => getField(r, field), idOf: (r) => itemId(r, idField) },
    onSample: (smp) => {
      const r = smp.value as unknown as Record<string, unknown>;
      const v = getField(r, field);
      if (typeof v === 'string') scanner?.add(v, itemId(r, idField));
    },
  });
  // A file of one "{" line, or of "{" lines that are not each a JSON value, may be one JSON document: read it whole.
  if (first === 0x7b && (scan.rows <= 1 || errorsOf(scan.problems).length)) return inMemory();
  return result(scan.problems, scanner);
}

/** The first byte after a byte-order mark and JSON whitespace (-1 for none). */
async function firstByte(file: string): Promise<number> {
  const handle = await fs.open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return -1;
      const i = jsonStart(buf, pos === 0, bytesRead);
      if (i < bytesRead) return buf[i];
      pos += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
