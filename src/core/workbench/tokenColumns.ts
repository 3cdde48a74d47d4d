/**
 * The workbench's token columns, computed in the background without holding
 * up the extension host's thread: the traces are tokenized in the pool's
 * worker threads (through its disk cache); this thread only reads a few rows
 * at a time (SLICE_CHARS of trace text, a few milliseconds of JSON parsing)
 * and yields to the event loop between slices, so row requests from the
 * webview are answered between two slices, never after the whole corpus.
 *
 * Which rows are samples comes from the held RowInfo (`doc.info`), never from
 * the row summary: a summary parses the whole line, and doing that for every
 * row of a 1 GiB corpus blocked the thread for seconds.
 */
import { tokenizeCorpus, type TokenizerPool } from '../tokenizer';
import { AUDIT_FLAGS } from '../training/audit';
import { summarizeMask, type MaskPolicy } from '../trace/mask';
import type { CorpusDocument, LineEntry } from './document';

/** Characters of trace text per slice (about 6 rows of a corpus of 80 KB traces). */
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
    const slice: { key: number; text: string; chain?: string }[] = [];
    let chars = 0;
    while (i < rows.length && chars < sliceChars) {
      const e = doc.entryByKey(rows[i].key) ?? rows[i];
      i++;
      const v = doc.parsed(e);
      const text = typeof v?.text === 'string' ? v.text : '';
      chars += Math.max(1, text.length);
      slice.push({ key: e.key, text, chain: typeof v?.chain === 'string' ? v.chain : undefined });
    }
    const r = await tokenizeCorpus(slice.map((s) => ({ text: s.text, group: s.chain })), false, { pool, signal });
    r.samples.forEach((st, k) => {
      const key = slice[k].key;
      if (!st.layout) {
        doc.setTokens(key, { tokens: 0, trained: 0, flags: [], error: slice[k].text ? (st.error ?? 'not tokenized') : 'the sample has no text' });
        return;
      }
      const m = summarizeMask(st.layout, policy, maxLength);
      doc.setTokens(key, { tokens: st.layout.tokens, trained: m.trained, flags: AUDIT_FLAGS.filter((f) => m.flags[f]) });
    });
    done += slice.length;
    onProgress({ done, total, finished: i >= rows.length });
  }
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
