/**
 * `dcd pack FILE --out DIR [--policy paper|mask-draft] [--max-length L]
 *  [--plan-preset paper|smoke] [--template PRESET] [--tokenizer DIR]
 *  [--cache-dir DIR | --no-cache] [--workers N] [--drop-flagged] [--json]`
 *
 * Writes the training export of docs/FORMATS.md §1 (ids.npy, labels.npy,
 * offsets.npy, manifest.json) into DIR, atomically, and prints the manifest.
 * Flagged samples (verdict or answer cut by max_length, nothing trained) are
 * reported on stderr; `--drop-flagged` leaves them out.
 */
import type { Command } from 'commander';
import { CliError, printJson } from '../output';
import { MASK_POLICIES } from '../../core/trace/mask';
import { CorpusLineError, packCorpus, type ExportManifest } from '../../core/training/pack';
import { getPlanPreset } from '../../core/training/plan';
import { intOption, policyOption } from './tokens';
import { scanCorpusForCli } from '../input';

export interface CorpusCliOptions {
  policy?: string; maxLength?: string; template?: string; tokenizer?: string;
  cacheDir?: string; cache?: boolean; workers?: string;
}

/** Options shared by `dcd pack` and `dcd plan`. */
export function addCorpusOptions(cmd: Command): Command {
  return cmd
    .option('--policy <policy>', `loss-mask policy: ${MASK_POLICIES.join(' | ')} (default paper)`)
    .option('--max-length <l>', 'truncate each sample to this many tokens (default: the plan preset\'s, 32768 for paper)')
    .option('--template <preset>', 'template preset of the traces (default paper)')
    .option('--tokenizer <dir>', 'a folder with tokenizer.json, e.g. the model folder (default: env DCD_TOKENIZER_DIR, else the bundled Qwen2.5)')
    .option('--cache-dir <dir>', 'token cache folder (default: dcd-token-cache in the system temp folder)')
    .option('--no-cache', 'do not read or write the token cache')
    .option('--workers <n>', 'tokenizer worker threads (default: one per core, at most 8; 0: none)');
}

export function corpusOptions(opts: CorpusCliOptions, planPreset: string) {
  let preset;
  try { preset = getPlanPreset(planPreset); } catch (err) { throw new CliError((err as Error).message); }
  return {
    policy: policyOption(opts.policy),
    maxLength: intOption('--max-length', opts.maxLength, 1) ?? preset.max_length,
    preset: opts.template,
    tokenizerDir: opts.tokenizer,
    cacheDir: opts.cache === false ? false as const : opts.cacheDir,
    workers: intOption('--workers', opts.workers, 0),
  };
}

export function describeFlags(flags: Record<string, number>, samples: number): string | null {
  const on = Object.entries(flags).filter(([, n]) => n > 0);
  return on.length ? `${on.map(([f, n]) => `${n} ${f.replace('_', ' ')}`).join(', ')} (of ${samples} samples)` : null;
}

function human(m: ExportManifest, dir: string): string {
  return [
    `wrote ${dir}: ${m.samples} samples, ${m.tokens} tokens, ${m.trained_tokens} trained (${m.policy}, max_length ${m.max_length})`,
    `tokenizer ${m.tokenizer.name} ${m.tokenizer.sha256.slice(0, 12)}…, corpus ${m.corpus.sha256.slice(0, 12)}…`,
    `plan ${m.plan.preset}: ${m.plan.optimizer_steps} optimizer steps, ${m.plan.warmup_steps} warmup`,
  ].join('\n');
}

export function register(program: Command): void {
  addCorpusOptions(program
    .command('pack')
    .description('write the training export of a corpus: ids.npy, labels.npy, offsets.npy, manifest.json')
    .argument('<file>', 'a corpus JSONL (*.dcd.jsonl)')
    .requiredOption('--out <dir>', 'export folder (replaced atomically if it holds an earlier export)')
    .option('--plan-preset <name>', 'training plan recorded in the manifest', 'paper')
    .option('--drop-flagged', 'leave out samples whose verdict or answer would be cut, or with no trained token'))
    .option('--json', 'print the manifest as JSON')
    .action(async (file: string, opts: CorpusCliOptions & { out: string; planPreset: string; dropFlagged?: boolean; json?: boolean }) => {
      const co = corpusOptions(opts, opts.planPreset);
      const input = await scanCorpusForCli('pack', file, { json: opts.json, hash: true });
      let manifest: ExportManifest;
      try {
        manifest = await packCorpus(file, opts.out, { ...co, planPreset: opts.planPreset, dropFlagged: opts.dropFlagged, checked: input });
      } catch (err) {
        if (err instanceof CorpusLineError || (err as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError((err as Error).message);
        throw err;
      }
      const warn = describeFlags(manifest.flags, manifest.samples);
      if (warn) process.stderr.write(`dcd pack: flagged: ${warn}${opts.dropFlagged ? '' : ' — kept; --drop-flagged leaves them out'}\n`);
      if (manifest.dropped.length) process.stderr.write(`dcd pack: dropped ${manifest.dropped.length} flagged samples\n`);
      if (opts.json) printJson({ ...manifest, warnings: input.warnings });
      else process.stdout.write(human(manifest, opts.out) + '\n');
    });
}
