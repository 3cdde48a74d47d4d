/**
 * Protocols of the evaluation webviews:
 *  - the Results view ("DCD: Open Eval Results…"): runs × benchmarks with
 *    stderr, the paper's Table 1 for reference, deltas against a baseline
 *    row, CSV export;
 *  - the Eval Samples view ("DCD: Open Eval Samples…"): one `samples_*.jsonl`
 *    file, row by row, with the output shown as a stage-coloured trace and
 *    the training-corpus questions most like the eval question.
 * Pure types (and one shared constant): the extension host and the webviews
 * both import them.
 */
import type { Api } from './endpoint';
import type { ComparisonCounts } from '../eval/compareRuns';

// ---------------------------------------------------------------------------
// Results view

/** A column of the results table: one of the paper's benchmarks, or a (task, metric) of some run. */
export interface EvalColumn {
  id: string;
  label: string;
  kind: 'benchmark' | 'task';
  /** The headline metric key (`metric,filter`). */
  metric: string;
  /** For `task` columns: the results task. */
  task?: string;
  /** What the column shows, for a tooltip. */
  hint: string;
}

export interface EvalCell {
  /** A fraction in [0, 1] (the view prints percent). */
  value: number;
  /** The harness's standard error of the value, where it computed one. */
  stderr: number | null;
  /** AIME: problems solved and problems asked. */
  correct?: number;
  total?: number;
  /** Results task and metric key the value came from (runs only). */
  source?: { task: string; metric: string };
  /** The results file (workspace-relative) that gave the value. */
  file?: string;
  /** Documents graded (`n-samples.effective`) and the task's full size, when known. */
  n?: number | null;
  nOriginal?: number | null;
  /** DCD-aware rows: the stock extraction on the same generations (the `dcd_` task's stock filter), to compare. */
  stockOnSameOutputs?: number | null;
  /** Seed rows: `value` is the mean over the seeds; this is its spread. */
  spread?: SeedSpread;
}

/** Spread of a metric over runs that differ only in their seed. */
export interface SeedSpread {
  /** Sample standard deviation; null for one seed. */
  sd: number | null;
  min: number;
  max: number;
  /** Seeds with a value. */
  n: number;
  seeds: number[];
}

export interface EvalTableRow {
  id: string;
  label: string;
  /** `run` rows include the seed rows (`seeds` set): the mean over runs of one model that differ only in their seed. */
  origin: 'paper' | 'run';
  /** Seed rows: the seeds averaged. */
  seeds?: number[];
  grading?: 'stock' | 'dcd';
  /** The run the row belongs to (runs only). */
  runId?: string;
  note?: string;
  /** Column id → cell; null = not reported. */
  cells: Record<string, EvalCell | null>;
}

export interface EvalRunFile {
  /** Workspace-relative path (or absolute outside the workspace). */
  label: string;
  uri: string;
  date: string | null;
  backend: string | null;
  limit: number | null;
  lmEvalVersion: string | null;
  tasks: string[];
}

export interface EvalRunMetric {
  task: string;
  metric: string;
  value: number | null;
  stderr: number | null;
  nShot: number | null;
  n: number | null;
  nOriginal: number | null;
  file: string;
}

export interface EvalRunSamples {
  task: string;
  label: string;
  uri: string;
}

export interface EvalRunView {
  id: string;
  label: string;
  model: string;
  /** The run's folder (lm-eval's `<output_path>/<model_sanitized>`), workspace-relative. */
  folder: string;
  files: EvalRunFile[];
  /** Every metric of every task (newest file per task), stderr beside it. */
  metrics: EvalRunMetric[];
  /** Sample logs found beside the results (newest per task). */
  samples: EvalRunSamples[];
  hasDcd: boolean;
}

export interface ResultsViewState {
  columns: EvalColumn[];
  /** Paper rows first, then each run's stock row and, where graded DCD-aware, its DCD row. */
  rows: EvalTableRow[];
  runs: EvalRunView[];
  baselineId: string;
  /** Row id → column id → row − baseline (fraction), null where either is missing. */
  deltas: Record<string, Record<string, number | null>>;
  /** Problems met while loading (unreadable files, …). */
  warnings: string[];
}

/** What the extension host serves to the Results webview. */
export interface ResultsHostApi extends Api {
  requests: {
    getState: { req: Record<string, never>; res: ResultsViewState };
    setBaseline: { req: { id: string }; res: ResultsViewState };
    /** Asks where to save (save dialog), writes atomically; null when cancelled. */
    exportCsv: { req: { baselineId: string }; res: { saved: string | null } };
    /** Pick more results (a file or a folder) and add them. */
    addResults: { req: Record<string, never>; res: ResultsViewState };
    removeRun: { req: { id: string }; res: ResultsViewState };
    openSamples: { req: { uri: string }; res: Record<string, never> };
    openFile: { req: { uri: string }; res: Record<string, never> };
    /** Shows a results file's lineage (`dcd.lineage.reveal`): the run's model, training run, export and corpus. */
    showLineage: { req: { uri: string }; res: Record<string, never> };
  };
  events: {
    ready: Record<string, never>;
  };
}

/** What the Results webview serves to the host. */
export interface ResultsWebviewApi extends Api {
  requests: Record<string, never>;
  events: {
    state: ResultsViewState;
  };
}

// ---------------------------------------------------------------------------
// Eval Samples view (drill-down)

/** Stage of a piece of model output, named like the trace grammar's regions. */
export type OutputRegion = 'tag' | 'draft' | 'bridge' | 'chain' | 'verdict' | 'final_answer' | 'text';

export interface OutputSegment {
  start: number;
  end: number;
  region: OutputRegion;
  /** For `verdict`: which verdict sentence. */
  verdict?: 'correct' | 'incorrect';
}

/** One row of the sample list (small: no prompt or output). */
export interface EvalSampleItem {
  line: number;
  docId: number | null;
  filter: string | null;
  correct: boolean | null;
  extracted: string | null;
  gold: string;
  /** The question, shortened to one line. */
  preview: string;
}

export interface EvalSamplesInit {
  uri: string;
  /** Workspace-relative file name. */
  label: string;
  task: string | null;
  /** The paper benchmark of the task (its label), if it is one. */
  benchmark: string | null;
  /** Filters logged in the file (`strict-match`, `dcd-answer`, …); empty when it logs none. */
  filters: string[];
  items: EvalSampleItem[];
  /** Malformed lines, kept and shown. */
  errors: Array<{ line: number; message: string }>;
  corpora: CorpusChoice[];
  corpus: string;
}

/** The corpus choice that stands for every corpus of the workspace. */
export const WORKSPACE_CORPUS = 'workspace';

export interface CorpusChoice {
  /** `WORKSPACE_CORPUS` or a file's URI. */
  id: string;
  label: string;
}

export interface EvalSampleDetail {
  line: number;
  docId: number | null;
  filter: string | null;
  question: string | null;
  prompt: string;
  messages: Array<{ role: string; content: string }> | null;
  output: string;
  segments: OutputSegment[];
  extracted: string | null;
  /** The text after the last DCD answer tag (what the DCD-aware metric grades), or null when there is none. */
  answerSection: string | null;
  gold: string;
  target: string;
  correct: boolean | null;
  metric: string | null;
  score: number | null;
  metrics: Record<string, number>;
}

export interface SimilarQuestion {
  /** Corpus file (workspace-relative) and the sample's 0-based position among its samples. */
  file: string;
  uri: string;
  index: number;
  id: string | null;
  question: string;
  containment: number;
  jaccard: number;
  shared: number;
  /** Samples of the corpus with this same question. */
  copies: number;
}

export interface SimilarResult {
  corpus: string;
  /** Distinct questions searched. */
  searched: number;
  n: number;
  query: string;
  matches: SimilarQuestion[];
}

// Comparing this log with another run's log of the same task (the eval-side
// twin of the corpus side-by-side): questions that flipped, both generations.

/** One side of a compared question, in the list. */
export interface EvalCompareSide {
  line: number;
  correct: boolean;
  /** What the grade compared (the filtered response, or the verifier's extracted answer). */
  answer: string | null;
  /** The verifier's rule, for `dcd-verify` grading. */
  rule?: string;
}

export interface EvalFlipItem {
  docId: number;
  /** The question, shortened to one line. */
  preview: string;
  gold: string;
  /** This view's log. */
  a: EvalCompareSide;
  /** The other run's log. */
  b: EvalCompareSide;
}

/** How a side was graded: as the harness logged it (one filter), or by the project's verifier after the last answer tag. */
export type EvalSideGrading = 'logged' | 'dcd-verify';

export interface EvalComparison extends ComparisonCounts {
  /** This view's log (A) and the other run's (B): workspace-relative labels. */
  a: { label: string; task: string };
  b: { uri: string; label: string; task: string };
  gradingA: EvalSideGrading;
  gradingB: EvalSideGrading;
  filterA: string | null;
  filterB: string | null;
  wrongToRight: EvalFlipItem[];
  rightToWrong: EvalFlipItem[];
}

/** One side of the side-by-side. */
export interface EvalPairSide {
  /** The log's label and the model that wrote it, for the column header. */
  label: string;
  model: string | null;
  grading: EvalSideGrading;
  line: number;
  correct: boolean;
  answer: string | null;
  rule?: string;
  output: string;
  segments: OutputSegment[];
  /** The text after the last answer tag, or null. */
  answerSection: string | null;
}

export interface EvalComparedPair {
  docId: number;
  question: string | null;
  gold: string;
  a: EvalPairSide;
  b: EvalPairSide;
}

/** A log the view may compare with (the host offered its URI). */
export interface EvalCompareCandidate {
  uri: string;
  label: string;
  task: string;
}

/** What the extension host serves to the Eval Samples webview. */
export interface EvalSamplesHostApi extends Api {
  requests: {
    /** Logs of the same benchmark elsewhere in the workspace (other runs); their URIs become comparable. */
    compareCandidates: { req: Record<string, never>; res: EvalCompareCandidate[] };
    /** Compare with an offered log (refused otherwise). */
    compareWith: { req: { uri: string }; res: EvalComparison };
    /** Compare with a log the user picks (open dialog); null when cancelled. */
    pickComparison: { req: Record<string, never>; res: EvalComparison | null };
    /** Both generations of one compared question. */
    getPair: { req: { docId: number }; res: EvalComparedPair };
    clearComparison: { req: Record<string, never>; res: Record<string, never> };
    /** The file's rows (the webview asks when it is (re)created). */
    getInit: { req: Record<string, never>; res: EvalSamplesInit };
    getSample: { req: { line: number }; res: EvalSampleDetail };
    similar: { req: { line: number; corpus: string }; res: SimilarResult };
    /** Pick a corpus file (open dialog); returns the new choices and the chosen id (unchanged when cancelled). */
    pickCorpus: { req: Record<string, never>; res: { corpora: CorpusChoice[]; corpus: string } };
    openCorpusSample: { req: { uri: string; index: number }; res: Record<string, never> };
  };
  events: {
    ready: Record<string, never>;
  };
}

/** What the Eval Samples webview serves to the host. */
export interface EvalSamplesWebviewApi extends Api {
  requests: Record<string, never>;
  events: {
    init: EvalSamplesInit;
    /** Select a row (by file line), e.g. when the host opens the view on one sample. */
    select: { line: number };
    /** The host set (or cleared) the comparison, e.g. from a command. */
    comparison: EvalComparison | null;
  };
}
