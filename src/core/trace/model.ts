/**
 * The DCD data model (docs/SPEC.md §1–2). Pure types: shared by the extension host,
 * the webviews, the `dcd` CLI and the tests.
 */

export type Verdict = 'correct' | 'incorrect';

/** One row of s1K-1.1 (docs/SPEC.md §1). All thirteen columns are strings. */
export interface S1kRow {
  solution: string;
  question: string;
  cot_type: string;
  source_type: string;
  metadata: string;
  gemini_thinking_trajectory: string;
  gemini_attempt: string;
  deepseek_thinking_trajectory: string;
  deepseek_attempt: string;
  gemini_grade: string;
  gemini_grade_reason: string;
  deepseek_grade: string;
  deepseek_grade_reason: string;
  [extra: string]: unknown;
}

export const S1K_COLUMNS = [
  'solution', 'question', 'cot_type', 'source_type', 'metadata',
  'gemini_thinking_trajectory', 'gemini_attempt', 'deepseek_thinking_trajectory', 'deepseek_attempt',
  'gemini_grade', 'gemini_grade_reason', 'deepseek_grade', 'deepseek_grade_reason',
] as const;

/** Columns a corpus build cannot do without; the rest are shown when present. */
export const S1K_REQUIRED_COLUMNS = ['question', 'solution', 'gemini_attempt', 'deepseek_thinking_trajectory', 'deepseek_attempt'] as const;

/** One student draft (docs/SPEC.md §1): `question` or `index` identifies the s1K row. */
export interface StudentDraft {
  question?: string;
  index?: number;
  draft: string;
  model?: string;
  [extra: string]: unknown;
}

/** Review state kept in the sample line so it travels with the file. */
export interface ReviewState {
  status: 'accepted' | 'rejected' | 'flagged' | 'unreviewed';
  note?: string;
  at?: string;
}

/** One corpus line (docs/SPEC.md §2). Unknown fields survive every edit. */
export interface DcdSample {
  id: string;
  question: string;
  draft: string;
  /** `gemini` or `student:<model>`. */
  draft_source: string;
  verdict: Verdict;
  chain: string;
  final_answer: string;
  gold_answer: string | null;
  draft_answer: string | null;
  verifier_rule: string;
  s1k_index?: number;
  cot_type?: string;
  gemini_grade?: string;
  deepseek_grade?: string;
  /** The rendered training text (docs/SPEC.md §3). */
  text: string;
  review?: ReviewState;
  [extra: string]: unknown;
}

/** The fields a well-formed corpus line must carry. */
export const SAMPLE_REQUIRED_FIELDS = ['id', 'question', 'draft', 'draft_source', 'verdict', 'chain', 'final_answer', 'text'] as const;

/** Collapses whitespace so one question written two ways is one question (docs/SPEC.md §1). */
export function normalizeQuestion(q: string): string {
  return q.normalize('NFC').replace(/\s+/g, ' ').trim();
}
