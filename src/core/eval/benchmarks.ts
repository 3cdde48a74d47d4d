/**
 * The three benchmarks of the DCD paper (docs/SPEC.md §6), as data: which lm-eval task
 * runs each one, with how many shots, which metric key of the results JSON is
 * the headline number, and which DCD-aware task variant (shipped in
 * `python-backend/lmeval_tasks/`) grades only what follows the answer tag.
 */

export type BenchmarkId = 'aime24' | 'gsm8k' | 'gpqa_diamond_zeroshot';

export interface BenchmarkInfo {
  id: BenchmarkId;
  /** Human name, as in the paper's Table 1. */
  label: string;
  /** The stock lm-eval task. */
  task: string;
  /** `--num_fewshot` for the call (the paper's setting). */
  numFewshot: number;
  /** lm-eval `output_type` of the task: generative tasks can be graded DCD-aware, multiple-choice ones cannot. */
  outputType: 'generate_until' | 'multiple_choice';
  /** The headline metric key in `results[task]` (docs/SPEC.md §6). */
  metric: string;
  /** Further metric keys the task reports. */
  otherMetrics: string[];
  /** The DCD-aware variant task (same prompts and generations, answer cut at the answer tag), if any. */
  dcdTask?: string;
  /** Metric keys the DCD-aware variant reports on the host (its YAML filters): the best on-host DCD figure first. */
  dcdMetrics?: string[];
  /**
   * The headline DCD-aware metric key: the project's verifier re-grading the
   * logged generations after the last answer tag (`core/eval/grading.ts`),
   * added by `dcd results` and the Results view; the on-host `dcdMetrics` are
   * the fallback where no sample log is at hand.
   */
  dcdHeadline?: string;
  /**
   * `max_gen_toks` the stock task generates with when the call sets none (its
   * YAML's, else the harness default of 256); generative tasks only.
   */
  taskMaxGenToks?: number;
  /**
   * The least `max_gen_toks` that holds the stock task's answers (any model):
   * a setting below it is warned about. GSM8K: its stock 256; AIME 24: 4096,
   * a floor for a worked competition solution (the task itself allows 32768).
   */
  minGenToks?: number;
  /** The dataset is gated on the Hugging Face Hub: the remote needs the user's token. */
  gated: boolean;
  /** Number of test questions of the full benchmark. */
  size: number;
  /** Oldest lm-eval release that ships the stock task (informational). */
  minLmEval?: string;
}

export const BENCHMARKS: Readonly<Record<BenchmarkId, BenchmarkInfo>> = {
  aime24: {
    id: 'aime24',
    label: 'AIME 2024',
    task: 'aime24',
    numFewshot: 0,
    outputType: 'generate_until',
    metric: 'exact_match,none',
    otherMetrics: [],
    dcdTask: 'dcd_aime24',
    dcdMetrics: ['exact_match,dcd-extract', 'exact_match,dcd-answer', 'exact_match,none'],
    dcdHeadline: 'exact_match,dcd-verify',
    taskMaxGenToks: 32768,
    minGenToks: 4096,
    gated: false,
    size: 30,
    minLmEval: '0.4.10',
  },
  gsm8k: {
    id: 'gsm8k',
    label: 'GSM8K',
    task: 'gsm8k',
    numFewshot: 5,
    outputType: 'generate_until',
    metric: 'exact_match,strict-match',
    otherMetrics: ['exact_match,flexible-extract'],
    dcdTask: 'dcd_gsm8k',
    dcdMetrics: [
      'exact_match,dcd-extract',
      'exact_match,dcd-strict-match',
      'exact_match,dcd-flexible-extract',
      'exact_match,strict-match',
      'exact_match,flexible-extract',
    ],
    dcdHeadline: 'exact_match,dcd-verify',
    taskMaxGenToks: 256,
    minGenToks: 256,
    gated: false,
    size: 1319,
  },
  gpqa_diamond_zeroshot: {
    id: 'gpqa_diamond_zeroshot',
    label: 'GPQA Diamond',
    task: 'gpqa_diamond_zeroshot',
    numFewshot: 0,
    outputType: 'multiple_choice',
    metric: 'acc,none',
    otherMetrics: ['acc_norm,none'],
    // Multiple choice by log-likelihood of the four options: the model
    // generates nothing, so there is no answer tag to cut at.
    gated: true,
    size: 198,
  },
};

export const BENCHMARK_IDS = Object.keys(BENCHMARKS) as BenchmarkId[];

export function isBenchmarkId(s: string): s is BenchmarkId {
  return Object.prototype.hasOwnProperty.call(BENCHMARKS, s);
}

/** The benchmark a task name belongs to: the stock task or its DCD variant. */
export function benchmarkOfTask(task: string): BenchmarkInfo | undefined {
  for (const b of Object.values(BENCHMARKS)) if (b.task === task || b.dcdTask === task) return b;
  return undefined;
}

/** The answer tag a DCD-trained model writes before its final answer (docs/SPEC.md §3). */
export const DCD_ANSWER_TAG = '<|im_start|>answer';

/**
 * The regex of the `regex` filter that keeps only what follows the LAST answer
 * tag. Written without inline flags so Python's `re` (the harness) and
 * JavaScript's `RegExp` read it the same way: `[\s\S]` instead of DOTALL.
 *
 * It also accepts a bare line `answer` (the tag with its special token
 * `<|im_start|>` dropped), which is what a backend that decodes with
 * `skip_special_tokens=True` (lm-eval's `hf` backend) leaves of the tag.
 * The greedy prefix makes the last occurrence win; the leading `^` anchors
 * the search so an output without any tag is rejected in linear time (an
 * unanchored `[\s\S]*` would be retried from every position: quadratic on a
 * 32k-token trace).
 *
 * This exact string must appear in python-backend/lmeval_tasks/*.yaml (a test
 * checks it).
 */
export const DCD_ANSWER_REGEX = String.raw`^[\s\S]*(?:<\|im_start\|>answer|(?:^|\n)answer[ \t]*(?=\n))[ \t]*\n?([\s\S]*)`;

/** What the filter yields when an output has no answer tag (graded wrong). */
export const DCD_NO_ANSWER_FALLBACK = '[no-answer-tag]';

/**
 * Emulates the harness's `regex` filter with DCD_ANSWER_REGEX on one output:
 * the text after the last answer tag, stripped, or the fallback. Used by the
 * drill-down to show what the DCD-aware metric graded.
 */
export function dcdAnswerText(output: string): string {
  const m = new RegExp(DCD_ANSWER_REGEX).exec(output);
  if (!m) return DCD_NO_ANSWER_FALLBACK;
  return (m[1] ?? '').trim();
}
