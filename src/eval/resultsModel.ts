/**
 * The Results view's model, pure (no vscode): results files grouped into
 * runs, the table rows (the paper's Table 1, then each run graded stock and,
 * where it has the `dcd_` tasks, DCD-aware), stderr beside every value,
 * deltas against a baseline row, and the CSV.
 *
 * A run is a results folder: lm-eval writes every call of one model with one
 * `--output_path` into `<output_path>/<model_sanitized>/`, and "Evaluate
 * Model…" gives each evaluation its own output path. Within a run, the newest
 * file that reports a task wins for that task.
 */
import { BENCHMARKS, BENCHMARK_IDS, type BenchmarkId } from '../core/eval/benchmarks';
import { PAPER_TABLE, deltasAgainst, rowFromResults, tableToCsv, type TableRow } from '../core/eval/paperTable';
import type { EvalResultFile, EvalResultSummary } from '../core/eval/results';
import { seedGroups } from '../core/eval/seeds';
import type {
  EvalCell, EvalColumn, EvalRunMetric, EvalRunSamples, EvalRunView, EvalTableRow, ResultsViewState, SeedSpread,
} from '../core/protocols/eval';

export interface LoadedResultFile {
  result: EvalResultFile;
  /** The file's URI (string). */
  uri: string;
  /** Workspace-relative path, for display. */
  label: string;
  /** Key of the folder holding the file (its URI). */
  folder: string;
  /** Workspace-relative folder, for display. */
  folderLabel: string;
  /** The logged generations mostly carry the DCD answer tag (a DCD checkpoint), by `withDcdGrades`. */
  dcdTagged?: boolean;
}

export interface EvalRun {
  id: string;
  label: string;
  model: string;
  folder: string;
  folderLabel: string;
  /** Oldest first (so the newest wins per task, as in `rowFromResults`). */
  files: LoadedResultFile[];
  samples: EvalRunSamples[];
}

export const DEFAULT_BASELINE = 'paper:base';

/** The stderr key lm-eval writes beside a metric: `exact_match,strict-match` → `exact_match_stderr,strict-match`. */
export function stderrKey(metric: string): string {
  const comma = metric.indexOf(',');
  return comma < 0 ? `${metric}_stderr` : `${metric.slice(0, comma)}_stderr${metric.slice(comma)}`;
}

const dateOf = (f: LoadedResultFile) => f.result.date ?? '';

/** Groups results files into runs, one per folder; labels are the model, with the folder where two runs share a model. */
export function groupRuns(files: readonly LoadedResultFile[], samples: ReadonlyMap<string, EvalRunSamples[]> = new Map()): EvalRun[] {
  const byFolder = new Map<string, LoadedResultFile[]>();
  for (const f of files) {
    const list = byFolder.get(f.folder);
    if (list) { if (!list.some((x) => x.uri === f.uri)) list.push(f); } else byFolder.set(f.folder, [f]);
  }
  const runs: EvalRun[] = [...byFolder.entries()].map(([folder, list]) => {
    const sorted = [...list].sort((a, b) => dateOf(a).localeCompare(dateOf(b)) || a.label.localeCompare(b.label));
    const newest = sorted[sorted.length - 1];
    return {
      id: `run:${folder}`,
      label: newest.result.model,
      model: newest.result.model,
      folder,
      folderLabel: newest.folderLabel,
      files: sorted,
      samples: samples.get(folder) ?? [],
    };
  });
  runs.sort((a, b) => a.model.localeCompare(b.model) || a.folderLabel.localeCompare(b.folderLabel));
  const perModel = new Map<string, number>();
  for (const r of runs) perModel.set(r.model, (perModel.get(r.model) ?? 0) + 1);
  for (const r of runs) if ((perModel.get(r.model) ?? 0) > 1) r.label = `${r.model} (${r.folderLabel || '.'})`;
  return runs;
}

/** The newest file of a run that reports `task.metric` as a number. */
function fileWith(run: EvalRun, task: string, metric: string): LoadedResultFile | undefined {
  for (let i = run.files.length - 1; i >= 0; i--) {
    if (typeof run.files[i].result.tasks[task]?.[metric] === 'number') return run.files[i];
  }
  return undefined;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function cellFrom(run: EvalRun, task: string, metric: string, extra: Partial<EvalCell> = {}): EvalCell | null {
  const f = fileWith(run, task, metric);
  if (!f) return null;
  const metrics = f.result.tasks[task];
  const n = f.result.n_samples[task];
  return {
    value: metrics[metric] as number,
    stderr: num(metrics[stderrKey(metric)]),
    source: { task, metric },
    file: f.label,
    n: n?.effective ?? null,
    nOriginal: n?.original ?? null,
    ...extra,
  };
}

/** Tasks that belong to one of the paper's benchmarks (stock or DCD variant). */
function benchmarkTasks(): Set<string> {
  const s = new Set<string>();
  for (const id of BENCHMARK_IDS) {
    s.add(BENCHMARKS[id].task);
    const d = BENCHMARKS[id].dcdTask;
    if (d) s.add(d);
  }
  return s;
}

/** A metric worth a column: not a stderr, and not the s1 fork's `extracted_answers` placeholder (-1). */
function isHeadlineCandidate(key: string, value: unknown): boolean {
  if (key.includes('_stderr')) return false;
  if (typeof value !== 'number' || value < 0) return false;
  return !key.startsWith('extracted_answers');
}

export function benchmarkColumnId(id: BenchmarkId): string {
  return `bench:${id}`;
}

/** The other (task, metric) columns found in runs, in order of first appearance. */
export function otherTaskColumns(runs: readonly EvalRun[]): EvalColumn[] {
  const skip = benchmarkTasks();
  const seen = new Map<string, EvalColumn>();
  for (const run of runs) {
    for (const f of run.files) {
      for (const [task, metrics] of Object.entries(f.result.tasks)) {
        if (skip.has(task)) continue;
        for (const [metric, value] of Object.entries(metrics)) {
          if (!isHeadlineCandidate(metric, value)) continue;
          const id = `task:${task}:${metric}`;
          if (!seen.has(id)) {
            seen.set(id, { id, label: `${task} · ${metric.split(',')[0]}`, kind: 'task', metric, task, hint: `${task}, metric ${metric} (not one of the paper's benchmarks)` });
          }
        }
      }
    }
  }
  return [...seen.values()];
}

export function benchmarkColumns(): EvalColumn[] {
  return BENCHMARK_IDS.map((id) => {
    const b = BENCHMARKS[id];
    const shots = `${b.numFewshot}-shot`;
    return {
      id: benchmarkColumnId(id), label: b.label, kind: 'benchmark', metric: b.metric,
      hint: `${b.task}, ${shots}, ${b.metric}${b.dcdTask ? `; DCD-aware: ${b.dcdTask} ${b.dcdMetrics?.[0]}` : ''}`,
    };
  });
}

/** The run is graded DCD-aware too: it ran a `dcd_` task, or its generations are a DCD checkpoint's (answer tags). */
export function runHasDcd(run: EvalRun): boolean {
  if (run.files.some((f) => f.dcdTagged)) return true;
  return run.files.some((f) => BENCHMARK_IDS.some((id) => {
    const d = BENCHMARKS[id].dcdTask;
    return d !== undefined && f.result.tasks[d] !== undefined;
  }));
}

export const SEED_ROW_PREFIX = 'seeds:';

interface SeedRow { row: TableRow; seeds: number[]; spread: Partial<Record<BenchmarkId, SeedSpread>> }

/**
 * Rows of the means over seeds: every results file of the loaded runs is
 * grouped by `seedGroups` (same model, task and settings, distinct seeds);
 * the groups of one model with the same seeds make one row (stock and, where
 * DCD-graded, DCD-aware), each benchmark's value the mean and its spread.
 */
export function seedRows(runs: readonly EvalRun[]): SeedRow[] {
  const groups = seedGroups(runs.flatMap((r) => r.files.map((f) => f.result)));
  const byKey = new Map<string, typeof groups>();
  for (const g of groups) {
    const key = JSON.stringify([g.model, g.seeds]);
    const list = byKey.get(key);
    if (list) list.push(g); else byKey.set(key, [g]);
  }
  const out: SeedRow[] = [];
  for (const list of byKey.values()) {
    const { model, seeds } = list[0];
    const summary: EvalResultSummary = { model, tasks: {}, n_shot: {}, n_samples: {}, versions: {} };
    for (const g of list) {
      summary.tasks[g.task] = Object.fromEntries(Object.entries(g.metrics).map(([k, m]) => [k, m.mean]));
      summary.n_shot[g.task] = g.n_shot;
    }
    const id = `${SEED_ROW_PREFIX}${model}:${seeds.join(',')}`;
    const label = `${model} · mean of ${seeds.length} seeds`;
    const dcdGraded = list.some((g) => BENCHMARK_IDS.some((b) => BENCHMARKS[b].dcdTask === g.task) || Object.keys(g.metrics).some((k) => k.split(',')[1]?.startsWith('dcd-')));
    for (const grading of dcdGraded ? (['stock', 'dcd'] as const) : (['stock'] as const)) {
      const row = rowFromResults([summary], { id: grading === 'dcd' ? `${id}:dcd` : id, label: grading === 'dcd' ? `${label} · DCD-aware` : label, grading });
      const spread: SeedRow['spread'] = {};
      for (const b of BENCHMARK_IDS) {
        const s = row.scores[b];
        if (!s?.source) continue;
        // a mean is not a count of solved problems
        delete s.correct;
        delete s.total;
        const m = list.find((g) => g.task === s.source!.task)?.metrics[s.source.metric];
        if (m) spread[b] = { sd: m.sd, min: m.min, max: m.max, n: m.n, seeds };
      }
      out.push({ row, seeds, spread });
    }
  }
  return out;
}

/** The core table rows (paper, then runs, then means over seeds), used for deltas and the CSV. */
export function tableRows(runs: readonly EvalRun[]): TableRow[] {
  const rows: TableRow[] = [...PAPER_TABLE];
  for (const run of runs) {
    const results = run.files.map((f) => f.result);
    rows.push(rowFromResults(results, { id: run.id, label: run.label, grading: 'stock' }));
    if (runHasDcd(run)) rows.push(rowFromResults(results, { id: `${run.id}:dcd`, label: `${run.label} · DCD-aware`, grading: 'dcd' }));
  }
  for (const s of seedRows(runs)) rows.push(s.row);
  return rows;
}

function runMetrics(run: EvalRun): EvalRunMetric[] {
  const out: EvalRunMetric[] = [];
  const tasks = new Set<string>();
  for (const f of run.files) for (const t of Object.keys(f.result.tasks)) tasks.add(t);
  for (const task of [...tasks].sort()) {
    // The newest file that has the task.
    let f: LoadedResultFile | undefined;
    for (let i = run.files.length - 1; i >= 0 && !f; i--) if (run.files[i].result.tasks[task]) f = run.files[i];
    if (!f) continue;
    const metrics = f.result.tasks[task];
    const n = f.result.n_samples[task];
    for (const [metric, value] of Object.entries(metrics)) {
      if (metric.includes('_stderr')) continue;
      out.push({
        task, metric, value, stderr: num(metrics[stderrKey(metric)]),
        nShot: f.result.n_shot[task] ?? null, n: n?.effective ?? null, nOriginal: n?.original ?? null, file: f.label,
      });
    }
  }
  return out;
}

/** The whole view state. An unknown baseline falls back to the paper's base model. */
export function buildResultsView(runs: readonly EvalRun[], baselineId: string = DEFAULT_BASELINE, warnings: string[] = []): ResultsViewState {
  const benchCols = benchmarkColumns();
  const taskCols = otherTaskColumns(runs);
  const columns = [...benchCols, ...taskCols];
  const core = tableRows(runs);
  const baseline = core.some((r) => r.id === baselineId) ? baselineId : DEFAULT_BASELINE;
  const runById = new Map(runs.map((r) => [r.id, r]));
  const seeds = new Map(seedRows(runs).map((s) => [s.row.id, s]));

  const rows: EvalTableRow[] = core.map((r) => {
    const seed = seeds.get(r.id);
    const runId = r.origin === 'run' && !seed ? (r.grading === 'dcd' ? r.id.slice(0, -':dcd'.length) : r.id) : undefined;
    const run = runId ? runById.get(runId) : undefined;
    const cells: Record<string, EvalCell | null> = {};
    for (const id of BENCHMARK_IDS) {
      const s = r.scores[id];
      const col = benchmarkColumnId(id);
      if (!s) { cells[col] = null; continue; }
      if (seed) {
        cells[col] = { value: s.value, stderr: null, source: s.source, spread: seed.spread[id] };
        continue;
      }
      if (!run || !s.source) {
        cells[col] = { value: s.value, stderr: null, correct: s.correct, total: s.total };
        continue;
      }
      const b = BENCHMARKS[id];
      const extra: Partial<EvalCell> = { correct: s.correct, total: s.total };
      if (r.grading === 'dcd' && b.dcdTask && s.source.task === b.dcdTask) {
        extra.stockOnSameOutputs = num(fileWith(run, b.dcdTask, b.metric)?.result.tasks[b.dcdTask]?.[b.metric]);
      }
      cells[col] = cellFrom(run, s.source.task, s.source.metric, extra);
    }
    for (const c of taskCols) {
      if (!run || r.grading === 'dcd') { cells[c.id] = null; continue; }
      cells[c.id] = cellFrom(run, c.task!, c.metric);
    }
    return {
      id: r.id, label: r.label, origin: r.origin, grading: r.grading, runId, note: r.note, cells, ...(seed ? { seeds: seed.seeds } : {}),
    };
  });

  // Deltas: the paper's benchmarks through the core, the other columns alike.
  const deltas: Record<string, Record<string, number | null>> = {};
  const coreDeltas = deltasAgainst(core, baseline);
  const baseRow = rows.find((r) => r.id === baseline)!;
  rows.forEach((r, i) => {
    const d: Record<string, number | null> = {};
    for (const id of BENCHMARK_IDS) d[benchmarkColumnId(id)] = coreDeltas[i].deltas[id];
    for (const c of taskCols) {
      const a = r.cells[c.id];
      const b = baseRow.cells[c.id];
      d[c.id] = a && b ? a.value - b.value : null;
    }
    deltas[r.id] = d;
  });

  const runViews: EvalRunView[] = runs.map((run) => ({
    id: run.id,
    label: run.label,
    model: run.model,
    folder: run.folderLabel,
    files: run.files.map((f) => ({
      label: f.label, uri: f.uri, date: f.result.date, backend: f.result.backend, limit: f.result.limit,
      lmEvalVersion: f.result.lmEvalVersion, tasks: Object.keys(f.result.tasks),
    })),
    metrics: runMetrics(run),
    samples: run.samples,
    hasDcd: runHasDcd(run),
  }));

  return { columns, rows, runs: runViews, baselineId: baseline, deltas, warnings };
}

/** The CSV of the table (the core's format: the paper's benchmarks, deltas in points against the baseline). */
export function resultsCsv(runs: readonly EvalRun[], baselineId: string = DEFAULT_BASELINE): string {
  const rows = tableRows(runs);
  return tableToCsv(rows, { baselineId: rows.some((r) => r.id === baselineId) ? baselineId : DEFAULT_BASELINE });
}
