/**
 * A DCD corpus file in memory: its lines (well-formed samples and malformed
 * rows, both kept in order) and summary counts.
 */
import { parseJsonl, type JsonlRow } from '../io/jsonl';
import type { DcdSample } from '../trace/model';
import { countSamples, sampleKeys, type VerdictCounts } from './stats';

export interface CorpusSummary extends VerdictCounts {
  malformed: number;
  /** Lines that parse as JSON but lack required fields. */
  incomplete: number;
  by_source: Record<string, number>;
  by_cot_type: Record<string, number>;
}

export function parseCorpus(text: string): JsonlRow<DcdSample>[] {
  return parseJsonl<DcdSample>(text);
}

export function summarizeCorpus(rows: JsonlRow<DcdSample>[]): CorpusSummary {
  const c = countSamples(rows.flatMap((r) => (r.kind === 'value' ? [sampleKeys(r.value as unknown as Record<string, unknown>)] : [])));
  return {
    samples: c.samples,
    draft_correct: c.byVerdict.correct ?? 0,
    draft_wrong: c.byVerdict.incorrect ?? 0,
    malformed: rows.length - c.samples,
    incomplete: c.incomplete,
    by_source: c.bySource,
    by_cot_type: c.byCotType,
  };
}
