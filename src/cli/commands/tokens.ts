/**
 * `dcd tokens FILE --index N [--policy paper|mask-draft] [--max-length L]
 *  [--template PRESET] [--tokenizer DIR] [--json]`
 *
 * Tokenizes one sample of a corpus (N: 0-based among its non-blank lines) the
 * way the export does. JSON output: one object `{ids, labels, offsets}`
 * (labels -100 where masked; offsets UTF-16 [start, end) in the sample's
 * `text`), truncated to max_length, plus `tokens_total` (before truncation),
 * `trained_tokens` and `flags`.
 */
import type { Command } from 'commander';
import { CliError, printJson } from '../output';
import { indexedSampleForCli } from '../input';
import { isMaskPolicy, IGNORE_INDEX, MASK_POLICIES, DEFAULT_MAX_LENGTH, type MaskPolicy } from '../../core/trace/mask';
import { tokenizeTrace } from '../../core/tokenizer';

export function intOption(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isInteger(x) || x < min) throw new CliError(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  return x;
}

export function policyOption(v: string | undefined): MaskPolicy | undefined {
  if (v === undefined) return undefined;
  if (!isMaskPolicy(v)) throw new CliError(`--policy must be one of ${MASK_POLICIES.join(', ')}, got ${JSON.stringify(v)}`);
  return v;
}

export function register(program: Command): void {
  program
    .command('tokens')
    .description('token ids, loss-mask labels and character offsets of one corpus sample')
    .argument('<file>', 'a corpus JSONL (*.dcd.jsonl)')
    .requiredOption('--index <n>', 'the sample: 0-based among the non-blank lines')
    .option('--policy <policy>', `loss-mask policy: ${MASK_POLICIES.join(' | ')} (default paper)`)
    .option('--max-length <l>', `truncate to this many tokens (default ${DEFAULT_MAX_LENGTH})`)
    .option('--template <preset>', 'template preset of the traces (default paper)')
    .option('--tokenizer <dir>', 'a folder with tokenizer.json (default: env DCD_TOKENIZER_DIR, else the bundled Qwen2.5)')
    .option('--json', 'print {ids, labels, offsets, …} as JSON')
    .action(async (file: string, opts: { index: string; policy?: string; maxLength?: string; template?: string; tokenizer?: string; json?: boolean }) => {
      const index = intOption('--index', opts.index, 0) as number;
      const policy = policyOption(opts.policy);
      const maxLength = intOption('--max-length', opts.maxLength, 1);
      // Through the corpus's byte-offset index: one line is read, not the corpus.
      const input = await indexedSampleForCli('tokens', file, index, { json: opts.json });
      if (!input.sample) throw new CliError(`--index ${index} is out of range: ${file} has ${input.samples} samples`);
      const v = input.sample.value;
      const trace = { line: input.sample.line, id: typeof v.id === 'string' ? v.id : null, text: v.text };
      let t;
      try {
        t = await tokenizeTrace(trace.text, { policy, maxLength, preset: opts.template, dir: opts.tokenizer });
      } catch (err) {
        throw new CliError(`${file}:${trace.line}: ${(err as Error).message}`);
      }
      const offsets: Array<[number, number]> = [];
      for (let i = 0; i < t.ids.length; i++) offsets.push([t.offsets[2 * i], t.offsets[2 * i + 1]]);
      if (opts.json) {
        printJson({
          ids: Array.from(t.ids), labels: Array.from(t.labels), offsets,
          tokens_total: t.totalTokens, trained_tokens: t.trainedTokens, flags: t.flags, warnings: input.warnings,
        });
        return;
      }
      const lines = [`${file} #${index}${trace.id ? ` (${trace.id})` : ''}: ${t.ids.length} tokens${t.totalTokens > t.ids.length ? ` of ${t.totalTokens} (truncated)` : ''}, ${t.trainedTokens} trained`];
      const flagged = Object.entries(t.flags).filter(([, on]) => on).map(([f]) => f);
      if (flagged.length) lines.push(`flags: ${flagged.join(', ')}`);
      for (let i = 0; i < t.ids.length; i++) {
        const [s, e] = offsets[i];
        lines.push(`${String(i).padStart(6)} ${String(t.ids[i]).padStart(6)} ${t.labels[i] === IGNORE_INDEX ? '  -' : '  T'} ${JSON.stringify(trace.text.slice(s, e))}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
