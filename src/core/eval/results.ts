/**
 * Parsing of lm-evaluation-harness results files, in the layouts the harness
 * has written over time:
 *
 * - files: `<output_path>/<model_sanitized>/results_<timestamp>.json` (0.4.3+);
 *   `<stem>_<timestamp>.json` beside an `--output_path x.json`; and the older
 *   `<output_path>/results.json` (0.4.0–0.4.2, and `evaluator.save_results`
 *   scripts). A folder is searched recursively for any `.json` that has a
 *   `results` object plus `versions`/`configs`/`config`.
 * - contents: the older form (`model_args` a string, stderr `"N/A"` where not
 *   computed, no `name`/`sample_len`, no `model_name` before 0.4.3) and the
 *   newer form (`model_args` a dict, `name`/`sample_len` in each task entry,
 *   `model_name`, `model_name_sanitized`).
 *
 * The summary shape `{model, tasks, n_shot, n_samples, versions}` is the
 * `dcd results --json` contract.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export type MetricValue = number | null;

/** The `dcd results --json` shape of one results file. */
export interface EvalResultSummary {
  model: string;
  /** task → metric key (`metric,filter`, or a bare name in the oldest format) → value; `"N/A"` becomes null. */
  tasks: Record<string, Record<string, MetricValue>>;
  n_shot: Record<string, number | null>;
  n_samples: Record<string, { original: number | null; effective: number | null }>;
  versions: Record<string, number | string | null>;
}

/** A parsed results file: the summary plus what a UI needs around it. */
export interface EvalResultFile extends EvalResultSummary {
  /** Path of the file (as given, or relative to the searched folder). */
  file?: string;
  /** Run time: `date` (epoch seconds) of the file, else the timestamp in its name; ISO 8601, or null. */
  date: string | null;
  /** `config.model` (vllm, hf, local-chat-completions, …). */
  backend: string | null;
  /** `config.model_args` as a dict (parsed when it was a string). */
  modelArgs: Record<string, string>;
  /** `config.gen_kwargs` as recorded (dict, string or null). */
  genKwargs: unknown;
  limit: number | null;
  /** Which content layout the file uses. */
  layout: 'newer' | 'older';
  lmEvalVersion: string | null;
  /**
   * The run's sampling seed: vLLM's `seed` model arg where given, else
   * `config.torch_seed`, else `config.random_seed` (lm-eval's `--seed` sets
   * python/numpy/torch/few-shot seeds); null in files that record none.
   */
  seed: number | null;
}

/** Keys of a task's results entry that are labels, not metrics. */
const NON_METRIC_KEYS = new Set(['alias', 'name', 'sample_len', 'sample_count', 'samples']);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
}

/** True when a parsed JSON value looks like an lm-eval results file. */
export function isResultsJson(v: unknown): v is Json {
  return isObject(v) && isObject(v.results) && (isObject(v.versions) || isObject(v.configs) || isObject(v.config));
}

/** Parses lm-eval's `key=value,key=value` model_args string (values may contain `=`). */
export function parseModelArgs(args: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isObject(args)) {
    for (const [k, v] of Object.entries(args)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
    return out;
  }
  if (typeof args !== 'string') return out;
  for (const item of args.split(',')) {
    if (!item) continue;
    const eq = item.indexOf('=');
    if (eq < 0) out[item.trim()] = '';
    else out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

/** The model name the way lm-eval's EvaluationTracker derives it from model_args. */
export function modelNameFromArgs(args: Record<string, string>): string | null {
  for (const key of ['peft', 'delta', 'pretrained', 'model', 'path', 'engine']) {
    if (args[key] !== undefined && args[key] !== '') return args[key];
  }
  return null;
}

/** The timestamp in a harness file name (`results_2025-05-19T00-02-54.892679.json`), as ISO 8601. */
export function timestampFromFileName(file: string): string | null {
  const m = /(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})(\.\d+)?/.exec(path.basename(file));
  if (!m) return null;
  const frac = m[5] ? m[5].slice(0, 4) : '';
  return `${m[1]}T${m[2]}:${m[3]}:${m[4]}${frac}`;
}

function metricValue(v: unknown): MetricValue | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v === null || v === 'N/A') return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined; // a label or something else: not a metric
}

/** Parses one results JSON (text or already parsed). Throws when it is not a results file. */
export function parseResultsJson(input: string | unknown, file?: string): EvalResultFile {
  const data: unknown = typeof input === 'string' ? JSON.parse(input) : input;
  if (!isResultsJson(data)) throw new Error(`${file ?? 'input'}: not an lm-eval results file (no "results" with "versions"/"configs")`);

  const config = isObject(data.config) ? data.config : {};
  const modelArgs = parseModelArgs(config.model_args);
  const model =
    (typeof data.model_name === 'string' && data.model_name) ||
    modelNameFromArgs(modelArgs) ||
    (typeof config.model === 'string' ? config.model : '') ||
    'unknown';

  const tasks: EvalResultSummary['tasks'] = {};
  const addEntries = (src: unknown) => {
    if (!isObject(src)) return;
    for (const [task, entry] of Object.entries(src)) {
      if (!isObject(entry) || tasks[task]) continue;
      const metrics: Record<string, MetricValue> = {};
      for (const [k, v] of Object.entries(entry)) {
        if (NON_METRIC_KEYS.has(k)) continue;
        const mv = metricValue(v);
        if (mv !== undefined) metrics[k] = mv;
      }
      tasks[task] = metrics;
    }
  };
  addEntries(data.results);
  addEntries(data.groups); // group aggregates, where the run used groups

  const n_shot: EvalResultSummary['n_shot'] = {};
  if (isObject(data['n-shot'])) {
    for (const [t, v] of Object.entries(data['n-shot'])) n_shot[t] = num(v);
  } else {
    // 0.3-era files: one num_fewshot for the whole call
    const shots = num(config.num_fewshot);
    for (const t of Object.keys(tasks)) n_shot[t] = shots;
  }

  const n_samples: EvalResultSummary['n_samples'] = {};
  if (isObject(data['n-samples'])) {
    for (const [t, v] of Object.entries(data['n-samples'])) {
      n_samples[t] = isObject(v) ? { original: num(v.original), effective: num(v.effective) } : { original: null, effective: num(v) };
    }
  } else {
    // Older files: sample_len in the task entry, where present
    const res = data.results as Json;
    for (const t of Object.keys(tasks)) {
      const e = res[t];
      if (isObject(e) && num(e.sample_len) !== null) n_samples[t] = { original: null, effective: num(e.sample_len) };
    }
  }

  const versions: EvalResultSummary['versions'] = {};
  if (isObject(data.versions)) {
    for (const [t, v] of Object.entries(data.versions)) versions[t] = typeof v === 'number' || typeof v === 'string' ? v : null;
  }

  let date: string | null = null;
  const epoch = num(data.date);
  if (epoch !== null) date = new Date(epoch * 1000).toISOString();
  else if (file) date = timestampFromFileName(file);

  const hasNewerMarkers =
    isObject(config.model_args) ||
    Object.values(data.results as Json).some((e) => isObject(e) && ('name' in e || 'sample_len' in e));

  return {
    model,
    tasks,
    n_shot,
    n_samples,
    versions,
    file,
    date,
    backend: typeof config.model === 'string' ? config.model : null,
    modelArgs,
    genKwargs: config.gen_kwargs ?? null,
    limit: num(config.limit),
    layout: hasNewerMarkers ? 'newer' : 'older',
    lmEvalVersion: typeof data.lm_eval_version === 'string' ? data.lm_eval_version : null,
    seed: num(modelArgs.seed) ?? num(config.torch_seed) ?? num(config.random_seed),
  };
}

/** The contract shape only, key order fixed. */
export function toSummary(r: EvalResultSummary): EvalResultSummary {
  return { model: r.model, tasks: r.tasks, n_shot: r.n_shot, n_samples: r.n_samples, versions: r.versions };
}

const MAX_RESULTS_FILE_BYTES = 64 * 1024 * 1024;

/** Every results file under `dir` (recursive), sorted by model, then date, then path. Unreadable or foreign JSON is skipped. */
export async function findResultsFiles(dir: string, maxDepth = 6): Promise<EvalResultFile[]> {
  const found: EvalResultFile[] = [];
  const walk = async (d: string, depth: number): Promise<void> => {
    const entries = await fs.readdir(d, { withFileTypes: true });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) {
        if (depth < maxDepth && !e.name.startsWith('.') && e.name !== 'node_modules') await walk(full, depth + 1);
      } else if (e.isFile() && e.name.endsWith('.json')) {
        const st = await fs.stat(full);
        if (st.size > MAX_RESULTS_FILE_BYTES) continue;
        let parsed: unknown;
        try {
          parsed = JSON.parse(await fs.readFile(full, 'utf8'));
        } catch {
          continue;
        }
        if (!isResultsJson(parsed)) continue;
        found.push(parseResultsJson(parsed, path.relative(dir, full) || e.name));
      }
    }
  };
  await walk(dir, 0);
  found.sort((a, b) => a.model.localeCompare(b.model) || (a.date ?? '').localeCompare(b.date ?? '') || (a.file ?? '').localeCompare(b.file ?? ''));
  return found;
}

/** The newest results file of each model (by date, then file name). */
export function newestPerModel(files: readonly EvalResultFile[]): EvalResultFile[] {
  const best = new Map<string, EvalResultFile>();
  for (const f of files) {
    const cur = best.get(f.model);
    if (!cur || (f.date ?? '') > (cur.date ?? '') || ((f.date ?? '') === (cur.date ?? '') && (f.file ?? '') > (cur.file ?? ''))) {
      best.set(f.model, f);
    }
  }
  return [...best.values()].sort((a, b) => a.model.localeCompare(b.model));
}

/** Reads a results file or searches a folder. A file gives one result; a folder, all of them. */
export async function readResults(p: string): Promise<{ kind: 'file'; result: EvalResultFile } | { kind: 'folder'; results: EvalResultFile[] }> {
  const st = await fs.stat(p);
  if (st.isDirectory()) return { kind: 'folder', results: await findResultsFiles(p) };
  return { kind: 'file', result: parseResultsJson(await fs.readFile(p, 'utf8'), p) };
}
