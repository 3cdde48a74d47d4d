/**
 * The corpus workbench's document model, pure: no vscode, no DOM.
 *
 * A corpus file is held as its original bytes plus an index of its lines.
 * Lines are parsed lazily (the first visible rows need only their own lines)
 * and reduced to short *row summaries* (the list's columns); parsed objects
 * are not kept. Edits (review, delete, duplicate) replace, remove or insert
 * whole line entries; a line that no edit touched is written back as its
 * original bytes, terminator included, and an edited line changes only the
 * field the edit sets (see `setTopLevelField`). Malformed lines are error rows
 * and are written back unchanged.
 *
 * Every line entry has a `key` that survives review edits, undo and redo, so
 * selections and caches can follow a sample through edits.
 */
import { Buffer } from 'node:buffer';
import type { ReviewState } from '../trace/model';
import { classifyJsonlBytes } from '../io/jsonl';
import { errorSummary, parseLine, summarizeSample, type RowFlag, type RowSummary, type TokenInfo } from './rows';
import { setTopLevelField } from './lineEdit';
import { compileSearch, countInSample, countMatches, type SearchQuery, type SearchResult } from './search';
import type { DocumentEdit, LineChange } from './undo';
import { workbenchStats, type WorkbenchStats } from './stats';
import { pairGroups, type PairGroup } from './pairs';
import { viewRows, type RowFilter, type RowSort, type ViewResult } from './view';

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

let nextKey = 1;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export class CorpusDocument {
  /** The bytes the original line entries point into. */
  readonly source: Buffer;
  private entries: LineEntry[];
  private readonly bom: boolean;
  /** The terminator for lines that need one and have none: the file's first. */
  readonly defaultEol: string;
  private readonly summaries = new WeakMap<LineEntry, RowSummary>();
  private readonly tokens = new Map<number, TokenInfo>();
  private rowsCache: { rows: LineEntry[]; lines: Map<number, number>; rowIndex: Map<number, number> } | null = null;
  private readonly searchCache = new Map<string, WeakMap<LineEntry, number>>();
  /** Bumped by every change of the lines. */
  version = 0;

  constructor(bytes: Uint8Array) {
    this.source = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.bom = this.source.length >= 3 && this.source[0] === 0xef && this.source[1] === 0xbb && this.source[2] === 0xbf;
    this.entries = CorpusDocument.indexLines(this.source, this.bom ? 3 : 0);
    const first = this.entries.find((e) => e.lineEnd > e.end);
    this.defaultEol = first && first.lineEnd - first.end === 2 ? '\r\n' : '\n';
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

  // --- lines and rows ---

  /** Every line entry, blank lines included, in file order. */
  lines(): readonly LineEntry[] { return this.entries; }

  /** The text of a line (without its terminator). */
  lineText(e: LineEntry): string {
    return e.text !== undefined ? e.text : this.source.toString('utf8', e.start, e.end);
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
      const isSample = this.summary(e).kind === 'sample';
      if (e.key === key) return isSample ? n : -1;
      if (isSample) n++;
    }
    return -1;
  }

  /** The key of the n-th well-formed sample row, or undefined. */
  keyOfSampleIndex(index: number): number | undefined {
    let n = 0;
    for (const e of this.rows()) {
      if (this.summary(e).kind !== 'sample') continue;
      if (n === index) return e.key;
      n++;
    }
    return undefined;
  }

  keyOfId(id: string): number | undefined {
    return this.rows().find((e) => this.summary(e).kind === 'sample' && this.summary(e).id === id)?.key;
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
    const row = classifyJsonlBytes<Record<string, unknown>>(this.source, e.start, e.end, 0);
    if (!row) return { error: 'blank line' };
    return row.kind === 'value' ? { value: row.value } : { error: row.message };
  }

  /** The row summary of an entry, parsing its line on first use. */
  summary(e: LineEntry): RowSummary {
    let s = this.summaries.get(e);
    if (!s) {
      const chars = e.text !== undefined ? e.text.length : this.lineText(e).length;
      const r = this.parseEntry(e);
      s = 'value' in r ? summarizeSample(r.value, chars) : errorSummary(r.error, chars);
      this.summaries.set(e, s);
    }
    return s;
  }

  isSummarized(e: LineEntry): boolean { return this.summaries.has(e); }

  /**
   * Summarises every row, yielding to the event loop every `sliceChars`
   * characters so the host stays responsive.
   */
  async summarizeAll(opts: { sliceChars?: number; onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {}): Promise<void> {
    const slice = opts.sliceChars ?? 4_000_000;
    let budget = 0;
    const rows = this.rows();
    for (let i = 0; i < rows.length; i++) {
      const e = rows[i];
      if (!this.summaries.has(e)) {
        budget += this.summary(e).chars;
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
    const s = this.summary(e);
    const out: RowFlag[] = [];
    if (s.kind === 'error') return ['malformed'];
    const t = this.tokens.get(e.key);
    if (t) out.push(...t.flags);
    if (s.consistency?.reasons.length) out.push('disagreement');
    if (s.missing.length) out.push('incomplete');
    if (s.note) out.push('noted');
    return out;
  }

  /**
   * Searches every row. Hits are cached per query and line entry, so after
   * an edit only the changed lines are searched again.
   */
  async search(q: SearchQuery, opts: { sliceChars?: number; signal?: AbortSignal } = {}): Promise<SearchResult> {
    const c = compileSearch(q);
    if ('error' in c) return { hits: new Map(), samples: 0, occurrences: 0, error: c.error };
    let cache = this.searchCache.get(c.key);
    if (!cache) {
      if (this.searchCache.size >= 8) this.searchCache.delete(this.searchCache.keys().next().value as string);
      cache = new WeakMap();
      this.searchCache.set(c.key, cache);
    }
    const slice = opts.sliceChars ?? 4_000_000;
    let budget = 0;
    const hits = new Map<number, number>();
    let occurrences = 0;
    for (const e of this.rows()) {
      let n = cache.get(e);
      if (n === undefined) {
        const text = this.lineText(e);
        budget += text.length;
        c.re.lastIndex = 0;
        if (c.rawPrefilter && !c.re.test(text)) n = 0;
        else {
          const r = this.parseEntry(e);
          n = 'value' in r ? countInSample(c, r.value) : (c.field === 'any' ? countMatches(c.re, text) : 0);
        }
        cache.set(e, n);
        if (budget >= slice) { budget = 0; await yieldToLoop(); opts.signal?.throwIfAborted(); }
      }
      if (n > 0) { hits.set(e.key, n); occurrences += n; }
    }
    return { hits, samples: hits.size, occurrences };
  }

  /** The rows that pass a filter, in sort order (file order by default). */
  async view(filter: RowFilter = {}, sort: RowSort | null = null, opts: { signal?: AbortSignal } = {}): Promise<ViewResult> {
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
    return e.text !== undefined ? (e.eol ?? '') : this.source.toString('latin1', e.end, e.lineEnd);
  }

  /** Sets (status given) or clears (null) the `review` field of sample rows. Error rows are left alone. */
  reviewEdit(keys: readonly number[], review: ReviewState | null, label?: string): DocumentEdit {
    const changes: LineChange[] = [];
    for (const key of new Set(keys)) {
      const before = this.entryByKey(key);
      if (!before || this.summary(before).kind !== 'sample') continue;
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
    const ids = new Set(this.rows().map((e) => this.summary(e).id));
    const changes: LineChange[] = [];
    for (const key of new Set(keys)) {
      const e = this.entryByKey(key);
      if (!e || this.summary(e).kind !== 'sample') continue;
      const id = this.summary(e).id;
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

  /** The file's bytes: untouched lines exactly as read, edited lines re-encoded. */
  serialize(): Buffer {
    const parts: Buffer[] = [];
    if (this.bom) parts.push(BOM);
    const n = this.entries.length;
    let runStart = -1, runEnd = -1;
    const flush = (): void => { if (runStart >= 0) parts.push(this.source.subarray(runStart, runEnd)); runStart = runEnd = -1; };
    for (let i = 0; i < n; i++) {
      const e = this.entries[i];
      const last = i === n - 1;
      if (e.text === undefined && (e.lineEnd > e.end || last)) {
        if (runStart >= 0 && runEnd === e.start) runEnd = e.lineEnd;
        else { flush(); runStart = e.start; runEnd = e.lineEnd; }
        continue;
      }
      flush();
      if (e.text === undefined) {
        // An original last line without a terminator that is no longer last.
        parts.push(this.source.subarray(e.start, e.end), Buffer.from(this.defaultEol));
      } else {
        const eol = e.eol || (last ? '' : this.defaultEol);
        parts.push(Buffer.from(e.text + eol, 'utf8'));
      }
    }
    flush();
    return Buffer.concat(parts);
  }
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
