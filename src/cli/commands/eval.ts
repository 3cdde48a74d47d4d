/**
 * `dcd eval submit`: an evaluation (one lm_eval job per benchmark, run one
 * after the other) on the `local` machine or an SSH host, through the same
 * dispatch as the extension's Evaluate Model (core/jobs/evalDispatch.ts).
 * The jobs are ordinary jobs of the job history: `dcd job status|logs|cancel|
 * fetch ID` follow, stop and download them (`fetch` takes the evaluation's
 * results folder), and `dcd results DIR` reads what was fetched.
 *
 *   dcd eval submit --host NAME|--ssh user@host:port --model PATH_OR_ID --tasks aime24,gsm8k,gpqa_diamond_zeroshot
 *       [--limit N] [--data-dir DIR] [--seed S] [--dcd] [--max-gen-toks N] [--no-chat-template]
 *       [--backend vllm|hf] [--batch-size N|auto] [--dtype D] [--max-model-len N] [--upload-model] [--offline] --json
 *   → {"job": ID of the last job, "jobs": [{"job", "benchmark", "tasks", "status"}], "eval", "host", "model",
 *      "hostModel", "backend", "offline", "dataDir", "hostDataDir", "outputPath", "resultsDir", "warnings"}
 *
 * The Hugging Face token (gated datasets on an online host) is read from the
 * environment variable HF_TOKEN and passed to lm_eval in its environment only.
 */
import type { Command } from 'commander';
import * as path from 'node:path';
import { CliError, printJson } from '../output';
import { BENCHMARK_IDS, type BenchmarkId } from '../../core/eval/benchmarks';
import { dispatchEval, type EvalSettings } from '../../core/jobs/evalDispatch';
import { addHostOptions, findBackendDir, intArg, resolveProfile, withEngine, type HostOptions } from './job';

interface SubmitOptions extends HostOptions {
  model: string;
  tasks: string;
  limit?: string;
  dataDir?: string;
  seed?: string;
  dcd?: boolean;
  maxGenToks?: string;
  chatTemplate: boolean;
  backend?: string;
  evalBackend?: string;
  batchSize?: string;
  dtype?: string;
  maxModelLen?: string;
  uploadModel?: boolean;
  offline?: boolean;
}

/** `--tasks`: benchmark ids, comma-separated, each once. */
export function parseTasks(s: string): BenchmarkId[] {
  const out: BenchmarkId[] = [];
  for (const t of s.split(',').map((x) => x.trim()).filter(Boolean)) {
    if (!(BENCHMARK_IDS as readonly string[]).includes(t)) throw new CliError(`--tasks: unknown benchmark ${JSON.stringify(t)} (known: ${BENCHMARK_IDS.join(', ')})`);
    if (!out.includes(t as BenchmarkId)) out.push(t as BenchmarkId);
  }
  if (!out.length) throw new CliError('--tasks: name at least one benchmark');
  return out;
}

function limitArg(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0) || (n >= 1 && !Number.isInteger(n))) throw new CliError('--limit must be a positive integer (documents per task) or a fraction in (0, 1)');
  return n;
}

export function register(program: Command): void {
  const ev = program.command('eval').description('evaluations with lm-evaluation-harness on this machine or an SSH host (jobs: see dcd job)');

  addHostOptions(ev.command('submit'))
    .description('start lm_eval on a host: one job per benchmark, one after the other')
    .requiredOption('--model <path-or-id>', 'a model folder on the host (e.g. a training job\'s final/), a Hugging Face id, or with --upload-model a folder on this machine')
    .requiredOption('--tasks <list>', `benchmarks, comma-separated: ${BENCHMARK_IDS.join(', ')}`)
    .option('--limit <n>', 'documents per task (an integer, or a fraction in (0, 1))')
    .option('--data-dir <dir>', 'benchmark data on this machine (docs/FORMATS.md §5): uploaded with the job; the run is offline')
    .option('--seed <s>', 'seed for python/numpy/torch (the few-shot seed stays at the harness default 1234)')
    .option('--dcd', 'grade DCD-aware as well: the dcd_ task variants beside the stock tasks')
    .option('--max-gen-toks <n>', 'max_gen_toks for the generative tasks')
    .option('--no-chat-template', 'do not apply the chat template (default: applied; few-shot as multi-turn)')
    .option('--eval-backend <name>', 'vllm | hf (default vllm; hf when the host has no vLLM)')
    .option('--batch-size <n>', "lm_eval --batch_size: an integer or auto (default auto)")
    .option('--dtype <dtype>', 'auto | bfloat16 | float16 | float32 (default auto)')
    .option('--max-model-len <n>', 'vLLM max_model_len (hf: max_length)')
    .option('--upload-model', '--model is a folder on this machine: upload it with the job (SSH hosts; local uses it in place)')
    .option('--offline', 'turn the Hugging Face Hub off even without --data-dir (the datasets must be in the host\'s cache)')
    .action(async (o: SubmitOptions) => {
      const benchmarks = parseTasks(o.tasks);
      const backend = o.evalBackend;
      if (backend !== undefined && backend !== 'vllm' && backend !== 'hf') throw new CliError('--eval-backend must be vllm or hf');
      const dtype = o.dtype;
      if (dtype !== undefined && !['auto', 'bfloat16', 'float16', 'float32'].includes(dtype)) throw new CliError('--dtype must be auto, bfloat16, float16 or float32');
      const batchSize = o.batchSize === undefined || o.batchSize === 'auto' ? o.batchSize as 'auto' | undefined : intArg('--batch-size', o.batchSize, 1);
      const settings: EvalSettings = {
        applyChatTemplate: o.chatTemplate,
        maxGenToks: intArg('--max-gen-toks', o.maxGenToks, 1),
        maxModelLen: intArg('--max-model-len', o.maxModelLen, 1),
        seed: intArg('--seed', o.seed, 0),
        limit: limitArg(o.limit),
        ...(dtype ? { dtype: dtype as EvalSettings['dtype'] } : {}),
        ...(batchSize !== undefined ? { batchSize } : {}),
        ...(backend ? { backend: backend as 'vllm' | 'hf' } : {}),
      };
      const profile = await resolveProfile(o);
      const backendDir = findBackendDir(o.backend);
      const hfToken = process.env.HF_TOKEN?.trim() || undefined;
      const d = await withEngine(o, (engine) => dispatchEval(engine, profile, {
        model: o.model, benchmarks, dcd: o.dcd === true, settings, hfToken, backendDir,
        dataDir: o.dataDir ? path.resolve(o.dataDir) : undefined, offline: o.offline || undefined, uploadModel: o.uploadModel,
      }, {
        onStatus: (b, s) => { if (!o.json) process.stderr.write(`${b}: ${s}…\n`); },
        onWarning: (w) => process.stderr.write(`warning: ${w}\n`),
      }));
      if (o.json) {
        printJson({
          job: d.jobs[d.jobs.length - 1].id,
          jobs: d.jobs.map((j) => ({ job: j.id, benchmark: j.benchmark, tasks: (j.record.spec as unknown as { tasks: string[] }).tasks, status: j.record.status })),
          eval: d.evalId, host: profile.name, model: d.model, hostModel: d.hostModel, backend: d.backend, offline: d.offline,
          dataDir: o.dataDir ? path.resolve(o.dataDir) : undefined, hostDataDir: d.hostDataDir, outputPath: d.outputPath, resultsDir: d.resultsDir, warnings: d.warnings,
        });
      } else {
        process.stdout.write(d.jobs.map((j) => `${j.id}\t${j.benchmark}`).join('\n') + '\n');
      }
    });
}
