/**
 * Trace editor benchmark: the overlay and edits of paper-length traces must
 * stay interactive.
 *
 * 1. Token-mask overlay of an ~11k-token trace (the paper's average is
 *    10,905), measured in Node with the code the extension runs: the core's
 *    `tokenizeTrace` in a tokenizer worker thread (ids, offsets, labels) and
 *    the overlay geometry (src/traces/overlaySpans.ts: trained/masked spans and
 *    line/character positions). Cold (a fresh worker's first request) and
 *    after one-character edits (what typing and re-toggling costs), plus a
 *    policy switch. The trace is real text from ../shared/data (env
 *    DCD_SHARED): an AIME 2024 problem, a Qwen2.5-Math CoT draft, and an
 *    R1-Distill-Qwen-1.5B reasoning trace as the chain, cut to ~11k tokens.
 * 2. The in-VS Code number (toggle → decorations set, and result → set) is
 *    written by the integration test (test/integration/traces.test.ts) to
 *    test-results/trace-overlay-timing.json; it is copied here when present.
 * 3. Diagnosing the 70 MB, 1,675-sample corpus: bench/diagnostics.ts measures
 *    it (reused, not duplicated: its entry in bench/results.json, or its run()
 *    when there is none). The extension also installs the answer verifier,
 *    which that bench leaves out; its extra cost per line is measured here on
 *    the demo corpus (47 real samples) and extrapolated to 1,675 lines.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TokenizerPool, TokenEngine, resolveTokenizerSource, tokenizeTrace } from '../src/core/tokenizer';
import { renderTrace, type TraceFields } from '../src/core/trace/template';
import { diagnoseCorpusLine } from '../src/core/corpus/diagnostics';
import { verify, clearVerifierCaches } from '../src/core/answer';
import { overlaySpans } from '../src/traces/overlaySpans';

const ROOT = path.join(__dirname, '..');
const TARGET_TOKENS = 11_000;

const round = (x: number) => Math.round(x * 10) / 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function readJsonl(file: string): Record<string, unknown>[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The trace: real question, draft and chain; the chain cut so that the whole trace has about TARGET_TOKENS tokens. */
function buildTrace(data: string, engine: TokenEngine): { text: string; fields: TraceFields } {
  const r1 = readJsonl(path.join(data, 'student_drafts', 'r1-distill-qwen-1.5b_aime24_greedy.jsonl'));
  const qwen = readJsonl(path.join(data, 'student_drafts', 'qwen25math_rm_maj_example_math_cot_100.jsonl'));
  // A long trace that reasons rather than loops (row 20: 63,906 characters, a scored answer).
  const row = r1[20];
  const trace = (row.code as string[])[0];
  const draft = (qwen[0].code as string[])[0];
  const base = { question: String(row.question), draft, verdict: 'incorrect' as const, final_answer: `The answer is $\\boxed{${String(row.gt)}}$.` };
  let lo = 1000;
  let hi = trace.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    const n = engine.encodeIds(renderTrace({ ...base, chain: trace.slice(0, mid) }).text).length;
    if (n <= TARGET_TOKENS) lo = mid; else hi = mid - 1;
  }
  const fields = { ...base, chain: trace.slice(0, lo) };
  return { text: renderTrace(fields).text, fields };
}

export async function run(): Promise<Record<string, unknown>> {
  const shared = path.resolve(process.env.DCD_SHARED ?? path.join(ROOT, '..', 'shared'));
  const data = path.join(shared, 'data');
  if (!fs.existsSync(path.join(data, 'student_drafts', 'r1-distill-qwen-1.5b_aime24_greedy.jsonl'))) {
    return { skipped: `shared data not found under ${data}` };
  }
  const source = await resolveTokenizerSource();
  const { text, fields } = buildTrace(data, new TokenEngine(source.tokenizerJson, source.configJson));

  // 1. Worker: start, cold request, edits, policy switch.
  const t0 = performance.now();
  const pool = new TokenizerPool(source, { workers: 1, cacheRoot: null });
  await pool.vocabSize;
  const workerStartMs = performance.now() - t0;
  const overlay: Record<string, unknown> = {};
  try {
    const measure = async (t: string, policy: 'paper' | 'mask-draft') => {
      const a = performance.now();
      const tok = await tokenizeTrace(t, { pool, policy });
      const b = performance.now();
      const spans = overlaySpans(t, tok.offsets, tok.labels, tok.flags.truncated);
      const c = performance.now();
      return { tokens: tok.totalTokens, trained: tok.trainedTokens, spans: spans.trained.length + spans.masked.length, tokenizeMs: b - a, spansMs: c - b, totalMs: c - a };
    };
    const cold = await measure(text, 'paper');
    const edits = [];
    for (let k = 0; k < 7; k++) {
      const at = text.indexOf('\n', Math.floor(text.length * (0.3 + 0.08 * k)));
      edits.push(await measure(`${text.slice(0, at)} Let me check (${k}).${text.slice(at)}`, 'paper'));
    }
    const policy = await measure(text, 'mask-draft');
    const spansOnly: number[] = [];
    const tok = await tokenizeTrace(text, { pool });
    for (let k = 0; k < 20; k++) {
      const a = performance.now();
      overlaySpans(text, tok.offsets, tok.labels, false);
      spansOnly.push(performance.now() - a);
    }
    Object.assign(overlay, {
      trace: { tokens: cold.tokens, chars: text.length, draft_chars: fields.draft.length, chain_chars: fields.chain.length, trained_paper: cold.trained, trained_mask_draft: policy.trained },
      worker_start_ms: round(workerStartMs),
      cold_first_request: { tokenize_in_worker_ms: round(cold.tokenizeMs), overlay_spans_ms: round(cold.spansMs), total_ms: round(cold.totalMs) },
      after_one_edit_median: {
        tokenize_in_worker_ms: round(median(edits.map((e) => e.tokenizeMs))), overlay_spans_ms: round(median(edits.map((e) => e.spansMs))), total_ms: round(median(edits.map((e) => e.totalMs))),
        runs: edits.length,
      },
      policy_switch: { tokenize_in_worker_ms: round(policy.tokenizeMs), overlay_spans_ms: round(policy.spansMs), total_ms: round(policy.totalMs) },
      overlay_spans_only_median_ms: round(median(spansOnly)),
    });
  } finally {
    await pool.close();
  }

  // 2. The in-VS Code number, from the integration test.
  const timingFile = path.join(ROOT, 'test-results', 'trace-overlay-timing.json');
  const inVsCode = fs.existsSync(timingFile) ? JSON.parse(fs.readFileSync(timingFile, 'utf8')) as Record<string, unknown> : { missing: `${path.relative(ROOT, timingFile)} (run the integration test "Trace editor")` };

  // 3. Diagnostics of the 70 MB corpus: bench/diagnostics.ts's result.
  const resultsFile = path.join(__dirname, 'results.json');
  let diagnostics: Record<string, unknown> | undefined;
  if (fs.existsSync(resultsFile)) {
    const prev = (JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as { benches?: Record<string, Record<string, unknown>> }).benches?.diagnostics;
    if (prev && !prev.error && !prev.skipped) diagnostics = { from: 'bench/results.json (bench/diagnostics.ts)', ...pick(prev, ['corpus', 'cold', 'edit_one_line', 'slice_ms', 'measured_at']) };
  }
  if (!diagnostics) {
    const { run: runDiagnostics } = await import('./diagnostics');
    diagnostics = { from: 'bench/diagnostics.ts run()', ...pick(await runDiagnostics(), ['corpus', 'cold', 'edit_one_line', 'slice_ms', 'skipped']) };
  }
  const demo = fs.readFileSync(path.join(ROOT, 'media', 'demo', 'demo.dcd.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
  const timeLines = (ctx: Parameters<typeof diagnoseCorpusLine>[2]) => {
    const a = performance.now();
    for (let r = 0; r < 5; r++) {
      clearVerifierCaches(); // as in a first pass over a corpus: nothing memoised
      demo.forEach((l, i) => diagnoseCorpusLine(l, i, ctx));
    }
    return (performance.now() - a) / (5 * demo.length);
  };
  timeLines({});
  const plain = timeLines({});
  const withVerifier = timeLines({ verify: (p, g, o) => verify(p, g, o) });
  const verifierPerLine = Math.max(0, withVerifier - plain);

  return {
    overlay_11k: overlay,
    overlay_in_vscode: inVsCode,
    diagnose_70mb: diagnostics,
    verifier_hook: {
      demo_lines: demo.length, per_line_ms_without: round(plain * 100) / 100, per_line_ms_with: round(withVerifier * 100) / 100,
      extra_for_1675_lines_ms: round(verifierPerLine * 1675),
    },
  };
}

function pick(o: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]]));
}

if (require.main === module) {
  void run().then((r) => console.log(JSON.stringify(r, null, 2)));
}
