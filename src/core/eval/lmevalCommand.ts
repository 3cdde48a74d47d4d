/**
 * Builds `lm_eval` command lines (lm-evaluation-harness, vLLM backend) for the
 * paper's benchmarks (docs/SPEC.md §6). Pure: it returns an argv array, the
 * environment the command needs and the strings a log must never show; the
 * job engine runs it (quoting with `shellJoin` where a shell is involved).
 *
 * One call per benchmark: `--num_fewshot` applies to a whole lm_eval call, and
 * GSM8K is 5-shot while AIME 24 and GPQA Diamond are 0-shot.
 *
 * DCD-aware answers. A DCD-trained model writes
 * `<|im_start|>think … <|im_start|>answer …`. Two things make the grade see
 * only the answer:
 *  1. the generated text must keep special tokens. lm-eval's vLLM backend
 *     decodes with `skip_special_tokens=False` by default (since Dec 2023);
 *     we also pass it explicitly in `--gen_kwargs` so the run's recorded
 *     config shows it and an older/forked harness cannot differ;
 *  2. the grader must cut at the answer tag. The harness has a model-wide
 *     `think_end_token` model arg (vLLM and hf backends) that keeps only the
 *     text after that marker, but it applies to every task of the call and
 *     also stops passing task stop sequences to vLLM, so the stock numbers of
 *     the same run would change too. We instead ship task variants
 *     (`python-backend/lmeval_tasks/dcd_*.yaml`, loaded with `--include_path`)
 *     whose filters cut at the last answer tag before the stock extraction.
 *     A DCD run evaluates the stock task AND its `dcd_` variant, so both sets
 *     of numbers land in one results file; the variant also reports the stock
 *     filters on its own generations, a like-for-like comparison.
 */
import { BENCHMARKS, type BenchmarkId, type BenchmarkInfo } from './benchmarks';
import { OFFLINE_ENV } from './offlineData';
import { genBudgetWarnings, type ModelMetadata } from './genBudget';

/** Where the DCD task YAMLs live relative to the remote working directory, unless told otherwise. */
export const DEFAULT_LMEVAL_TASKS_DIR = 'python-backend/lmeval_tasks';

export type LmEvalBackend = 'vllm' | 'hf';

/** lm-eval's default few-shot sampling seed (`--seed` default `0,1234,1234,1234`). */
export const HARNESS_FEWSHOT_SEED = 1234;

export interface LmEvalOptions {
  benchmark: BenchmarkId;
  /** Checkpoint directory on the remote host (e.g. from a training job) or a Hugging Face model id. */
  model: string;
  /** Directory given to `--output_path`; lm-eval writes `<outputPath>/<model_sanitized>/results_<ts>.json` and `samples_<task>_<ts>.jsonl`. */
  outputPath: string;
  /** Requested backend (default `vllm`). */
  backend?: LmEvalBackend;
  /** Set to false when the remote has no vLLM: the command falls back to `--model hf`, with a warning. */
  vllmAvailable?: boolean;
  /** Grade DCD-aware as well: adds the benchmark's `dcd_` task variant (generative benchmarks only). */
  dcd?: boolean;
  /** With `dcd`: also run the stock task in the same call (default true, so stock and DCD-aware metrics are both shown). */
  includeStockTask?: boolean;
  /** Directory holding the `dcd_*.yaml` tasks on the remote (default `python-backend/lmeval_tasks`). */
  includePath?: string;
  /** `--apply_chat_template` (default true: the paper evaluates instruct/chat models). */
  applyChatTemplate?: boolean;
  /** `--fewshot_as_multiturn` for few-shot calls with the chat template (default true). */
  fewshotAsMultiturn?: boolean;
  /** `max_gen_toks` in `--gen_kwargs` (overrides the task's; unset: the task's or the harness default). */
  maxGenToks?: number;
  /** What is known of the model (`readModelMetadata`: a DCD checkpoint's training record); drives the max_gen_toks check. */
  modelMetadata?: ModelMetadata;
  /** vLLM `max_model_len` (hf backend: `max_length`). */
  maxModelLen?: number;
  /** vLLM `tensor_parallel_size` (default 1). */
  tensorParallelSize?: number;
  /** vLLM `gpu_memory_utilization`, a fraction in (0, 1]. */
  gpuMemoryUtilization?: number;
  /** `--seed` for python/numpy/torch (the few-shot seed stays 1234, so GSM8K keeps the harness's exemplars) and vLLM's `seed`. */
  seed?: number;
  /** `--limit`: an integer count of documents per task, or a fraction in (0, 1). */
  limit?: number;
  /** Model dtype (default `auto`). */
  dtype?: 'auto' | 'bfloat16' | 'float16' | 'float32';
  /** `--batch_size` (default `auto`). */
  batchSize?: number | 'auto';
  /** The user's Hugging Face token (from SecretStorage); passed as `HF_TOKEN` in the environment, never in argv. */
  hfToken?: string;
  /** Run as `<python> -m lm_eval` instead of the `lm_eval` entry point. */
  python?: string;
  /**
   * Offline: the Hugging Face Hub is never asked (HF_DATASETS_OFFLINE, HF_HUB_OFFLINE, TRANSFORMERS_OFFLINE
   * in the environment); the datasets come from task overrides (`taskOverridesDir`), the model from a path.
   */
  offline?: boolean;
  /**
   * A folder of task YAMLs that replace the tasks of the call (offline data: core/eval/offlineData.ts). It is
   * given as `--include_path` instead of `includePath` (the overrides include the `dcd_` YAMLs themselves).
   */
  taskOverridesDir?: string;
}

export interface LmEvalCommand {
  benchmark: BenchmarkId;
  /** The program and its arguments; contains no secret. */
  argv: string[];
  /** Environment variables to set for the command (secrets included). */
  env: Record<string, string>;
  /** Strings to mask in every log, echo and error message. */
  redact: string[];
  /** The `--output_path` directory. */
  outputPath: string;
  /** The directory lm-eval writes the results and samples files into (`<outputPath>/<model_sanitized>`). */
  resultsDir: string;
  /** Tasks of the call, in `--tasks` order. */
  tasks: string[];
  backend: LmEvalBackend;
  numFewshot: number;
  /** Things the user should know (fallbacks, settings that will hurt). */
  warnings: string[];
}

/** lm-eval's own `sanitize_model_name`: the name of the per-model results folder. */
export function sanitizeModelName(model: string): string {
  return model.replace(/["<>:/|\\?*[\]]+/g, '__');
}

function checkPositiveInt(name: string, v: number | undefined): void {
  if (v === undefined) return;
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, got ${v}`);
}

/** A value inside lm-eval's comma-separated `key=value` list must not contain a comma. */
function checkArgValue(name: string, v: string): void {
  if (v.includes(',')) throw new Error(`${name} cannot contain a comma (lm-eval splits --model_args on commas): ${JSON.stringify(v)}`);
  if (/[\r\n]/.test(v)) throw new Error(`${name} cannot contain a line break`);
}

function kvList(pairs: Array<[string, string | number | boolean | undefined]>): string {
  return pairs
    .filter((p): p is [string, string | number | boolean] => p[1] !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'boolean' ? (v ? 'True' : 'False') : String(v)}`)
    .join(',');
}

/** The `lm_eval` command for one benchmark. Throws on invalid settings. */
export function buildLmEvalCommand(opts: LmEvalOptions): LmEvalCommand {
  const bench: BenchmarkInfo | undefined = BENCHMARKS[opts.benchmark];
  if (!bench) throw new Error(`unknown benchmark ${JSON.stringify(opts.benchmark)}`);
  const model = opts.model?.trim() ?? '';
  if (!model) throw new Error('model is required (a checkpoint path or a Hugging Face model id)');
  checkArgValue('model', model);
  if (!opts.outputPath || !opts.outputPath.trim()) throw new Error('outputPath is required');
  checkPositiveInt('maxGenToks', opts.maxGenToks);
  checkPositiveInt('maxModelLen', opts.maxModelLen);
  checkPositiveInt('tensorParallelSize', opts.tensorParallelSize);
  if (opts.seed !== undefined && (!Number.isInteger(opts.seed) || opts.seed < 0)) {
    throw new Error(`seed must be a non-negative integer, got ${opts.seed}`);
  }
  if (opts.gpuMemoryUtilization !== undefined) {
    const g = opts.gpuMemoryUtilization;
    if (!(Number.isFinite(g) && g > 0 && g <= 1)) throw new Error(`gpuMemoryUtilization must be in (0, 1], got ${g}`);
  }
  if (opts.limit !== undefined) {
    const l = opts.limit;
    if (!(Number.isFinite(l) && l > 0 && (l < 1 || Number.isInteger(l)))) {
      throw new Error(`limit must be a positive integer or a fraction in (0, 1), got ${l}`);
    }
  }
  if (opts.batchSize !== undefined && opts.batchSize !== 'auto') checkPositiveInt('batchSize', opts.batchSize);
  if (opts.maxGenToks !== undefined && opts.maxModelLen !== undefined && opts.maxGenToks >= opts.maxModelLen) {
    throw new Error(`maxGenToks (${opts.maxGenToks}) must be smaller than maxModelLen (${opts.maxModelLen}): the prompt needs room too`);
  }

  const warnings: string[] = [];
  let backend: LmEvalBackend = opts.backend ?? 'vllm';
  if (backend === 'vllm' && opts.vllmAvailable === false) {
    backend = 'hf';
    warnings.push('vLLM is not installed on the remote host: falling back to `--model hf` (much slower; GPU memory fraction is ignored).');
  }
  const dtype = opts.dtype ?? 'auto';
  const tp = opts.tensorParallelSize ?? 1;

  // Tasks of the call.
  const tasks: string[] = [];
  const wantDcd = opts.dcd === true;
  if (wantDcd && !bench.dcdTask) {
    warnings.push(`${bench.label} (${bench.task}) is scored by log-likelihood of the answer options: the model generates no text, so there is no answer tag to cut at. Only the stock task runs.`);
  }
  const dcdTask = wantDcd ? bench.dcdTask : undefined;
  if (!dcdTask || opts.includeStockTask !== false) tasks.push(bench.task);
  if (dcdTask) tasks.push(dcdTask);

  // The budget check applies to every generative task when the model is a DCD
  // checkpoint (its training record says so), or DCD grading is asked.
  const modelMeta: ModelMetadata = opts.modelMetadata?.dcd ? opts.modelMetadata : wantDcd && dcdTask ? { dcd: true, assumed: true } : { dcd: false };
  warnings.push(...genBudgetWarnings(modelMeta, [bench], opts.maxGenToks));
  if (wantDcd && dcdTask && backend === 'hf') {
    warnings.push('The hf backend decodes without special tokens: the DCD filter then recognises the answer tag only as a bare "answer" line.');
  }

  // --model_args
  let modelArgs: string;
  if (backend === 'vllm') {
    modelArgs = kvList([
      ['pretrained', model],
      ['dtype', dtype],
      ['tensor_parallel_size', tp],
      ['gpu_memory_utilization', opts.gpuMemoryUtilization],
      ['max_model_len', opts.maxModelLen],
      ['seed', opts.seed],
    ]);
  } else {
    if (opts.gpuMemoryUtilization !== undefined && opts.vllmAvailable !== false) {
      warnings.push('gpuMemoryUtilization applies to vLLM only; the hf backend ignores it.');
    }
    modelArgs = kvList([
      ['pretrained', model],
      ['dtype', dtype],
      ['max_length', opts.maxModelLen],
      ['parallelize', tp > 1 ? true : undefined],
    ]);
  }

  const argv: string[] = opts.python ? [opts.python, '-m', 'lm_eval'] : ['lm_eval'];
  argv.push('--model', backend, '--model_args', modelArgs, '--tasks', tasks.join(','));
  argv.push('--num_fewshot', String(bench.numFewshot));
  argv.push('--batch_size', String(opts.batchSize ?? 'auto'));
  const chat = opts.applyChatTemplate ?? true;
  if (chat) {
    argv.push('--apply_chat_template');
    if (bench.numFewshot > 0 && (opts.fewshotAsMultiturn ?? true)) argv.push('--fewshot_as_multiturn');
  }
  const genKwargs = kvList([
    ['max_gen_toks', bench.outputType === 'generate_until' ? opts.maxGenToks : undefined],
    // Keep <|im_start|>think / <|im_start|>answer in the text (vLLM SamplingParams).
    ['skip_special_tokens', backend === 'vllm' && bench.outputType === 'generate_until' ? false : undefined],
  ]);
  if (genKwargs) argv.push('--gen_kwargs', genKwargs);
  if (opts.maxGenToks !== undefined && bench.outputType !== 'generate_until') {
    warnings.push(`max_gen_toks does not apply to ${bench.task} (multiple choice, nothing is generated).`);
  }
  // --seed is python,numpy,torch,fewshot. The few-shot seed stays at the
  // harness default (1234): it picks GSM8K's 5 exemplars, and the paper uses
  // the harness's own exemplars.
  if (opts.seed !== undefined) argv.push('--seed', `${opts.seed},${opts.seed},${opts.seed},${HARNESS_FEWSHOT_SEED}`);
  if (opts.limit !== undefined) argv.push('--limit', String(opts.limit));
  if (opts.taskOverridesDir) argv.push('--include_path', opts.taskOverridesDir);
  else if (dcdTask) argv.push('--include_path', opts.includePath ?? DEFAULT_LMEVAL_TASKS_DIR);
  argv.push('--output_path', opts.outputPath, '--log_samples');

  // Environment: the token only ever travels here.
  const env: Record<string, string> = {};
  const redact: string[] = [];
  const token = opts.hfToken?.trim();
  if (token) {
    if (/\s/.test(token)) throw new Error('the Hugging Face token contains whitespace');
    env.HF_TOKEN = token;
    redact.push(token);
  } else if (bench.gated && !opts.offline) {
    warnings.push(`${bench.label} is gated on the Hugging Face Hub: without a token the run fails unless the remote host is already logged in.`);
  }

  if (opts.offline) Object.assign(env, OFFLINE_ENV);
  if (opts.offline && !opts.taskOverridesDir) {
    warnings.push('Offline without uploaded benchmark data: the datasets must already be in the host\'s Hugging Face datasets cache.');
  }

  const outputPath = opts.outputPath;
  const resultsDir = `${outputPath.replace(/\/+$/, '')}/${sanitizeModelName(model)}`;
  return { benchmark: bench.id, argv, env, redact, outputPath, resultsDir, tasks, backend, numFewshot: bench.numFewshot, warnings };
}

/** One command per benchmark, in the order given (the shared options apply to each). */
export function buildLmEvalCommands(
  benchmarks: readonly BenchmarkId[],
  opts: Omit<LmEvalOptions, 'benchmark'>,
): LmEvalCommand[] {
  return benchmarks.map((benchmark) => buildLmEvalCommand({ ...opts, benchmark }));
}

/** argv of a probe the job engine can run first: exit status 0 iff vLLM imports on the remote. */
export function vllmProbeArgv(python = 'python3'): string[] {
  return [python, '-c', 'import vllm'];
}
