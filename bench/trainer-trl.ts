/**
 * Trainer against TRL: tokens/s of `train.py` and of TRL's SFTTrainer in one run, on the same tiny
 * random Qwen2 model and synthetic export, fp32 on the CPU, same order and hyper-parameters (the
 * setting of python-backend/tests/test_trl_parity.py, which checks that both compute the same
 * losses and weights). Runs python-backend/tools/bench_trl.py. Interpreter: env DCD_PYTHON,
 * default the project's .venv (it needs transformers, trl and datasets).
 *
 *   DCD_BENCH=trainer-trl npm run bench
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

export async function run(): Promise<Record<string, unknown>> {
  const python = process.env.DCD_PYTHON ?? path.join(ROOT, '.venv', 'bin', 'python');
  if (!existsSync(python)) return { skipped: `no Python interpreter at ${python} (set DCD_PYTHON)` };
  const probe = spawnSync(python, ['-c', 'import torch, transformers, trl, datasets'], { encoding: 'utf8' });
  if (probe.status !== 0) return { skipped: `${python} lacks torch/transformers/trl/datasets: ${probe.stderr.trim().split('\n').pop()}` };
  const threads = 2;
  const r = spawnSync(python, [path.join(ROOT, 'python-backend', 'tools', 'bench_trl.py'), '--samples', '40', '--len', '256',
    '--grad-accum', '4', '--threads', String(threads)],
  { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads), PYTHONDONTWRITEBYTECODE: '1' } });
  if (r.status !== 0) throw new Error(`bench_trl.py exited ${r.status}: ${r.stderr.slice(-2000)}`);
  const last = r.stdout.trim().split('\n').pop() ?? '{}';
  const out = JSON.parse(last) as Record<string, unknown>;
  return { tokens_per_s: out.ours_tokens_per_s, trl_tokens_per_s: out.trl_tokens_per_s, ...out, python };
}
