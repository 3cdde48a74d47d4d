/**
 * The dataset audit: token lengths, trained-token ratio, and the
 * samples that truncation would damage. `dcd stats --json` shows it under
 * `tokens`; the Corpora view can show the same object.
 */
import type { DcdSample } from '../trace/model';
import { DEFAULT_MAX_LENGTH, DEFAULT_POLICY, MASK_FLAGS, maskFlagCounts, summarizeMask, type MaskFlag, type MaskPolicy } from '../trace/mask';
import { tokenizeCorpus, type CorpusTokenOptions, type CorpusTokens } from '../tokenizer/corpus';
import { TokenizerPool, defaultWorkerCount } from '../tokenizer/pool';
import { resolveTokenizerSource } from '../tokenizer/source';
import { defaultCacheDir } from '../tokenizer/cache';
import { scanCorpusBatches } from '../io/corpusInput';

export type AuditFlag = MaskFlag;
export const AUDIT_FLAGS: readonly AuditFlag[] = MASK_FLAGS;

export interface AuditOptions extends CorpusTokenOptions {
  policy?: MaskPolicy;
  maxLength?: number;
  /** Histogram bins (default 20). */
  bins?: number;
}

/** A sample the audit flags, or one it could not tokenize (`error`). */
export interface AuditSampleReport {
  /** 0-based position in the samples given. */
  index: number;
  id: string | null;
  /** Tokens before truncation. */
  tokens: number;
  trained: number;
  flags: AuditFlag[];
  error?: string;
}

export interface AuditResult {
  tokenizer: { name: string; sha256: string };
  policy: MaskPolicy;
  max_length: number;
  preset: string;
  samples: number;
  /** Samples that could not be tokenized (see `errors`); they count nowhere else. */
  failed: number;
  /** Tokens after truncation to max_length (what the trainer gets). */
  tokens: number;
  /** Tokens before truncation. */
  tokens_untruncated: number;
  trained_tokens: number;
  /** trained_tokens / tokens. */
  trained_ratio: number;
  /** Statistics of the untruncated lengths. */
  length: { min: number; max: number; mean: number; median: number; p90: number; p99: number };
  /** Untruncated lengths: `counts[i]` samples have edges[i] <= length < edges[i+1]. */
  histogram: { bin_width: number; edges: number[]; counts: number[] };
  /** How many samples carry each flag. */
  flags: Record<AuditFlag, number>;
  /** The flagged samples, in corpus order. */
  flagged: AuditSampleReport[];
  errors: AuditSampleReport[];
  cache: { hits: number; misses: number; dir: string | null; chunk_hits: number; chunk_misses: number };
  elapsed_ms: number;
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** A bin width that is a multiple of 256 tokens (at least 256). */
function binWidth(max: number, bins: number): number {
  return Math.max(256, Math.ceil(max / bins / 256) * 256);
}

export function histogram(lengths: readonly number[], bins = 20): AuditResult['histogram'] {
  const max = lengths.reduce((a, b) => Math.max(a, b), 0);
  const width = binWidth(max + 1, bins);
  const n = Math.max(1, Math.ceil((max + 1) / width));
  const counts = new Array<number>(n).fill(0);
  for (const len of lengths) counts[Math.floor(len / width)]++;
  return { bin_width: width, edges: Array.from({ length: n + 1 }, (_, i) => i * width), counts };
}

export type AuditInput = Pick<DcdSample, 'text'> & Partial<Pick<DcdSample, 'id' | 'chain'>>;

function inputsOf(samples: readonly AuditInput[]) {
  return samples.map((s) => ({
    text: typeof s.text === 'string' ? s.text : '',
    group: typeof s.chain === 'string' ? s.chain : undefined,
  }));
}

/**
 * The audit folded one batch of samples at a time (a corpus streamed from
 * disk, src/core/io/corpusInput.ts scanCorpusInput): what it keeps per sample
 * is one length, plus a report for each flagged or failed sample.
 */
export class CorpusAuditor {
  private readonly t0 = performance.now();
  private readonly policy: MaskPolicy;
  private readonly maxLength: number;
  private readonly preset: string;
  private readonly flags = maskFlagCounts();
  private readonly flagged: AuditSampleReport[] = [];
  private readonly errors: AuditSampleReport[] = [];
  private readonly lengths: number[] = [];
  private count = 0;
  private tokens = 0;
  private untruncated = 0;
  private trained = 0;
  private tokenizer: AuditResult['tokenizer'] | null = null;
  private readonly cache = { hits: 0, misses: 0, dir: null as string | null, chunk_hits: 0, chunk_misses: 0 };
  private pool: TokenizerPool | null = null;

  constructor(private readonly opts: AuditOptions = {}) {
    this.policy = opts.policy ?? DEFAULT_POLICY;
    this.maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
    this.preset = opts.preset ?? 'paper';
  }

  /** Tokenizes and folds the next samples (one worker pool serves every batch). */
  async add(samples: readonly AuditInput[]): Promise<void> {
    const o = this.opts;
    let opts: CorpusTokenOptions = o;
    if (!o.pool && (o.workers ?? defaultWorkerCount()) > 0) {
      const source = o.source ?? await resolveTokenizerSource({ dir: o.tokenizerDir });
      this.pool ??= new TokenizerPool(source, { workers: o.workers, cacheRoot: o.cacheDir === false ? null : (o.cacheDir ?? defaultCacheDir()) });
      opts = { ...o, source, pool: this.pool };
    }
    this.fold(samples, await tokenizeCorpus(inputsOf(samples), false, opts));
  }

  /** Folds samples already tokenized (tokenizeCorpus over exactly these samples). */
  fold(samples: readonly AuditInput[], corpus: CorpusTokens): void {
    this.tokenizer ??= { name: corpus.source.name, sha256: corpus.source.sha256 };
    this.cache.hits += corpus.cache.hits;
    this.cache.misses += corpus.cache.misses;
    this.cache.dir = corpus.cache.dir;
    this.cache.chunk_hits += corpus.chunks.hits;
    this.cache.chunk_misses += corpus.chunks.misses;
    const base = this.count;
    this.count += samples.length;
    corpus.samples.forEach((st, i) => {
      const index = base + i;
      const s = samples[i];
      const id = typeof s.id === 'string' ? s.id : null;
      if (!st.layout || typeof s.text !== 'string') {
        this.errors.push({ index, id, tokens: 0, trained: 0, flags: [], error: typeof s.text !== 'string' ? 'the sample has no text' : st.error });
        return;
      }
      const m = summarizeMask(st.layout, this.policy, this.maxLength);
      this.lengths.push(st.layout.tokens);
      this.untruncated += st.layout.tokens;
      this.tokens += m.tokens;
      this.trained += m.trained;
      const on = AUDIT_FLAGS.filter((f) => m.flags[f]);
      for (const f of on) this.flags[f]++;
      if (on.length) this.flagged.push({ index, id, tokens: st.layout.tokens, trained: m.trained, flags: on });
    });
  }

  /** Closes the worker pool this auditor started. */
  async close(): Promise<void> {
    const p = this.pool;
    this.pool = null;
    if (p) await p.close();
  }

  async result(): Promise<AuditResult> {
    await this.close();
    const tokenizer: AuditResult['tokenizer'] = this.tokenizer ?? await resolveTokenizerSource({ dir: this.opts.tokenizerDir }).then((s) => ({ name: s.name, sha256: s.sha256 }));
    const sorted = [...this.lengths].sort((a, b) => a - b);
    return {
      tokenizer,
      policy: this.policy, max_length: this.maxLength, preset: this.preset,
      samples: this.count,
      failed: this.errors.length,
      tokens: this.tokens, tokens_untruncated: this.untruncated, trained_tokens: this.trained,
      trained_ratio: this.tokens ? this.trained / this.tokens : 0,
      length: {
        min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0,
        mean: sorted.length ? this.untruncated / sorted.length : 0,
        median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99),
      },
      histogram: histogram(this.lengths, this.opts.bins),
      flags: this.flags, flagged: this.flagged, errors: this.errors,
      cache: this.cache,
      elapsed_ms: Math.round(performance.now() - this.t0),
    };
  }
}

export async function auditCorpus(samples: readonly AuditInput[], opts: AuditOptions = {}): Promise<AuditResult> {
  const a = new CorpusAuditor(opts);
  // One call over every sample: the tokenizer decides the workers (none when the cache has every trace).
  a.fold(samples, await tokenizeCorpus(inputsOf(samples), false, opts));
  return a.result();
}

/**
 * The audit of a corpus file, streamed in batches (scanCorpusBatches): the
 * samples in corpus order, as auditCorpus counts them. The caller has checked
 * the input (its problems are not reported here).
 */
export async function auditCorpusFile(file: string, opts: AuditOptions & { batchBytes?: number } = {}): Promise<AuditResult> {
  const a = new CorpusAuditor(opts);
  try {
    await scanCorpusBatches(file, (batch) => a.add(batch.map((s) => s.value)), { batchBytes: opts.batchBytes });
  } catch (err) {
    await a.close();
    throw err;
  }
  return a.result();
}
