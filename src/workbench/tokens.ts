/**
 * Token columns of the workbench, computed in the background by the core
 * (src/core/workbench/tokenColumns.ts: the tokenizer pool's worker threads,
 * a few rows at a time, yielding between slices), and the mask overlay of one
 * trace.
 */
import { tokenizeTrace } from '../core/tokenizer';
import { AUDIT_FLAGS } from '../core/training/audit';
import { IGNORE_INDEX, type MaskPolicy } from '../core/trace/mask';
import { computeTokenColumns as computeColumns, type CorpusDocument, type TokenProgress } from '../core/workbench';
import type { MaskOverlay } from '../core/protocols/workbench';

// The tokenizer pool and mask settings are shared by every feature (configured once in activate).
import { maskSettings, tokenizerPool } from '../services/tokenizerPool';

export type { TokenProgress };

/** Fills the token columns of every sample row (core/workbench/tokenColumns.ts), with the shared pool and the mask settings. */
export async function computeTokenColumns(
  doc: CorpusDocument,
  onProgress: (p: TokenProgress) => void,
  signal: AbortSignal,
  opts: { policy?: MaskPolicy; maxLength?: number } = {},
): Promise<void> {
  const { policy, maxLength } = { ...maskSettings(), ...opts };
  await computeColumns(doc, tokenizerPool, { policy, maxLength, signal, onProgress });
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

