/**
 * What the workbench holds for every row of a corpus, whatever its size: the
 * values the list filters, sorts, counts and pairs on, and nothing longer.
 *
 * Per row (JavaScript object sizes on V8, 64-bit, pointer compression off):
 *   LineEntry  key, start, end, lineEnd (byte offsets into the file), blank    ~ 56 B
 *   RowInfo    kind, review, noted, incomplete, bytes                          ~ 72 B
 *              id                       the sample's own id string             ~ 20-60 B
 *              questionKey              `s1k:<index>`, or `q#<53-bit hash>`     ~ 30-40 B
 *              questionSort             first 24 chars of the question, lower  ~ 40-70 B
 *              questionAt, questionEnd  where the question's JSON string lies in
 *                                       the line (the list reads just those bytes)  16 B
 *              verdict, source, cotType, consistency: shared (interned) values   0 B each
 * so about 250-350 bytes a row, measured by the workbench benchmark
 * (bench/workbench.ts, `held_bytes_per_row`). The text of a line (question,
 * draft, chain, trace) is never held: rows are read back from the file by
 * their byte offsets when shown (RowSummary, cached for a few hundred rows).
 */
import { Buffer } from 'node:buffer';
import { ownCopy } from '../ownCopy';
import type { DcdSample, ReviewState } from '../trace/model';
import { sampleKeys } from '../corpus/stats';
import { checkConsistency, REVIEW_STATUSES, type Consistency, type ReviewStatus } from './rows';

export interface RowInfo {
  kind: 'sample' | 'error';
  id: string;
  verdict: string;
  source: string;
  cotType: string;
  review: ReviewStatus;
  /** The review has a note. */
  noted: boolean;
  /** Required fields are missing. */
  incomplete: boolean;
  questionKey: string;
  /** The first characters of the question's first line, lower case: the question column sorts on it. */
  questionSort: string;
  /** Shared between rows with the same outcome. */
  consistency: Consistency | null;
  /** Bytes of the line. */
  bytes: number;
  /** The question's JSON string literal is line bytes [questionAt, questionEnd) (original lines where it was found). */
  questionAt?: number;
  questionEnd?: number;
}

const QUESTION_KEY = Buffer.from('"question"');

/**
 * Where the top-level question's string literal lies in line bytes
 * buf[from, to): the first `"question"` key whose string value equals the
 * parsed question (so a key inside a string or a nested object is never taken).
 */
export function locateQuestion(buf: Buffer, from: number, to: number, question: unknown): [number, number] | undefined {
  if (typeof question !== 'string') return undefined;
  const line = buf.subarray(from, to);
  for (let i = line.indexOf(QUESTION_KEY); i >= 0; i = line.indexOf(QUESTION_KEY, i + 1)) {
    let j = i + QUESTION_KEY.length;
    while (line[j] === 32 || line[j] === 9) j++;
    if (line[j] !== 58) continue;
    j++;
    while (line[j] === 32 || line[j] === 9) j++;
    if (line[j] !== 34) continue;
    let k = j + 1;
    while (k < line.length && line[k] !== 34) k += line[k] === 92 ? 2 : 1;
    if (k >= line.length) continue;
    try {
      if (JSON.parse(line.toString('utf8', j, k + 1)) === question) return [j, k + 1];
    } catch { /* not a string literal after all */ }
  }
  return undefined;
}

/** Sort key length of the question column. */
export const QUESTION_SORT_CHARS = 24;

const strings = new Map<string, string>();
/** One string object per distinct short value (verdicts, sources, cot types, rules). */
function intern(s: string): string {
  if (s.length > 64) return s;
  const known = strings.get(s);
  if (known !== undefined) return known;
  if (strings.size < 10_000) strings.set(s, s);
  return s;
}

const consistencies = new Map<string, Consistency>();
function internConsistency(c: Consistency): Consistency {
  const k = `${c.tag}\u0000${c.grade}\u0000${c.verifier}\u0000${c.rule}\u0000${c.reasons.join('\u0000')}`;
  const known = consistencies.get(k);
  if (known) return known;
  if (consistencies.size < 10_000) consistencies.set(k, c);
  return c;
}

/** cyrb53: a fast 53-bit string hash (collisions among a million questions: ~1e-4). */
export function hash53(str: string): number {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < str.length; i++) {
    const ch = str.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The question key the workbench holds: s1K keys as they are, normalised questions as a hash. */
export function compactQuestionKey(key: string): string {
  return key.startsWith('q:') ? `q#${hash53(key).toString(36)}` : key;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

function questionSortKey(q: string): string {
  let i = 0;
  while (i < q.length && (q[i] === '\n' || q[i] === '\r' || q[i] === ' ' || q[i] === '\t')) i++;
  let end = q.indexOf('\n', i);
  if (end < 0) end = q.length;
  // Held for every row: a copy, not a slice that would keep the whole question alive.
  return ownCopy(q.slice(i, Math.min(end, i + QUESTION_SORT_CHARS)).trim().toLowerCase());
}

/** The held values of a parsed sample line. */
export function sampleInfo(v: Record<string, unknown>, bytes: number, question?: [number, number]): RowInfo {
  const s = v as Partial<DcdSample>;
  const review = s.review && typeof s.review === 'object' && REVIEW_STATUSES.includes((s.review as ReviewState).status)
    ? (s.review as ReviewState) : null;
  const k = sampleKeys(v);
  return {
    kind: 'sample',
    id: str(s.id),
    verdict: intern(k.verdict), source: intern(k.source), cotType: intern(k.cotType),
    review: review?.status ?? 'unreviewed',
    noted: typeof review?.note === 'string' && review.note !== '',
    incomplete: k.missing.length > 0,
    questionKey: compactQuestionKey(k.questionKey),
    questionSort: questionSortKey(str(s.question)),
    consistency: internConsistency(checkConsistency(s)),
    bytes,
    questionAt: question?.[0], questionEnd: question?.[1],
  };
}

/** The held values of a line that is not a sample. */
export function errorInfo(bytes: number): RowInfo {
  return {
    kind: 'error', id: '', verdict: '', source: '', cotType: '', review: 'unreviewed', noted: false, incomplete: false,
    questionKey: '', questionSort: '', consistency: null, bytes,
  };
}
