/**
 * The `dcd` program as users get it: `npm pack` of this package, `npm install -g`
 * of the tarball into a temporary prefix, and the installed `dcd` on PATH. Nothing
 * here runs the TypeScript sources: a bundle that throws at start-up (a second
 * shebang line, a module missing from the package) fails every test below.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO, readJsonLines, runArtifact, venvPython, waitForJob } from './support';

const FIX = path.join(REPO, 'test', 'fixtures');
const VERSION = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version as string;

describe('the packed and installed dcd program', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-artifact-cli-'));
  const prefix = path.join(tmp, 'prefix');
  let dcdBin = '';
  let packed: string[] = [];
  const corpus = path.join(tmp, 'corpus.dcd.jsonl');
  const exportDir = path.join(tmp, 'export');
  const env = { DCD_JOBS_STORE: path.join(tmp, 'jobs.json'), DCD_TRUST_STORE: path.join(tmp, 'known_hosts'), DCD_HOSTS_FILE: '' };
  const dcd = (args: string[]) => runArtifact(dcdBin, args, { env: { ...env, PATH: `${path.join(prefix, 'bin')}:${process.env.PATH}` } });

  before(() => {
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(pack.status, 0, pack.stderr);
    // prepack's build logs come first on stdout; the JSON report is the last document.
    const report = JSON.parse(pack.stdout.slice(pack.stdout.lastIndexOf('\n[\n') + 1));
    packed = report[0].files.map((f: { path: string }) => f.path);
    const tarball = path.join(tmp, report[0].filename);
    const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball],
      { cwd: tmp, encoding: 'utf8', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
    assert.equal(install.status, 0, install.stderr);
    dcdBin = path.join(prefix, 'bin', 'dcd');
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('ships the bundles, the default tokenizer and the Python backend, and no sources or tests', () => {
    for (const f of ['out/cli.js', 'out/tokenizer-worker.js', 'out/local-worker.js', 'out/tokenizer/qwen2.5/tokenizer.json', 'python-backend/train.py', 'python-backend/dcd_backend/events_schema.json', 'package.json']) {
      assert.ok(packed.includes(f), `${f} is in the package`);
    }
    assert.deepEqual(packed.filter((f) => /^(src|test|webview|scripts)\/|\.ts$|\.map$|python-backend\/tests\//.test(f)), []);
  });

  it('dcd --version starts and prints the package version', () => {
    const r = dcd(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), VERSION);
    assert.ok(fs.readFileSync(fs.realpathSync(dcdBin), 'utf8').startsWith('#!/usr/bin/env node\n"use strict"'), 'one shebang line, then the bundle');
  });

  it('dcd build --json writes the corpus and prints its summary contract', () => {
    const r = dcd(['build', '--s1k', path.join(FIX, 'corpus', 's1k-mini.parquet'), '--drafts', path.join(FIX, 'corpus', 'drafts-mini.jsonl'), '--out', corpus, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    const rows = readJsonLines(corpus);
    assert.equal(s.samples, rows.length);
    assert.equal(s.draft_correct, rows.filter((x) => x.verdict === 'correct').length);
    assert.equal(s.draft_wrong, rows.filter((x) => x.verdict === 'incorrect').length);
    assert.deepEqual(s.bad_lines, []);
  });

  it('dcd verify --json decides equivalence', () => {
    const r = dcd(['verify', '--pred', 'So we get \\boxed{\\dfrac{1}{2}}.', '--gold', '0.5', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const v = JSON.parse(r.stdout);
    assert.equal(v.equivalent, true);
    assert.equal(typeof v.rule, 'string');
    const wrong = JSON.parse(dcd(['verify', '--pred', '\\boxed{3}', '--gold', '0.5', '--json']).stdout);
    assert.equal(wrong.equivalent, false);
  });

  it('dcd stats --json counts the corpus, tokens included (worker and tokenizer from the package)', () => {
    const r = dcd(['stats', corpus, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    const rows = readJsonLines(corpus);
    assert.equal(s.samples, rows.length);
    assert.equal(s.by_verdict.correct + s.by_verdict.incorrect, rows.length);
    assert.equal(s.tokens.failed, 0);
    assert.ok(s.tokens.tokens > s.samples, 'token counts come from the bundled tokenizer');
    assert.equal(s.tokens.tokenizer.name, 'qwen2.5');
  });

  it('dcd tokens --json gives ids, labels and offsets of one sample', () => {
    const r = dcd(['tokens', corpus, '--index', '0', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const t = JSON.parse(r.stdout);
    assert.equal(t.ids.length, t.labels.length);
    assert.equal(t.ids[0], 151644, 'the trace starts with <|im_start|>');
    assert.ok(t.labels.some((l: number) => l === -100) && t.labels.some((l: number) => l !== -100));
  });

  it('a reader that closes the pipe early (dcd … | true) ends dcd quietly, with status 0', () => {
    // `true` exits at once, so every write of dcd meets a closed pipe (EPIPE).
    const r = spawnSync('bash', ['-c', 'set -o pipefail; "$0" tokens "$1" --index 0 --json 2>"$2" | true', dcdBin, corpus, path.join(tmp, 'epipe.err')],
      { encoding: 'utf8', env: { ...process.env, ...env } });
    assert.equal(fs.readFileSync(path.join(tmp, 'epipe.err'), 'utf8'), '', 'nothing on stderr');
    assert.equal(r.status, 0);
  });

  it('dcd plan --json and dcd pack --json agree on the plan', () => {
    const plan = dcd(['plan', corpus, '--json', '--no-cache']);
    assert.equal(plan.status, 0, plan.stderr);
    const p = JSON.parse(plan.stdout);
    const pack = dcd(['pack', corpus, '--out', exportDir, '--json', '--no-cache']);
    assert.equal(pack.status, 0, pack.stderr);
    const m = JSON.parse(pack.stdout);
    assert.equal(m.format, 'dcd-export');
    assert.equal(m.samples, readJsonLines(corpus).length);
    assert.equal(m.plan.optimizer_steps, p.optimizer_steps);
    for (const f of ['ids.npy', 'labels.npy', 'offsets.npy', 'manifest.json']) assert.ok(fs.existsSync(path.join(exportDir, f)), f);
  });

  it('dcd job submit runs the packaged Python backend on the local host; job list and status report it', async () => {
    const root = path.join(tmp, 'local-root');
    const sub = dcd(['job', 'submit', '--host', 'local', '--python', venvPython(), '--root', root, '--data', path.join(FIX, 'jobs', 'export'),
      '--model', 'builtin:tiny', '--preset', 'smoke', '--max-steps', '3', '--json']);
    assert.equal(sub.status, 0, sub.stderr);
    const id = JSON.parse(sub.stdout).job as string;
    assert.equal(typeof id, 'string');
    const done = await waitForJob(() => JSON.parse(dcd(['job', 'status', id, '--json']).stdout), 240_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.lastStep, 3);
    const list = JSON.parse(dcd(['job', 'list', '--json']).stdout);
    assert.ok(list.jobs.some((j: { job: string }) => j.job === id));
    // The job ran the backend that ships in the package, not the repository's.
    const installed = path.join(prefix, 'lib', 'node_modules', 'dcd-studio', 'python-backend');
    const record = JSON.parse(fs.readFileSync(env.DCD_JOBS_STORE, 'utf8'));
    const rec = (Array.isArray(record) ? record : record.jobs).find((j: { id: string }) => j.id === id);
    assert.equal(fs.realpathSync(rec.remote.backendDir), fs.realpathSync(installed));
  });

  it('dcd eval submit runs the real lm-eval on the local host, offline, with the packaged DCD tasks; dcd job fetch and dcd results read it', async () => {
    const made = spawnSync(venvPython(), ['-c', 'from tests.helpers import tiny_hf_model\nprint(tiny_hf_model())'], { cwd: path.join(REPO, 'python-backend'), encoding: 'utf8', timeout: 600_000 });
    assert.equal(made.status, 0, made.stderr);
    const model = made.stdout.trim().split('\n').at(-1)!;
    const root = path.join(tmp, 'eval-root');
    const sub = dcd(['eval', 'submit', '--host', 'local', '--python', venvPython(), '--root', root, '--model', model, '--tasks', 'aime24', '--dcd',
      '--limit', '1', '--data-dir', path.join(FIX, 'lmeval-data'), '--max-gen-toks', '8', '--eval-backend', 'hf', '--batch-size', '1', '--dtype', 'float32', '--json']);
    assert.equal(sub.status, 0, sub.stderr);
    const out = JSON.parse(sub.stdout) as { job: string; offline: boolean; jobs: Array<{ tasks: string[] }> };
    assert.equal(out.offline, true);
    assert.deepEqual(out.jobs[0].tasks, ['aime24', 'dcd_aime24']);
    const done = await waitForJob(() => JSON.parse(dcd(['job', 'status', out.job, '--json']).stdout), 300_000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    // The dcd_ task came from the installed package's python-backend/lmeval_tasks.
    const overrides = path.join(root, 'eval-tasks', String(done.eval), 'dcd_aime24.yaml');
    assert.ok(fs.readFileSync(overrides, 'utf8').includes(path.join(prefix, 'lib', 'node_modules', 'dcd-studio', 'python-backend', 'lmeval_tasks', 'dcd_aime24.yaml')));
    const fetched = dcd(['job', 'fetch', out.job, '--out', path.join(tmp, 'eval-fetched'), '--json']);
    assert.equal(fetched.status, 0, fetched.stderr);
    const local = (JSON.parse(fetched.stdout) as { fetched: Array<{ localPath: string }> }).fetched[0].localPath;
    const res = dcd(['results', local, '--json']);
    assert.equal(res.status, 0, res.stderr);
    const summaries = JSON.parse(res.stdout) as Array<{ tasks: Record<string, unknown>; n_samples: Record<string, { effective: number }> }>;
    assert.deepEqual(Object.keys(summaries[0].tasks).sort(), ['aime24', 'dcd_aime24']);
    assert.equal(summaries[0].n_samples.dcd_aime24.effective, 1);
  });
});
