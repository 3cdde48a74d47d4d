/**
 * Offline benchmark data: a "data dir" of local copies of the benchmarks'
 * datasets that travels with an evaluation job, and the lm-eval task overrides
 * that make the stock tasks (and their `dcd_` variants) read those files
 * instead of the Hugging Face Hub (docs/FORMATS.md §5).
 *
 * Layout: `<dir>/<folder>/<split>.<jsonl|json|csv|parquet>`, one folder per
 * benchmark, the rows in the schema of the Hub dataset the stock task loads:
 *
 *   gsm8k/test.jsonl, gsm8k/train.jsonl   openai/gsm8k (main): question, answer  (train: the 5-shot exemplars)
 *   aime24/train.jsonl                    Maxwell-Jia/AIME_2024: ID, Problem, Solution, Answer (the Hub's only split)
 *   gpqa_diamond/train.csv                Idavidrein/gpqa (gpqa_diamond): Question, Correct Answer, Incorrect Answer 1..3, …
 *
 * An override is a task YAML with the stock task's name that `include`s the
 * stock YAML of the host's own lm-eval install (so prompts, filters, metrics
 * and `!function`s are the harness's, resolved next to the included file) and
 * replaces only where the rows come from: `dataset_path: json|csv|parquet`,
 * `dataset_name: null`, `dataset_kwargs.data_files`. lm-eval 0.4.13 lets a
 * task from `--include_path` replace a built-in task of the same name. The
 * `dcd_` variants are overridden the same way, including the uploaded
 * `python-backend/lmeval_tasks/dcd_<name>.yaml`. With the overrides the job
 * runs with HF_DATASETS_OFFLINE=1 and HF_HUB_OFFLINE=1.
 *
 * Pure apart from `readDataDir` (which lists a local folder).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BENCHMARKS, BENCHMARK_IDS, type BenchmarkId } from './benchmarks';

export type DataFormat = 'json' | 'csv' | 'parquet';

export interface BenchmarkDataLayout {
  /** The folder of the data dir holding this benchmark's files. */
  folder: string;
  /** Splits the stock task reads: the test split first; few-shot exemplars come from the others. */
  splits: string[];
  /** The stock task's YAML, relative to lm-eval's `tasks/` folder (0.4.10 … 0.4.13). */
  stockYaml: string;
  /** The Hub dataset (and config) the files stand in for. */
  hubDataset: string;
  /** Columns the stock task reads (checked on the first row). */
  columns: string[];
}

export const DATA_LAYOUT: Readonly<Record<BenchmarkId, BenchmarkDataLayout>> = {
  gsm8k: { folder: 'gsm8k', splits: ['test', 'train'], stockYaml: 'gsm8k/gsm8k.yaml', hubDataset: 'openai/gsm8k (main)', columns: ['question', 'answer'] },
  aime24: { folder: 'aime24', splits: ['train'], stockYaml: 'aime/aime24.yaml', hubDataset: 'Maxwell-Jia/AIME_2024', columns: ['Problem', 'Answer'] },
  gpqa_diamond_zeroshot: {
    folder: 'gpqa_diamond', splits: ['train'], stockYaml: 'gpqa/zeroshot/gpqa_diamond_zeroshot.yaml', hubDataset: 'Idavidrein/gpqa (gpqa_diamond)',
    columns: ['Question', 'Correct Answer', 'Incorrect Answer 1', 'Incorrect Answer 2', 'Incorrect Answer 3'],
  },
};

const FORMATS: Record<string, DataFormat> = { '.jsonl': 'json', '.json': 'json', '.csv': 'csv', '.parquet': 'parquet' };

export interface BenchmarkData {
  benchmark: BenchmarkId;
  format: DataFormat;
  /** split → path relative to the data dir (POSIX separators). */
  files: Record<string, string>;
}

export interface DataDirScan {
  found: Partial<Record<BenchmarkId, BenchmarkData>>;
  /** One line per problem (missing split, two files for one split, mixed formats). */
  problems: string[];
}

/**
 * Which benchmarks a data dir holds, from its file list (paths relative to the
 * dir). A benchmark folder that is absent is simply not offered; one that is
 * present but incomplete is a problem.
 */
export function scanDataDir(relFiles: readonly string[]): DataDirScan {
  const found: Partial<Record<BenchmarkId, BenchmarkData>> = {};
  const problems: string[] = [];
  const rel = relFiles.map((f) => f.split(path.sep).join('/'));
  for (const id of BENCHMARK_IDS) {
    const layout = DATA_LAYOUT[id];
    const mine = rel.filter((f) => f.startsWith(`${layout.folder}/`) && !f.slice(layout.folder.length + 1).includes('/'));
    if (!mine.length) continue;
    const files: Record<string, string> = {};
    const formats = new Set<DataFormat>();
    let ok = true;
    for (const split of layout.splits) {
      const candidates = mine.filter((f) => {
        const base = f.slice(layout.folder.length + 1);
        const ext = path.posix.extname(base);
        return base.slice(0, base.length - ext.length) === split && FORMATS[ext] !== undefined;
      });
      if (candidates.length === 0) {
        problems.push(`${layout.folder}/: no ${split} split (expected ${layout.folder}/${split}.jsonl, .json, .csv or .parquet in the schema of ${layout.hubDataset})`);
        ok = false;
      } else if (candidates.length > 1) {
        problems.push(`${layout.folder}/: more than one file for the ${split} split (${candidates.join(', ')})`);
        ok = false;
      } else {
        files[split] = candidates[0];
        formats.add(FORMATS[path.posix.extname(candidates[0])]);
      }
    }
    if (ok && formats.size > 1) {
      problems.push(`${layout.folder}/: all splits must have one format (found ${[...formats].join(' and ')})`);
      ok = false;
    }
    if (ok) found[id] = { benchmark: id, format: [...formats][0], files };
  }
  return { found, problems };
}

/** The first data row's column names of a JSON Lines / JSON / CSV file's text (parquet: undefined, not checked). */
export function firstRowColumns(text: string, format: DataFormat): string[] | undefined {
  if (format === 'parquet') return undefined;
  if (format === 'csv') {
    const header = text.split(/\r?\n/, 1)[0] ?? '';
    return parseCsvLine(header);
  }
  const t = text.trimStart();
  if (t.startsWith('[')) {
    const rows = JSON.parse(t) as unknown[];
    return rows.length && rows[0] && typeof rows[0] === 'object' ? Object.keys(rows[0] as object) : [];
  }
  const line = t.split('\n', 1)[0];
  const row = JSON.parse(line) as unknown;
  return row && typeof row === 'object' ? Object.keys(row as object) : [];
}

function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') quoted = false; else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

async function listFiles(dir: string, prefix = '', depth = 0): Promise<string[]> {
  if (depth > 2) return [];
  const out: string[] = [];
  for (const e of await fs.readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...await listFiles(dir, rel, depth + 1));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

/**
 * Reads a local data dir and checks it for the benchmarks asked for: every one
 * present and complete, its first row carrying the columns the stock task
 * reads. Throws one error that lists every problem (with the file and line).
 */
export async function readDataDir(dir: string, benchmarks: readonly BenchmarkId[]): Promise<DataDirScan> {
  let files: string[];
  try {
    files = await listFiles(dir);
  } catch (err) {
    throw new Error(`benchmark data dir ${dir}: ${(err as Error).message}`);
  }
  const scan = scanDataDir(files);
  const problems = [...scan.problems];
  for (const b of benchmarks) {
    const d = scan.found[b];
    const layout = DATA_LAYOUT[b];
    if (!d) {
      if (!scan.problems.some((p) => p.startsWith(`${layout.folder}/`))) {
        problems.push(`${layout.folder}/: missing: ${BENCHMARKS[b].label} needs ${layout.splits.map((s) => `${layout.folder}/${s}.jsonl`).join(' and ')} (rows in the schema of ${layout.hubDataset})`);
      }
      continue;
    }
    for (const [split, rel] of Object.entries(d.files)) {
      const fd = await fs.open(path.join(dir, rel), 'r');
      let head: string;
      try {
        const buf = Buffer.alloc(1 << 20);
        const { bytesRead } = await fd.read(buf, 0, buf.length, 0);
        head = buf.subarray(0, bytesRead).toString('utf8');
      } finally {
        await fd.close();
      }
      if (!head.trim()) { problems.push(`${rel}: empty (${split} split)`); continue; }
      let cols: string[] | undefined;
      try {
        const whole = d.format === 'json' && head.trimStart().startsWith('[');
        cols = firstRowColumns(whole ? await fs.readFile(path.join(dir, rel), 'utf8') : head, d.format);
      } catch (err) {
        problems.push(`${rel}:1: not valid ${d.format === 'json' ? 'JSON' : d.format}: ${(err as Error).message}`);
        continue;
      }
      if (cols) {
        const missing = layout.columns.filter((c) => !cols!.includes(c));
        if (missing.length) problems.push(`${rel}:1: missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => JSON.stringify(m)).join(', ')} (the schema of ${layout.hubDataset})`);
      }
    }
  }
  if (problems.length) throw new Error(`benchmark data dir ${dir}:\n  ${problems.join('\n  ')}`);
  return scan;
}

export interface TaskOverride {
  /** The task it replaces (stock or `dcd_`). */
  task: string;
  /** File name inside the overrides folder. */
  file: string;
  /** The YAML text. */
  text: string;
  /** The YAML it includes (must exist on the host). */
  includes: string;
}

export interface OverrideOptions {
  /** The tasks of the evaluation (stock names and `dcd_` variants), e.g. from `LmEvalCommand.tasks`. */
  tasks: readonly string[];
  /** What the data dir holds (from `scanDataDir` / `readDataDir`). */
  data: Partial<Record<BenchmarkId, BenchmarkData>>;
  /** The data dir on the host (absolute). */
  hostDataDir: string;
  /** lm-eval's `tasks/` folder on the host (absolute; from the probe). */
  lmEvalTasksDir: string;
  /** The folder holding the `dcd_*.yaml` tasks on the host (absolute). */
  dcdTasksDir?: string;
}

/** A YAML double-quoted scalar (JSON strings are valid YAML). */
const yq = (s: string) => JSON.stringify(s);

function benchmarkOfTask(task: string): BenchmarkId | undefined {
  return BENCHMARK_IDS.find((id) => BENCHMARKS[id].task === task || BENCHMARKS[id].dcdTask === task);
}

/** The override YAMLs for the tasks of an evaluation. Throws when a task's data is not in the data dir. */
export function taskOverrides(o: OverrideOptions): TaskOverride[] {
  const out: TaskOverride[] = [];
  for (const task of o.tasks) {
    const b = benchmarkOfTask(task);
    if (!b) throw new Error(`no offline data layout for task ${JSON.stringify(task)}`);
    const d = o.data[b];
    if (!d) throw new Error(`the benchmark data dir has no ${DATA_LAYOUT[b].folder}/ for task ${task}`);
    let includes: string;
    if (task === BENCHMARKS[b].task) includes = `${o.lmEvalTasksDir.replace(/\/+$/, '')}/${DATA_LAYOUT[b].stockYaml}`;
    else {
      if (!o.dcdTasksDir) throw new Error(`task ${task} needs the DCD task folder`);
      includes = `${o.dcdTasksDir.replace(/\/+$/, '')}/${task}.yaml`;
    }
    const dataFiles = Object.entries(d.files).map(([split, rel]) => `    ${split}: ${yq(`${o.hostDataDir.replace(/\/+$/, '')}/${rel}`)}`);
    const text = [
      `# Offline copy of ${task} (generated by DCD Studio): the task as included, its rows from the uploaded data dir.`,
      `include: ${yq(includes)}`,
      `task: ${task}`,
      `dataset_path: ${d.format}`,
      'dataset_name: null',
      'dataset_kwargs:',
      '  data_files:',
      ...dataFiles,
      '',
    ].join('\n');
    out.push({ task, file: `${task}.yaml`, text, includes });
  }
  return out;
}

/** The environment of an offline run: the Hub is never asked (datasets, models, tokenizers, metrics). */
export const OFFLINE_ENV: Readonly<Record<string, string>> = {
  HF_DATASETS_OFFLINE: '1',
  HF_HUB_OFFLINE: '1',
  TRANSFORMERS_OFFLINE: '1',
};
