/**
 * Corpus diagnostics benchmark: how long `CorpusDiagnoser` takes on a corpus of
 * the paper's size (1,675 samples, about 70 MB of JSONL), cold and after edits,
 * and the longest single time slice (what the editor would feel as a freeze).
 *
 * The corpus is generated: real text from ../shared/data (env DCD_SHARED)
 * rendered with the paper template. Questions and final answers come from the
 * s1K question/solution file, drafts from Qwen2.5-Math CoT samples and GPT-3
 * GSM8K solutions, chains from R1-Distill-1.5B AIME24 traces (sliced so that
 * every line differs). Every 100th line has its chain edited without
 * re-rendering `text`, so the pass also finds (and can fix) problems.
 * No verifier or tokenizer hook is installed: those cost what they cost.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CorpusDiagnoser, diagnoseCorpusLine } from '../src/core/corpus/diagnostics';
import { renderTrace, type TraceFields } from '../src/core/trace/template';

const SAMPLES = 1675;
const TARGET_BYTES = 70e6;
const SLICE_MS = 16;

function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}

interface Sources { questions: string[]; solutions: string[]; drafts: string[]; chains: string[] }

function corpusLines(src: Sources, chainChars: number, step = 1): string[] {
  const lines: string[] = [];
  for (let i = 0; i < SAMPLES; i += step) {
    const trace = src.chains[i % src.chains.length];
    const start = (i * 7919) % Math.max(1, trace.length - chainChars);
    let chain = (trace + '\n' + trace).slice(start, start + chainChars);
    const verdict = i % 5 < 3 ? 'correct' : 'incorrect'; // 1,000 : 675 as in the paper
    const fields: TraceFields = {
      question: src.questions[i % src.questions.length],
      draft: src.drafts[i % src.drafts.length],
      chain, verdict,
      final_answer: src.solutions[(i * 31) % src.solutions.length],
    };
    const text = renderTrace(fields).text;
    if (i % 100 === 50) chain = chain.replace(/\d/, (d) => String((Number(d) + 1) % 10));
    lines.push(JSON.stringify({
      id: `bench-${i}`, question: fields.question, draft: fields.draft, draft_source: verdict === 'correct' ? 'gemini' : 'student:qwen2.5-math',
      verdict, chain, final_answer: fields.final_answer, gold_answer: String(i % 97), draft_answer: String(i % 89),
      verifier_rule: 'bench', s1k_index: i % 1000, cot_type: 'math', text,
    }));
  }
  return lines;
}

interface PassStats { ms: number; slices: number; max_slice_ms: number; computed: number; reused: number; diagnostics: number }

function pass(d: CorpusDiagnoser, lines: readonly string[]): PassStats {
  const t0 = performance.now();
  let next = 0;
  let slices = 0;
  let maxSlice = 0;
  let computed = 0;
  let reused = 0;
  let diagnostics = 0;
  for (;;) {
    const s = performance.now();
    const r = d.diagnoseChunk(lines, next, SLICE_MS);
    maxSlice = Math.max(maxSlice, performance.now() - s);
    slices++;
    computed += r.computed;
    reused += r.reused;
    diagnostics += r.diagnostics.length;
    next = r.next;
    if (r.done) break;
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return { ms: round(performance.now() - t0), slices, max_slice_ms: round(maxSlice), computed, reused, diagnostics };
}

export async function run(): Promise<Record<string, unknown>> {
  const shared = resolve(process.env.DCD_SHARED ?? resolve(__dirname, '..', '..', 'shared'));
  const data = join(shared, 'data');
  const files = {
    s1k: join(data, 's1k', 's1K_question_solution_1000.json'),
    qwen: join(data, 'student_drafts', 'qwen25math_rm_maj_example_math_cot_100.jsonl'),
    gpt3: join(data, 'student_drafts', 'gpt3_gsm8k_test_example_model_solutions.jsonl'),
    r1: join(data, 'student_drafts', 'r1-distill-qwen-1.5b_aime24_greedy.jsonl'),
  };
  const missing = Object.values(files).filter((f) => !existsSync(f));
  if (missing.length) return { skipped: `shared data not found: ${missing.join(', ')}` };

  const s1k = JSON.parse(readFileSync(files.s1k, 'utf8')) as { problem: string; solution: string }[];
  const drafts: string[] = [];
  for (const row of readJsonl(files.qwen)) for (const c of row.code as string[]) drafts.push(c);
  for (const row of readJsonl(files.gpt3).slice(0, 300)) drafts.push((row['175b_verification'] as { solution: string }).solution);
  const src: Sources = {
    questions: s1k.map((r) => r.problem), solutions: s1k.map((r) => r.solution), drafts,
    chains: readJsonl(files.r1).map((r) => (r.code as string[])[0]),
  };

  // Size the chains so that the file is about TARGET_BYTES: bytes grow linearly with the chain length.
  const tGen = performance.now();
  const sampleBytes = (chars: number) => corpusLines(src, chars, 5).reduce((n, l) => n + Buffer.byteLength(l) + 1, 0) * 5;
  const [c1, c2] = [12000, 20000];
  const [b1, b2] = [sampleBytes(c1), sampleBytes(c2)];
  const chainChars = Math.round(c1 + (TARGET_BYTES - b1) / ((b2 - b1) / (c2 - c1)));
  const lines = corpusLines(src, chainChars);
  const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  const generateMs = Math.round(performance.now() - tGen);

  // Per-line cost of the pure check, on a sample of lines.
  const perLine: number[] = [];
  for (let i = 0; i < SAMPLES; i += 25) {
    const t = performance.now();
    diagnoseCorpusLine(lines[i], i);
    perLine.push(performance.now() - t);
  }
  perLine.sort((a, b) => a - b);

  const d = new CorpusDiagnoser();
  const cold = pass(d, lines);
  const unchanged = pass(d, lines);

  const edited = [...lines];
  edited[837] = edited[837].replace('"verdict":"correct"', '"verdict":"incorrect"');
  const editOneLine = pass(d, edited);

  // The editor handing over fresh strings for every line (e.g. getText().split): equal content, new objects.
  const fresh = edited.join('\n').split('\n');
  const freshStrings = pass(d, fresh);

  const inserted = [lines[0].replace('"id":"bench-0"', '"id":"bench-new"'), ...fresh];
  const insertAtTop = pass(d, inserted);

  const round = (x: number) => Math.round(x * 100) / 100;
  return {
    corpus: { samples: SAMPLES, bytes, mb: round(bytes / 1e6), avg_line_bytes: Math.round(bytes / SAMPLES), chain_chars: chainChars, generate_ms: generateMs },
    slice_ms: SLICE_MS,
    per_line_ms: { median: round(perLine[perLine.length >> 1]), p95: round(perLine[Math.floor(perLine.length * 0.95)]), max: round(perLine[perLine.length - 1]) },
    cold: { ...cold, mb_per_s: round(bytes / 1e6 / (cold.ms / 1000)) },
    unchanged_repass: unchanged,
    edit_one_line: editOneLine,
    fresh_line_strings: freshStrings,
    insert_line_at_top: insertAtTop,
    cached_lines: d.stats.cachedLines,
  };
}

if (require.main === module) {
  void run().then((r) => console.log(JSON.stringify(r, null, 2)));
}
