/**
 * The corpus workbench's document model, pure: no vscode, no DOM.
 *
 * A corpus file is held as a *source* of bytes (source.ts: the file itself,
 * read on demand, or bytes in memory) plus an index of its lines: byte
 * offsets and, per row, the short values the list filters, sorts and counts
 * on (RowInfo, rowInfo.ts, which states what that costs per row). A file
 * source is indexed by one streaming pass (`indexSource`) that reads it in
 * chunks, appends line entries as it goes (the first rows are usable after
 * the first chunk), summarises each line while its bytes are at hand and
 * hashes the file for its version; no line is held after its chunk. Rows
 * are read back by their offsets when shown (RowSummary, a small LRU cache).
 *
 * Edits (review, delete, duplicate) replace, remove or insert whole line
 * entries; a line that no edit touched is written back as its original bytes,
 * terminator included, copied from the source in pieces (`chunks`), and an
 * edited line changes only the field the edit sets (see `setTopLevelField`).
 * Malformed lines are error rows and are written back unchanged.
 *
 * Every line entry has a `key` that survives review edits, undo and redo, so
 * selections and caches can follow a sample through edits.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { ReviewState } from '../trace/model';
import { classifyJsonlBytes, MAX_LINE_BYTES, tooLongRow } from '../io/jsonl';
import { errorSummary, parseLine, type RowFlag, type RowSummary, type TokenInfo, QUESTION_CHARS } from './rows';
import { errorInfo, locateQuestion, sampleInfo, type RowInfo } from './rowInfo';
import { setTopLevelField } from './lineEdit';
import { compileSearch, countLine, type SearchQuery, type SearchResult } from './search';
import type { SearchRunner } from './searchRunner';
import type { DocumentEdit, LineChange } from './undo';
import { workbenchStats, type WorkbenchStats } from './stats';
import { pairGroups, type PairGroup } from './pairs';
import { viewRows, type RowFilter, type RowSort, type ViewResult } from './view';
import { FileSource, MemorySource, type ByteSource } from './source';
import { sampleKeys } from '../corpus/stats';

/** One line of the file: original bytes of the source, or new text. Immutable. */
export interface LineEntry {
  readonly key: number;
  /** Original line: content is source[start, end), terminator source[end, lineEnd). */
  readonly start: number;
  readonly end: number;
  readonly lineEnd: number;
  /** Edited or inserted line (then start = end = lineEnd = -1). */
  readonly text?: string;
  /** Terminator of an edited or inserted line: '\n', '\r\n' or '' (last line). */
  readonly eol?: string;
  readonly blank: boolean;
}

/** Progress of the streaming index: bytes read of the source, rows found so far. */
export interface IndexProgress { bytes: number; totalBytes: number; rows: number; done: boolean }

export interface IndexOptions {
  /** Bytes per read (default 1 MiB); the first rows are served after the first read. */
  chunkBytes?: number;
  signal?: AbortSignal;
  onProgress?: (p: IndexProgress) => void;
}

let nextKey = 1;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
/** Rows whose full summary (question line, answers, note) is kept: a few screens. */
const SUMMARY_CACHE = 512;
/** Question lines kept for the list (short strings): several screens of scrolling. */
const QUESTION_CACHE = 4096;
/** Bytes per piece when untouched lines are copied to a save. */
const COPY_PIECE = 4 * 1024 * 1024;

export class CorpusDocument {
  private src: ByteSource;
  private entries: LineEntry[] = [];
  private bom = false;
  private eol: string | null = null;
  private readonly infos = new WeakMap<LineEntry, RowInfo>();
  private readonly summaries = new Map<LineEntry, RowSummary>();
  private readonly questions = new Map<LineEntry, string>();
  private readonly tokens = new Map<number, TokenInfo>();
  private rowsCache: { rows: LineEntry[]; lines: Map<number, number>; rowIndex: Map<number, number> } | null = null;
  private readonly searchCache = new Map<string, WeakMap<LineEntry, number>>();
  private indexed: Promise<void>;
  private markIndexed: () => void = () => undefined;
  private failIndex: (err: unknown) => void = () => undefined;
  private firstRows: Promise<void>;
  private markFirstRows: () => void = () => undefined;
  private indexComplete: boolean;
  /** The SHA-256 of the source's bytes, once a streaming index has read them all. */
  sourceHash: string | undefined;
  /** Runs searches off this thread (a worker); without one they run here, yielding between slices. */
  searchRunner: SearchRunner | null = null;
  /** Bumped by every change of the lines. */
  version = 0;

  /**
   * Bytes in memory are indexed at once; a ByteSource (a file) is indexed by
   * `indexSource`, which the caller starts.
   */
  constructor(bytes: Uint8Array | ByteSource) {
    if (bytes instanceof Uint8Array) {
      this.src = new MemorySource(bytes);
      const buf = (this.src as MemorySource).bytes;
      this.bom = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf;
      this.entries = CorpusDocument.indexLines(buf, this.bom ? 3 : 0);
      const first = this.entries.find((e) => e.lineEnd > e.end);
      this.eol = first && first.lineEnd - first.end === 2 ? '\r\n' : '\n';
      this.indexComplete = true;
      this.indexed = Promise.resolve();
      this.firstRows = Promise.resolve();
    } else {
      this.src = bytes;
      this.indexComplete = false;
      this.indexed = new Promise((resolve, reject) => { this.markIndexed = resolve; this.failIndex = reject; });
      this.indexed.catch(() => undefined);
      this.firstRows = new Promise((resolve) => { this.markFirstRows = resolve; });
    }
  }

  /** Opens a file and starts its streaming index; `indexed()` resolves when every line is in. */
  static async openFile(file: string, opts: IndexOptions = {}): Promise<CorpusDocument> {
    const doc = new CorpusDocument(await FileSource.open(file));
    void doc.indexSource(opts).catch(() => undefined);
    return doc;
  }

  /** The bytes original line entries point into. */
  get source(): ByteSource { return this.src; }
  /** The terminator for lines that need one and have none: the file's first. */
  get defaultEol(): string { return this.eol ?? '\n'; }
  /** Every line of the source is indexed. */
  get complete(): boolean { return this.indexComplete; }
  /** Resolves once every line is indexed (and summarised, for a streaming index). */
  whenIndexed(): Promise<void> { return this.indexed; }
  /** Resolves once the first chunk is indexed (or everything, for a short file). */
  whenFirstRows(): Promise<void> { return this.firstRows; }
  /** Resolves once `n` rows are indexed, or every line (a screenful before the first paint). */
  whenRows(n: number): Promise<void> {
    if (this.indexComplete || this.rows().length >= n) return this.firstRows.then(() => undefined);
    return new Promise((resolve) => this.rowWaiters.push({ n, resolve }));
  }
  private rowWaiters: { n: number; resolve: () => void }[] = [];
  private wakeRowWaiters(all: boolean): void {
    if (!this.rowWaiters.length) return;
    const have = this.rows().length;
    this.rowWaiters = this.rowWaiters.filter((w) => { if (all || have >= w.n) { w.resolve(); return false; } return true; });
  }

  /** Line entries by scanning for '\n': no parsing. */
  static indexLines(buf: Buffer, from = 0): LineEntry[] {
    const out: LineEntry[] = [];
    let pos = from;
    while (pos < buf.length) {
      const nl = buf.indexOf(10, pos);
      const lineEnd = nl < 0 ? buf.length : nl + 1;
      let end = nl < 0 ? buf.length : nl;
      if (end > pos && buf[end - 1] === 13) end--;
      out.push({ key: nextKey++, start: pos, end, lineEnd, blank: isBlank(buf, pos, end) });
      pos = lineEnd;
    }
    return out;
  }

  /**
   * The streaming index of a source: reads it in chunks into one reused
   * buffer, appends a line entry (and its RowInfo) per line, and hashes every
   * byte. A line longer than MAX_LINE_BYTES is indexed as an error row
   * without being held. Resolves with the SHA-256 of the source.
   */
  async indexSource(opts: IndexOptions = {}): Promise<string> {
    try {
      const hash = await this.streamIndex(opts);
      this.sourceHash = hash;
      this.indexComplete = true;
      this.markFirstRows();
      this.wakeRowWaiters(true);
      this.markIndexed();
      opts.onProgress?.({ bytes: this.src.size, totalBytes: this.src.size, rows: this.rows().length, done: true });
      return hash;
    } catch (err) {
      this.markFirstRows();
      this.wakeRowWaiters(true);
      this.failIndex(err);
      throw err;
    }
  }

  private async streamIndex(opts: IndexOptions): Promise<string> {
    const src = this.src;
    const size = src.size;
    const chunk = Math.max(16, opts.chunkBytes ?? 1 << 20);
    const hash = createHash('sha256');
    let buf = Buffer.allocUnsafe(chunk);
    let base = 0; // source offset of buf[0]
    let start = 0; // where the unfinished line begins in buf
    let end = 0; // bytes of buf in use
    let pos = 0; // next source offset to read
    let skipping: { from: number; last: number } | null = null; // a line over the limit, not held
    let lastProgress = 0;
    const read = src instanceof FileSource
      ? (b: Buffer, at: number, n: number, p: number) => src.readInto(b, at, n, p)
      : async (b: Buffer, at: number, n: number, p: number) => { const part = src.read(p, p + n); part.copy(b, at); await yieldToLoop(); return part.length; };
    while (pos < size) {
      opts.signal?.throwIfAborted();
      if (skipping) { base += end; start = end = 0; } else if (start > 0) { buf.copy(buf, 0, start, end); end -= start; base += start; start = 0; }
      if (end === buf.length) {
        if (end > MAX_LINE_BYTES) { skipping = { from: base, last: buf[end - 1] }; base += end; start = end = 0; } else {
          const bigger = Buffer.allocUnsafe(Math.min(MAX_LINE_BYTES + chunk, buf.length * 2));
          buf.copy(bigger, 0, 0, end);
          buf = bigger;
        }
      }
      const n = await read(buf, end, Math.min(buf.length - end, chunk, size - pos), pos);
      if (n <= 0) throw new Error(`${size - pos} bytes of the file are missing: it was truncated while being read.`);
      hash.update(buf.subarray(end, end + n));
      const scanFrom = end;
      end += n;
      pos += n;
      const filled = buf.subarray(0, end);
      let nl = filled.indexOf(10, scanFrom);
      if (skipping) {
        if (nl < 0) { skipping.last = buf[end - 1]; continue; }
        const last = nl > 0 ? buf[nl - 1] : skipping.last;
        const lineEnd = base + nl + 1;
        this.appendOverlong(skipping.from, lineEnd - 1 - (last === 13 ? 1 : 0), lineEnd);
        skipping = null;
        start = nl + 1;
        nl = filled.indexOf(10, start);
      }
      for (; nl >= 0; nl = filled.indexOf(10, nl + 1)) {
        this.appendLine(buf, start, nl, nl + 1, base);
        start = nl + 1;
      }
      if (this.entries.length) { this.markFirstRows(); this.wakeRowWaiters(false); }
      const now = Date.now();
      if (opts.onProgress && now - lastProgress >= 200) {
        lastProgress = now;
        opts.onProgress({ bytes: pos, totalBytes: size, rows: this.rows().length, done: false });
      }
    }
    if (skipping) this.appendOverlong(skipping.from, size - (skipping.last === 13 ? 1 : 0), size);
    else if (end > start) this.appendLine(buf, start, end, end, base);
    return hash.digest('hex');
  }

  /** Appends the line buf[from, nlOrEnd) ending at buf[lineEnd) to the index, with its RowInfo. */
  private appendLine(buf: Buffer, from: number, contentEnd: number, lineEnd: number, base: number): void {
    if (base + from === 0 && contentEnd - from >= 3 && buf[from] === 0xef && buf[from + 1] === 0xbb && buf[from + 2] === 0xbf) {
      this.bom = true;
      from += 3;
    }
    let end = contentEnd;
    if (end > from && buf[end - 1] === 13) end--;
    const e: LineEntry = { key: nextKey++, start: base + from, end: base + end, lineEnd: base + lineEnd, blank: isBlank(buf, from, end) };
    if (this.eol === null && e.lineEnd > e.end) this.eol = e.lineEnd - e.end === 2 ? '\r\n' : '\n';
    if (!e.blank) {
      const row = classifyJsonlBytes<Record<string, unknown>>(buf, from, end, 0);
      this.infos.set(e, row?.kind === 'value' ? sampleInfo(row.value, end - from, locateQuestion(buf, from, end, row.value.question)) : errorInfo(end - from));
    }
    this.append(e);
  }

  private appendOverlong(start: number, end: number, lineEnd: number): void {
    const e: LineEntry = { key: nextKey++, start, end, lineEnd, blank: false };
    this.infos.set(e, errorInfo(end - start));
    this.append(e);
  }

  private append(e: LineEntry): void {
    this.entries.push(e);
    const c = this.rowsCache;
    if (c) {
      c.lines.set(e.key, this.entries.length);
      if (!e.blank) { c.rowIndex.set(e.key, c.rows.length); c.rows.push(e); }
    }
  }

  // --- lines and rows ---

  /** Every line entry, blank lines included, in file order. */
  lines(): readonly LineEntry[] { return this.entries; }

  /** The text of a line (without its terminator), read from the source for an original line. */
  lineText(e: LineEntry): string {
    return e.text !== undefined ? e.text : this.src.read(e.start, e.end).toString('utf8');
  }

  private rowsIndex(): NonNullable<CorpusDocument['rowsCache']> {
    if (!this.rowsCache) {
      const rows: LineEntry[] = [];
      const lines = new Map<number, number>();
      const rowIndex = new Map<number, number>();
      this.entries.forEach((e, i) => {
        lines.set(e.key, i + 1);
        if (!e.blank) { rowIndex.set(e.key, rows.length); rows.push(e); }
      });
      this.rowsCache = { rows, lines, rowIndex };
    }
    return this.rowsCache;
  }

  /** The rows: every non-blank line (samples and malformed lines), in file order. */
  rows(): readonly LineEntry[] { return this.rowsIndex().rows; }

  entryByKey(key: number): LineEntry | undefined {
    const i = this.rowsIndex().rowIndex.get(key);
    return i === undefined ? undefined : this.rowsIndex().rows[i];
  }

  /** 1-based line number of an entry in the current document. */
  lineNumber(key: number): number { return this.rowsIndex().lines.get(key) ?? 0; }

  /** 0-based index among the well-formed sample rows (what `dcd.openSampleAsTrace` takes), or -1. */
  sampleIndexOf(key: number): number {
    let n = 0;
    for (const e of this.rows()) {
      const isSample = this.info(e).kind === 'sample';
      if (e.key === key) return isSample ? n : -1;
      if (isSample) n++;
    }
    return -1;
  }

  /** The key of the n-th well-formed sample row, or undefined. */
  keyOfSampleIndex(index: number): number | undefined {
    let n = 0;
    for (const e of this.rows()) {
      if (this.info(e).kind !== 'sample') continue;
      if (n === index) return e.key;
      n++;
    }
    return undefined;
  }

  keyOfId(id: string): number | undefined {
    return this.rows().find((e) => this.info(e).kind === 'sample' && this.info(e).id === id)?.key;
  }

  /** The parsed object of a row (parsed anew: objects are not kept). */
  parsed(e: LineEntry): Record<string, unknown> | null {
    const r = this.parseEntry(e);
    return 'value' in r ? r.value : null;
  }

  /**
   * An original line is classified from its bytes, as every corpus reader does
   * (src/core/io/corpusInput.ts): a line with invalid UTF-8 is an error row, so
   * no edit ever re-encodes it and saving writes its bytes back unchanged.
   */
  private parseEntry(e: LineEntry): ReturnType<typeof parseLine> {
    if (e.text !== undefined) return parseLine(e.text);
    if (e.end - e.start > MAX_LINE_BYTES) return { error: tooLongRow(e.end - e.start, 0).message };
    const bytes = this.src.read(e.start, e.end);
    const row = classifyJsonlBytes<Record<string, unknown>>(bytes, 0, bytes.length, 0);
    if (!row) return { error: 'blank line' };
    return row.kind === 'value' ? { value: row.value } : { error: row.message };
  }

  /** What is held of a row (rowInfo.ts): computed while indexing, or on first use. */
  info(e: LineEntry): RowInfo {
    let i = this.infos.get(e);
    if (!i) {
      if (e.text === undefined && e.end - e.start <= MAX_LINE_BYTES) {
        const buf = this.src.read(e.start, e.end);
        const row = classifyJsonlBytes<Record<string, unknown>>(buf, 0, buf.length, 0);
        i = row?.kind === 'value' ? sampleInfo(row.value, buf.length, locateQuestion(buf, 0, buf.length, row.value.question)) : errorInfo(buf.length);
      } else {
        const bytes = e.text !== undefined ? Buffer.byteLength(e.text) : e.end - e.start;
        const r = this.parseEntry(e);
        i = 'value' in r ? sampleInfo(r.value, bytes) : errorInfo(bytes);
      }
      this.infos.set(e, i);
    }
    return i;
  }

  /**
   * The question's first line (the list's column): read from just the bytes
   * of the question's string literal when the index found them, else from the
   * row summary. A few thousand are cached.
   */
  questionLine(e: LineEntry): string {
    let q = this.questions.get(e);
    if (q !== undefined) return q;
    const i = this.info(e);
    if (i.kind !== 'sample') q = '';
    else if (e.text === undefined && i.questionAt !== undefined && i.questionEnd !== undefined) {
      q = firstLine(JSON.parse(this.src.read(e.start + i.questionAt, e.start + i.questionEnd).toString('utf8')) as string);
    } else q = this.summary(e).question;
    this.questions.set(e, q);
    if (this.questions.size > QUESTION_CACHE) this.questions.delete(this.questions.keys().next().value as LineEntry);
    return q;
  }

  /** The row summary of an entry: its line read back and parsed (a few hundred are cached). */
  summary(e: LineEntry): RowSummary {
    let s = this.summaries.get(e);
    if (s) {
      this.summaries.delete(e);
      this.summaries.set(e, s);
      return s;
    }
    const r = this.parseEntry(e);
    const chars = e.text !== undefined ? e.text.length : ('value' in r ? this.lineText(e).length : e.end - e.start);
    if (!this.infos.has(e)) this.infos.set(e, 'value' in r ? sampleInfo(r.value, e.text !== undefined ? Buffer.byteLength(e.text) : e.end - e.start) : errorInfo(e.end - e.start));
    const info = this.info(e);
    if ('value' in r) {
      const v = r.value;
      const review = v.review && typeof v.review === 'object' ? v.review as { note?: unknown } : null;
      s = {
        kind: 'sample', id: info.id, question: firstLine(typeof v.question === 'string' ? v.question : v.question == null ? '' : String(v.question)),
        questionKey: info.questionKey, verdict: info.verdict, source: info.source, cotType: info.cotType, review: info.review,
        note: info.noted && typeof review?.note === 'string' ? review.note : undefined,
        draftAnswer: typeof v.draft_answer === 'string' ? v.draft_answer : null,
        goldAnswer: typeof v.gold_answer === 'string' ? v.gold_answer : null,
        missing: missingFields(v), consistency: info.consistency, chars,
      };
    } else s = errorSummary(r.error, chars);
    this.summaries.set(e, s);
    if (this.summaries.size > SUMMARY_CACHE) this.summaries.delete(this.summaries.keys().next().value as LineEntry);
    return s;
  }

  isSummarized(e: LineEntry): boolean { return this.infos.has(e); }

  /**
   * Every row's RowInfo: waits for a streaming index, or computes the missing
   * ones here, yielding to the event loop every `sliceBytes` bytes.
   */
  async summarizeAll(opts: { sliceBytes?: number; onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {}): Promise<void> {
    if (!this.indexComplete) await this.indexed;
    const slice = opts.sliceBytes ?? 4_000_000;
    let budget = 0;
    const rows = this.rows();
    for (let i = 0; i < rows.length; i++) {
      const e = rows[i];
      if (!this.infos.has(e)) {
        budget += this.info(e).bytes;
        if (budget >= slice) {
          budget = 0;
          opts.onProgress?.(i + 1, rows.length);
          await yieldToLoop();
          opts.signal?.throwIfAborted();
        }
      }
    }
    opts.onProgress?.(rows.length, rows.length);
  }

  // --- tokens ---

  setTokens(key: number, info: TokenInfo): void { this.tokens.set(key, info); }
  tokensOf(key: number): TokenInfo | undefined { return this.tokens.get(key); }
  /** Forgets every token column (e.g. the mask policy or max_length changed). */
  clearTokens(): void { this.tokens.clear(); }

  // --- flags, filter, sort ---

  flagsOf(e: LineEntry): RowFlag[] {
    const s = this.info(e);
    const out: RowFlag[] = [];
    if (s.kind === 'error') return ['malformed'];
    const t = this.tokens.get(e.key);
    if (t) out.push(...t.flags);
    if (s.consistency?.reasons.length) out.push('disagreement');
    if (s.incomplete) out.push('incomplete');
    if (s.noted) out.push('noted');
    return out;
  }

  /**
   * Searches every row: in `searchRunner`'s worker when there is one, here
   * otherwise. Hits are cached per query and line entry, so after an edit
   * only the changed lines are searched again. `onProgress` gets rows
   * searched of rows to search; an abort cancels the search.
   */
  async search(q: SearchQuery, opts: { sliceBytes?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<SearchResult> {
    const c = compileSearch(q);
    if ('error' in c) return { hits: new Map(), samples: 0, occurrences: 0, error: c.error };
    if (!this.indexComplete) await this.indexed;
    let cache = this.searchCache.get(c.key);
    if (!cache) {
      if (this.searchCache.size >= 8) this.searchCache.delete(this.searchCache.keys().next().value as string);
      cache = new WeakMap();
      this.searchCache.set(c.key, cache);
    }
    const rows = this.rows();
    const todo = rows.filter((e) => !cache.has(e));
    if (todo.length && this.searchRunner) {
      const ranges = new Float64Array(todo.length * 2);
      const texts: string[] = [];
      todo.forEach((e, i) => {
        if (e.text !== undefined) { ranges[2 * i] = -1; ranges[2 * i + 1] = texts.length; texts.push(e.text); } else { ranges[2 * i] = e.start; ranges[2 * i + 1] = e.end; }
      });
      const src = this.src;
      src.retain();
      try {
        const counts = await this.searchRunner.run({ query: q, source: src.ref(), ranges, texts }, { signal: opts.signal, onProgress: opts.onProgress });
        todo.forEach((e, i) => cache.set(e, counts[i]));
      } finally { src.release(); }
    } else if (todo.length) {
      const slice = opts.sliceBytes ?? 4_000_000;
      let budget = 0;
      for (let i = 0; i < todo.length; i++) {
        const e = todo[i];
        const text = this.lineText(e);
        budget += text.length;
        cache.set(e, countLine(c, text, () => this.parseEntry(e)));
        if (budget >= slice) {
          budget = 0;
          opts.onProgress?.(i + 1, todo.length);
          await yieldToLoop();
          opts.signal?.throwIfAborted();
        }
      }
    }
    const hits = new Map<number, number>();
    let occurrences = 0;
    for (const e of rows) {
      const n = cache.get(e) ?? 0;
      if (n > 0) { hits.set(e.key, n); occurrences += n; }
    }
    return { hits, samples: hits.size, occurrences };
  }

  /** The rows that pass a filter, in sort order (file order by default). */
  async view(filter: RowFilter = {}, sort: RowSort | null = null, opts: { signal?: AbortSignal; onSearchProgress?: (done: number, total: number) => void } = {}): Promise<ViewResult> {
    return viewRows(this, filter, sort, opts);
  }

  /** Counts, balance, token histogram and the consistency check. Every row must be summarised (summarizeAll). */
  stats(bins = 20): WorkbenchStats { return workbenchStats(this, bins); }

  /** Questions with a draft-correct and a draft-wrong sample, in order of first appearance. */
  pairGroups(): PairGroup[] { return pairGroups(this); }

  // --- edits ---

  private newEntry(text: string, eol: string, key = nextKey++): LineEntry {
    return { key, start: -1, end: -1, lineEnd: -1, text, eol, blank: text.trim() === '' };
  }

  private eolOf(e: LineEntry): string {
    return e.text !== undefined ? (e.eol ?? '') : this.src.read(e.end, e.lineEnd).toString('latin1');
  }

  /** Sets (status given) or clears (null) the `review` field of sample rows. Error rows are left alone. */
  reviewEdit(keys: readonly number[], review: ReviewState | null, label?: string): DocumentEdit {
    const changes: LineChange[] = [];
    for (const key of new Set(keys)) {
      const before = this.entryByKey(key);
      if (!before || this.info(before).kind !== 'sample') continue;
      const text = setTopLevelField(this.lineText(before), 'review', review ?? undefined);
      if (text === this.lineText(before)) continue;
      changes.push({ kind: 'replace', before, after: this.newEntry(text, this.eolOf(before), key) });
    }
    const what = review ? (review.status === 'accepted' ? 'Accept' : review.status === 'rejected' ? 'Reject' : review.status === 'flagged' ? 'Flag' : 'Mark unreviewed') : 'Clear review';
    return { label: label ?? `${what} ${changes.length === 1 ? 'sample' : `${changes.length} samples`}`, changes };
  }

  /** Removes rows (samples or malformed lines). */
  deleteEdit(keys: readonly number[]): DocumentEdit {
    const set = new Set(keys);
    const changes: LineChange[] = [];
    // Last first, so every afterKey names a line that is still there when the change is applied.
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i];
      if (!set.has(e.key)) continue;
      changes.push({ kind: 'remove', entry: e, afterKey: i > 0 ? this.entries[i - 1].key : null });
    }
    return { label: `Delete ${changes.length === 1 ? 'sample' : `${changes.length} samples`}`, changes };
  }

  /** Inserts a copy of each sample row right after it, with a new unique id. */
  duplicateEdit(keys: readonly number[]): DocumentEdit {
    const ids = new Set(this.rows().map((e) => this.info(e).id));
    const changes: LineChange[] = [];
    for (const key of new Set(keys)) {
      const e = this.entryByKey(key);
      if (!e || this.info(e).kind !== 'sample') continue;
      const id = this.info(e).id;
      let copyId = `${id}-copy`;
      for (let n = 2; ids.has(copyId); n++) copyId = `${id}-copy${n}`;
      ids.add(copyId);
      const entry = this.newEntry(setTopLevelField(this.lineText(e), 'id', copyId), this.eolOf(e));
      const t = this.tokens.get(key);
      if (t) this.tokens.set(entry.key, t);
      changes.push({ kind: 'insert', entry, afterKey: key });
    }
    return { label: `Duplicate ${changes.length === 1 ? 'sample' : `${changes.length} samples`}`, changes };
  }

  private indexOfKey(key: number): number {
    return this.entries.findIndex((e) => e.key === key);
  }

  private changed(): void {
    this.rowsCache = null;
    this.version++;
  }

  private applyChange(c: LineChange, forward: boolean): void {
    const insert = (entry: LineEntry, afterKey: number | null): void => {
      if (this.indexOfKey(entry.key) >= 0) return;
      const at = afterKey === null ? 0 : this.indexOfKey(afterKey) + 1;
      if (afterKey !== null && at === 0) return; // the anchor is gone (e.g. after a revert): nothing to do
      this.entries.splice(at, 0, entry);
    };
    const remove = (entry: LineEntry): void => {
      const i = this.entries.indexOf(entry);
      if (i >= 0) this.entries.splice(i, 1);
    };
    switch (c.kind) {
      case 'replace': {
        const [from, to] = forward ? [c.before, c.after] : [c.after, c.before];
        const i = this.entries.indexOf(from);
        if (i >= 0) this.entries[i] = to;
        return;
      }
      case 'insert': if (forward) insert(c.entry, c.afterKey); else remove(c.entry); return;
      case 'remove': if (forward) remove(c.entry); else insert(c.entry, c.afterKey); return;
    }
  }

  /** Applies an edit (also its redo). */
  apply(edit: DocumentEdit): void {
    for (const c of edit.changes) this.applyChange(c, true);
    this.changed();
  }

  /** Reverts an edit (its undo). */
  revert(edit: DocumentEdit): void {
    for (let i = edit.changes.length - 1; i >= 0; i--) this.applyChange(edit.changes[i], false);
    this.changed();
  }

  // --- saving ---

  /**
   * The file's bytes in pieces: untouched lines exactly as read (copied from
   * the source at most COPY_PIECE bytes at a time), edited lines re-encoded.
   * Feed it to writeFileAtomic: a save never holds the file in memory.
   */
  *chunks(): Generator<Buffer> {
    if (!this.indexComplete) throw new Error('The document is still being read: save once it is loaded.');
    this.src.check();
    if (this.bom) yield BOM;
    const n = this.entries.length;
    let runStart = -1, runEnd = -1;
    const src = this.src;
    function* flush(): Generator<Buffer> {
      for (let p = runStart; p < runEnd; p += COPY_PIECE) yield src.read(p, Math.min(runEnd, p + COPY_PIECE));
      runStart = runEnd = -1;
    }
    for (let i = 0; i < n; i++) {
      const e = this.entries[i];
      const last = i === n - 1;
      if (e.text === undefined && (e.lineEnd > e.end || last)) {
        if (runStart >= 0 && runEnd === e.start) runEnd = e.lineEnd;
        else { yield* flush(); runStart = e.start; runEnd = e.lineEnd; }
        continue;
      }
      yield* flush();
      if (e.text === undefined) {
        // An original last line without a terminator that is no longer last.
        yield this.src.read(e.start, e.end);
        yield Buffer.from(this.defaultEol);
      } else {
        const eol = e.eol || (last ? '' : this.defaultEol);
        yield Buffer.from(e.text + eol, 'utf8');
      }
    }
    yield* flush();
    this.src.check();
  }

  /** The file's bytes in one buffer (small files; saves stream `chunks`). */
  serialize(): Buffer {
    return Buffer.concat([...this.chunks()]);
  }

  /** Stops using the source (closes a file once no search holds it). */
  dispose(): void {
    this.src.release();
  }
}

function firstLine(q: string): string {
  const line = q.split('\n').find((l) => l.trim()) ?? '';
  const t = line.trim();
  return t.length > QUESTION_CHARS ? `${t.slice(0, QUESTION_CHARS - 1)}…` : t;
}

function missingFields(v: Record<string, unknown>): string[] {
  return sampleKeys(v).missing;
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
