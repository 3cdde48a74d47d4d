#!/usr/bin/env node
// `npm run bench:gpu [-- gpu_check.py flags]`: runs python-backend/tools/gpu_check.py on a GPU host and
// appends its JSON line to bench/results.json under `benches.gpu_check`.
//
// The host is reached with plain OpenSSH (`ssh HOST`), so ~/.ssh/config aliases, agents and ProxyJump
// work as in a terminal; BatchMode is on, so a host that would ask for a password fails instead of
// hanging. Only what the check needs travels, as a tar on ssh's stdin, into a temporary folder on the
// host that is removed afterwards: tools/gpu_check.py, tools/qwen2.5-1.5b-config.json and dcd_backend/
// (the chunked cross-entropy). The host needs python3 with torch and transformers; no network.
//
//   DCD_GPU_HOST    the ssh destination (`user@gpu-box`, an ssh config alias); required
//   DCD_GPU_PYTHON  the host's interpreter (default python3; e.g. ~/.dcd/venv/bin/python after Set Up Host)
//   DCD_GPU_SSH     the ssh program (default ssh)
//   DCD_BENCH_RESULTS  the results file (default bench/results.json)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BACKEND = path.join(ROOT, 'python-backend');
const HISTORY = 20;

const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

function usage(msg) {
  process.stderr.write(`bench:gpu: ${msg}\n`
    + 'Set DCD_GPU_HOST to an ssh destination with a CUDA GPU (python3 with torch and transformers there), e.g.\n'
    + '  DCD_GPU_HOST=me@gpu-box DCD_GPU_PYTHON=~/.dcd/venv/bin/python npm run bench:gpu\n'
    + 'Flags after -- go to gpu_check.py (--steps, --max-len, --shape tiny|1.5b, --device).\n');
  process.exit(2);
}

async function main() {
  const host = process.env.DCD_GPU_HOST;
  if (!host) usage('no GPU host is configured (DCD_GPU_HOST is unset)');
  const python = process.env.DCD_GPU_PYTHON || 'python3';
  const ssh = process.env.DCD_GPU_SSH || 'ssh';
  const results = process.env.DCD_BENCH_RESULTS || path.join(ROOT, 'bench', 'results.json');
  const extra = process.argv.slice(2);
  // `~/` must reach the remote shell unquoted to expand there.
  const py = python.startsWith('~/') ? `"$HOME"/${q(python.slice(2))}` : q(python);
  const remote = 'd=$(mktemp -d) || exit 1; trap \'rm -rf "$d"\' EXIT; tar -xf - -C "$d" || exit 1; '
    + `${py} "$d/tools/gpu_check.py" ${extra.map(q).join(' ')}`;
  const tar = spawn('tar', ['-cf', '-', '--exclude=__pycache__', 'tools/gpu_check.py', 'tools/qwen2.5-1.5b-config.json', 'dcd_backend'],
    { cwd: BACKEND, stdio: ['ignore', 'pipe', 'inherit'] });
  const t0 = Date.now();
  const child = spawn(ssh, ['-o', 'BatchMode=yes', host, remote], { stdio: ['pipe', 'pipe', 'inherit'] });
  tar.stdout.pipe(child.stdin);
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const code = await new Promise((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  const line = out.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('{')).pop();
  if (!line) {
    process.stderr.write(`bench:gpu: ${host} printed no result (exit ${code})\n${out.slice(-2000)}\n`);
    process.exit(1);
  }
  const result = JSON.parse(line);
  const entry = { ...result, host, python, args: extra, measured_at: new Date().toISOString(), wall_s: (Date.now() - t0) / 1000 };
  const file = fs.existsSync(results) ? JSON.parse(fs.readFileSync(results, 'utf8')) : { benches: {} };
  file.benches ??= {};
  const previous = file.benches.gpu_check;
  const history = previous ? [...(previous.history ?? []), (({ history: _h, ...rest }) => rest)(previous)].slice(-HISTORY) : [];
  // The newest run's fields at the top (as every other bench), the earlier runs kept under `history`.
  file.benches.gpu_check = { ...entry, history };
  fs.writeFileSync(results, JSON.stringify(file, null, 2) + '\n');
  process.stdout.write(line + '\n');
  process.stderr.write(`bench:gpu: wrote benches.gpu_check to ${results}\n`);
  process.exit(code === 0 && result.ok ? 0 : 1);
}

main().catch((err) => { console.error(err); process.exit(1); });
