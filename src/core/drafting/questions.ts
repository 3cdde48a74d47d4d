/**
 * Question lists for batch drafting: an s1K file as JSONL or a JSON array of
 * rows with a `question` field (parquet is read by the s1K importer, which
 * hands over the rows), or a JSON array of plain question strings. Rows keep
 * what grading needs: `solution` (s1K), `answer` (e.g. GSM8K "#### 72"), or a
 * bare `gold` answer. Bad rows are reported with their line/position, never
 * dropped silently.
 */
import { parseJsonl } from '../io/jsonl';

export interface DraftQuestion {
  question: string;
  /**
   * The 0-based s1K row, only when the source says so (an `index` field): a
   * draft's `index` is what "Build Corpus" joins on before the question text,
   * so a position in some subset list must never pose as one.
   */
  index?: number;
  /** A worked solution or answer text the gold answer is extracted from (s1K `solution`, GSM8K `answer`). */
  solution?: string;
  /** A bare gold answer, used as is. */
  gold?: string;
}

export interface QuestionListProblem { where: string; message: string }

export interface ParsedQuestions { questions: DraftQuestion[]; problems: QuestionListProblem[] }

function fromRow(row: unknown, where: string, problems: QuestionListProblem[]): DraftQuestion | null {
  if (typeof row === 'string') {
    if (!row.trim()) { problems.push({ where, message: 'empty question' }); return null; }
    return { question: row };
  }
  if (row === null || typeof row !== 'object' || Array.isArray(row)) {
    problems.push({ where, message: 'not an object or string' });
    return null;
  }
  const r = row as Record<string, unknown>;
  const question = typeof r.question === 'string' ? r.question : typeof r.problem === 'string' ? r.problem : undefined;
  if (question === undefined || !question.trim()) {
    problems.push({ where, message: 'no "question" field' });
    return null;
  }
  const q: DraftQuestion = { question };
  if (Number.isInteger(r.index) && (r.index as number) >= 0) q.index = r.index as number;
  if (typeof r.solution === 'string') q.solution = r.solution;
  else if (typeof r.answer === 'string') q.solution = r.answer;
  else if (typeof r.answer === 'number') q.gold = String(r.answer);
  if (typeof r.gold === 'string') q.gold = r.gold;
  else if (typeof r.gold_answer === 'string') q.gold = r.gold_answer;
  return q;
}

/** Parses a question list: a JSON array (rows or strings) or JSONL rows. */
export function parseQuestions(text: string): ParsedQuestions {
  const problems: QuestionListProblem[] = [];
  const questions: DraftQuestion[] = [];
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed.startsWith('[')) {
    let arr: unknown;
    try {
      arr = JSON.parse(trimmed);
    } catch (err) {
      return { questions, problems: [{ where: 'file', message: `not valid JSON: ${(err as Error).message}` }] };
    }
    if (!Array.isArray(arr)) return { questions, problems: [{ where: 'file', message: 'not a JSON array' }] };
    arr.forEach((row, i) => {
      const q = fromRow(row, `item ${i}`, problems);
      if (q) questions.push(q);
    });
    return { questions, problems };
  }
  for (const row of parseJsonl(text)) {
    if (row.kind === 'error') {
      problems.push({ where: `line ${row.line}`, message: row.message });
      continue;
    }
    const q = fromRow(row.value, `line ${row.line}`, problems);
    if (q) questions.push(q);
  }
  return { questions, problems };
}
