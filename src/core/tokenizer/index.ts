/**
 * The tokenizer of DCD Studio: Qwen2.5 ids with UTF-16 offsets (the editor
 * maps tokens back onto text) and
 * loss-mask labels, in this thread or in worker threads.
 *
 * - `tokenizeTrace(text, opts)`: ids, offsets and labels of one trace; pass a
 *   `pool` to run it in a worker (the extension host must), else it runs here.
 * - `TokenizerPool`: worker threads (entry out/tokenizer-worker.js).
 * - `tokenizeCorpus`: a whole corpus through the disk cache and the pool
 *   (used by the audit and the export).
 */
import { resolveTokenizerSource, type TokenizerLocation } from './source';
import { engineFor } from './corpus';
import { tokenizeTraceWith, type TokenizedTrace, type TraceTokenOptions } from './trace';
import type { TokenizerPool } from './pool';
import { unpackLayout } from '../trace/mask';

export { TokenEngine, UnsupportedTokenizerError, type Encoded, type EngineOptions } from './engine';
export {
  resolveTokenizerSource, deriveQwen25TokenizerJson, deriveQwen25TokenizerConfig, deriveDefaultInMemory, bundledTokenizerDir,
  vocabSizeOf, sha256Hex, DEFAULT_TOKENIZER_NAME, QWEN3_EXTRA_TOKEN_IDS, type TokenizerSource, type TokenizerLocation,
} from './source';
export { TokenizerPool, WORKER_BUNDLE, defaultWorkerCount, type PoolOptions } from './pool';
export { tokenizeCorpus, engineFor, type CorpusTokens, type CorpusTokenOptions, type CorpusInput, type SampleTokens } from './corpus';
export { TokenCache, defaultCacheDir, sampleKey, CACHE_VERSION } from './cache';
export { tokenizeTraceWith, type TokenizedTrace, type TraceTokenOptions } from './trace';

export interface TokenizeTraceOptions extends TraceTokenOptions, TokenizerLocation {
  /** Run in this pool's worker instead of this thread. */
  pool?: TokenizerPool;
}

/**
 * Ids, UTF-16 offsets and labels of a rendered trace, truncated to max_length;
 * the same labels the export sends to the trainer.
 */
export async function tokenizeTrace(text: string, opts: TokenizeTraceOptions = {}): Promise<TokenizedTrace> {
  const { pool, dir, ...traceOpts } = opts;
  if (pool) {
    const r = await pool.tokenizeTrace(text, traceOpts);
    return { ...r, layout: unpackLayout(r.layout) };
  }
  const engine = engineFor(await resolveTokenizerSource({ dir }));
  return tokenizeTraceWith(engine, text, traceOpts);
}
