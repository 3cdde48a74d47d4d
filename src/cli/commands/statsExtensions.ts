/**
 * Extra sections of `dcd stats --json`: the token audit (src/core/training/audit.ts) under
 * `tokens` — lengths, trained-token ratio, truncation flags.
 */
import type { DcdSample } from '../../core/trace/model';
import { auditCorpus } from '../../core/training/audit';

export type StatsExtension = (samples: DcdSample[], opts: { maxLength?: number; policy?: string; tokenizer?: string }) => Promise<Record<string, unknown>>;

const tokenAudit: StatsExtension = async (samples, opts) => {
  const audit = await auditCorpus(samples, {
    maxLength: opts.maxLength, tokenizerDir: opts.tokenizer,
    policy: opts.policy === 'mask-draft' ? 'mask-draft' : 'paper',
  });
  return { tokens: audit };
};

export const statsExtensions: StatsExtension[] = [tokenAudit];
