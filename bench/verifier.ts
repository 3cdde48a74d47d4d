/**
 * Verifier benchmark: agreement with graders' labels on real student drafts,
 * and throughput. Reads ../shared/data (env DCD_SHARED); skips when absent.
 *
 * - gpt3_gsm8k: OpenAI's GSM8K test solutions (4 systems x 1319), label
 *   `is_correct`; gold = the `#### N` line of gsm8k_test.jsonl for the question.
 * - qwen25math_rm_maj: 100 MATH problems x 8 responses, label `score`; gold =
 *   the row's `answer` (the MATH answer); the draft = the full response.
 * - r1_distill_aime24: 30 greedy R1-Distill-1.5B traces, label `score`; gold `gt`.
 *
 * Each file reports every disagreement (label vs ours) with both answers.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { clearVerifierCaches, extractGold, verify, answersEquivalent, type Verification } from '../src/core/answer';

interface Disagreement { id: string; label: boolean; ours: boolean | null; rule: string; pred_answer: string | null; gold_answer: string | null; judgement?: string }
interface FileResult { n: number; agree: number; agreement: number; disagreements: Disagreement[]; label_errors: number; agreement_on_correct_labels: number }

/**
 * Disagreements investigated by hand where the grader's label is wrong (file -> id pattern -> why).
 * Anything not listed here is a verifier error to fix.
 */
const KNOWN_LABEL_ERRORS: Record<string, [RegExp, string][]> = {
  qwen: [
    [/^3:\d$/, 'label wrong: the response boxes "4:30 \\text{ p.m.}", the MATH answer is "\\text{4:30 p.m.}"; the grader\'s gt had been truncated to "4:30p.." so nothing could match'],
    [/^72:7$/, 'label wrong: 10000 is the MATH answer 10{,}000; the grader did not strip the {,} separator'],
  ],
};

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function tally(rows: { id: string; label: boolean; v: Verification }[], known: [RegExp, string][] = []): FileResult {
  const disagreements: Disagreement[] = [];
  for (const r of rows) {
    if ((r.v.equivalent === true) !== r.label) {
      const d: Disagreement = { id: r.id, label: r.label, ours: r.v.equivalent, rule: r.v.rule, pred_answer: r.v.pred_answer, gold_answer: r.v.gold_answer };
      const why = known.find(([re]) => re.test(r.id));
      if (why) d.judgement = why[1];
      disagreements.push(d);
    }
  }
  const n = rows.length;
  const labelErrors = disagreements.filter((d) => d.judgement).length;
  const agree = n - disagreements.length;
  return {
    n, agree, agreement: n ? agree / n : 0, disagreements,
    label_errors: labelErrors,
    agreement_on_correct_labels: n - labelErrors ? agree / (n - labelErrors) : 0,
  };
}

const ROOT = resolve(__dirname, '..');

interface OraclePair { mode: 'bare' | 'pred-extract' | 'extract'; pred: string; gold: string }

/** The oracle's pairs (test/fixtures/verifier: pairs.jsonl + oracle_pairs.jsonl), as python-backend/tests/verifier_oracle.py loads them. */
function oraclePairs(): OraclePair[] {
  const dir = join(ROOT, 'test', 'fixtures', 'verifier');
  const labelled = readJsonl(join(dir, 'pairs.jsonl')).map((r) => ({ mode: r.extract ? 'extract' : 'bare', pred: String(r.pred), gold: String(r.gold) }) as OraclePair);
  return [...labelled, ...readJsonl(join(dir, 'oracle_pairs.jsonl')) as unknown as OraclePair[]];
}

/**
 * Against Math-Verify on the same pairs in one run: our verify() in process (pairs/s and the slowest pair),
 * `dcd verify --pairs` as a process (python-backend/tests/verifier_oracle.py --bench runs it and Math-Verify).
 */
function versusMathVerify(): Record<string, unknown> {
  const pairs = oraclePairs();
  clearVerifierCaches();
  // mathjs loads on the first comparison that needs the CAS (a one-time cost, like Math-Verify's
  // import, which is not timed either): load it first and record it apart.
  const tLoad = performance.now();
  verify('\\sqrt{2}/2', '\\frac{1}{\\sqrt{2}}', { predIsAnswer: true, goldIsAnswer: true });
  const casLoadMs = performance.now() - tLoad;
  clearVerifierCaches();
  let maxMs = 0;
  const t0 = performance.now();
  for (const p of pairs) {
    const t = performance.now();
    verify(p.pred, p.gold, { predIsAnswer: p.mode === 'bare', goldIsAnswer: p.mode !== 'extract' });
    maxMs = Math.max(maxMs, performance.now() - t);
  }
  const inProcessS = (performance.now() - t0) / 1000;
  const py = process.env.DCD_VENV_PYTHON ?? join(ROOT, '.venv', 'bin', 'python');
  // `dcd verify --pairs` as users run it: the built CLI (out/cli.js), freshly built.
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  const cli = join(ROOT, 'out', 'cli.js');
  const env = build.status === 0 && existsSync(cli) ? { ...process.env, DCD_CLI: cli } : process.env;
  const r = spawnSync(py, [join(ROOT, 'python-backend', 'tests', 'verifier_oracle.py'), '--bench'], { cwd: ROOT, encoding: 'utf8', timeout: 900_000, env });
  if (r.status !== 0) return { n_pairs: pairs.length, in_process_pairs_per_s: Math.round(pairs.length / inProcessS), max_pair_ms: maxMs, math_verify: `not run: ${(r.stderr || r.error?.message || '').slice(-300)}` };
  const mv = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, number>;
  const round = (x: number, k = 1) => Math.round(x * k) / k;
  return {
    n_pairs: pairs.length,
    in_process_pairs_per_s: Math.round(pairs.length / inProcessS),
    max_pair_ms: round(maxMs, 10),
    cas_first_load_ms: Math.round(casLoadMs),
    cli: env.DCD_CLI ? 'node out/cli.js verify --pairs (one process, startup included)' : 'tsx src/cli/index.ts (build failed)',
    cli_pairs_per_s: round(mv.ours_cli_pairs_per_s), cli_pairs_per_cpu_s: round(mv.ours_cli_pairs_per_cpu_s),
    math_verify_pairs_per_s: round(mv.math_verify_pairs_per_s, 10), math_verify_pairs_per_cpu_s: round(mv.math_verify_pairs_per_cpu_s, 10),
    math_verify_max_pair_ms: Math.round(mv.math_verify_max_pair_s * 1000),
    // Wall-clock ratios move with the machine's load; the CPU-second ratio is the steady one.
    speedup_cli_wall: round(mv.ours_cli_pairs_per_s / mv.math_verify_pairs_per_s, 10),
    speedup_cli_cpu: round(mv.ours_cli_pairs_per_cpu_s / mv.math_verify_pairs_per_cpu_s, 10),
    cli_startup_cpu_s: round(mv.ours_cli_startup_cpu_s, 100),
    speedup_cli_cpu_after_startup: round(mv.ours_cli_pairs_per_cpu_s_after_startup / mv.math_verify_pairs_per_cpu_s, 10),
    speedup_in_process_wall: round(pairs.length / inProcessS / mv.math_verify_pairs_per_s, 10),
    agreement_where_both_decide: round(mv.agreement, 10000), both_decide: mv.both_decide,
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const versus = versusMathVerify();
  const shared = resolve(process.env.DCD_SHARED ?? resolve(process.cwd(), '../shared'));
  const data = join(shared, 'data');
  const drafts = join(data, 'student_drafts');
  const files = {
    gsm8kGold: join(data, 'gsm8k', 'gsm8k_test.jsonl'),
    gpt3: join(drafts, 'gpt3_gsm8k_test_example_model_solutions.jsonl'),
    qwen: join(drafts, 'qwen25math_rm_maj_example_math_cot_100.jsonl'),
    r1: join(drafts, 'r1-distill-qwen-1.5b_aime24_greedy.jsonl'),
  };
  const missing = Object.values(files).filter((f) => !existsSync(f));
  if (missing.length) return { versus_math_verify: versus, skipped: `shared data not found (${missing.join(', ')}); set DCD_SHARED` };

  const results: Record<string, FileResult> = {};

  // GSM8K: gold by question from the official test file.
  const goldByQuestion = new Map<string, string>();
  for (const r of readJsonl(files.gsm8kGold)) goldByQuestion.set(String(r.question).trim(), String(r.answer));
  const gsmRows: { id: string; label: boolean; v: Verification }[] = [];
  const gsmPairs: [string, string][] = [];
  const systems = ['6b_finetuning', '6b_verification', '175b_finetuning', '175b_verification'];
  const gpt3 = readJsonl(files.gpt3);
  clearVerifierCaches();
  const t0 = performance.now();
  gpt3.forEach((row, i) => {
    const gold = goldByQuestion.get(String(row.question).trim());
    if (gold === undefined) throw new Error(`gsm8k question ${i} not in gsm8k_test.jsonl`);
    for (const s of systems) {
      const sol = row[s] as { is_correct: boolean; solution: string };
      gsmPairs.push([sol.solution, gold]);
      gsmRows.push({ id: `${i}:${s}`, label: sol.is_correct, v: verify(sol.solution, gold) });
    }
  });
  const gsmSeconds = (performance.now() - t0) / 1000;
  results['gpt3_gsm8k_test_example_model_solutions.jsonl'] = tally(gsmRows);

  // Qwen2.5-Math example: full responses against the MATH answer.
  const qwenRows: { id: string; label: boolean; v: Verification }[] = [];
  const qwenPredRows: { id: string; label: boolean; v: Verification }[] = [];
  for (const row of readJsonl(files.qwen)) {
    const responses = row.code as string[];
    const scores = row.score as boolean[];
    const preds = row.pred as string[];
    responses.forEach((resp, k) => {
      qwenRows.push({ id: `${row.idx}:${k}`, label: scores[k], v: verify(resp, String(row.answer), { goldIsAnswer: true }) });
      qwenPredRows.push({ id: `${row.idx}:${k}`, label: scores[k], v: verify(preds[k], String(row.gt), { goldIsAnswer: true, predIsAnswer: true }) });
    });
  }
  results['qwen25math_rm_maj_example_math_cot_100.jsonl'] = tally(qwenRows, KNOWN_LABEL_ERRORS.qwen);

  // R1-Distill on AIME24: full traces against gt.
  const r1Rows: { id: string; label: boolean; v: Verification }[] = [];
  for (const row of readJsonl(files.r1)) {
    r1Rows.push({ id: String(row.idx), label: (row.score as boolean[])[0], v: verify((row.code as string[])[0], String(row.gt), { goldIsAnswer: true }) });
  }
  results['r1-distill-qwen-1.5b_aime24_greedy.jsonl'] = tally(r1Rows);

  // Throughput (best of 5 runs, to damp a shared machine's noise).
  const best = (fn: () => void): number => {
    let min = Infinity;
    for (let k = 0; k < 5; k++) { const t = performance.now(); fn(); min = Math.min(min, performance.now() - t); }
    return min / 1000;
  };
  // Typical numeric answer pairs (the extracted GSM8K answers), cold caches every run.
  const numericPairs = gsmRows.filter((r) => r.v.pred_answer !== null && r.v.gold_answer !== null)
    .map((r) => [r.v.pred_answer as string, r.v.gold_answer as string] as const);
  const answerSeconds = best(() => { clearVerifierCaches(); for (const [a, b] of numericPairs) answersEquivalent(a, b); });
  // Warm: parses cached, as when a corpus grades many drafts against the same gold.
  const warmSeconds = best(() => { for (const [a, b] of numericPairs) answersEquivalent(a, b); });
  // Full drafts with extraction (GSM8K solutions against the #### gold), cold.
  const gsmSecondsBest = best(() => { clearVerifierCaches(); for (const [p, g] of gsmPairs) verify(p, g); });
  // LaTeX answers that are not identical strings (the Qwen grader's preds vs the MATH answers:
  // \dfrac, units, separators, mixed numbers, choices), cold.
  const qwenPairs: [string, string][] = [];
  for (const r of readJsonl(files.qwen)) {
    for (const p of r.pred as string[]) if (p.trim() !== String(r.answer).trim()) qwenPairs.push([p, String(r.answer)]);
  }
  const latexSeconds = best(() => { clearVerifierCaches(); for (const [a, b] of qwenPairs) answersEquivalent(a, b); });

  const s1k = join(data, 's1k', 's1K_question_solution_1000.json');
  let s1kGold: Record<string, number> | undefined;
  if (existsSync(s1k)) {
    const rows = JSON.parse(readFileSync(s1k, 'utf8')) as { solution: string }[];
    s1kGold = {};
    for (const r of rows) {
      const g = extractGold(r.solution);
      s1kGold[g.rule] = (s1kGold[g.rule] ?? 0) + 1;
    }
  }

  return {
    versus_math_verify: versus,
    files: results,
    pairs_per_s: Math.round(numericPairs.length / answerSeconds),
    pairs_per_s_warm: Math.round(numericPairs.length / warmSeconds),
    drafts_per_s_with_extraction: Math.round(gsmPairs.length / gsmSecondsBest),
    drafts_per_s_first_pass: Math.round(gsmPairs.length / gsmSeconds),
    latex_pairs_per_s: Math.round(qwenPairs.length / latexSeconds),
    n_latex_pairs: qwenPairs.length,
    n_numeric_pairs: numericPairs.length,
    // The grader's own extracted `pred` against its `gt` (equivalence only, no extraction).
    qwen_pred_vs_gt: tally(qwenPredRows, KNOWN_LABEL_ERRORS.qwen),
    s1k_gold_rules: s1kGold,
  };
}

// Run directly: node --import tsx bench/verifier.ts
if (process.argv[1] && /verifier\.ts$/.test(process.argv[1])) {
  run().then((r) => process.stdout.write(JSON.stringify(r, null, 2) + '\n'));
}
