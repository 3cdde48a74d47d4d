/**
 * The dataset audit: token lengths, trained-token ratio, and the
 * samples that truncation would damage. `dcd stats --json` shows it under
 * `tokens`; the Corpora view can show the same object.
 */
import type { DcdSample } from '../trace/model';
import { DEFAULT_MAX_LENGTH, DEFAULT_POLICY, MASK_FLAGS, maskFlagCounts, summarizeMask, type MaskFlag, type MaskPolicy } from '../trace/mask';
import { tokenizeCorpus, type CorpusTokenOptions } from '../tokenizer/corpus';

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

type AuditInput = Pick<DcdSample, 'text'> & Partial<Pick<DcdSample, 'id' | 'chain'>>;

export async function auditCorpus(samples: readonly AuditInput[], opts: AuditOptions = {}): Promise<AuditResult> {
  const t0 = performance.now();
  const policy = opts.policy ?? DEFAULT_POLICY;
  const maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  const preset = opts.preset ?? 'paper';
  const inputs = samples.map((s) => ({
    text: typeof s.text === 'string' ? s.text : '',
    group: typeof s.chain === 'string' ? s.chain : undefined,
  }));
  const corpus = await tokenizeCorpus(inputs, false, opts);

  const flags = maskFlagCounts();
  const flagged: AuditSampleReport[] = [];
  const errors: AuditSampleReport[] = [];
  const lengths: number[] = [];
  let tokens = 0, untruncated = 0, trained = 0;
  corpus.samples.forEach((st, index) => {
    const s = samples[index];
    const id = typeof s.id === 'string' ? s.id : null;
    if (!st.layout || typeof s.text !== 'string') {
      errors.push({ index, id, tokens: 0, trained: 0, flags: [], error: typeof s.text !== 'string' ? 'the sample has no text' : st.error });
      return;
    }
    const m = summarizeMask(st.layout, policy, maxLength);
    lengths.push(st.layout.tokens);
    untruncated += st.layout.tokens;
    tokens += m.tokens;
    trained += m.trained;
    const on = AUDIT_FLAGS.filter((f) => m.flags[f]);
    for (const f of on) flags[f]++;
    if (on.length) flagged.push({ index, id, tokens: st.layout.tokens, trained: m.trained, flags: on });
  });
  const sorted = [...lengths].sort((a, b) => a - b);
  return {
    tokenizer: { name: corpus.source.name, sha256: corpus.source.sha256 },
    policy, max_length: maxLength, preset,
    samples: samples.length,
    failed: errors.length,
    tokens, tokens_untruncated: untruncated, trained_tokens: trained,
    trained_ratio: tokens ? trained / tokens : 0,
    length: {
      min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0,
      mean: sorted.length ? untruncated / sorted.length : 0,
      median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), p99: quantile(sorted, 0.99),
    },
    histogram: histogram(lengths, opts.bins),
    flags, flagged, errors,
    cache: { ...corpus.cache, chunk_hits: corpus.chunks.hits, chunk_misses: corpus.chunks.misses },
    elapsed_ms: Math.round(performance.now() - t0),
  };
}
