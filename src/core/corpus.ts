/**
 * A DCD corpus file in memory: its lines (well-formed samples and malformed
 * rows, both kept in order) and summary counts.
 */
import { parseJsonl, type JsonlRow } from './jsonl';
import { SAMPLE_REQUIRED_FIELDS, type DcdSample } from './model';

export interface CorpusSummary {
  samples: number;
  draft_correct: number;
  draft_wrong: number;
  malformed: number;
  /** Lines that parse as JSON but lack required fields. */
  incomplete: number;
  by_source: Record<string, number>;
  by_cot_type: Record<string, number>;
}

export function parseCorpus(text: string): JsonlRow<DcdSample>[] {
  return parseJsonl<DcdSample>(text);
}

export function missingFields(value: Record<string, unknown>): string[] {
  return SAMPLE_REQUIRED_FIELDS.filter((f) => value[f] === undefined || value[f] === null);
}

export function summarizeCorpus(rows: JsonlRow<DcdSample>[]): CorpusSummary {
  const s: CorpusSummary = { samples: 0, draft_correct: 0, draft_wrong: 0, malformed: 0, incomplete: 0, by_source: {}, by_cot_type: {} };
  for (const row of rows) {
    if (row.kind === 'error') { s.malformed++; continue; }
    const v = row.value;
    if (missingFields(v).length) s.incomplete++;
    s.samples++;
    if (v.verdict === 'correct') s.draft_correct++;
    else if (v.verdict === 'incorrect') s.draft_wrong++;
    const source = typeof v.draft_source === 'string' ? v.draft_source : 'unknown';
    s.by_source[source] = (s.by_source[source] ?? 0) + 1;
    const cot = typeof v.cot_type === 'string' ? v.cot_type : 'unknown';
    s.by_cot_type[cot] = (s.by_cot_type[cot] ?? 0) + 1;
  }
  return s;
}
