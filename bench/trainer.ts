/**
 * Trainer throughput: tokens/s of `builtin:tiny` on this machine's CPU, through the real entry point.
 * Generates a small synthetic export (python-backend/tools/make_export.py), runs
 * `train.py --preset cpu-smoke` on it and reads RUN_DIR/events.jsonl. The first step (warm-up) is left
 * out of the rates. Interpreter: env DCD_PYTHON, default /usr/bin/python3 (Debian's, with torch).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const BACKEND = path.join(ROOT, 'python-backend');

interface StepEvent { event: 'step'; step: number; loss: number; tokens: number; tokens_per_s: number; elapsed_s: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface Config { vocab: number; samples: number; len: number; steps: number; grad_accum: number; threads: number }

/** One smoke run; rates leave out the first (warm-up) step. */
function measure(python: string, work: string, name: string, c: Config): Record<string, unknown> {
  const exp = path.join(work, `${name}-export`);
  const mk = spawnSync(python, [path.join(BACKEND, 'tools', 'make_export.py'), '--out', exp, '--samples', String(c.samples),
    '--min-len', String(c.len), '--max-len', String(c.len), '--vocab', String(c.vocab)], { encoding: 'utf8' });
  if (mk.status !== 0) throw new Error(`make_export failed: ${mk.stderr}`);
  const runDir = path.join(work, `${name}-run`);
  const t0 = Date.now();
  const tr = spawnSync(python, [path.join(BACKEND, 'train.py'), '--data', exp, '--model', 'builtin:tiny', '--preset', 'cpu-smoke',
    '--out', runDir, '--max-steps', String(c.steps), '--grad-accum', String(c.grad_accum), '--max-length', String(c.len),
    '--save-every', '0', '--threads', String(c.threads)],
  { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(c.threads) } });
  const wallS = (Date.now() - t0) / 1000;
  if (tr.status !== 0) throw new Error(`train.py exited ${tr.status}: ${tr.stderr.slice(-2000)}`);
  const events = readFileSync(path.join(runDir, 'events.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const steps = events.filter((e): e is StepEvent => e.event === 'step');
  const timed = steps.slice(1);
  const tokens = timed.reduce((a, e) => a + e.tokens, 0);
  const seconds = timed.reduce((a, e) => a + e.tokens / e.tokens_per_s, 0);
  return {
    tokens_per_s: Math.round(tokens / seconds * 10) / 10,
    tokens_per_s_median_step: Math.round(median(timed.map((e) => e.tokens_per_s)) * 10) / 10,
    ...c,
    steps: steps.length, tokens_timed: tokens, first_loss: steps[0].loss, last_loss: steps[steps.length - 1].loss,
    process_wall_s: wallS,
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const python = process.env.DCD_PYTHON ?? '/usr/bin/python3';
  if (!existsSync(python)) return { skipped: `no Python interpreter at ${python} (set DCD_PYTHON)` };
  const probe = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__); print(torch.__config__.show())'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: `${python} has no torch/numpy: ${probe.stderr.trim().split('\n').pop()}` };
  const [torchVersion, ...config] = probe.stdout.trim().split('\n');
  const blas = /BLAS_INFO=(\w+)/.exec(config.join(' '))?.[1] ?? 'unknown';
  const work = mkdtempSync(path.join(tmpdir(), 'dcd-bench-trainer-'));
  try {
    // The Qwen2.5 vocabulary (151,665): the output projection dominates a model this small.
    const qwenVocab = measure(python, work, 'qwen-vocab', { vocab: 151665, samples: 8, len: 128, steps: 4, grad_accum: 1, threads: 2 });
    // A 4,096-token vocabulary: closer to the cost of the transformer layers themselves.
    const smallVocab = measure(python, work, 'small-vocab', { vocab: 4096, samples: 32, len: 256, steps: 8, grad_accum: 2, threads: 2 });
    return {
      tokens_per_s: qwenVocab.tokens_per_s,
      small_vocab_tokens_per_s: smallVocab.tokens_per_s,
      qwen_vocab: qwenVocab,
      small_vocab: smallVocab,
      model: 'builtin:tiny (hidden 64, 2 layers, 4 heads / 2 KV, FFN 192, tied embeddings), fp32, CPU',
      python, torch: torchVersion, torch_blas: blas,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
