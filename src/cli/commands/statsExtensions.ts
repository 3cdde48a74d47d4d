/**
 * Extra sections of `dcd stats --json`: the token audit (src/core/training/audit.ts) under
 * `tokens` — lengths, trained-token ratio, truncation flags. Each extension
 * reads the corpus file itself, streamed (the counts pass holds no samples).
 */
import { auditCorpusFile } from '../../core/training/audit';

export type StatsExtension = (file: string, opts: { maxLength?: number; policy?: string; tokenizer?: string }) => Promise<Record<string, unknown>>;

const tokenAudit: StatsExtension = async (file, opts) => {
  const audit = await auditCorpusFile(file, {
    maxLength: opts.maxLength, tokenizerDir: opts.tokenizer,
    policy: opts.policy === 'mask-draft' ? 'mask-draft' : 'paper',
  });
  return { tokens: audit };
};

export const statsExtensions: StatsExtension[] = [tokenAudit];
