/**
 * scripts/bench-gpu.mjs (`npm run bench:gpu`): without a configured host it says so and fails; with one it
 * ships gpu_check.py over ssh and appends the JSON to the results file. The host is a real OpenSSH
 * server on 127.0.0.1 (test/support/sshd.ts), reached with the real ssh client, and the check runs at its
 * tiny CPU shape with the project venv's torch.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSshd, type Sshd } from '../support/sshd';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'bench-gpu.mjs');
const VENV_PY = process.env.DCD_VENV_PYTHON ?? join(ROOT, '.venv', 'bin', 'python');

let sshd: Sshd;
before(async () => { sshd = await startSshd(); });
after(async () => { await sshd?.stop(); });

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
    // The real ssh client with this server's port, key and host key: what a user's ~/.ssh/config would say.
    const knownHosts = join(dir, 'known_hosts');
    writeFileSync(knownHosts, `${sshd.knownHostsLine}\n`);
    const ssh = join(dir, 'ssh');
    writeFileSync(ssh, `#!/bin/sh\nexec ssh -p ${sshd.port} -i '${sshd.clientKeyPath}' -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile='${knownHosts}' "$@"\n`);
    chmodSync(ssh, 0o755);
    const results = join(dir, 'results.json');
    writeFileSync(results, JSON.stringify({ benches: { corpus: { rows: 1 }, gpu_check: { tokens_per_s: 1, history: [] } } }));
    const host = `${sshd.user}@127.0.0.1`;
    const env = { DCD_GPU_HOST: host, DCD_GPU_SSH: ssh, DCD_GPU_PYTHON: VENV_PY, DCD_BENCH_RESULTS: results, OMP_NUM_THREADS: '1' };
    const r = run(env, ['--device', 'cpu', '--shape', 'tiny', '--steps', '2', '--warmup', '1', '--max-len', '128', '--threads', '1']);
    assert.equal(r.code, 0, r.err);
    const file = JSON.parse(readFileSync(results, 'utf8'));
    assert.deepEqual(file.benches.corpus, { rows: 1 });
    const g = file.benches.gpu_check;
    assert.equal(g.host, host);
    assert.equal(g.shape, 'tiny');
    assert.equal(g.steps, 2);
    assert.ok(g.tokens_per_s > 0);
    assert.equal(g.mfu, null);
    assert.deepEqual(g.history, [{ tokens_per_s: 1 }]);
    assert.equal(JSON.parse(r.out.trim()).final_loss, g.final_loss);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
