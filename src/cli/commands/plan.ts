/**
 * `dcd plan FILE --preset paper|smoke [--policy …] [--max-length L]
 *  [--template PRESET] [--tokenizer DIR] [--cache-dir DIR | --no-cache]
 *  [--workers N] [--json]`
 *
 * The training plan of a corpus (docs/SPEC.md §5): optimizer and warmup steps from the
 * sample count, tokens and trained tokens from tokenizing it (through the token
 * cache). JSON output: the plan `{preset, model, samples, epochs, micro_batch,
 * grad_accum, steps_per_epoch, optimizer_steps, warmup_steps, lr, schedule,
 * adam_beta1, adam_beta2, weight_decay, tokens, trained_tokens}` plus
 * `policy`, `max_length` and `flags` (samples truncated, verdict cut, answer
 * cut, with nothing trained).
 */
import type { Command } from 'commander';
import { CliError, printJson } from '../output';
import { auditCorpusFile } from '../../core/training/audit';
import { planTraining, PLAN_PRESETS } from '../../core/training/plan';
import { scanCorpusForCli } from '../input';
import { addCorpusOptions, corpusOptions, describeFlags, type CorpusCliOptions } from './pack';

export function register(program: Command): void {
  addCorpusOptions(program
    .command('plan')
    .description('training plan of a corpus: optimizer steps, warmup steps, tokens and trained tokens')
    .argument('<file>', 'a corpus JSONL (*.dcd.jsonl)')
    .option('--preset <name>', `plan preset: ${Object.keys(PLAN_PRESETS).join(' | ')}`, 'paper'))
    .option('--json', 'print the plan as JSON')
    .action(async (file: string, opts: CorpusCliOptions & { preset: string; json?: boolean }) => {
      const co = corpusOptions(opts, opts.preset);
      // Streamed twice: the input check (with each sample's line), then the token audit in batches.
      const lines: number[] = [];
      const input = await scanCorpusForCli('plan', file, { json: opts.json, onSample: (s) => { lines.push(s.line); } });
      const audit = await auditCorpusFile(file, co);
      if (audit.errors.length) {
        const e = audit.errors[0];
        throw new CliError(`${file}:${lines[e.index]}: ${e.error}${audit.errors.length > 1 ? ` (and ${audit.errors.length - 1} more lines)` : ''}`);
      }
      const plan = planTraining(input.samples, opts.preset, { tokens: audit.tokens, trained_tokens: audit.trained_tokens });
      const out = { ...plan, policy: audit.policy, max_length: audit.max_length, flags: audit.flags, warnings: input.warnings };
      if (opts.json) { printJson(out); return; }
      const warn = describeFlags(audit.flags, audit.samples);
      process.stdout.write([
        `${file}: ${plan.samples} samples, ${plan.tokens} tokens, ${plan.trained_tokens} trained (${audit.policy}, max_length ${audit.max_length})`,
        `preset ${plan.preset} (${plan.model}): ${plan.epochs} epochs × ${plan.steps_per_epoch} steps = ${plan.optimizer_steps} optimizer steps, ${plan.warmup_steps} warmup, lr ${plan.lr}`,
        ...(warn ? [`flagged: ${warn}`] : []),
      ].join('\n') + '\n');
    });
}
