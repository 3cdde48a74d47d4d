/**
 * The results table: the DCD paper's Table 1 as data, rows built from the
 * user's own runs (lm-eval results files), deltas against a chosen baseline
 * row, and CSV export.
 *
 * Scores are fractions in [0, 1]; AIME 2024 rows also keep `correct/total`
 * (the paper prints 0/30 and 2/30). A null score is "not reported" (the
 * paper's "–").
 */
import { BENCHMARKS, BENCHMARK_IDS, type BenchmarkId } from './benchmarks';
import type { EvalResultSummary } from './results';

export interface TableScore {
  value: number;
  correct?: number;
  total?: number;
  /** The results task and metric key the value came from (own runs only). */
  source?: { task: string; metric: string };
}

export interface TableRow {
  id: string;
  label: string;
  origin: 'paper' | 'run';
  /** For run rows: graded as the stock task or DCD-aware (answer after the answer tag). */
  grading?: 'stock' | 'dcd';
  scores: Record<BenchmarkId, TableScore | null>;
  note?: string;
}

const frac = (correct: number, total: number): TableScore => ({ value: correct / total, correct, total });

/** Table 1 of the paper (pass@1 for AIME 24, top-1 accuracy for GSM8K and GPQA Diamond). */
export const PAPER_TABLE: readonly TableRow[] = [
  {
    id: 'paper:base',
    label: 'Qwen2.5-1.5B-Instruct',
    origin: 'paper',
    scores: { aime24: frac(0, 30), gsm8k: { value: 0.5466 }, gpqa_diamond_zeroshot: { value: 0.2373 } },
  },
  {
    id: 'paper:cot',
    label: '+ Chain-of-Thought prompting',
    origin: 'paper',
    scores: { aime24: frac(0, 30), gsm8k: { value: 0.6346 }, gpqa_diamond_zeroshot: null },
    note: 'Chain-of-Thought prompting is applied only at inference time, without training.',
  },
  {
    id: 'paper:sft-s1k',
    label: 'Qwen2.5-1.5B-Instruct + SFT on s1K-1.1',
    origin: 'paper',
    scores: { aime24: frac(0, 30), gsm8k: { value: 0.6595 }, gpqa_diamond_zeroshot: { value: 0.2424 } },
  },
  {
    id: 'paper:dcd',
    label: 'Qwen2.5-1.5B-Instruct + DCD (ours)',
    origin: 'paper',
    scores: { aime24: frac(2, 30), gsm8k: { value: 0.6702 }, gpqa_diamond_zeroshot: { value: 0.2525 } },
  },
];

export interface RunRowOptions {
  id: string;
  label: string;
  /** `dcd`: take each benchmark's DCD-aware metric where the run has the dcd_ task (else the stock one, noted). */
  grading?: 'stock' | 'dcd';
}

/**
 * A table row from one run's results. Each benchmark is its own lm-eval call,
 * so a run usually has several results files: pass them all; for a benchmark
 * found in several, the last one given wins.
 */
export function rowFromResults(results: readonly EvalResultSummary[], opts: RunRowOptions): TableRow {
  const grading = opts.grading ?? 'stock';
  const scores = {} as Record<BenchmarkId, TableScore | null>;
  const notes: string[] = [];
  for (const id of BENCHMARK_IDS) {
    const b = BENCHMARKS[id];
    let found: TableScore | null = null;
    for (const r of results) {
      const pick = (task: string, metric: string): TableScore | null => {
        const v = r.tasks[task]?.[metric];
        if (typeof v !== 'number') return null;
        const s: TableScore = { value: v, source: { task, metric } };
        const n = r.n_samples[task]?.effective;
        if (id === 'aime24' && typeof n === 'number' && n > 0) {
          s.correct = Math.round(v * n);
          s.total = n;
        }
        return s;
      };
      let s: TableScore | null = null;
      if (grading === 'dcd') {
        // The verifier's grade of the generations (the dcd_ task's, else the
        // stock task's: a stock-only run of a DCD checkpoint is graded too),
        // then the on-host DCD filters, in order.
        const candidates: Array<[string, string]> = [];
        if (b.dcdHeadline) {
          if (b.dcdTask) candidates.push([b.dcdTask, b.dcdHeadline]);
          candidates.push([b.task, b.dcdHeadline]);
        }
        if (b.dcdTask) for (const m of b.dcdMetrics ?? []) if (m.split(',')[1]?.startsWith('dcd-')) candidates.push([b.dcdTask, m]);
        for (const [task, metric] of candidates) if (!s) s = pick(task, metric);
      }
      if (!s) s = pick(b.task, b.metric);
      if (s) found = s;
    }
    if (grading === 'dcd' && found && found.source?.metric === b.metric && b.dcdTask) {
      notes.push(`${b.label}: no ${b.dcdTask} results, stock metric shown`);
    }
    scores[id] = found;
  }
  return { id: opts.id, label: opts.label, origin: 'run', grading, scores, ...(notes.length ? { note: notes.join('; ') } : {}) };
}

export interface RowDelta {
  id: string;
  label: string;
  /** row − baseline, as a fraction (0.0336 = +3.36 points); null where either is missing. */
  deltas: Record<BenchmarkId, number | null>;
}

/** Deltas of every row against the row `baselineId`. */
export function deltasAgainst(rows: readonly TableRow[], baselineId: string): RowDelta[] {
  const base = rows.find((r) => r.id === baselineId);
  if (!base) throw new Error(`no row with id ${JSON.stringify(baselineId)}`);
  return rows.map((r) => {
    const deltas = {} as Record<BenchmarkId, number | null>;
    for (const id of BENCHMARK_IDS) {
      const a = r.scores[id];
      const b = base.scores[id];
      deltas[id] = a && b ? a.value - b.value : null;
    }
    return { id: r.id, label: r.label, deltas };
  });
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
export function csvField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const pct = (x: number) => (Math.round(x * 10000) / 100).toFixed(2);

/**
 * CSV of the table: one line per row; per benchmark its accuracy in percent
 * (2 decimals) and, for AIME, `correct/total`; with `baselineId`, the delta
 * to that row in percentage points. Empty cell = not reported. CRLF line ends.
 */
export function tableToCsv(rows: readonly TableRow[], opts: { baselineId?: string } = {}): string {
  const header = ['id', 'label', 'origin', 'grading'];
  for (const id of BENCHMARK_IDS) {
    header.push(`${BENCHMARKS[id].label} (%)`);
    if (id === 'aime24') header.push(`${BENCHMARKS[id].label} solved`);
  }
  const deltas = opts.baselineId ? deltasAgainst(rows, opts.baselineId) : null;
  if (deltas) for (const id of BENCHMARK_IDS) header.push(`Δ ${BENCHMARKS[id].label} (pp vs ${opts.baselineId})`);
  const lines = [header.map(csvField).join(',')];
  rows.forEach((r, i) => {
    const cells: Array<string | number | null> = [r.id, r.label, r.origin, r.grading ?? ''];
    for (const id of BENCHMARK_IDS) {
      const s = r.scores[id];
      cells.push(s ? pct(s.value) : null);
      if (id === 'aime24') cells.push(s && s.correct !== undefined && s.total !== undefined ? `${s.correct}/${s.total}` : null);
    }
    if (deltas) {
      for (const id of BENCHMARK_IDS) {
        const d = deltas[i].deltas[id];
        cells.push(d === null ? null : (d >= 0 ? '+' : '') + pct(d));
      }
    }
    lines.push(cells.map(csvField).join(','));
  });
  return lines.join('\r\n') + '\r\n';
}
