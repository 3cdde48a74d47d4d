/**
 * Lineage end to end (docs/FORMATS.md §6) on the bundled demo corpus: `dcd pack`
 * writes the export, the real trainer (builtin:tiny, smoke) runs it as a job on a
 * host behind a real OpenSSH server on 127.0.0.1, the final model is fetched back,
 * real lm-eval output (test/fixtures/lmeval) gets its `dcd_lineage.json` naming that
 * model folder; `dcd lineage` walks from the results file up to demo.dcd.jsonl at its
 * hash. Editing one sample then marks the export, run, model and evaluation stale
 * (naming the line), and repacking leaves the run stale because its export changed.
 * And a real evaluation of the model where it is (lm-eval on the SSH host, offline GSM8K, one question):
 * the job writes the sidecar on the host, `dcd job fetch` brings it back with the results, and the
 * fetched results file walks up to demo.dcd.jsonl too.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JobEngine } from '../../src/core/jobs/engine';
import { dispatchEval, followEval } from '../../src/core/jobs/evalDispatch';
import { JobStore } from '../../src/core/jobs/store';
import { createConnector, type HostProfile } from '../../src/core/remote/profiles';
import type { JsonNode, LineageReport } from '../../src/core/lineage';
import { dcd } from '../support/cli';
import { killLeftoverJobs, loopbackProfile, startSshd, type Sshd } from '../support/sshd';

const ROOT = path.resolve(__dirname, '..', '..');
const DEMO = path.join(ROOT, 'media', 'demo', 'demo.dcd.jsonl');
const RESULTS = path.join(ROOT, 'test', 'fixtures', 'lmeval', 'gemma3-12b-u1_tuned_gsm8k5shot');
const MODEL = 'builtin:tiny?hidden=16&layers=1&heads=2&kv=1&ffn=32';

let sshd: Sshd;
let tmp: string;
let work: string;
let corpus: string;
let exportDir: string;
let modelDir: string;
let evalDir: string;
let resultsFile: string;
let engine: JobEngine;
let profile: HostProfile;
let hostModel: string;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function lineage(target: string, ...more: string[]): LineageReport {
  const r = dcd(['lineage', target, '--root', work, '--no-cache', '--jobs-store', path.join(tmp, 'jobs.json'), '--json', ...more]);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as LineageReport;
}

const byKind = (r: LineageReport, kind: string): JsonNode[] => [r.target, ...r.ancestors, ...r.descendants].filter((n) => n.kind === kind);
const one = (r: LineageReport, kind: string): JsonNode => {
  const n = byKind(r, kind);
  assert.equal(n.length, 1, `one ${kind} node in ${JSON.stringify([r.target, ...r.ancestors, ...r.descendants].map((x) => x.id))}`);
  return n[0];
};

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-lineage-test-'));
  work = path.join(tmp, 'workspace');
  mkdirSync(work);
  sshd = await startSshd({ dir: path.join(tmp, 'sshd') });
  const knownHosts = path.join(tmp, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine + '\n');
  corpus = path.join(work, 'demo.dcd.jsonl');
  cpSync(DEMO, corpus);
  exportDir = path.join(work, 'exports', 'demo-smoke');
  const pack = dcd(['pack', corpus, '--out', exportDir, '--plan-preset', 'smoke', '--max-length', '192', '--no-cache']);
  assert.equal(pack.status, 0, pack.stderr);

  engine = new JobEngine({
    store: new JobStore(path.join(tmp, 'jobs.json')),
    backendDir: path.join(ROOT, 'python-backend'),
    connectorFor: (p: HostProfile) => createConnector(p, { hostKeyPolicy: async () => 'reject', trustStoreFile: path.join(tmp, 'trust'), sshConfigFile: false, agent: false }),
  });
  profile = loopbackProfile(sshd, { knownHosts, python: process.env.DCD_VENV_PYTHON ?? path.join(ROOT, '.venv', 'bin', 'python'), root: path.join(tmp, 'host') });
  const rec = await engine.submit(profile, { data: exportDir, model: MODEL, preset: 'smoke' });
  const end = await engine.followEvents(rec.id, 0, () => undefined, { intervalMs: 200 }).done;
  assert.equal(end.status, 'succeeded');
  const fetched = await engine.fetch(rec.id, 'model', path.join(work, 'dcd-jobs', rec.id));
  modelDir = fetched[0].localPath;
  hostModel = fetched[0].path;

  evalDir = path.join(work, 'evals', 'gsm8k-limit3');
  cpSync(RESULTS, path.join(evalDir, path.basename(RESULTS)), { recursive: true });
  resultsFile = path.join(evalDir, path.basename(RESULTS), 'results_2025-09-09T13-31-53.431753.json');
  const rec2 = dcd(['lineage', evalDir, '--eval-of', modelDir, '--tasks', 'gsm8k', '--limit', '3', '--no-cache', '--json', '--root', work]);
  assert.equal(rec2.status, 0, rec2.stderr);
});

after(async () => {
  await engine?.close();
  if (tmp) killLeftoverJobs(tmp);
  await sshd?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

test('a results file walks up to the fetched model, its run, the export and demo.dcd.jsonl at its hash', () => {
  const r = lineage(resultsFile);
  assert.equal(r.target.kind, 'eval');
  assert.equal(r.target.id, evalDir);
  assert.deepEqual(r.ancestors.map((n) => n.kind), ['model', 'run', 'export', 'corpus']);
  const [model, run, exp, corp] = r.ancestors;
  assert.equal(model.id, modelDir);
  assert.equal(run.id, path.dirname(modelDir));
  assert.equal(exp.id, exportDir);
  assert.equal(corp.id, corpus);
  assert.equal(corp.sha256, sha256(corpus));
  assert.equal(corp.sha256, sha256(DEMO));
  assert.equal(exp.sha256, sha256(path.join(exportDir, 'manifest.json')));
  // The run trained on the host's upload of the export (another path): linked through the job it was submitted with.
  assert.equal(r.edges.find((e) => e.child === run.id)!.by, 'job');
  assert.equal(r.edges.find((e) => e.child === exp.id)!.by, 'path');
  assert.deepEqual([r.target, ...r.ancestors].filter((n) => n.stale), []);
  // What the run recorded: the recipe, precision, loss normalisation and code version.
  assert.equal(run.details.precision, 'mixed');
  assert.equal(run.details.loss_norm, 'token');
  assert.equal((run.details.recipe as { preset: string }).preset, 'smoke');
  assert.match((run.details.code_version as { train_py_sha256: string }).train_py_sha256, /^[0-9a-f]{64}$/);
  assert.equal(r.target.details.limit, 3);
  assert.deepEqual(r.target.details.tasks, ['gsm8k']);
});

test('the corpus lists the export, run, model and evaluation as descendants', () => {
  const r = lineage(corpus);
  assert.equal(r.target.kind, 'corpus');
  assert.deepEqual(r.descendants.map((n) => n.kind), ['export', 'run', 'model', 'eval']);
  assert.equal(one(r, 'eval').id, evalDir);
});

test('an evaluation on the SSH host writes its sidecar there; the fetched results walk up to demo.dcd.jsonl', { timeout: 600_000 }, async () => {
  // The model where it was trained (on the host), one GSM8K question, 4 new tokens: the path, not the score.
  const d = await dispatchEval(engine, profile, {
    model: hostModel, benchmarks: ['gsm8k'], dcd: false, backendDir: path.join(ROOT, 'python-backend'), dataDir: path.join(ROOT, 'test', 'fixtures', 'lmeval-data'),
    settings: { limit: 1, maxGenToks: 4, batchSize: 1, backend: 'hf', dtype: 'float32', applyChatTemplate: false },
  });
  const [done] = await followEval(engine, d, [], { followOptions: { intervalMs: 300 } });
  assert.equal(done.status, 'succeeded', readFileSync(path.join(d.jobs[0].record.remote!.jobDir, 'log.txt'), 'utf8').slice(-3000));
  // Fetched outside the scanned workspace (the other tests count the workspace's evaluations).
  // What `dcd job fetch ID` does for an evaluation job: its results folder, the sidecar in it.
  const [fetched] = await engine.fetch(d.jobs[0].id, 'default', path.join(tmp, 'fetched-eval'));
  assert.equal(fetched.kind, 'results');
  const folder = fetched.localPath;
  const sidecar = JSON.parse(readFileSync(path.join(folder, 'dcd_lineage.json'), 'utf8')) as { parents: Array<{ kind: string; path: string; sha256: string }>; limit: number; host: string; job: string; tasks: string[]; files: Record<string, string> };
  assert.deepEqual(sidecar.parents.map((p) => [p.kind, p.path]), [['model', hostModel]]);
  assert.deepEqual([sidecar.limit, sidecar.host, sidecar.job, sidecar.tasks], [1, profile.name, d.jobs[0].id, ['gsm8k']]);
  const results = readdirSync(folder).filter((f) => /^results_.*\.json$/.test(f));
  assert.equal(results.length, 1);
  assert.deepEqual(Object.keys(sidecar.files).sort(), [...results, ...readdirSync(folder).filter((f) => f.startsWith('samples_gsm8k_'))].sort());
  assert.equal(sidecar.files[results[0]], sha256(path.join(folder, results[0])));

  const r = lineage(path.join(folder, results[0]));
  assert.equal(r.target.kind, 'eval');
  assert.deepEqual(r.ancestors.map((n) => n.kind), ['model', 'run', 'export', 'corpus']);
  const [model, , exp, corp] = r.ancestors;
  assert.equal(model.sha256, sidecar.parents[0].sha256, 'the model folder the host hashed');
  assert.equal(exp.id, exportDir);
  assert.equal(corp.id, corpus);
  assert.equal(corp.sha256, sha256(DEMO));
  assert.deepEqual([r.target, ...r.ancestors].filter((n) => n.stale), []);
});

test('editing one sample after training marks the export, run, model and evaluation stale, naming the line', () => {
  const original = readFileSync(corpus, 'utf8');
  const lines = original.split('\n');
  const sample = JSON.parse(lines[1]) as { id: string; text: string };
  sample.text = sample.text.replace('<|im_start|>think', '<|im_start|>think\nLet me re-read the question.');
  lines[1] = JSON.stringify(sample);
  writeFileSync(corpus, lines.join('\n'));
  try {
    const r = lineage(resultsFile);
    const stale = Object.fromEntries([r.target, ...r.ancestors].map((n) => [n.kind, n.stale]));
    assert.deepEqual(stale, { eval: true, model: true, run: true, export: true, corpus: false });
    const exp = one(r, 'export');
    assert.equal(exp.changes.length, 1);
    assert.deepEqual(exp.changes[0].samples, [{ line: 2, change: 'edited', id: sample.id }]);
    assert.match(exp.reasons[0], /^corpus demo\.dcd\.jsonl changed since this export was made: sha256 [0-9a-f]{12} → [0-9a-f]{12}; 1 sample edited \(line 2\)/);
    for (const kind of ['run', 'model', 'eval']) assert.match(one(r, kind).reasons.join('\n'), /^upstream: corpus demo\.dcd\.jsonl changed since the export demo-smoke was made/m, kind);

    // Repacked from the edited corpus: the export is current again, the run (and all below) stale because the export changed.
    const pack = dcd(['pack', corpus, '--out', exportDir, '--plan-preset', 'smoke', '--max-length', '192', '--no-cache']);
    assert.equal(pack.status, 0, pack.stderr);
    const again = lineage(path.dirname(modelDir));
    assert.equal(again.target.kind, 'run');
    assert.equal(one(again, 'export').stale, false);
    assert.equal(again.target.stale, true);
    assert.match(again.target.reasons[0], /^export demo-smoke changed since this run was made/);
    assert.equal(one(again, 'eval').stale, true);
    assert.equal(dcd(['lineage', path.dirname(modelDir), '--root', work, '--no-cache', '--jobs-store', path.join(tmp, 'jobs.json'), '--fail-stale']).status, 1);
  } finally {
    writeFileSync(corpus, original);
  }
});
