/**
 * Corpus counts: by verdict, source and cot_type, questions and questions with
 * both drafts. One function (countSamples) counts for `dcd stats`, the
 * Corpora view and the workbench, over samples reduced by one function
 * (sampleKeys), so they cannot disagree on the same corpus.
 */
import type { JsonlRow } from '../io/jsonl';
import { normalizeQuestion, SAMPLE_REQUIRED_FIELDS, type DcdSample } from '../trace/model';

/** The three numbers every corpus summary starts with. */
export interface VerdictCounts {
  samples: number;
  draft_correct: number;
  draft_wrong: number;
}

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

/** What the counts read of a sample. */
export interface SampleKeys {
  verdict: string;
  source: string;
  cotType: string;
  /** Groups the samples of one question: `s1k:<index>` or `q:<normalised question>`. */
  questionKey: string;
  /** Required fields the sample lacks (absent or null). */
  missing: string[];
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

export function sampleKeys(v: Record<string, unknown>): SampleKeys {
  return {
    verdict: str(v.verdict),
    source: str(v.draft_source),
    cotType: str(v.cot_type),
    questionKey: typeof v.s1k_index === 'number' ? `s1k:${v.s1k_index}` : `q:${normalizeQuestion(str(v.question))}`,
    missing: SAMPLE_REQUIRED_FIELDS.filter((f) => v[f] === undefined || v[f] === null),
  };
}

export interface SampleCounts {
  samples: number;
  incomplete: number;
  byVerdict: Record<string, number>;
  bySource: Record<string, number>;
  byCotType: Record<string, number>;
  questions: number;
  /** Questions with a draft-correct and a draft-wrong sample. */
  questionsWithBoth: number;
}

const bump = (m: Record<string, number>, k: string) => { const key = k || 'unknown'; m[key] = (m[key] ?? 0) + 1; };

export function countSamples(samples: Iterable<SampleKeys>): SampleCounts {
  const c: SampleCounts = { samples: 0, incomplete: 0, byVerdict: {}, bySource: {}, byCotType: {}, questions: 0, questionsWithBoth: 0 };
  const kinds = new Map<string, { correct: boolean; wrong: boolean }>();
  for (const s of samples) {
    c.samples++;
    if (s.missing.length) c.incomplete++;
    bump(c.byVerdict, s.verdict);
    bump(c.bySource, s.source);
    bump(c.byCotType, s.cotType);
    let k = kinds.get(s.questionKey);
    if (!k) kinds.set(s.questionKey, (k = { correct: false, wrong: false }));
    if (s.verdict === 'correct') k.correct = true;
    else if (s.verdict === 'incorrect') k.wrong = true;
  }
  c.questions = kinds.size;
  for (const k of kinds.values()) if (k.correct && k.wrong) c.questionsWithBoth++;
  return c;
}

/**
 * `dcd stats` one sample at a time: what it keeps per sample is its keys'
 * strings folded into counts, one entry per question, and three lengths.
 */
export class CorpusStatsBuilder {
  private readonly counts: SampleCounts = countSamples([]);
  private readonly kinds = new Map<string, { correct: boolean; wrong: boolean }>();
  private readonly text: number[] = [];
  private readonly chain: number[] = [];
  private readonly draft: number[] = [];
  private readonly malformed: number[] = [];

  add(s: DcdSample): void {
    const k = sampleKeys(s as unknown as Record<string, unknown>);
    const c = this.counts;
    c.samples++;
    if (k.missing.length) c.incomplete++;
    bump(c.byVerdict, k.verdict);
    bump(c.bySource, k.source);
    bump(c.byCotType, k.cotType);
    let q = this.kinds.get(k.questionKey);
    if (!q) this.kinds.set(k.questionKey, (q = { correct: false, wrong: false }));
    if (k.verdict === 'correct') q.correct = true;
    else if (k.verdict === 'incorrect') q.wrong = true;
    this.text.push(String(s.text ?? '').length);
    this.chain.push(String(s.chain ?? '').length);
    this.draft.push(String(s.draft ?? '').length);
  }

  /** A malformed line (1-based). */
  error(line: number): void { this.malformed.push(line); }

  result(): CorpusStats {
    const c = this.counts;
    let both = 0;
    for (const k of this.kinds.values()) if (k.correct && k.wrong) both++;
    return {
      samples: c.samples,
      malformed_lines: this.malformed,
      by_verdict: c.byVerdict, by_source: c.bySource, by_cot_type: c.byCotType,
      text_chars: lengthStats(this.text), chain_chars: lengthStats(this.chain), draft_chars: lengthStats(this.draft),
      questions: this.kinds.size,
      questions_with_both: both,
    };
  }
}

/** `dcd stats`: the counts and text-length statistics of a corpus. */
export function corpusStats(rows: JsonlRow<DcdSample>[]): CorpusStats {
  const b = new CorpusStatsBuilder();
  for (const r of rows) {
    if (r.kind === 'value') b.add(r.value);
    else b.error(r.line);
  }
  return b.result();
}
