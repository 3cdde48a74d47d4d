/**
 * `dcd results PATH [--json] [--latest]`: summarises lm-evaluation-harness
 * results, older and newer layouts alike.
 *
 * - PATH a results JSON: one object `{model, tasks, n_shot, n_samples, versions}`
 *   (`tasks`: task → metric key → value, `"N/A"` as null).
 * - PATH a folder (an `--output_path`): a JSON array with one element per
 *   results file found under it (recursively), sorted by model then date;
 *   each element is the single-file object plus `file` (path relative to
 *   PATH) and `date` (ISO 8601 or null). `--latest` keeps the newest file per
 *   model. An empty folder prints `[]`.
 */
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import { CliError, printJson } from '../output';
import { findResultsFiles, newestPerModel, parseResultsJson, toSummary, type EvalResultFile } from '../../core/eval/results';

function human(r: EvalResultFile): string {
  const lines = [`${r.model}${r.file ? `  (${r.file})` : ''}${r.date ? `  ${r.date}` : ''}`];
  for (const [task, metrics] of Object.entries(r.tasks)) {
    const shots = r.n_shot[task];
    const n = r.n_samples[task];
    lines.push(`  ${task}${shots !== undefined && shots !== null ? `  ${shots}-shot` : ''}${n && n.effective !== null ? `  n=${n.effective}${n.original !== null && n.original !== n.effective ? `/${n.original}` : ''}` : ''}`);
    for (const [k, v] of Object.entries(metrics)) {
      if (k.includes('_stderr')) continue;
      const se = metrics[k.replace(/^([^,]+)/, '$1_stderr')];
      lines.push(`    ${k.padEnd(36)} ${v === null ? 'n/a' : v.toFixed(4)}${typeof se === 'number' ? ` ± ${se.toFixed(4)}` : ''}`);
    }
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('results')
    .description('summarise lm-eval results: one results JSON, or every results file under an output folder')
    .argument('<path>', 'a results_*.json file, or an lm-eval --output_path folder')
    .option('--json', 'print JSON (one object for a file, an array for a folder)')
    .option('--latest', 'for a folder: only the newest results file of each model')
    .action(async (p: string, opts: { json?: boolean; latest?: boolean }) => {
      const st = await fs.stat(p).catch(() => undefined);
      if (!st) throw new CliError(`no such file or folder: ${p}`);
      if (st.isDirectory()) {
        let all = await findResultsFiles(p);
        if (opts.latest) all = newestPerModel(all);
        if (opts.json) {
          printJson(all.map((r) => ({ ...toSummary(r), file: r.file ?? null, date: r.date })));
        } else if (all.length === 0) {
          process.stderr.write(`no lm-eval results file under ${p}\n`);
        } else {
          process.stdout.write(all.map(human).join('\n\n') + '\n');
        }
        return;
      }
      let r: EvalResultFile;
      try {
        r = parseResultsJson(await fs.readFile(p, 'utf8'), p);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      if (opts.json) printJson(toSummary(r));
      else process.stdout.write(human(r) + '\n');
    });
}
