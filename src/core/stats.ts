/** `dcd stats`: counts by verdict, source and cot_type, and text-length statistics of a corpus. */
import type { JsonlRow } from './jsonl';
import type { DcdSample } from './model';

export interface LengthStats { min: number; max: number; mean: number; median: number; p90: number; total: number }

export interface CorpusStats {
  samples: number;
  malformed_lines: number[];
  by_verdict: Record<string, number>;
  by_source: Record<string, number>;
  by_cot_type: Record<string, number>;
  text_chars: LengthStats;
  chain_chars: LengthStats;
  draft_chars: LengthStats;
  questions: number;
  questions_with_both: number;
}

export function lengthStats(values: number[]): LengthStats {
  if (!values.length) return { min: 0, max: 0, mean: 0, median: 0, p90: 0, total: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const total = sorted.reduce((a, b) => a + b, 0);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
  return { min: sorted[0], max: sorted[sorted.length - 1], mean: total / sorted.length, median: at(0.5), p90: at(0.9), total };
}

const bump = (m: Record<string, number>, k: unknown) => { const key = typeof k === 'string' && k ? k : 'unknown'; m[key] = (m[key] ?? 0) + 1; };

export function corpusStats(rows: JsonlRow<DcdSample>[]): CorpusStats {
  const samples = rows.flatMap((r) => (r.kind === 'value' ? [r.value] : []));
  const by_verdict: Record<string, number> = {};
  const by_source: Record<string, number> = {};
  const by_cot_type: Record<string, number> = {};
  const kinds = new Map<string, Set<string>>();
  for (const s of samples) {
    bump(by_verdict, s.verdict);
    bump(by_source, s.draft_source);
    bump(by_cot_type, s.cot_type);
    const q = String(s.question ?? '');
    if (!kinds.has(q)) kinds.set(q, new Set());
    kinds.get(q)!.add(String(s.verdict));
  }
  const len = (f: (s: DcdSample) => unknown) => lengthStats(samples.map((s) => String(f(s) ?? '').length));
  return {
    samples: samples.length,
    malformed_lines: rows.filter((r) => r.kind === 'error').map((r) => r.line),
    by_verdict, by_source, by_cot_type,
    text_chars: len((s) => s.text), chain_chars: len((s) => s.chain), draft_chars: len((s) => s.draft),
    questions: kinds.size,
    questions_with_both: [...kinds.values()].filter((k) => k.has('correct') && k.has('incorrect')).length,
  };
}
