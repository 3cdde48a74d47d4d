/**
 * "Evaluate Model…" dispatch end to end through a real OpenSSH server on
 * 127.0.0.1 (test/support/sshd.ts) and the real jobs engine:
 *  - a host whose Python cannot import lm_eval: a clear "not installed; run
 *    Set Up Host" error, every job of the evaluation marked failed, nothing
 *    started, nothing hangs;
 *  - a host with a stand-in harness (test/fixtures/evaldispatch): one job per
 *    benchmark, run one after the other, the DCD task YAMLs uploaded, the
 *    Hugging Face token only in the environment, logs streamed, results
 *    fetched and read back into the results table.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findResultsFiles } from '../../src/core/eval/results';
import { JobEngine } from '../../src/core/jobs/engine';
import { JobStore } from '../../src/core/jobs/store';
import { createConnector, type HostProfile, type SshProfile } from '../../src/core/remote/profiles';
import { dispatchEval, evalRunnerScript, followEval, LmEvalMissingError, parseProbe } from '../../src/core/jobs/evalDispatch';
import { benchmarkColumnId, buildResultsView, groupRuns } from '../../src/eval/resultsModel';
import { loopbackProfile, recordingSession, startSshd, type Sshd } from '../support/sshd';
import { dcd as runDcd } from '../support/cli';

const ROOT = path.resolve(__dirname, '..', '..');
const BACKEND = path.join(ROOT, 'python-backend');
const FAKE_HARNESS = path.join(ROOT, 'test', 'fixtures', 'evaldispatch', 'fake_harness');
const TOKEN = 'hf_dcdTestToken_9f3c1a';

let sshd: Sshd;
let tmp: string;
let knownHosts: string;
const commands: string[] = [];

/** A real Python that cannot see site-packages (so no lm_eval, whatever is installed here). */
let pythonWithout: string;
/** The same Python with the stand-in harness on its path. */
let pythonWithFake: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-eval-dispatch-'));
  sshd = await startSshd({ dir: path.join(tmp, 'sshd') });
  knownHosts = path.join(tmp, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine + '\n');
  const bin = path.join(tmp, 'bin');
  mkdirSync(bin);
  pythonWithout = path.join(bin, 'python-no-lmeval');
  writeFileSync(pythonWithout, '#!/bin/sh\nexec /usr/bin/python3 -I -S "$@"\n');
  pythonWithFake = path.join(bin, 'python-fake-lmeval');
  writeFileSync(pythonWithFake, `#!/bin/sh\nPYTHONPATH=${FAKE_HARNESS} exec /usr/bin/python3 -S "$@"\n`);
  chmodSync(pythonWithout, 0o755);
  chmodSync(pythonWithFake, 0o755);
});

after(async () => {
  await sshd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function sshProfile(python: string, extra: Partial<SshProfile> = {}): SshProfile {
  return loopbackProfile(sshd, { knownHosts, python, root: path.join(tmp, 'remote') }, extra);
}

function engine(storeFile: string): JobEngine {
  return new JobEngine({
    store: new JobStore(storeFile),
    backendDir: BACKEND,
    connectorFor: (profile: HostProfile) => {
      const c = createConnector(profile, { hostKeyPolicy: async () => 'reject', trustStoreFile: path.join(tmp, 'trust'), sshConfigFile: false, agent: false });
      return { profile, connect: async () => recordingSession(await c.connect(), commands) };
    },
  });
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

test('probe output is read strictly', () => {
  assert.deepEqual(parseProbe('python=missing\n'), { python: false, lmEval: false, vllm: false });
  assert.deepEqual(parseProbe('lm_eval=0\nvllm=1\n'), { python: true, lmEval: true, vllm: false });
  assert.deepEqual(parseProbe('lm_eval=1\nvllm=0\n'), { python: true, lmEval: false, vllm: true });
  assert.deepEqual(parseProbe(''), { python: true, lmEval: false, vllm: false });
});

test('lm_eval absent on the SSH host: "not installed; run Set Up Host", every job failed, nothing started, no hang', { timeout: 60_000 }, async () => {
  const store = path.join(tmp, 'jobs-missing.json');
  const e = engine(store);
  const t0 = Date.now();
  try {
    await assert.rejects(
      dispatchEval(e, sshProfile(pythonWithout), { model: 'Qwen/Qwen2.5-1.5B-Instruct', benchmarks: ['aime24', 'gsm8k', 'gpqa_diamond_zeroshot'], dcd: true, hfToken: TOKEN, backendDir: BACKEND }),
      (err: unknown) => {
        assert.ok(err instanceof LmEvalMissingError, String(err));
        assert.match(err.message, /lm-eval is not installed on .*127\.0\.0\.1/);
        assert.match(err.message, /Set Up Host/);
        assert.ok(err.message.includes(pythonWithout), 'the message names the interpreter that was tried');
        return true;
      },
    );
    const jobs = await new JobStore(store).list();
    assert.equal(jobs.length, 3, 'one job per benchmark');
    for (const j of jobs) {
      assert.equal(j.status, 'failed');
      assert.match(j.error ?? '', /not installed/);
      assert.deepEqual(j.history.map((h) => h.status), ['preparing', 'failed']);
      assert.equal((j.spec as unknown as { kind: string }).kind, 'eval');
    }
    assert.deepEqual(filesUnder(path.join(tmp, 'remote', 'jobs')), [], 'no job directory, no runner was started');
    assert.ok(!readFileSync(store, 'utf8').includes(TOKEN), 'the token is not in the job history');
    assert.ok(Date.now() - t0 < 30_000);
  } finally {
    await e.close();
  }
});

test('the runner itself refuses a host that lost lm_eval, and marks the job failed', { timeout: 30_000 }, async () => {
  const dir = path.join(tmp, 'runner-check');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'run.sh'), evalRunnerScript('x', dir, [pythonWithout, '-m', 'lm_eval', '--tasks', 'gsm8k'], pythonWithout));
  const { execFileSync } = await import('node:child_process');
  execFileSync('sh', [path.join(dir, 'run.sh')], { timeout: 20_000 });
  assert.equal(readFileSync(path.join(dir, 'status'), 'utf8').trim(), 'failed');
  assert.match(readFileSync(path.join(dir, 'log.txt'), 'utf8'), /lm-eval is not installed .*Set Up Host/);
  assert.ok(!existsSync(path.join(dir, 'pid')), 'lm_eval was never started');
});

test('a stand-in harness over SSH: one job per benchmark, one after the other, token in the environment only, results read back', { timeout: 120_000 }, async () => {
  const store = path.join(tmp, 'jobs-run.json');
  const e = engine(store);
  const before = commands.length;
  try {
    const statuses: string[] = [];
    const d = await dispatchEval(e, sshProfile(pythonWithFake), {
      model: 'Qwen/Qwen2.5-1.5B-Instruct', benchmarks: ['aime24', 'gsm8k'], dcd: true, hfToken: TOKEN, backendDir: BACKEND,
      settings: { maxGenToks: 28672, maxModelLen: 32768, seed: 7, limit: 10 },
    }, { onStatus: (b, s) => statuses.push(`${b}:${s}`) });
    assert.equal(d.jobs.length, 2);
    assert.equal(d.backend, 'hf', 'no vLLM on the host: the hf fallback');
    assert.ok(d.warnings.some((w) => /vLLM is not installed/.test(w)));
    assert.deepEqual(d.jobs.map((j) => j.argv.slice(d.jobs[0].argv.indexOf('--tasks'), d.jobs[0].argv.indexOf('--tasks') + 2)), [['--tasks', 'aime24,dcd_aime24'], ['--tasks', 'gsm8k,dcd_gsm8k']]);
    assert.ok(d.jobs.every((j) => j.argv[0] === pythonWithFake && j.argv[1] === '-m' && j.argv[2] === 'lm_eval'));
    assert.ok(d.jobs.every((j) => j.argv.includes('--include_path')), 'DCD-aware: the task YAMLs are included');
    const include = d.jobs[0].argv[d.jobs[0].argv.indexOf('--include_path') + 1];
    assert.ok(existsSync(path.join(include, 'dcd_gsm8k.yaml')), 'the YAMLs were uploaded to the host');
    assert.ok(statuses.includes('gsm8k:uploading') && statuses.includes('gsm8k:queued'));

    const logs = new Map<string, string>();
    const done = await followEval(e, d, [TOKEN], {
      onLog: (job, text) => logs.set(job.id, (logs.get(job.id) ?? '') + text),
      followOptions: { intervalMs: 100 },
    });
    assert.deepEqual(done.map((x) => x.status), ['succeeded', 'succeeded'], JSON.stringify(done));
    const hash = createHash('sha256').update(TOKEN).digest('hex');
    for (const j of d.jobs) {
      const log = logs.get(j.id) ?? '';
      assert.match(log, /Running generate_until requests: 3\/3/, 'progress streamed');
      assert.ok(log.includes(`HF_TOKEN sha256: ${hash}`), 'the token reached lm_eval through the environment');
    }
    // One call at a time: the second started after the first ended.
    const calls = readFileSync(path.join(d.outputPath, 'calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { tasks: string[]; start: number; end: number });
    assert.deepEqual(calls.map((c) => c.tasks[0]), ['aime24', 'gsm8k']);
    assert.ok(calls[1].start >= calls[0].end, `second call started ${calls[1].start - calls[0].end}s after the first ended`);

    // The token is nowhere on the host's disk, in the job history or in any command line.
    for (const f of filesUnder(path.join(tmp, 'remote'))) {
      if (statSync(f).size > 5_000_000) continue;
      assert.ok(!readFileSync(f).includes(TOKEN), `token found in ${f}`);
    }
    assert.ok(!readFileSync(store, 'utf8').includes(TOKEN));
    assert.ok(commands.slice(before).every((c) => !c.includes(TOKEN)), 'no command line carries the token');
    const rec = (await new JobStore(store).list()).find((j) => j.id === d.jobs[1].id)!;
    assert.deepEqual(rec.history.map((h) => h.status), ['preparing', 'uploading', 'queued', 'running', 'succeeded']);

    // Fetch the run's results folder and read it into the results table.
    const local = path.join(tmp, 'fetched');
    const session = await e.session(sshProfile(pythonWithFake));
    await session.download(d.resultsDir, local);
    const results = await findResultsFiles(local);
    assert.equal(results.length, 2);
    const runs = groupRuns(results.map((r) => ({ result: r, uri: r.file!, label: r.file!, folder: 'run', folderLabel: 'run' })));
    const view = buildResultsView(runs);
    const rows = view.rows.filter((r) => r.origin === 'run');
    assert.deepEqual(rows.map((r) => r.grading), ['stock', 'dcd']);
    const gsm = benchmarkColumnId('gsm8k');
    const stockVal = results.find((r) => r.tasks.gsm8k)!.tasks.gsm8k['exact_match,strict-match'];
    const dcdVal = results.find((r) => r.tasks.dcd_gsm8k)!.tasks.dcd_gsm8k['exact_match,dcd-strict-match'];
    assert.equal(rows[0].cells[gsm]!.value, stockVal);
    assert.equal(rows[1].cells[gsm]!.value, dcdVal);
    assert.equal(view.runs[0].samples.length, 0, 'sample logs are found by the extension, not by the pure model');
  } finally {
    await e.close();
  }
});

test('invalid settings fail before any job exists', async () => {
  const store = path.join(tmp, 'jobs-invalid.json');
  const e = engine(store);
  try {
    await assert.rejects(
      dispatchEval(e, sshProfile(pythonWithFake), { model: 'm', benchmarks: ['gsm8k'], dcd: false, backendDir: BACKEND, settings: { maxGenToks: 4096, maxModelLen: 4096 } }),
      /maxGenToks \(4096\) must be smaller than maxModelLen/,
    );
    await assert.rejects(dispatchEval(e, sshProfile(pythonWithFake), { model: 'a,b', benchmarks: ['gsm8k'], dcd: false, backendDir: BACKEND }), /comma/);
    assert.deepEqual(await new JobStore(store).list(), []);
  } finally {
    await e.close();
  }
});

test('dcd eval submit on the local host (stand-in harness): the {"job"} contract, dcd job logs/fetch, dcd results; bad input refused before any job', { timeout: 120_000 }, async () => {
  const store = path.join(tmp, 'jobs-cli-local.json');
  const dcd = (args: string[]) => {
    const r = runDcd(args, { env: { DCD_BACKEND_DIR: BACKEND, DCD_JOBS_STORE: store, DCD_HOSTS_FILE: '', HF_TOKEN: TOKEN } });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const local = ['--host', 'local', '--python', pythonWithFake, '--root', path.join(tmp, 'local-cli')];
  const sub = dcd(['eval', 'submit', ...local, '--model', 'Qwen/Qwen2.5-1.5B-Instruct', '--tasks', 'aime24,gsm8k', '--dcd', '--limit', '3', '--seed', '9', '--max-gen-toks', '2048', '--json']);
  assert.equal(sub.code, 0, sub.stderr);
  const out = JSON.parse(sub.stdout) as Record<string, unknown> & { job: string; jobs: Array<{ job: string; benchmark: string; tasks: string[]; status: string }> };
  assert.deepEqual(Object.keys(out).sort(), ['backend', 'eval', 'host', 'hostModel', 'job', 'jobs', 'model', 'offline', 'outputPath', 'resultsDir', 'warnings']);
  assert.deepEqual(out.jobs.map((j) => [j.benchmark, j.tasks, j.status]), [['aime24', ['aime24', 'dcd_aime24'], 'queued'], ['gsm8k', ['gsm8k', 'dcd_gsm8k'], 'queued']]);
  assert.equal(out.job, out.jobs[1].job, '"job" is the last job: it ends when the evaluation ends');
  assert.equal(out.host, 'local');
  assert.equal(out.offline, false);
  assert.match(sub.stderr, /warning: vLLM is not installed/);
  assert.ok(!sub.stdout.includes(TOKEN) && !readFileSync(store, 'utf8').includes(TOKEN), 'HF_TOKEN from the environment stays out of outputs and the job history');

  const logs = dcd(['job', 'logs', out.job, '--follow']);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /fake lm_eval: model=hf tasks=gsm8k,dcd_gsm8k shots=5/);
  assert.ok(logs.stdout.includes(`HF_TOKEN sha256: ${createHash('sha256').update(TOKEN).digest('hex')}`));
  const status = JSON.parse(dcd(['job', 'status', out.jobs[0].job, '--json']).stdout) as Record<string, unknown>;
  assert.equal(status.status, 'succeeded');
  assert.deepEqual([status.kind, status.benchmark, status.limit, status.seed, status.offline], ['eval', 'aime24', 3, 9, false]);
  const list = dcd(['job', 'fetch', out.job, '--list', '--json']);
  assert.deepEqual((JSON.parse(list.stdout) as { artifacts: Array<{ kind: string; name: string }> }).artifacts.map((a) => [a.kind, a.name]), [['results', 'results']]);
  const fetched = dcd(['job', 'fetch', out.job, '--out', path.join(tmp, 'cli-local-fetched'), '--json']);
  assert.equal(fetched.code, 0, fetched.stderr);
  const res = JSON.parse(dcd(['results', path.join(tmp, 'cli-local-fetched', 'results'), '--json']).stdout) as Array<{ tasks: Record<string, unknown> }>;
  assert.deepEqual(res.flatMap((r) => Object.keys(r.tasks)).sort(), ['aime24', 'dcd_aime24', 'dcd_gsm8k', 'gsm8k']);
  assert.match(dcd(['job', 'fetch', out.job, '--artifact', 'model', '--json']).stderr, /has no artifact "model" \(has: results\)/);

  // --offline without a data dir: the Hub is off (the datasets must be in the host's cache); a Hub id as the model is warned about.
  const off = dcd(['eval', 'submit', ...local, '--model', 'Qwen/Qwen2.5-1.5B-Instruct', '--tasks', 'aime24', '--offline', '--json']);
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stderr, /offline but the model "Qwen\/Qwen2\.5-1\.5B-Instruct" is not a folder path/);
  assert.match(off.stderr, /datasets must already be in the host's Hugging Face datasets cache/);
  const offJob = (JSON.parse(off.stdout) as { job: string; offline: boolean }).job;
  assert.equal(dcd(['job', 'logs', offJob, '--follow']).code, 0);
  const offRec = (await new JobStore(store).list()).find((j) => j.id === offJob)!;
  const cfg = JSON.parse(readFileSync(path.join(offRec.remote!.jobDir, 'job.json'), 'utf8')) as { env: string[] };
  assert.deepEqual([...cfg.env].sort(), ['HF_DATASETS_OFFLINE', 'HF_HUB_OFFLINE', 'HF_TOKEN', 'TRANSFORMERS_OFFLINE']);

  const before = (await new JobStore(store).list()).length;
  const empty = mkdtempSync(path.join(tmp, 'empty-data-'));
  const bad = dcd(['eval', 'submit', ...local, '--model', 'm', '--tasks', 'gsm8k', '--data-dir', empty, '--json']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /benchmark data dir .*empty-data-.*:\n {2}gsm8k\/: missing: GSM8K needs gsm8k\/test\.jsonl and gsm8k\/train\.jsonl/);
  assert.match(dcd(['eval', 'submit', ...local, '--model', 'm', '--tasks', 'mmlu', '--json']).stderr, /unknown benchmark "mmlu"/);
  assert.match(dcd(['eval', 'submit', ...local, '--model', 'm', '--tasks', 'gsm8k', '--limit', '1.5', '--json']).stderr, /--limit must be/);
  assert.match(dcd(['eval', 'submit', ...local, '--model', path.join(tmp, 'no-such-model'), '--upload-model', '--tasks', 'gsm8k', '--json']).stderr, /not a folder on this machine/);
  assert.equal((await new JobStore(store).list()).length, before, 'no job was created by bad input');

  // A harness whose task files are not where lm-eval 0.4.10-0.4.13 keeps them (the stand-in has none): the overrides cannot include them.
  const moved = dcd(['eval', 'submit', ...local, '--model', tmp, '--tasks', 'aime24', '--data-dir', path.join(ROOT, 'test', 'fixtures', 'lmeval-data'), '--json']);
  assert.equal(moved.code, 1);
  assert.match(moved.stderr, /fake_harness\/lm_eval\/tasks\/aime\/aime24\.yaml is not on local: this lm-eval keeps aime24 elsewhere/);
  const failed = (await new JobStore(store).list()).filter((j) => j.status === 'failed');
  assert.equal(failed.length, 1);
  assert.match(failed[0].error ?? '', /keeps aime24 elsewhere/);
});
