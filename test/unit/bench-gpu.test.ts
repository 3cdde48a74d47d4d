/**
 * scripts/bench-gpu.mjs (`npm run bench:gpu`): without a configured host it says so and fails; with one it
 * ships gpu_check.py over ssh and appends the JSON to the results file. Here "ssh" is a stand-in that runs
 * the remote command with the local shell, and the check runs at its tiny CPU shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'bench-gpu.mjs');
const VENV_PY = join(ROOT, '.venv', 'bin', 'python');

function run(env: Record<string, string | undefined>, args: string[] = []) {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000, env: { ...process.env, DCD_GPU_HOST: undefined, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('no host configured: says so and exits non-zero', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcd-bench-gpu-'));
  try {
    const results = join(dir, 'results.json');
    const r = run({ DCD_BENCH_RESULTS: results });
    assert.notEqual(r.code, 0);
    assert.match(r.err, /no GPU host is configured/);
    assert.equal(existsSync(results), false);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a host: the check runs there and its JSON lands under benches.gpu_check, earlier runs in history', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcd-bench-gpu-'));
  try {
    const fakeSsh = join(dir, 'ssh');
    // ssh [-o opt]... HOST COMMAND: run COMMAND here, stdin passed through.
    writeFileSync(fakeSsh, '#!/bin/sh\nwhile [ "$1" = -o ]; do shift 2; done\nshift\nexec sh -c "$1"\n');
    chmodSync(fakeSsh, 0o755);
    const results = join(dir, 'results.json');
    writeFileSync(results, JSON.stringify({ benches: { corpus: { rows: 1 }, gpu_check: { tokens_per_s: 1, history: [] } } }));
    const env = { DCD_GPU_HOST: 'gpu-box', DCD_GPU_SSH: fakeSsh, DCD_GPU_PYTHON: existsSync(VENV_PY) ? VENV_PY : 'python3', DCD_BENCH_RESULTS: results, OMP_NUM_THREADS: '1' };
    const r = run(env, ['--device', 'cpu', '--shape', 'tiny', '--steps', '2', '--warmup', '1', '--max-len', '128', '--threads', '1']);
    assert.equal(r.code, 0, r.err);
    const file = JSON.parse(readFileSync(results, 'utf8'));
    assert.deepEqual(file.benches.corpus, { rows: 1 });
    const g = file.benches.gpu_check;
    assert.equal(g.host, 'gpu-box');
    assert.equal(g.shape, 'tiny');
    assert.equal(g.steps, 2);
    assert.ok(g.tokens_per_s > 0);
    assert.equal(g.mfu, null);
    assert.deepEqual(g.history, [{ tokens_per_s: 1 }]);
    assert.equal(JSON.parse(r.out.trim()).final_loss, g.final_loss);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
