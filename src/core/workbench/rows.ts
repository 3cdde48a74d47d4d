/**
 * A corpus line reduced to its row summary: the short column values the
 * workbench list shows, filters and sorts on, and the consistency check of a
 * sample (draft tag vs `gemini_grade` vs the answer verifier).
 */
import type { DcdSample, ReviewState } from '../trace/model';
import { verify } from '../answer';
import type { AuditFlag } from '../training/audit';
import { classifyJsonlLine } from '../io/jsonl';
import { sampleKeys } from '../corpus/stats';

export type ReviewStatus = ReviewState['status'];
export const REVIEW_STATUSES: readonly ReviewStatus[] = ['unreviewed', 'accepted', 'rejected', 'flagged'];

/** How the draft tag, the s1K grade column and the verifier agree (the consistency check). */
export interface Consistency {
  /** The sample's verdict. */
  tag: 'correct' | 'incorrect' | 'unknown';
  /** `gemini_grade` Yes/No for a Gemini draft (the column grades the Gemini attempt); null otherwise. */
  grade: 'correct' | 'incorrect' | null;
  /** verify(draft, gold_answer, {goldIsAnswer: true}): null when undecidable or no gold answer. */
  verifier: 'correct' | 'incorrect' | null;
  rule: string;
  /** The signals that disagree with the tag (or with each other): empty when consistent. */
  reasons: string[];
}

/** The short column values of a row: what the list shows, filters and sorts on. */
export interface RowSummary {
  kind: 'sample' | 'error';
  id: string;
  /** First non-empty line of the question, at most QUESTION_CHARS characters. */
  question: string;
  /** Groups the samples of one question: `s1k:<index>` or `q:<normalised question>`. */
  questionKey: string;
  verdict: string;
  source: string;
  cotType: string;
  review: ReviewStatus;
  note?: string;
  draftAnswer: string | null;
  goldAnswer: string | null;
  /** Required fields the line lacks. */
  missing: string[];
  /** Why the line is malformed (error rows). */
  error?: string;
  consistency: Consistency | null;
  /** Characters of the line. */
  chars: number;
}

/** Token columns of a row (from the tokenizer and mask core). */
export interface TokenInfo {
  tokens: number;
  trained: number;
  flags: AuditFlag[];
  error?: string;
}

export const QUESTION_CHARS = 200;

export { ROW_FLAGS, type RowFlag } from './flags';

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

function firstLine(q: string): string {
  const line = q.split('\n').find((l) => l.trim()) ?? '';
  const t = line.trim();
  return t.length > QUESTION_CHARS ? `${t.slice(0, QUESTION_CHARS - 1)}…` : t;
}

function gradeOf(v: unknown): 'correct' | 'incorrect' | null {
  if (typeof v !== 'string') return null;
  const t = v.trim().toLowerCase();
  if (t === 'yes' || t === 'true' || t === 'correct') return 'correct';
  if (t === 'no' || t === 'false' || t === 'incorrect') return 'incorrect';
  return null;
}

/** The consistency check of one sample: draft tag vs `gemini_grade` vs the verifier. */
export function checkConsistency(s: Partial<DcdSample>): Consistency {
  const tag = s.verdict === 'correct' || s.verdict === 'incorrect' ? s.verdict : 'unknown';
  const grade = s.draft_source === 'gemini' ? gradeOf(s.gemini_grade) : null;
  let verifier: Consistency['verifier'] = null;
  let rule = 'no-gold-answer';
  if (typeof s.draft === 'string' && typeof s.gold_answer === 'string' && s.gold_answer.trim()) {
    const v = verify(s.draft, s.gold_answer, { goldIsAnswer: true });
    rule = v.rule;
    verifier = v.equivalent === null ? null : v.equivalent ? 'correct' : 'incorrect';
  }
  const reasons: string[] = [];
  if (tag === 'unknown') reasons.push('verdict is neither correct nor incorrect');
  if (tag !== 'unknown' && verifier && verifier !== tag) reasons.push(`verifier says ${verifier} (${rule})`);
  if (tag !== 'unknown' && grade && grade !== tag) reasons.push(`gemini_grade says ${grade}`);
  if (grade && verifier && grade !== verifier && !reasons.length) reasons.push(`gemini_grade (${grade}) and verifier (${verifier}) differ`);
  return { tag, grade, verifier, rule, reasons };
}

/** Reduces a parsed sample line to its row summary. */
export function summarizeSample(v: Record<string, unknown>, chars: number): RowSummary {
  const s = v as Partial<DcdSample>;
  const review = s.review && typeof s.review === 'object' && REVIEW_STATUSES.includes((s.review as ReviewState).status)
    ? (s.review as ReviewState) : null;
  const { verdict, source, cotType, questionKey, missing } = sampleKeys(v);
  return {
    kind: 'sample',
    id: str(s.id),
    question: firstLine(str(s.question)),
    questionKey, verdict, source, cotType,
    review: review?.status ?? 'unreviewed',
    note: typeof review?.note === 'string' && review.note ? review.note : undefined,
    draftAnswer: typeof s.draft_answer === 'string' ? s.draft_answer : null,
    goldAnswer: typeof s.gold_answer === 'string' ? s.gold_answer : null,
    missing,
    consistency: checkConsistency(s),
    chars,
  };
}

/** The row summary of a line that is not a sample. */
export function errorSummary(message: string, chars: number): RowSummary {
  return {
    kind: 'error', id: '', question: '', questionKey: '', verdict: '', source: '', cotType: '', review: 'unreviewed',
    draftAnswer: null, goldAnswer: null, missing: [], error: message, consistency: null, chars,
  };
}

/** Parses one line's text: the object, or why it is not a sample line. */
export function parseLine(text: string): { value: Record<string, unknown> } | { error: string } {
  const row = classifyJsonlLine<Record<string, unknown>>(text, 0);
  if (!row) return { error: 'blank line' };
  return row.kind === 'value' ? { value: row.value } : { error: row.message };
}
