/**
 * The workbench's token columns, computed in the background without holding
 * up the extension host's thread: this thread only reads the bytes of a few
 * rows at a time (SLICE_CHARS) and yields to the event loop between slices;
 * a pool worker parses them, takes each trace from the disk cache or
 * tokenizes it, and sends back the counts and flags of its mask summary
 * (TokenizerPool.columns). Row requests from the webview are answered between
 * two slices, and no row is decoded or parsed on this thread.
 *
 * Which rows are samples comes from the held RowInfo (`doc.info`), never from
 * the row summary: a summary parses the whole line, and doing that for every
 * row of a 1 GiB corpus blocked the thread for seconds.
 */
import type { TokenizerPool } from '../tokenizer';
import type { ColumnItem } from '../tokenizer/protocol';
import { AUDIT_FLAGS } from '../training/audit';
import type { MaskPolicy } from '../trace/mask';
import type { CorpusDocument, LineEntry } from './document';

/** Bytes of rows per slice (about 6 rows of a corpus of 80 KB traces). */
export const SLICE_CHARS = 512 * 1024;

export interface TokenProgress { done: number; total: number; finished: boolean; error?: string }

export interface TokenColumnOptions {
  policy: MaskPolicy;
  maxLength: number;
  signal: AbortSignal;
  onProgress: (p: TokenProgress) => void;
  sliceChars?: number;
  /** Called before each slice (tests: observe that the loop yields). */
  beforeSlice?: () => void;
}

/** The sample rows that have no token column yet, and how many sample rows there are. */
export function rowsToTokenize(doc: CorpusDocument): { rows: LineEntry[]; total: number } {
  const rows: LineEntry[] = [];
  let total = 0;
  for (const e of doc.rows()) {
    if (doc.info(e).kind !== 'sample') continue;
    total++;
    if (!doc.tokensOf(e.key)) rows.push(e);
  }
  return { rows, total };
}

/**
 * Fills the token columns of every sample row. Rows edited meanwhile keep
 * their columns (review edits do not change the trace); new rows get theirs
 * on the next run. `getPool` is called only if a row needs tokenizing.
 */
export async function computeTokenColumns(doc: CorpusDocument, getPool: () => Promise<TokenizerPool>, opts: TokenColumnOptions): Promise<void> {
  const { policy, maxLength, signal, onProgress } = opts;
  const sliceChars = opts.sliceChars ?? SLICE_CHARS;
  const { rows, total } = rowsToTokenize(doc);
  let done = total - rows.length;
  onProgress({ done, total, finished: rows.length === 0 });
  if (!rows.length) return;
  // The pool starts (workers load the tokenizer) only when there is something to tokenize.
  const pool = await getPool();
  let i = 0;
  while (i < rows.length) {
    // Whatever the event loop holds (a row window for the webview) runs before the next slice is read.
    await yieldToLoop();
    signal.throwIfAborted();
    opts.beforeSlice?.();
    // Only the rows' bytes are read here (a copy each: a view would carry its whole buffer to the worker);
    // the worker parses them, tokenizes or reads the cache, and sends back counts and flags.
    const slice: ColumnItem[] = [];
    let bytes = 0;
    while (i < rows.length && bytes < sliceChars) {
      const e = doc.entryByKey(rows[i].key) ?? rows[i];
      i++;
      if (e.text !== undefined) {
        slice.push({ key: e.key, line: e.text });
        bytes += Math.max(1, e.text.length);
      } else {
        slice.push({ key: e.key, bytes: new Uint8Array(doc.source.read(e.start, e.end)) });
        bytes += Math.max(1, e.end - e.start);
      }
    }
    const results = await pool.columns(slice, { policy, maxLength });
    signal.throwIfAborted();
    for (const r of results) {
      doc.setTokens(r.key, r.flags
        ? { tokens: r.tokens, trained: r.trained, flags: AUDIT_FLAGS.filter((f) => r.flags![f]) }
        : { tokens: 0, trained: 0, flags: [], error: r.error ?? 'not tokenized' });
    }
    done += slice.length;
    onProgress({ done, total, finished: i >= rows.length });
  }
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
