/**
 * `dcd results PATH [--json] [--latest] [--seeds]`: summarises lm-evaluation-harness
 * results, older and newer layouts alike.
 *
 * - PATH a results JSON: one object `{model, tasks, n_shot, n_samples, versions}`
 *   (`tasks`: task → metric key → value, `"N/A"` as null).
 * - PATH a folder (an `--output_path`): a JSON array with one element per
 *   results file found under it (recursively), sorted by model then date;
 *   each element is the single-file object plus `file` (path relative to
 *   PATH) and `date` (ISO 8601 or null). `--latest` keeps the newest file per
 *   model. An empty folder prints `[]`.
 * - DCD grading: where the sample log of a GSM8K or AIME 24 task (stock or
 *   `dcd_` variant) lies beside its results file and holds every graded
 *   document, the task also gets `exact_match,dcd-verify` (and its stderr):
 *   the project's verifier on the text after the last answer tag
 *   (core/eval/grading.ts). Notes about logs that could not be used go to
 *   stderr.
 * - `--seeds` (a folder): instead, a JSON array of seed groups, runs of one
 *   model and task that differ only in their seed, each
 *   `{model, task, seeds, files, n_shot, n_samples, metrics: {key: {mean, sd, min, max, n, values}}}`.
 *
 * `dcd results compare A B [--json]`: the questions that flipped between two
 * runs (A, B: results files, sample logs or folders), per task; see
 * core/eval/compareRuns.ts for matching and grading.
 */
import type { Command } from 'commander';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { CliError, printJson } from '../output';
import { findResultsFiles, newestPerModel, parseResultsJson, toSummary, type EvalResultFile } from '../../core/eval/results';
import { gradeResultsFile } from '../../core/eval/grading';
import { seedGroups, type SeedGroup } from '../../core/eval/seeds';
import { compareRuns, readRunSamples, type GradingChoice, type TaskComparison } from '../../core/eval/compareRuns';

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

function humanSeeds(g: SeedGroup): string {
  const lines = [`${g.model}  ${g.task}  seeds ${g.seeds.join(', ')}${g.n_samples !== null ? `  n=${g.n_samples}` : ''}`];
  for (const [k, m] of Object.entries(g.metrics)) {
    lines.push(`    ${k.padEnd(36)} ${m.mean.toFixed(4)}${m.sd !== null ? ` ± ${m.sd.toFixed(4)} sd` : ''}  [${m.min.toFixed(4)}, ${m.max.toFixed(4)}]  (${m.n} seeds)`);
  }
  return lines.join('\n');
}

function humanCompare(c: TaskComparison): string {
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  const lines = [
    `${c.task}: ${c.matched} questions in both; A ${pct(c.accuracyA)} (${c.gradingA}${c.filterA ? ` ${c.filterA}` : ''}), B ${pct(c.accuracyB)} (${c.gradingB}${c.filterB ? ` ${c.filterB}` : ''})`,
    `  wrong → right: ${c.wrongToRight.length}   right → wrong: ${c.rightToWrong.length}   both right: ${c.bothRight}   both wrong: ${c.bothWrong}` +
      `${c.onlyA || c.onlyB ? `   only in A: ${c.onlyA}, only in B: ${c.onlyB}` : ''}${c.hashMismatch.length ? `   different documents under one id: ${c.hashMismatch.length}` : ''}`,
  ];
  const show = (s: string | null) => (s === null ? '(none)' : JSON.stringify(s.length > 40 ? s.slice(0, 37) + '...' : s));
  for (const [label, list] of [['wrong → right', c.wrongToRight], ['right → wrong', c.rightToWrong]] as const) {
    for (const q of list) lines.push(`  ${label}  doc ${q.docId}: gold ${show(q.gold)}, A ${show(q.a.answer)}, B ${show(q.b.answer)}`);
  }
  return lines.join('\n');
}

async function graded(r: EvalResultFile, onDisk: string): Promise<EvalResultFile> {
  const g = await gradeResultsFile(r, onDisk);
  for (const w of g.warnings) process.stderr.write(`note: ${w}\n`);
  return g.result;
}

const GRADINGS: readonly GradingChoice[] = ['auto', 'logged', 'dcd-verify'];

function grading(v: string | undefined, flag: string): GradingChoice | undefined {
  if (v === undefined) return undefined;
  if (!(GRADINGS as readonly string[]).includes(v)) throw new CliError(`${flag} must be one of ${GRADINGS.join(', ')}, got ${JSON.stringify(v)}`);
  return v as GradingChoice;
}

export function register(program: Command): void {
  const results = program
    .command('results')
    .description('summarise lm-eval results: one results JSON, or every results file under an output folder')
    .argument('<path>', 'a results_*.json file, or an lm-eval --output_path folder')
    .option('--json', 'print JSON (one object for a file, an array for a folder)')
    .option('--latest', 'for a folder: only the newest results file of each model')
    .option('--seeds', 'for a folder: mean and spread over runs of one model that differ only in their seed')
    .action(async (p: string, opts: { json?: boolean; latest?: boolean; seeds?: boolean }) => {
      const st = await fs.stat(p).catch(() => undefined);
      if (!st) throw new CliError(`no such file or folder: ${p}`);
      if (st.isDirectory()) {
        let all = await findResultsFiles(p);
        all = await Promise.all(all.map((r) => graded(r, path.join(p, r.file ?? ''))));
        if (opts.seeds) {
          const groups = seedGroups(all);
          if (opts.json) printJson(groups);
          else if (!groups.length) process.stderr.write(`no runs under ${p} that differ only in their seed\n`);
          else process.stdout.write(groups.map(humanSeeds).join('\n\n') + '\n');
          return;
        }
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
      if (opts.seeds) throw new CliError('--seeds needs a folder of results');
      let r: EvalResultFile;
      try {
        r = parseResultsJson(await fs.readFile(p, 'utf8'), p);
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      r = await graded(r, p);
      if (opts.json) printJson(toSummary(r));
      else process.stdout.write(human(r) + '\n');
    });

  results
    .command('compare')
    .description('the questions that flipped between two runs (wrong → right, right → wrong), per task, from their sample logs')
    .argument('<a>', 'run A: a results_*.json (its samples beside it), a samples_*.jsonl, or a folder')
    .argument('<b>', 'run B, the same kinds')
    .option('--json', 'print {a, b, tasks: [...]} as JSON')
    .option('--task <name>', 'only this task (of A)')
    .option('--task-b <name>', 'compare it with this task of B (e.g. --task gsm8k --task-b dcd_gsm8k)')
    .option('--grading <g>', `grading of both sides: ${GRADINGS.join(' | ')} (default auto: the DCD verifier for dcd_ tasks and tagged outputs, else as logged)`)
    .option('--grading-a <g>', 'grading of run A (overrides --grading)')
    .option('--grading-b <g>', 'grading of run B (overrides --grading)')
    .option('--filter <name>', 'logged grading: compare this filter (default: the benchmark\'s headline filter)')
    .option('--outputs', 'include both generations of every flipped question')
    .action(async (a: string, b: string, opts: { json?: boolean; task?: string; taskB?: string; grading?: string; gradingA?: string; gradingB?: string; filter?: string; outputs?: boolean }) => {
      // `results` has --json too: commander gives the flag to the parent wherever it stands
      const json = !!(opts.json || results.opts<{ json?: boolean }>().json);
      const both = grading(opts.grading, '--grading');
      const gradingA = grading(opts.gradingA, '--grading-a') ?? both;
      const gradingB = grading(opts.gradingB, '--grading-b') ?? both;
      const load = async (p: string) => {
        try {
          return await readRunSamples(p);
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          throw new CliError(e.code === 'ENOENT' ? `no such file or folder: ${p}` : e.message);
        }
      };
      let logsA = await load(a);
      let logsB = await load(b);
      if (opts.task) {
        logsA = logsA.filter((l) => l.task === opts.task);
        if (!logsA.length) throw new CliError(`run A has no sample log of task ${opts.task}`);
      }
      if (opts.taskB) {
        logsB = logsB.filter((l) => l.task === opts.taskB);
        if (!logsB.length) throw new CliError(`run B has no sample log of task ${opts.taskB}`);
      }
      for (const l of [...logsA, ...logsB]) for (const e of l.parse.errors) process.stderr.write(`note: ${l.file}:${e.line}: ${e.message}\n`);
      let tasks: TaskComparison[];
      try {
        tasks = compareRuns(logsA, logsB, { gradingA, gradingB, filter: opts.filter, withOutputs: !!opts.outputs });
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      if (!tasks.length) throw new CliError(`the two runs share no task (A: ${logsA.map((l) => l.task).join(', ')}; B: ${logsB.map((l) => l.task).join(', ')})`);
      if (json) printJson({ a, b, tasks });
      else process.stdout.write(tasks.map(humanCompare).join('\n\n') + '\n');
    });
}
