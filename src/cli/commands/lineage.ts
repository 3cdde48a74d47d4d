/**
 * `dcd lineage PATH [--root DIR]... [--depth N] [--hash-cache FILE | --no-cache]
 *  [--eval-of MODEL_DIR [--tasks T,..] [--limit N]] [--fail-stale] [--json]`
 *
 * The lineage of a corpus, export, run folder, model folder or results file
 * (docs/FORMATS.md §6): its ancestors and descendants found on this machine
 * (under the roots: default the current folder and PATH's folder), each with
 * its content hash and whether it is stale (a parent changed since it was
 * made, here or upstream) and why. `--eval-of` first writes PATH/dcd_lineage.json
 * for lm-eval output in the folder PATH, naming MODEL_DIR (hashed here) as the
 * evaluated model. JSON output: `{format: "dcd-lineage-report", version: 1,
 * target, ancestors, descendants, edges, roots}`; each node `{id, kind, label,
 * sha256, missing, stale, reasons, changes, problems, details, parents, children}`.
 * Exit code 0; with `--fail-stale`, 1 when the target is stale.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import { CliError, printJson } from '../output';
import { HashCache, lineageOf, writeEvalLineage, type JobHint, type JsonNode, type LineageReport } from '../../core/lineage';
import { JobStore } from '../../core/jobs/store';
import { intOption } from './tokens';
import { version } from '../../../package.json';

function defaultHashCache(): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'dcd-studio', 'lineage-hashes.json');
}

async function jobHints(file: string | undefined): Promise<JobHint[]> {
  const store = new JobStore(path.resolve(file ?? process.env.DCD_JOBS_STORE ?? path.join(os.homedir(), '.dcd', 'jobs.json')));
  try {
    return (await store.list()).map((j) => ({ id: j.id, data: j.spec?.data, jobDir: j.host?.kind === 'local' ? j.remote?.jobDir : undefined }));
  } catch (err) {
    if (file) throw new CliError(`--jobs-store ${file}: ${(err as Error).message}`);
    return [];
  }
}

function line(n: JsonNode, indent: string): string {
  const mark = n.missing ? 'missing' : n.stale ? 'STALE' : 'ok';
  const head = `${indent}${n.kind.padEnd(6)} ${n.id}  sha256 ${n.sha256 ? n.sha256.slice(0, 12) : '-'}  [${mark}]`;
  const why = [...n.reasons, ...n.problems].map((r) => `${indent}    ${r}`);
  return [head, ...why].join('\n');
}

function human(r: LineageReport): string {
  const out: string[] = [];
  if (r.ancestors.length) out.push('ancestors (nearest first):', ...r.ancestors.map((n) => line(n, '  ')));
  out.push('this:', line(r.target, '  '));
  if (r.descendants.length) out.push('descendants:', ...r.descendants.map((n) => line(n, '  ')));
  return out.join('\n');
}

export function register(program: Command): void {
  program
    .command('lineage')
    .description('ancestors and descendants of a corpus, export, run, model folder or results file, with hashes and stale flags')
    .argument('<path>', 'a corpus, export folder, run folder, model folder (final/), results file or results folder')
    .option('--root <dir>', 'folder to search for related artifacts (repeatable; default: the current folder and PATH\'s folder)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--depth <n>', 'how many folder levels below each root to search (default 8)')
    .option('--hash-cache <file>', 'remember file hashes by path, size and mtime in this file (default ~/.cache/dcd-studio/lineage-hashes.json)')
    .option('--no-cache', 'hash every file afresh')
    .option('--eval-of <model>', 'first write PATH/dcd_lineage.json: the lm-eval output in folder PATH evaluated this model folder')
    .option('--tasks <list>', 'with --eval-of: the task names, comma-separated')
    .option('--limit <n>', 'with --eval-of: the --limit the evaluation ran with')
    .option('--jobs-store <file>', 'local job history, to link runs fetched from hosts to the export they were submitted with (default: env DCD_JOBS_STORE, else ~/.dcd/jobs.json)')
    .option('--fail-stale', 'exit 1 when PATH is stale')
    .option('--json', 'print the report as JSON')
    .action(async (target: string, opts: { root: string[]; depth?: string; hashCache?: string; cache?: boolean; evalOf?: string; tasks?: string; limit?: string; failStale?: boolean; jobsStore?: string; json?: boolean }) => {
      const cache = await new HashCache(opts.cache === false ? undefined : (opts.hashCache ?? defaultHashCache())).load();
      const abs = path.resolve(target);
      if (opts.evalOf) {
        const limit = intOption('--limit', opts.limit, 1);
        try {
          await writeEvalLineage(abs, { model: opts.evalOf, cache, tasks: opts.tasks?.split(',').map((t) => t.trim()).filter(Boolean), limit, createdBy: `dcd-studio ${version}` });
        } catch (err) {
          throw new CliError(`--eval-of ${opts.evalOf}: ${(err as Error).message}`);
        }
      } else if (opts.tasks !== undefined || opts.limit !== undefined) {
        throw new CliError('--tasks and --limit go with --eval-of');
      }
      const roots = opts.root.length ? opts.root : [process.cwd(), path.dirname(abs)];
      let report: LineageReport;
      try {
        report = await lineageOf(abs, { roots, cache, maxDepth: intOption('--depth', opts.depth, 0), jobs: await jobHints(opts.jobsStore) });
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      await cache.save().catch(() => undefined);
      if (opts.json) printJson(report);
      else process.stdout.write(human(report) + '\n');
      if (opts.failStale && report.target.stale) process.exitCode = 1;
    });
}
