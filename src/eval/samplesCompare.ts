/**
 * The Eval Samples view's comparison with another run, pure (no vscode): the
 * core's per-question comparison (core/eval/compareRuns.ts) turned into what
 * the webview lists (flipped questions, one line each) and the side-by-side
 * of one question (both generations, stage-segmented). The eval-side twin of
 * the corpus side-by-side.
 */
import { benchmarkOfTask } from '../core/eval/benchmarks';
import { answerAfterLastTag, rowsPerDocument } from '../core/eval/grading';
import { compareTaskLogs, type ComparedQuestion, type CompareOptions, type SamplesLog, type TaskComparison } from '../core/eval/compareRuns';
import type { EvalSampleRow } from '../core/eval/samples';
import type { EvalComparedPair, EvalComparison, EvalFlipItem, EvalPairSide } from '../core/protocols/eval';
import { questionOfSample } from './contaminationReport';
import { segmentOutput } from './outputRegions';

const oneLine = (s: string, n = 140) => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
};

/** Two logs compared, kept by the panel to answer `getPair`. */
export interface HeldComparison {
  a: SamplesLog & { label: string; model: string | null };
  b: SamplesLog & { label: string; model: string | null; uri: string };
  result: TaskComparison;
}

/** Compares log A (this view's) with log B. */
export function holdComparison(a: HeldComparison['a'], b: HeldComparison['b'], opts: CompareOptions = {}): HeldComparison {
  return { a, b, result: compareTaskLogs(a, b, { ...opts, withOutputs: false }) };
}

function rowOf(log: SamplesLog, docId: number, line: number): EvalSampleRow | undefined {
  return log.parse.rows.find((r) => r.line === line) ?? rowsPerDocument(log.parse.rows).find((r) => r.docId === docId);
}

function flip(q: ComparedQuestion, a: SamplesLog): EvalFlipItem {
  const row = rowOf(a, q.docId, q.a.line);
  return {
    docId: q.docId,
    preview: oneLine(row ? questionOfSample(row) : q.question ?? ''),
    gold: oneLine(q.gold, 80),
    a: { line: q.a.line, correct: q.a.correct, answer: q.a.answer === null ? null : oneLine(q.a.answer, 80), ...(q.a.rule ? { rule: q.a.rule } : {}) },
    b: { line: q.b.line, correct: q.b.correct, answer: q.b.answer === null ? null : oneLine(q.b.answer, 80), ...(q.b.rule ? { rule: q.b.rule } : {}) },
  };
}

/** What the webview lists. */
export function comparisonView(h: HeldComparison): EvalComparison {
  const c = h.result;
  return {
    a: { label: h.a.label, task: h.a.task },
    b: { uri: h.b.uri, label: h.b.label, task: h.b.task },
    gradingA: c.gradingA, gradingB: c.gradingB, filterA: c.filterA, filterB: c.filterB,
    matched: c.matched, onlyA: c.onlyA, onlyB: c.onlyB, hashMismatch: c.hashMismatch,
    accuracyA: c.accuracyA, accuracyB: c.accuracyB, bothRight: c.bothRight, bothWrong: c.bothWrong,
    wrongToRight: c.wrongToRight.map((q) => flip(q, h.a)),
    rightToWrong: c.rightToWrong.map((q) => flip(q, h.a)),
  };
}

/** Both generations of one flipped question. Throws for a question that did not flip. */
export function comparedPair(h: HeldComparison, docId: number): EvalComparedPair {
  const q = [...h.result.wrongToRight, ...h.result.rightToWrong].find((x) => x.docId === docId);
  if (!q) throw new Error(`Document ${docId} is not among the questions that flipped.`);
  const side = (log: HeldComparison['a'], s: ComparedQuestion['a'], grading: EvalPairSide['grading']): EvalPairSide => {
    const row = rowOf(log, docId, s.line);
    const output = row?.output ?? '';
    return {
      label: log.label, model: log.model, grading, line: s.line, correct: s.correct, answer: s.answer,
      ...(s.rule ? { rule: s.rule } : {}), output, segments: segmentOutput(output), answerSection: answerAfterLastTag(output),
    };
  };
  return {
    docId, question: q.question, gold: q.gold,
    a: side(h.a, q.a, h.result.gradingA),
    b: side(h.b, q.b, h.result.gradingB),
  };
}

/** Whether a log of task `other` can be compared with one of `task`: the same task, or the same benchmark (gsm8k ↔ dcd_gsm8k). */
export function comparableTasks(task: string, other: string): boolean {
  if (task === other) return true;
  const a = benchmarkOfTask(task);
  const b = benchmarkOfTask(other);
  return a !== undefined && a.id === b?.id;
}
