/**
 * Comparing two evaluation runs question by question (e.g. the base model
 * against its DCD checkpoint): which questions flipped from wrong to right,
 * which from right to wrong, per task. The eval-side twin of the corpus
 * side-by-side.
 *
 * Documents are matched by `doc_id` and, where both logs record it, by
 * `doc_hash` (same id, different document: the runs used different data;
 * such pairs are counted, never compared). Each side is graded either as the
 * harness logged it (one filter, by default the benchmark's headline filter)
 * or with the DCD verifier (`grading.ts`: the answer after the last answer
 * tag); `auto` picks the verifier for a `dcd_` task or a log whose outputs
 * mostly carry the answer tag, so a base run is graded stock and a DCD run
 * DCD-aware.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { benchmarkOfTask } from './benchmarks';
import { answerAfterLastTag, gradeDcdOutput, rowsPerDocument, samplesBeside } from './grading';
import { parseSamplesJsonl, taskFromSamplesFileName, type EvalSampleRow, type EvalSamplesParse } from './samples';

export type SideGrading = 'logged' | 'dcd-verify';
export type GradingChoice = SideGrading | 'auto';

/** One side of a compared question. */
export interface ComparedSide {
  /** 1-based line in the side's samples file. */
  line: number;
  correct: boolean;
  /** The answer the grade compared (the filtered response, or the verifier's extraction). */
  answer: string | null;
  /** The verifier's rule (dcd-verify grading only). */
  rule?: string;
  /** The full generation (left out of CLI output unless asked for). */
  output?: string;
}

export interface ComparedQuestion {
  docId: number;
  docHash: string | null;
  question: string | null;
  gold: string;
  a: ComparedSide;
  b: ComparedSide;
}

/** The counts of a comparison of two logs (also what the samples view's protocol carries). */
export interface ComparisonCounts {
  /** Documents in both logs (same id and, where logged, same hash). */
  matched: number;
  onlyA: number;
  onlyB: number;
  /** doc_ids present in both with different doc_hash: not compared. */
  hashMismatch: number[];
  /** Accuracy of each side over the matched documents. */
  accuracyA: number | null;
  accuracyB: number | null;
  bothRight: number;
  bothWrong: number;
}

export interface TaskComparison extends ComparisonCounts {
  /** `gsm8k`, or `gsm8k ↔ dcd_gsm8k` where the two runs ran different variants of one benchmark. */
  task: string;
  taskA: string;
  taskB: string;
  fileA: string;
  fileB: string;
  gradingA: SideGrading;
  gradingB: SideGrading;
  /** Logged grading: the filter compared, null where the log names none. */
  filterA: string | null;
  filterB: string | null;
  wrongToRight: ComparedQuestion[];
  rightToWrong: ComparedQuestion[];
}

export interface SamplesLog {
  task: string;
  /** Path of the log (as found). */
  file: string;
  parse: EvalSamplesParse;
}

interface Graded { row: EvalSampleRow; correct: boolean; answer: string | null; rule?: string }

/** The filter a side is compared under: asked, else the benchmark's headline filter, else the first logged. */
export function pickFilter(rows: readonly EvalSampleRow[], task: string, asked?: string): string | null {
  const filters = [...new Set(rows.map((r) => r.filter).filter((f): f is string => f !== null))];
  if (!filters.length) return null;
  if (asked) {
    if (!filters.includes(asked)) throw new Error(`${task}: no rows with filter ${JSON.stringify(asked)} (logged: ${filters.join(', ')})`);
    return asked;
  }
  const b = benchmarkOfTask(task);
  const headline = b ? (b.dcdTask === task ? b.dcdMetrics?.[0] : b.metric)?.split(',')[1] : undefined;
  if (headline && filters.includes(headline)) return headline;
  return filters[0];
}

/** `auto`: the DCD verifier for a `dcd_` task or a log whose generations mostly carry the answer tag; else as logged. */
export function resolveGrading(task: string, parse: EvalSamplesParse, choice: GradingChoice): SideGrading {
  if (choice !== 'auto') return choice;
  if (benchmarkOfTask(task)?.dcdTask === task) return 'dcd-verify';
  const docs = rowsPerDocument(parse.rows);
  const tagged = docs.filter((r) => answerAfterLastTag(r.output) !== null).length;
  return docs.length > 0 && tagged * 2 >= docs.length ? 'dcd-verify' : 'logged';
}

function gradeSide(parse: EvalSamplesParse, grading: SideGrading, filter: string | null): Map<number, Graded> {
  const out = new Map<number, Graded>();
  if (grading === 'dcd-verify') {
    for (const r of rowsPerDocument(parse.rows)) {
      if (r.docId === null || out.has(r.docId)) continue;
      const g = gradeDcdOutput(r.output, r.gold);
      out.set(r.docId, { row: r, correct: g.correct, answer: g.pred_answer, rule: g.rule });
    }
    return out;
  }
  for (const r of parse.rows) {
    if (r.docId === null || r.correct === null || out.has(r.docId)) continue;
    if (filter !== null && r.filter !== null && r.filter !== filter) continue;
    out.set(r.docId, { row: r, correct: r.correct, answer: r.extracted });
  }
  return out;
}

export interface CompareOptions {
  gradingA?: GradingChoice;
  gradingB?: GradingChoice;
  /** Logged grading: compare this filter on both sides. */
  filter?: string;
  /** Keep the full generations in the result. */
  withOutputs?: boolean;
}

/** Compares one task's logs of two runs. */
export function compareTaskLogs(a: SamplesLog, b: SamplesLog, opts: CompareOptions = {}): TaskComparison {
  const gradingA = resolveGrading(a.task, a.parse, opts.gradingA ?? 'auto');
  const gradingB = resolveGrading(b.task, b.parse, opts.gradingB ?? 'auto');
  const filterA = gradingA === 'logged' ? pickFilter(a.parse.rows, a.task, opts.filter) : null;
  const filterB = gradingB === 'logged' ? pickFilter(b.parse.rows, b.task, opts.filter) : null;
  const ga = gradeSide(a.parse, gradingA, filterA);
  const gb = gradeSide(b.parse, gradingB, filterB);

  const side = (g: Graded): ComparedSide => ({
    line: g.row.line, correct: g.correct, answer: g.answer, ...(g.rule ? { rule: g.rule } : {}),
    ...(opts.withOutputs ? { output: g.row.output } : {}),
  });
  const hashMismatch: number[] = [];
  const wrongToRight: ComparedQuestion[] = [];
  const rightToWrong: ComparedQuestion[] = [];
  let matched = 0, rightA = 0, rightB = 0, bothRight = 0, bothWrong = 0;
  for (const [docId, x] of [...ga.entries()].sort((p, q) => p[0] - q[0])) {
    const y = gb.get(docId);
    if (!y) continue;
    if (x.row.docHash && y.row.docHash && x.row.docHash !== y.row.docHash) { hashMismatch.push(docId); continue; }
    matched++;
    if (x.correct) rightA++;
    if (y.correct) rightB++;
    if (x.correct && y.correct) bothRight++;
    else if (!x.correct && !y.correct) bothWrong++;
    else {
      const q: ComparedQuestion = {
        docId, docHash: x.row.docHash ?? y.row.docHash, question: x.row.question ?? y.row.question, gold: x.row.gold,
        a: side(x), b: side(y),
      };
      (y.correct ? wrongToRight : rightToWrong).push(q);
    }
  }
  const compared = new Set([...ga.keys()].filter((k) => gb.has(k)));
  return {
    task: a.task === b.task ? a.task : `${a.task} ↔ ${b.task}`,
    taskA: a.task, taskB: b.task, fileA: a.file, fileB: b.file,
    gradingA, gradingB, filterA, filterB,
    matched,
    onlyA: [...ga.keys()].filter((k) => !compared.has(k)).length,
    onlyB: [...gb.keys()].filter((k) => !compared.has(k)).length,
    hashMismatch,
    accuracyA: matched ? rightA / matched : null,
    accuracyB: matched ? rightB / matched : null,
    bothRight, bothWrong, wrongToRight, rightToWrong,
  };
}

/**
 * Pairs the tasks of two runs: same task name first; then a remaining task
 * of A with a remaining task of B of the same benchmark (`gsm8k` with
 * `dcd_gsm8k`).
 */
export function pairTasks(a: readonly string[], b: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const restB = new Set(b);
  const restA: string[] = [];
  for (const t of a) {
    if (restB.has(t)) { pairs.push([t, t]); restB.delete(t); } else restA.push(t);
  }
  for (const t of restA) {
    const bench = benchmarkOfTask(t);
    if (!bench) continue;
    const other = [...restB].find((u) => benchmarkOfTask(u)?.id === bench.id);
    if (other) { pairs.push([t, other]); restB.delete(other); }
  }
  return pairs;
}

/** Compares every task the two runs share (see `pairTasks`). */
export function compareRuns(a: readonly SamplesLog[], b: readonly SamplesLog[], opts: CompareOptions = {}): TaskComparison[] {
  const byA = new Map(a.map((l) => [l.task, l]));
  const byB = new Map(b.map((l) => [l.task, l]));
  return pairTasks([...byA.keys()], [...byB.keys()]).map(([x, y]) => compareTaskLogs(byA.get(x)!, byB.get(y)!, opts));
}

const stampOf = (file: string) => /_(\d{4}-\d{2}-\d{2}T[\d.-]+)\.jsonl$/.exec(file)?.[1] ?? '';

async function readLog(file: string, task: string): Promise<SamplesLog> {
  return { task, file, parse: parseSamplesJsonl(await fs.readFile(file, 'utf8'), path.basename(file)) };
}

/**
 * The sample logs of a run given as a results file (the logs of the same
 * call), a samples file, or a folder (searched recursively; the newest log
 * of each task).
 */
export async function readRunSamples(p: string, maxDepth = 6): Promise<SamplesLog[]> {
  const st = await fs.stat(p);
  if (st.isFile()) {
    const task = taskFromSamplesFileName(p);
    if (task) return [await readLog(p, task)];
    const beside = await samplesBeside(p);
    if (!beside.size) throw new Error(`${p}: no samples_<task>_<timestamp>.jsonl beside it (run lm_eval with --log_samples)`);
    return Promise.all([...beside.entries()].map(([t, f]) => readLog(f, t)));
  }
  const newest = new Map<string, string>();
  const walk = async (d: string, depth: number): Promise<void> => {
    const entries = await fs.readdir(d, { withFileTypes: true });
    for (const e of entries.sort((x, y) => x.name.localeCompare(y.name))) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) {
        if (depth < maxDepth && !e.name.startsWith('.') && e.name !== 'node_modules') await walk(full, depth + 1);
      } else if (e.isFile()) {
        const task = taskFromSamplesFileName(e.name);
        if (!task) continue;
        const cur = newest.get(task);
        if (!cur || stampOf(full) > stampOf(cur) || (stampOf(full) === stampOf(cur) && full > cur)) newest.set(task, full);
      }
    }
  };
  await walk(p, 0);
  if (!newest.size) throw new Error(`${p}: no samples_<task>_<timestamp>.jsonl under it (run lm_eval with --log_samples)`);
  return Promise.all([...newest.entries()].sort((x, y) => x[0].localeCompare(y[0])).map(([t, f]) => readLog(f, t)));
}
