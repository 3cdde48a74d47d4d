/**
 * Token columns of the workbench, computed in the background: the tokenizer
 * and mask core (src/core/tokenizer, src/core/trace/mask.ts) in worker threads,
 * through its disk cache, a slice of the corpus at a time so the columns fill
 * in while the list is already usable.
 */
import { tokenizeCorpus, tokenizeTrace } from '../core/tokenizer';
import { AUDIT_FLAGS } from '../core/training/audit';
import { IGNORE_INDEX, summarizeMask, type MaskPolicy } from '../core/trace/mask';
import type { CorpusDocument } from '../core/workbench';
import type { MaskOverlay } from '../core/protocols/workbench';

/** Characters of trace text per background slice. */
const SLICE_CHARS = 2_000_000;

// The tokenizer pool and mask settings are shared by every feature (configured once in activate).
import { maskSettings, tokenizerPool } from '../services/tokenizerPool';

export interface TokenProgress { done: number; total: number; finished: boolean; error?: string }

/**
 * Fills the token columns of every sample row. Rows edited meanwhile keep
 * their columns (review edits do not change the trace); new rows get theirs
 * on the next run.
 */
export async function computeTokenColumns(
  doc: CorpusDocument,
  onProgress: (p: TokenProgress) => void,
  signal: AbortSignal,
  opts: { policy?: MaskPolicy; maxLength?: number } = {},
): Promise<void> {
  const { policy, maxLength } = { ...maskSettings(), ...opts };
  const rows = doc.rows().filter((e) => doc.summary(e).kind === 'sample' && !doc.tokensOf(e.key));
  const total = doc.rows().filter((e) => doc.summary(e).kind === 'sample').length;
  let done = total - rows.length;
  onProgress({ done, total, finished: rows.length === 0 });
  if (!rows.length) return;
  const pool = await tokenizerPool();
  let i = 0;
  while (i < rows.length) {
    signal.throwIfAborted();
    const slice: { key: number; text: string; chain?: string }[] = [];
    let chars = 0;
    while (i < rows.length && chars < SLICE_CHARS) {
      const e = rows[i++];
      const v = doc.parsed(e);
      const text = typeof v?.text === 'string' ? v.text : '';
      chars += text.length;
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

/** The mask overlay of one trace: token offsets and which tokens are trained. */
export async function maskOverlay(key: number, text: string, opts: { policy?: MaskPolicy; maxLength?: number } = {}): Promise<MaskOverlay> {
  const { policy, maxLength } = { ...maskSettings(), ...opts };
  const r = await tokenizeTrace(text, { pool: await tokenizerPool(), policy, maxLength });
  const trained = new Array<number>(r.labels.length);
  for (let i = 0; i < r.labels.length; i++) trained[i] = r.labels[i] === IGNORE_INDEX ? 0 : 1;
  return {
    key, offsets: Array.from(r.offsets), trained, totalTokens: r.totalTokens, trainedTokens: r.trainedTokens,
    flags: AUDIT_FLAGS.filter((f) => r.flags[f]), policy, maxLength,
  };
}

