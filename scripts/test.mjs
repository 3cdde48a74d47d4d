// `npm test`: sets up what is missing (scripts/bootstrap.mjs), builds, then runs
// every layer and exits non-zero if any fails:
//   static   tsc --noEmit (strict) and eslint (the core imports no vscode)
//   unit     the pure core on plain Node (node:test + tsx)
//   sshd     hosts, jobs and evaluation against a real OpenSSH server on 127.0.0.1 (test/support/sshd.ts)
//   grammar  the dcd-trace TextMate grammar (vscode-tmgrammar-test)
//   python     the Python backend against the real torch, transformers, TRL, lm-eval and
//              Math-Verify, in the project venv made from python-backend/requirements/test.txt
//              (scripts/python-env.mjs; unittest)
//   slurm      the `slurm` host profile on a real one-node cluster (scripts/slurm-cluster.mjs starts it;
//              slurm-wlm and munge from apt) with the real trainer in the project venv
//   vscode     the integration suite inside a real extension host (code-server)
//   ui         Playwright against the packaged VSIX in code-server (screenshots in test-results/)
//   artifacts  what users install: the npm-packed `dcd` installed into a temporary prefix,
//              and the VSIX of every platform (the one for this machine unpacked and run)
// DCD_TEST_LAYERS=unit,python runs a subset.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './env.mjs';
import { bootstrap } from './bootstrap.mjs';
import { ensurePythonEnv } from './python-env.mjs';
import { runVsCodeTests } from './vscode-tests.mjs';
import { ALL_TARGETS, packageVsix } from './package.mjs';

const ALL = ['static', 'unit', 'sshd', 'grammar', 'python', 'slurm', 'vscode', 'ui', 'artifacts'];
const wanted = (process.env.DCD_TEST_LAYERS ?? ALL.join(',')).split(',').map((s) => s.trim()).filter(Boolean);

function run(cmd, args, opts = {}) {
  process.stdout.write(`\n$ ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts, env: { ...process.env, ...opts.env } });
  return r.status ?? 1;
}

function listTests(dir, suffix) {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { recursive: true }).map(String).filter((f) => f.endsWith(suffix)).sort().map((f) => path.join(dir, f));
}

const nodeTest = (files, env = {}) => (files.length
  ? run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], { env })
  : (process.stdout.write('no test files\n'), 1));

const layers = {
  static: () => run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']) || run('npx', ['eslint', '.']) || run(process.execPath, ['scripts/check-commands.mjs']),
  unit: () => nodeTest(listTests('test/unit', '.test.ts')),
  sshd: () => nodeTest(listTests('test/sshd', '.test.ts')),
  grammar: () => run('npm', ['run', '--silent', 'test:grammar']),
  python: () => {
    const py = ensurePythonEnv();
    // The log names the libraries the backend was tested against.
    run(py, ['-c', 'import sys; from importlib.metadata import version as v; print("python", sys.version.split()[0], *(f"| {p} {v(p)}" for p in ("torch", "transformers", "trl", "lm-eval", "math-verify", "numpy")))']);
    return run(py, ['-m', 'unittest', 'discover', '-s', 'python-backend/tests', '-t', 'python-backend'], { env: { PYTHONDONTWRITEBYTECODE: '1' } });
  },
  slurm: () => {
    const py = ensurePythonEnv();
    const code = nodeTest(listTests('test/slurm', '.test.ts'), { DCD_VENV_PYTHON: py });
    run(process.execPath, ['scripts/slurm-cluster.mjs', 'stop']);
    return code;
  },
  vscode: async () => runVsCodeTests(),
  ui: async () => {
    const vsix = packageVsix({ skipBuild: true });
    return nodeTest(listTests('test/ui', '.test.ts'), { DCD_VSIX: vsix });
  },
  artifacts: () => {
    const py = ensurePythonEnv();
    if (run(process.execPath, ['scripts/package.mjs', '--all'])) return 1;
    process.stdout.write(`packed: ${ALL_TARGETS.join(', ')}\n`);
    return nodeTest(listTests('test/artifacts', '.test.ts'), { DCD_VENV_PYTHON: py });
  },
};

async function main() {
  const t0 = Date.now();
  bootstrap({ codeServer: wanted.includes('vscode') || wanted.includes('ui') });
  if (run(process.execPath, ['scripts/build.mjs'])) process.exit(1);
  // Layers that run the backend or reach a "host" on this machine use the project venv; make it once, first.
  if (wanted.some((l) => ['sshd', 'python', 'slurm', 'artifacts'].includes(l))) process.env.DCD_VENV_PYTHON = ensurePythonEnv();
  const results = [];
  for (const name of wanted) {
    if (!layers[name]) { console.error(`unknown layer ${name}`); process.exit(2); }
    const started = Date.now();
    process.stdout.write(`\n=== layer: ${name} ===\n`);
    let code;
    try { code = await layers[name](); } catch (err) { console.error(err); code = 1; }
    results.push({ name, ok: code === 0, seconds: (Date.now() - started) / 1000 });
  }
  process.stdout.write('\n=== summary ===\n');
  for (const r of results) process.stdout.write(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name.padEnd(8)} ${r.seconds.toFixed(1)} s\n`);
  const failed = results.filter((r) => !r.ok).length;
  process.stdout.write(`total time ${((Date.now() - t0) / 1000).toFixed(0)} s\nlayers: ${results.length - failed} passed, ${failed} failed\n`);
  process.exit(failed ? 1 : 0);
}

main();
