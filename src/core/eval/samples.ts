/**
 * Drill-down into lm-eval sample logs (`samples_<task>_<timestamp>.jsonl`,
 * written with `--log_samples`): for each logged document, the prompt, the
 * model's output, the extracted answer, the gold answer and whether it was
 * graded correct.
 *
 * Handles the layouts the harness has written: `arguments` as
 * `{gen_args_0: {arg_0, arg_1}}` (0.4.3+) or as `[[prompt, gen_kwargs]]`
 * (older); prompts as plain text or as a chat-completions message list;
 * generative and multiple-choice (log-likelihood) tasks; the s1 fork's
 * `extracted_answers`. Malformed lines are kept as errors, never dropped.
 */
import { parseJsonl, type JsonlError, jsonlErrors } from '../io/jsonl';
import { DCD_ANSWER_REGEX } from './benchmarks';

export interface ChatMessage { role: string; content: string }

export interface EvalSampleRow {
  /** 1-based line in the file. */
  line: number;
  docId: number | null;
  /** lm-eval's `doc_hash` (sha256 of the document), where logged: with `docId`, what matches one run's row to another's. */
  docHash: string | null;
  /** Filter the row was graded under (`strict-match`, `dcd-answer`, …); null in files that log none. */
  filter: string | null;
  /** The question text of the document, where the doc has a usual field (question/problem/Question/Problem). */
  question: string | null;
  /** The prompt as sent: text, or the JSON message list for chat-completions models. */
  prompt: string;
  /** The prompt as chat messages, when it was one. */
  messages: ChatMessage[] | null;
  /** The model's output (first response); for multiple choice, the chosen option. */
  output: string;
  /** What the grader compared: the filtered response (or the fork's extracted answer; the chosen option for multiple choice). */
  extracted: string | null;
  /** The text after the last DCD answer tag in the output, or null when there is none. */
  answerSection: string | null;
  /** The gold target as logged. */
  target: string;
  /** The gold answer: `#### N` of a GSM8K solution, the chosen choice text for multiple choice, else the target. */
  gold: string;
  /** Name of the metric used for `correct`. */
  metric: string | null;
  /** Its value for this row. */
  score: number | null;
  /** score ≥ 1 (exact match / accuracy); null when the row logs no metric. */
  correct: boolean | null;
  /** Every metric the row logs. */
  metrics: Record<string, number>;
}

export interface EvalSamplesParse {
  task: string | null;
  rows: EvalSampleRow[];
  errors: JsonlError[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Row keys that are not metrics (used when a row has no `metrics` list). */
const NON_METRIC_KEYS = new Set([
  'doc_id', 'doc', 'target', 'arguments', 'resps', 'filtered_resps', 'filter', 'metrics',
  'doc_hash', 'prompt_hash', 'target_hash', 'extracted_answers', 'task_name', 'task',
]);

/** `samples_gsm8k_2025-09-09T13-42-42.857006.jsonl` → `gsm8k`. */
export function taskFromSamplesFileName(file: string): string | null {
  const base = file.split(/[\\/]/).pop() ?? file;
  const m = /^samples_(.+)_\d{4}-\d{2}-\d{2}T[\d.-]+\.jsonl$/.exec(base);
  return m ? m[1] : null;
}

function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  return JSON.stringify(v);
}

function parseMessages(prompt: string): ChatMessage[] | null {
  const t = prompt.trimStart();
  if (!t.startsWith('[')) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(t);
  } catch {
    return null;
  }
  if (!Array.isArray(parsed) || parsed.length === 0) return null;
  const out: ChatMessage[] = [];
  for (const m of parsed) {
    if (!isObject(m) || typeof m.role !== 'string') return null;
    let content = '';
    if (typeof m.content === 'string') content = m.content;
    else if (Array.isArray(m.content)) {
      content = m.content.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('');
    }
    out.push({ role: m.role, content });
  }
  return out;
}

/** The request arguments as a list of [context, continuation-or-gen_kwargs] pairs. */
function requestArgs(args: unknown): Array<[unknown, unknown]> {
  if (Array.isArray(args)) {
    return args.map((a) => (Array.isArray(a) ? [a[0], a[1]] : [a, undefined]) as [unknown, unknown]);
  }
  if (isObject(args)) {
    return Object.keys(args)
      .filter((k) => k.startsWith('gen_args_'))
      .sort((a, b) => Number(a.slice(9)) - Number(b.slice(9)))
      .map((k) => {
        const g = args[k];
        return isObject(g) ? ([g.arg_0, g.arg_1] as [unknown, unknown]) : ([g, undefined] as [unknown, unknown]);
      });
  }
  return [];
}

function firstString(v: unknown): string | null {
  let x = v;
  while (Array.isArray(x)) {
    if (x.length === 0) return null;
    x = x[0];
  }
  return typeof x === 'string' ? x : null;
}

/** A log-likelihood response: [logprob, is_greedy] (possibly wrapped once more). */
function loglik(v: unknown): number | null {
  let x = v;
  if (Array.isArray(x) && x.length === 1 && Array.isArray(x[0])) x = x[0];
  if (Array.isArray(x) && typeof x[0] === 'number') return x[0];
  return null;
}

const dcdRe = new RegExp(DCD_ANSWER_REGEX);

function answerSectionOf(output: string): string | null {
  if (!output.includes('answer')) return null;
  const m = dcdRe.exec(output);
  return m ? (m[1] ?? '').trim() : null;
}

/** Parses one sample-log object (one JSONL line). */
export function parseSampleRow(value: Json, line: number): EvalSampleRow {
  const doc = isObject(value.doc) ? value.doc : {};
  const question = (['question', 'problem', 'Question', 'Problem', 'query', 'input'] as const)
    .map((k) => doc[k])
    .find((v): v is string => typeof v === 'string') ?? null;

  const args = requestArgs(value.arguments);
  const contextRaw = args.length ? args[0][0] : '';
  const prompt = Array.isArray(contextRaw) && contextRaw.length === 1 && typeof contextRaw[0] === 'string' ? contextRaw[0] : asText(contextRaw);
  const messages = parseMessages(prompt);

  const targetRaw = value.target;
  const target = asText(targetRaw);

  // Multiple choice: one request per option, each answered by [logprob, is_greedy].
  const resps = Array.isArray(value.resps) ? value.resps : [];
  const lls = resps.map(loglik);
  const isMultipleChoice = args.length > 1 && resps.length === args.length && lls.every((x) => x !== null);

  let output: string;
  let extracted: string | null;
  let gold: string;
  if (isMultipleChoice) {
    const choices = args.map((a) => asText(a[1]));
    let best = 0;
    for (let i = 1; i < lls.length; i++) if ((lls[i] as number) > (lls[best] as number)) best = i;
    output = choices[best];
    extracted = choices[best].trim();
    const ti = typeof targetRaw === 'number' ? targetRaw : Number.NaN;
    gold = Number.isInteger(ti) && ti >= 0 && ti < choices.length ? choices[ti].trim() : target;
  } else {
    output = firstString(value.resps) ?? '';
    const fork = Array.isArray(value.extracted_answers) ? firstString(value.extracted_answers) : null;
    extracted = fork ?? firstString(value.filtered_resps);
    const hash = /####\s*([^\n]+?)\s*$/.exec(target);
    gold = hash ? hash[1] : target.trim();
  }

  const metrics: Record<string, number> = {};
  const names = Array.isArray(value.metrics)
    ? value.metrics.filter((m): m is string => typeof m === 'string')
    : Object.keys(value).filter((k) => !NON_METRIC_KEYS.has(k));
  for (const k of names) {
    const v = value[k];
    if (typeof v === 'number' && Number.isFinite(v)) metrics[k] = v;
    else if (typeof v === 'boolean') metrics[k] = v ? 1 : 0;
  }
  const metric = names.find((k) => k in metrics) ?? null;
  const score = metric ? metrics[metric] : null;

  return {
    line,
    docId: typeof value.doc_id === 'number' ? value.doc_id : null,
    docHash: typeof value.doc_hash === 'string' && value.doc_hash ? value.doc_hash : null,
    filter: typeof value.filter === 'string' ? value.filter : null,
    question,
    prompt,
    messages,
    output,
    extracted,
    answerSection: isMultipleChoice ? null : answerSectionOf(output),
    target,
    gold,
    metric,
    score,
    correct: score === null ? null : score >= 1 - 1e-9,
    metrics,
  };
}

/** Parses a whole sample log. `file` names the task (from `samples_<task>_<ts>.jsonl`) and labels errors. */
export function parseSamplesJsonl(text: string, file?: string): EvalSamplesParse {
  const parsed = parseJsonl<Json>(text);
  const rows: EvalSampleRow[] = [];
  for (const r of parsed) if (r.kind === 'value') rows.push(parseSampleRow(r.value, r.line));
  return { task: file ? taskFromSamplesFileName(file) : null, rows, errors: jsonlErrors(parsed, file) };
}

/** Rows of one filter (e.g. only `strict-match`), or all rows when the file logs no filter names. */
export function rowsForFilter(rows: readonly EvalSampleRow[], filter: string): EvalSampleRow[] {
  return rows.filter((r) => r.filter === null || r.filter === filter);
}

/** Accuracy of a set of rows: correct / graded (rows without a metric are not counted). */
export function accuracy(rows: readonly EvalSampleRow[]): { correct: number; graded: number; accuracy: number | null } {
  let correct = 0;
  let graded = 0;
  for (const r of rows) {
    if (r.correct === null) continue;
    graded++;
    if (r.correct) correct++;
  }
  return { correct, graded, accuracy: graded ? correct / graded : null };
}
