// The project's Python environment: a virtual environment in .venv/ made from the
// pinned, hashed lock python-backend/requirements/test.txt (the training and
// evaluation roles plus the test-only references: TRL, Math-Verify, jsonschema).
//
// The installer is uv, itself pinned by hash (requirements/installer.txt) and
// installed with pip into the cache folder: it resolves nothing at install time
// (the lock is complete), verifies every hash, and installs the CUDA-sized torch
// stack several times faster than pip on this 2-core machine (docs/ARCHITECTURE.md).
//
// Idempotent: the venv records the sha256 of the lock, the interpreter and the
// installer; when all three match it is reused without touching the network.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, CACHE } from './env.mjs';

export const VENV = process.env.DCD_VENV || path.join(ROOT, '.venv');
export const VENV_PYTHON = path.join(VENV, 'bin', 'python');
const REQUIREMENTS = path.join(ROOT, 'python-backend', 'requirements');
const LOCK = path.join(REQUIREMENTS, 'test.txt');
const INSTALLER_LOCK = path.join(REQUIREMENTS, 'installer.txt');
const STAMP = path.join(VENV, '.dcd-lock');
/** The interpreter the venv is made from: Python 3.11 (the lock's floor), never downloaded. */
const BASE_PYTHON = process.env.DCD_BASE_PYTHON || 'python3';

const log = (msg) => process.stderr.write(`[python-env] ${msg}\n`);
const sha256 = (file) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { code: r.status ?? 1, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, error: r.error };
}

const UNREACHABLE = /(connect|dns|resolve|network is unreachable|timed out|name or service not known|failed to fetch|connection refused|temporary failure)/i;

function failInstall(what, out) {
  const hint = UNREACHABLE.test(out)
    ? 'The Python package index (PyPI) could not be reached. Connect this machine to it, or point uv at a mirror with UV_INDEX_URL (pip: PIP_INDEX_URL), then run the command again.'
    : 'See the installer output above.';
  throw new Error(`${what} failed.\n${out.split('\n').slice(-15).join('\n')}\n${hint}`);
}

function basePython() {
  const r = run(BASE_PYTHON, ['-c', 'import sys; print(sys.executable); print("%d.%d" % sys.version_info[:2])']);
  if (r.code !== 0) throw new Error(`No Python interpreter '${BASE_PYTHON}' (Python 3.11 or newer is needed; set DCD_BASE_PYTHON).`);
  const [exe, version] = r.out.trim().split('\n');
  const [major, minor] = version.split('.').map(Number);
  if (major !== 3 || minor < 11) throw new Error(`${exe} is Python ${version}; the project's lock needs 3.11 or newer (set DCD_BASE_PYTHON).`);
  return { exe, version };
}

/** uv at the pinned version, installed by pip into the cache folder once. */
export function ensureUv(python) {
  const version = /^uv==([\d.]+)/m.exec(fs.readFileSync(INSTALLER_LOCK, 'utf8'))[1];
  const dir = path.join(CACHE, `uv-${version}`);
  const bin = path.join(dir, 'bin', 'uv');
  if (fs.existsSync(bin)) return { bin, version };
  log(`installing uv ${version} into ${dir}`);
  const tmp = `${dir}.partial`;
  fs.rmSync(tmp, { recursive: true, force: true });
  const r = run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--quiet', '--no-deps',
    '--require-hashes', '--target', tmp, '-r', INSTALLER_LOCK]);
  if (r.code !== 0) failInstall(`Installing uv ${version} with pip`, r.out);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(tmp, dir);
  return { bin, version };
}

/** Creates or reuses .venv from the lock; returns the venv's python. */
export function ensurePythonEnv() {
  const base = basePython();
  const uv = ensureUv(base.exe);
  const want = JSON.stringify({ lock: sha256(LOCK), python: base.exe, pythonVersion: base.version, uv: uv.version });
  if (fs.existsSync(VENV_PYTHON) && fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === want) return VENV_PYTHON;

  const t0 = Date.now();
  log(`creating ${VENV} from ${path.relative(ROOT, LOCK)} (Python ${base.version}, uv ${uv.version})`);
  const env = { ...process.env, UV_PYTHON_DOWNLOADS: 'never', VIRTUAL_ENV: VENV };
  fs.rmSync(STAMP, { force: true });
  let r = run(uv.bin, ['venv', '--quiet', '--allow-existing', '--python', base.exe, VENV], { env });
  if (r.code !== 0) failInstall('Creating the virtual environment', r.out);
  // sync (not install): the venv holds exactly the lock, so a package removed from it goes too.
  r = run(uv.bin, ['pip', 'sync', '--quiet', '--require-hashes', '--python', VENV_PYTHON, LOCK], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.code !== 0) failInstall(`Installing ${path.relative(ROOT, LOCK)}`, r.out);
  fs.writeFileSync(STAMP, want);
  log(`ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return VENV_PYTHON;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try { process.stdout.write(`${ensurePythonEnv()}\n`); } catch (err) { log(err.message); process.exit(1); }
}
