/**
 * DCD grading of lm-eval generations with the project's own verifier
 * (`core/answer`, the one `dcd verify` and the corpus builder use), so that
 * training and evaluation agree on what "correct" means.
 *
 * lm-eval cannot call TypeScript, so the headline DCD metric is computed on
 * this side from the logged samples (`samples_<task>_<ts>.jsonl`, always
 * written: the command builder passes `--log_samples`):
 *
 *  1. take the text after the LAST answer tag (`<|im_start|>answer`, or a
 *     bare `answer` line where the backend dropped the special token);
 *     no tag: wrong (`no-answer-tag`), so an answer that appears only inside
 *     the think section never counts;
 *  2. extract its final answer with the verifier's rules (`\boxed{}`,
 *     `#### N`, "the answer is …", "Answer: …", a bare answer, last number);
 *  3. compare it with the gold answer (GSM8K: the `#### N` of the solution;
 *     AIME: the answer) with the verifier's equivalence rules
 *     (numeric, symbolic, …).
 *
 * The result is reported as the metric key `exact_match,dcd-verify` (stderr
 * `exact_match_stderr,dcd-verify`, computed as lm-eval's `mean_stderr`) in
 * the task's entry; `dcd results` and the Results view add it beside the
 * harness's own keys. The on-host figure of the same extraction is the
 * `dcd-extract` filter of the `dcd_*` tasks (python-backend/lmeval_tasks).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { verify } from '../answer';
import { benchmarkOfTask, DCD_ANSWER_REGEX } from './benchmarks';
import type { EvalResultFile } from './results';
import { parseSamplesJsonl, taskFromSamplesFileName, type EvalSampleRow, type EvalSamplesParse } from './samples';

/** Filter name of the host-side verifier grading (never a harness filter). */
export const DCD_VERIFY_FILTER = 'dcd-verify';
/** Metric key of the headline DCD-aware score. */
export const DCD_VERIFY_METRIC = `exact_match,${DCD_VERIFY_FILTER}`;
export const DCD_VERIFY_STDERR = `exact_match_stderr,${DCD_VERIFY_FILTER}`;
/** Rule of a generation without an answer tag (graded wrong). */
export const NO_ANSWER_TAG_RULE = 'no-answer-tag';

export interface DcdGrade {
  /** Whether the verifier found the answer after the last tag equivalent to the gold. */
  correct: boolean;
  /** The generation has an answer tag. */
  tagged: boolean;
  /** The text after the last answer tag (trimmed), null without a tag. */
  section: string | null;
  pred_answer: string | null;
  gold_answer: string | null;
  /** The verifier's rule (`numeric`, `mismatch`, `no-pred-answer`, …) or `no-answer-tag`. */
  rule: string;
}

/** The text after the last answer tag, trimmed; null when the output has none. */
export function answerAfterLastTag(output: string): string | null {
  if (!output.includes('answer')) return null;
  const m = new RegExp(DCD_ANSWER_REGEX).exec(output);
  return m ? (m[1] ?? '').trim() : null;
}

/** Grades one generation against a bare gold answer. */
export function gradeDcdOutput(output: string, gold: string): DcdGrade {
  const section = answerAfterLastTag(output);
  if (section === null) return { correct: false, tagged: false, section: null, pred_answer: null, gold_answer: gold.trim() || null, rule: NO_ANSWER_TAG_RULE };
  const v = verify(section, gold, { goldIsAnswer: true });
  return { correct: v.equivalent === true, tagged: true, section, pred_answer: v.pred_answer, gold_answer: v.gold_answer, rule: v.rule };
}

export interface DcdSampleGrade extends DcdGrade {
  docId: number | null;
  docHash: string | null;
  /** 1-based line of the (first) row of the document in the samples file. */
  line: number;
}

export interface DcdTaskGrade {
  task: string | null;
  /** One grade per document (a harness row per filter is graded once). */
  grades: DcdSampleGrade[];
  correct: number;
  total: number;
  /** Generations with an answer tag. */
  tagged: number;
  accuracy: number | null;
  /** lm-eval's `mean_stderr`: sample standard deviation / √n; null below 2 documents. */
  stderr: number | null;
}

/** One row per document: the harness logs a row per filter with the same generation. */
export function rowsPerDocument(rows: readonly EvalSampleRow[]): EvalSampleRow[] {
  const seen = new Set<string>();
  const out: EvalSampleRow[] = [];
  for (const r of rows) {
    const key = r.docId === null ? `line:${r.line}` : `${r.docId}\u0000${r.docHash ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(r);
  }
  return out;
}

/** lm-eval's `mean_stderr` of 0/1 scores. */
export function meanStderr(values: readonly number[]): number | null {
  const n = values.length;
  if (n < 2) return null;
  const mu = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, x) => a + (x - mu) ** 2, 0) / (n - 1);
  return Math.sqrt(variance) / Math.sqrt(n);
}

/** Grades every document of a parsed sample log (generative rows only; multiple-choice rows have no generation). */
export function gradeSamplesDcd(parse: EvalSamplesParse): DcdTaskGrade {
  const grades: DcdSampleGrade[] = [];
  for (const r of rowsPerDocument(parse.rows)) {
    const g = gradeDcdOutput(r.output, r.gold);
    grades.push({ ...g, docId: r.docId, docHash: r.docHash, line: r.line });
  }
  const correct = grades.filter((g) => g.correct).length;
  const total = grades.length;
  return {
    task: parse.task, grades, correct, total, tagged: grades.filter((g) => g.tagged).length,
    accuracy: total ? correct / total : null, stderr: meanStderr(grades.map((g) => (g.correct ? 1 : 0))),
  };
}

/** Tasks whose generations are DCD-graded: the paper's generative benchmarks, stock or `dcd_` variant. */
export function isDcdGradedTask(task: string): boolean {
  const b = benchmarkOfTask(task);
  return b !== undefined && b.outputType === 'generate_until';
}

/**
 * Of the file names in a results file's folder, the `samples_<task>_<ts>.jsonl`
 * logs written by the same call as `results_<ts>.json` (same timestamp): task → name.
 */
export function samplesNamesFor(resultsFileName: string, names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const m = /^results_(.+)\.json$/.exec(resultsFileName.split(/[\\/]/).pop() ?? '');
  if (!m) return out;
  for (const name of [...names].sort()) {
    if (!name.startsWith('samples_') || !name.endsWith(`_${m[1]}.jsonl`)) continue;
    const task = taskFromSamplesFileName(name);
    if (task) out.set(task, name);
  }
  return out;
}

/** The `samples_<task>_<ts>.jsonl` files written by the same call as `results_<ts>.json` (same folder, same timestamp): task → path. */
export async function samplesBeside(resultsPath: string): Promise<Map<string, string>> {
  let names: string[];
  try {
    names = await fs.readdir(path.dirname(resultsPath));
  } catch {
    return new Map();
  }
  const out = new Map<string, string>();
  for (const [task, name] of samplesNamesFor(path.basename(resultsPath), names)) out.set(task, path.join(path.dirname(resultsPath), name));
  return out;
}

/** A results file with the DCD verifier's metric added to every graded task. `grades`: task → grade (kept for drill-down and reports). */
export function withDcdVerify<T extends EvalResultFile>(result: T, grades: ReadonlyMap<string, DcdTaskGrade>): T {
  const tasks: EvalResultFile['tasks'] = {};
  for (const [task, metrics] of Object.entries(result.tasks)) {
    const g = grades.get(task);
    tasks[task] = g && g.accuracy !== null ? { ...metrics, [DCD_VERIFY_METRIC]: g.accuracy, [DCD_VERIFY_STDERR]: g.stderr } : metrics;
  }
  return { ...result, tasks };
}

export interface GradedResults<T> { result: T; grades: Map<string, DcdTaskGrade>; warnings: string[] }

/**
 * Adds `exact_match,dcd-verify` to each DCD-graded task of `result` whose log
 * is given (`read(task)` returns the log's label and text, or null). A log
 * that does not hold every document the run graded (trimmed, or a crashed
 * write) gives no metric; it and unreadable logs are reported in
 * `warnings`, never fatal.
 */
export async function gradeResultsWith<T extends EvalResultFile>(
  result: T, read: (task: string) => Promise<{ file: string; text: string } | null>,
): Promise<GradedResults<T>> {
  const grades = new Map<string, DcdTaskGrade>();
  const warnings: string[] = [];
  for (const task of Object.keys(result.tasks)) {
    if (!isDcdGradedTask(task)) continue;
    let log: { file: string; text: string } | null;
    try {
      log = await read(task);
    } catch (err) {
      warnings.push(`${task}: ${(err as Error).message}`);
      continue;
    }
    if (!log) continue;
    const parse = parseSamplesJsonl(log.text, log.file.split(/[\\/]/).pop());
    for (const e of parse.errors) warnings.push(`${log.file}:${e.line}: ${e.message}`);
    const g = gradeSamplesDcd(parse);
    const n = result.n_samples[task]?.effective;
    // A trimmed or partial log would give a score of other documents than the harness's: leave it out.
    if (typeof n === 'number' && g.total !== n) {
      warnings.push(`${log.file}: holds ${g.total} of the ${n} documents the run graded; no ${DCD_VERIFY_METRIC} for ${task}`);
      continue;
    }
    grades.set(task, g);
  }
  return { result: withDcdVerify(result, grades), grades, warnings };
}

/** `gradeResultsWith` for a results file on disk at `resultsPath` (the logs beside it). */
export async function gradeResultsFile<T extends EvalResultFile>(result: T, resultsPath: string): Promise<GradedResults<T>> {
  const beside = await samplesBeside(resultsPath);
  return gradeResultsWith(result, async (task) => {
    const file = beside.get(task);
    return file ? { file, text: await fs.readFile(file, 'utf8') } : null;
  });
}
