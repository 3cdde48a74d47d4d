/**
 * Tokenizer benchmark: our engine must keep up with Hugging Face's Rust
 * tokenizer, since every trace shown or exported is tokenized.
 *
 * 1. Throughput, one thread each, on the same ~5 MB of real reasoning text
 *    (shared/data: R1-Distill traces, s1K solutions, Qwen2.5-Math CoT,
 *    GSM8K): our engine (ids + UTF-16 offsets, fresh caches) vs Hugging Face's
 *    Rust `tokenizers` (`encode`, one text at a time, which also computes
 *    offsets), plus the plain tokenizers.js path for reference. Floor: ratio
 *    ours / Rust ≥ 0.8.
 * 2. The full audit of a generated paper-scale corpus: 1,000 questions, each
 *    with a draft-correct sample and 675 of them with a draft-wrong one sharing
 *    the chain (1,675 samples, ~18 M tokens), built from real text: s1K
 *    questions and solutions, real student drafts, chains cut from a pool of
 *    real reasoning text with per-question changes (digits remapped, words
 *    inserted) so that chains of different questions do not share lines.
 *    Cold (empty disk cache, worker threads) and warm (cached) against the
 *    Rust package's `encodeBatch` over the same texts (it uses every core).
 *    Floors: cold no slower than Rust; warm ≤ 2 s (median of three runs).
 *    CPU seconds are reported beside wall seconds: the machine may be shared.
 *
 * Reads shared/data from env DCD_SHARED (default ../shared from the repo root);
 * returns {skipped} without it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Tokenizer as RustTokenizer } from 'tokenizers';
import { TokenEngine, resolveTokenizerSource, defaultWorkerCount } from '../src/core/tokenizer';
import { auditCorpus } from '../src/core/training/audit';
import { renderTrace } from '../src/core/trace/template';

const ROOT = path.join(__dirname, '..');

function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readJsonl<T>(file: string): T[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
}

interface RealText {
  r1: string[];
  mathCot: string[];
  s1k: Array<{ problem: string; solution: string }>;
  gsm: Array<{ question: string; answer: string }>;
  mathDrafts: string[];
  gpt3Drafts: string[];
}

export function loadReal(data: string): RealText {
  const r1 = readJsonl<{ code: string[] }>(path.join(data, 'student_drafts/r1-distill-qwen-1.5b_aime24_greedy.jsonl')).map((r) => r.code[0]);
  const mathCot = readJsonl<{ code: string[] }>(path.join(data, 'student_drafts/qwen25math_rm_maj_example_math_cot_100.jsonl')).flatMap((r) => r.code);
  const s1k = JSON.parse(fs.readFileSync(path.join(data, 's1k/s1K_question_solution_1000.json'), 'utf8')) as Array<{ problem: string; solution: string }>;
  const gsm = readJsonl<{ question: string; answer: string }>(path.join(data, 'gsm8k/gsm8k_train.jsonl'));
  const mathDrafts = readJsonl<{ response: string }>(path.join(data, 'student_drafts/qwen2.5-math-1.5b_r1zero_math500_results.jsonl')).map((r) => r.response);
  const gpt3Drafts = readJsonl<Record<string, { solution?: string }>>(path.join(data, 'student_drafts/gpt3_gsm8k_test_example_model_solutions.jsonl'))
    .flatMap((r) => ['6b_finetuning', '175b_finetuning'].map((k) => r[k]?.solution ?? '')).filter(Boolean);
  return { r1, mathCot, s1k, gsm, mathDrafts, gpt3Drafts };
}

/** ~5 MB of real text, in documents. */
function fiveMegabytes(real: RealText): string[] {
  const out: string[] = [];
  let bytes = 0;
  const take = (t: string): boolean => { out.push(t); bytes += Buffer.byteLength(t); return bytes >= 5_000_000; };
  for (const t of [...real.r1, ...real.s1k.flatMap((r) => [r.problem, r.solution]), ...real.mathCot, ...real.gsm.map((g) => `${g.question}\n${g.answer}`)]) {
    if (take(t)) break;
  }
  return out;
}

/** The generated paper-scale corpus (see the file comment). */
export function generateCorpus(real: RealText): Array<{ text: string; chain: string; id: string }> {
  const next = rng(20240601);
  const lines = [...real.r1, ...real.mathCot, ...real.s1k.map((r) => r.solution), ...real.gsm.slice(0, 3000).map((g) => g.answer)]
    .flatMap((t) => t.split('\n')).filter((l) => l.trim());
  // Inserted words come from the 2,000 most frequent words of the pool, so they do not inflate the vocabulary.
  const freq = new Map<string, number>();
  for (const w of lines.join(' ').split(/\s+/)) if (/^[A-Za-z]{3,12}$/.test(w)) freq.set(w, (freq.get(w) ?? 0) + 1);
  const words = [...freq.entries()].sort((a, b) => b[1] - a[1]).slice(0, 2000).map(([w]) => w);
  const students = [...real.mathDrafts, ...real.gpt3Drafts];
  const samples: Array<{ text: string; chain: string; id: string }> = [];
  for (let q = 0; q < 1000; q++) {
    // Chain length: log-normal around ~26 k characters (~10 k tokens), 5 k to 80 k.
    const z = Math.sqrt(-2 * Math.log(next() || 1e-9)) * Math.cos(2 * Math.PI * next());
    const target = Math.min(80_000, Math.max(5_000, Math.round(24_000 * Math.exp(0.45 * z))));
    const digits = [...'0123456789'].sort(() => next() - 0.5);
    let chain = '';
    let at = Math.floor(next() * lines.length);
    while (chain.length < target) {
      let line = lines[at++ % lines.length].replace(/[0-9]/g, (d) => digits[Number(d)]);
      if (next() < 0.7) {
        const parts = line.split(' ');
        parts.splice(Math.floor(next() * (parts.length + 1)), 0, words[Math.floor(next() * words.length)]);
        line = parts.join(' ');
      }
      chain += (chain ? '\n' : '') + line;
    }
    const { problem, solution } = real.s1k[q];
    const correct = renderTrace({ question: problem, draft: solution, chain, verdict: 'correct', final_answer: solution });
    samples.push({ text: correct.text, chain, id: `q${q}-correct` });
    if (q < 675) {
      const draft = students[(q * 7) % students.length];
      const wrong = renderTrace({ question: problem, draft, chain, verdict: 'incorrect', final_answer: solution });
      samples.push({ text: wrong.text, chain, id: `q${q}-wrong` });
    }
  }
  return samples;
}

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d;

export async function run(): Promise<Record<string, unknown>> {
  const shared = process.env.DCD_SHARED ? path.resolve(process.env.DCD_SHARED) : path.join(ROOT, '..', 'shared');
  const data = path.join(shared, 'data');
  if (!fs.existsSync(path.join(data, 'student_drafts'))) return { skipped: `no shared data at ${data} (set DCD_SHARED)` };
  const real = loadReal(data);
  const source = await resolveTokenizerSource();
  const rust = RustTokenizer.fromString(source.tokenizerJson);

  // ---- 1. single-thread throughput on ~5 MB
  const texts = fiveMegabytes(real);
  const mb = texts.reduce((a, t) => a + Buffer.byteLength(t), 0) / 1e6;
  const load0 = os.loadavg()[0];
  // Wall seconds and CPU seconds of this process (all its threads: worker threads and Rust's pool included).
  const timeIt = async (f: () => Promise<number> | number): Promise<{ tokens: number; s: number; cpu: number }> => {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const tokens = await f();
    const c = process.cpuUsage(c0);
    return { tokens, s: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
  };
  const rustRun = await timeIt(async () => {
    let n = 0;
    for (const t of texts) n += (await rust.encode(t, null, { addSpecialTokens: false })).getLength();
    return n;
  });
  const ours = new TokenEngine(source.tokenizerJson, source.configJson);
  const oursRun = await timeIt(() => texts.reduce((n, t) => n + ours.encode(t).ids.length, 0));
  const wordOnly = new TokenEngine(source.tokenizerJson, source.configJson, { chunkCacheTokens: 0 });
  const wordOnlyRun = await timeIt(() => texts.reduce((n, t) => n + wordOnly.encode(t).ids.length, 0));
  const libSlice = texts.slice(0, Math.ceil(texts.length / 10));
  const libRun = await timeIt(() => libSlice.reduce((n, t) => n + ours.lib.encode(t, { add_special_tokens: false }).ids.length, 0));
  if (oursRun.tokens !== rustRun.tokens) throw new Error(`token counts differ on the 5 MB text: ours ${oursRun.tokens}, Rust ${rustRun.tokens}`);
  const tps = (r: { tokens: number; s: number }): number => r.tokens / r.s / 1e6;

  // ---- 2. the full audit of a paper-scale corpus, 2 workers vs Rust encodeBatch
  const t0 = performance.now();
  const corpus = generateCorpus(real);
  const genS = (performance.now() - t0) / 1000;
  const corpusTexts = corpus.map((s) => s.text);
  const rustBatch = await timeIt(async () => {
    let n = 0;
    for (let i = 0; i < corpusTexts.length; i += 32) {
      for (const e of await rust.encodeBatch(corpusTexts.slice(i, i + 32), { addSpecialTokens: false })) n += e.getLength();
    }
    return n;
  });
  const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-bench-tokens-'));
  try {
    const workers = Math.min(2, defaultWorkerCount());
    let cold!: Awaited<ReturnType<typeof auditCorpus>>;
    let warm!: Awaited<ReturnType<typeof auditCorpus>>;
    const coldRun = await timeIt(async () => { cold = await auditCorpus(corpus, { cacheDir, workers }); return cold.tokens_untruncated; });
    // Three warm runs; the median is reported (the first may also pay for collecting the cold run's garbage).
    const warmRuns: Array<{ s: number; cpu: number }> = [];
    for (let i = 0; i < 3; i++) warmRuns.push(await timeIt(async () => { warm = await auditCorpus(corpus, { cacheDir, workers }); return warm.tokens_untruncated; }));
    const warmRun = [...warmRuns].sort((a, b) => a.s - b.s)[1];
    const coldS = coldRun.s;
    const warmS = warmRun.s;
    if (cold.tokens_untruncated !== rustBatch.tokens) throw new Error(`corpus token counts differ: audit ${cold.tokens_untruncated}, Rust ${rustBatch.tokens}`);
    if (warm.cache.misses !== 0) throw new Error('the warm audit missed the cache');
    return {
      cpus: os.cpus().length,
      load_average: { start: round(load0, 1), end: round(os.loadavg()[0], 1) },
      throughput: {
        text_mb: round(mb, 2), tokens: rustRun.tokens,
        rust_mtok_s: round(tps(rustRun)), ours_mtok_s: round(tps(oursRun)), ratio_ours_over_rust: round(tps(oursRun) / tps(rustRun), 2),
        rust_cpu_s: round(rustRun.cpu, 2), ours_cpu_s: round(oursRun.cpu, 2),
        ours_word_cache_only_mtok_s: round(tps(wordOnlyRun)), tokenizers_js_plain_mtok_s: round(tps(libRun)),
        floor_ratio: 0.8, ok: tps(oursRun) / tps(rustRun) >= 0.8,
      },
      audit: {
        samples: corpus.length, tokens: cold.tokens_untruncated, generate_s: round(genS, 1), workers,
        rust_encode_batch_s: round(rustBatch.s, 2), cold_s: round(coldS, 2), warm_s: round(warmS, 2),
        rust_encode_batch_cpu_s: round(rustBatch.cpu, 2), cold_cpu_s: round(coldRun.cpu, 2), warm_cpu_s: round(warmRun.cpu, 2),
        warm_runs_s: warmRuns.map((r) => round(r.s, 2)),
        cold_speedup_over_rust: round(rustBatch.s / coldS, 2),
        chunk_cache_hits: cold.cache.chunk_hits, chunk_cache_misses: cold.cache.chunk_misses,
        trained_ratio: round(cold.trained_ratio, 4), flags: cold.flags,
        floors: { cold_no_slower_than_rust: coldS <= rustBatch.s, warm_le_2s: warmS <= 2 },
      },
    };
  } finally {
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (err) => { console.error(err); process.exit(1); });
}
