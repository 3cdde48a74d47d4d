/**
 * Several runs of one model that differ only in their seed (`--seed`, vLLM's
 * `seed`): the mean of each metric, with its spread (sample standard
 * deviation, min, max) over the seeds. One greedy run says little about a
 * 30-question benchmark like AIME; sampled runs over seeds say how much of a
 * difference is noise.
 *
 * Replicates are results files with the same model, backend, `--limit`,
 * generation settings (seed keys aside), task, shots and number of graded
 * documents, and distinct seeds. Where one seed appears twice the newest file
 * counts.
 */
import type { EvalResultFile, MetricValue } from './results';

export interface MetricSpread {
  /** Mean over the seeds. */
  mean: number;
  /** Sample standard deviation (n − 1); null for one value. */
  sd: number | null;
  min: number;
  max: number;
  /** Number of seeds with a value. */
  n: number;
  /** The value of each seed, in `seeds` order (null where that run lacks the metric). */
  values: MetricValue[];
}

export interface SeedGroup {
  model: string;
  task: string;
  /** Seeds of the replicates, ascending. */
  seeds: number[];
  /** The replicates' files (`file` of each result), in `seeds` order. */
  files: Array<string | null>;
  n_shot: number | null;
  /** Documents graded per run (`n-samples.effective`). */
  n_samples: number | null;
  /** metric key → spread; stderr keys left out. */
  metrics: Record<string, MetricSpread>;
}

const SEED_KEYS = new Set(['seed', 'random_seed', 'numpy_seed', 'torch_seed', 'fewshot_seed']);

function withoutSeeds(v: unknown): unknown {
  if (typeof v === 'string') return v.split(',').filter((kv) => !SEED_KEYS.has(kv.split('=')[0].trim())).join(',');
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([k]) => !SEED_KEYS.has(k)).sort(([x], [y]) => x.localeCompare(y)));
  }
  return v ?? null;
}

/** What replicates share: everything that decides the score except the seed. */
export function replicateKey(r: EvalResultFile, task: string): string {
  const args = Object.fromEntries(Object.entries(r.modelArgs).filter(([k]) => !SEED_KEYS.has(k)).sort(([x], [y]) => x.localeCompare(y)));
  return JSON.stringify([r.model, r.backend, r.limit, withoutSeeds(r.genKwargs), args, task, r.n_shot[task] ?? null, r.n_samples[task]?.effective ?? null]);
}

/** Mean, sample standard deviation, min and max. */
export function spreadOf(values: readonly number[]): Omit<MetricSpread, 'values'> {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : null;
  return { mean, sd, min: Math.min(...values), max: Math.max(...values), n };
}

/** Groups of ≥ 2 runs per (model, task, settings) with distinct seeds. Files without a seed are left out. */
export function seedGroups(results: readonly EvalResultFile[]): SeedGroup[] {
  const groups = new Map<string, Map<number, EvalResultFile>>();
  const order = [...results].sort((a, b) => (a.date ?? '').localeCompare(b.date ?? '') || (a.file ?? '').localeCompare(b.file ?? ''));
  for (const r of order) {
    if (r.seed === null) continue;
    for (const task of Object.keys(r.tasks)) {
      const key = replicateKey(r, task);
      let g = groups.get(key);
      if (!g) groups.set(key, (g = new Map()));
      g.set(r.seed, r); // newest file per seed wins
    }
  }
  const out: SeedGroup[] = [];
  for (const [key, bySeed] of groups) {
    if (bySeed.size < 2) continue;
    const task = (JSON.parse(key) as unknown[])[5] as string;
    const seeds = [...bySeed.keys()].sort((a, b) => a - b);
    const runs = seeds.map((s) => bySeed.get(s)!);
    const metricKeys = new Set<string>();
    for (const r of runs) for (const k of Object.keys(r.tasks[task])) if (!k.includes('_stderr')) metricKeys.add(k);
    const metrics: Record<string, MetricSpread> = {};
    for (const k of [...metricKeys].sort()) {
      const values = runs.map((r) => r.tasks[task][k] ?? null);
      const present = values.filter((v): v is number => typeof v === 'number');
      if (!present.length) continue;
      metrics[k] = { ...spreadOf(present), values };
    }
    out.push({
      model: runs[0].model, task, seeds, files: runs.map((r) => r.file ?? null),
      n_shot: runs[0].n_shot[task] ?? null, n_samples: runs[0].n_samples[task]?.effective ?? null, metrics,
    });
  }
  return out.sort((a, b) => a.model.localeCompare(b.model) || a.task.localeCompare(b.task));
}
