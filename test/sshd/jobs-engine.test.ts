/**
 * The jobs engine end to end against a real OpenSSH server on 127.0.0.1 and
 * the real trainer (python-backend/train.py, builtin:tiny, smoke preset, CPU),
 * plus the stand-in trainer of test/fixtures/jobs/backend where a test needs
 * control over timing or hostile arguments.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JobEngine, type EventBatch } from '../../src/core/jobs/engine';
import type { PlanEvent, StepEvent, TrainingEvent } from '../../src/core/jobs/events';
import { JobStore } from '../../src/core/jobs/store';
import { createConnector, type HostProfile, type LocalProfile, type SshProfile } from '../../src/core/remote/profiles';
import { assertMatchesSchema } from '../support/schemas';
import { killLeftoverJobs, loopbackProfile, recordingSession, startSshd, type Sshd } from '../support/sshd';

const ROOT = path.resolve(__dirname, '..', '..');
const REAL_BACKEND = path.join(ROOT, 'python-backend');
const STAND_IN_BACKEND = path.join(ROOT, 'test', 'fixtures', 'jobs', 'backend');
const EXPORT = path.join(ROOT, 'test', 'fixtures', 'jobs', 'export');

let sshd: Sshd;
let tmp: string;
let knownHosts: string;
/** Every command line any test session ran, to prove what never appears in one. */
const commands: string[] = [];

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-jobs-test-'));
  sshd = await startSshd({ dir: path.join(tmp, 'sshd') });
  knownHosts = path.join(tmp, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine + '\n');
});

after(async () => {
  killLeftoverJobs(tmp);
  await sshd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function sshProfile(extra: Partial<SshProfile> = {}): SshProfile {
  return loopbackProfile(sshd, { knownHosts, python: '/usr/bin/python3', root: path.join(tmp, 'remote') }, extra);
}

function engine(storeFile: string, backendDir = REAL_BACKEND): JobEngine {
  return new JobEngine({
    store: new JobStore(storeFile),
    backendDir,
    connectorFor: (profile: HostProfile) => {
      const c = createConnector(profile, {
        hostKeyPolicy: async () => 'reject', trustStoreFile: path.join(tmp, 'trust'), sshConfigFile: false, agent: false,
      });
      return { profile, connect: async () => recordingSession(await c.connect(), commands) };
    },
  });
}

/** Follows a job to its end, collecting every event. */
async function followAll(e: JobEngine, id: string, from = 0, onBatch?: (b: EventBatch) => void) {
  const events: TrainingEvent[] = [];
  const end = await e.followEvents(id, from, (b) => { events.push(...b.events); onBatch?.(b); }, { intervalMs: 100 }).done;
  return { events, ...end };
}

const stepsOf = (events: TrainingEvent[]) => events.filter((e): e is StepEvent => e.event === 'step').map((e) => e.step);
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
const accepted = () => (readFileSync(sshd.logPath, 'utf8').match(/Accepted publickey/g) ?? []).length;

let firstJob: { id: string; steps: number } | undefined;
const hostile = "x 'q' \"d\" $(touch PWNED) `touch PWNED2` ; \n end";
const hostileRoot = () => path.join(tmp, `root ${hostile}`);

test('the real trainer over SSH: the connection dies mid-run, the editor restarts, and every step arrives exactly once', async () => {
  const store = path.join(tmp, 'jobs.json');
  const e1 = engine(store);
  const rec = await e1.submit(sshProfile(), { data: EXPORT, model: 'builtin:tiny', preset: 'smoke', maxSteps: 60 });
  assert.equal(rec.status, 'queued');
  assert.deepEqual(rec.history.map((h) => h.status), ['preparing', 'uploading', 'queued']);
  assert.equal(rec.remote!.launcher, 'setsid');

  const events: TrainingEvent[] = [];
  let killedAt: string | undefined;
  let reconnects = 0;
  let offset = 0;
  const connectionsBefore = accepted();
  const follower = e1.followEvents(rec.id, 0, (b) => {
    assert.equal(b.fromOffset, offset, 'batches are contiguous');
    offset = b.toOffset;
    events.push(...b.events);
    const steps = stepsOf(events);
    if (!killedAt && steps.length >= 3) { killedAt = new Date().toISOString(); sshd.killConnections(); }
    if (reconnects > 0 && steps.length >= 8) follower.stop(); // the editor closes…
  }, { intervalMs: 100, onReconnect: () => { reconnects++; } });
  await follower.done;
  await e1.close();
  assert.ok(killedAt, 'the connection was killed during the run');
  assert.ok(reconnects >= 1, 'the follower noticed and reconnected');

  // …and a new editor session picks the job up by id, from the last offset.
  const e2 = engine(store);
  const rest = await followAll(e2, rec.id, offset);
  const all = [...events, ...rest.events];
  assert.deepEqual(stepsOf(all), range(60), 'every step exactly once, in order');
  assert.equal(all.filter((e) => e.event === 'plan').length, 1);
  const done = all.filter((e) => e.event === 'done');
  assert.equal(done.length, 1);
  assert.ok(done[0].time > killedAt!, 'the job went on after the connection died');
  assert.equal(rest.status, 'succeeded');
  assert.ok(accepted() - connectionsBefore >= 2, 'the server saw a second connection');

  // What was delivered is exactly the file on the host.
  const session = await e2.session(rec.host);
  const file = (await session.readFrom(`${rec.remote!.jobDir}/events.jsonl`, 0, 1 << 24))!;
  assert.equal(rest.offset, file.length);
  assert.deepEqual(all, file.toString('utf8').trim().split('\n').map((l) => JSON.parse(l)));

  const final = await e2.refresh(rec.id);
  assert.equal(final.status, 'succeeded');
  assert.deepEqual(final.history.map((h) => h.status), ['preparing', 'uploading', 'queued', 'running', 'succeeded']);
  assert.equal(final.lastStep, 60);
  assert.equal(final.totalSteps, 60);
  const artifacts = await e2.artifacts(rec.id);
  const model = artifacts.find((a) => a.kind === 'model');
  assert.ok(model, 'the final model is listed');
  const fetched = await e2.fetch(rec.id, 'model', path.join(tmp, 'fetched'));
  assert.ok(existsSync(path.join(fetched[0].localPath, 'config.json')));
  await e2.close();
  firstJob = { id: rec.id, steps: 60 };
});

test('reattach by id from a machine that never saw the job', async () => {
  assert.ok(firstJob, 'needs the first test');
  const e = engine(path.join(tmp, 'other-machine-jobs.json'));
  await assert.rejects(e.refresh(firstJob.id), /unknown job/);
  const rec = await e.attach(sshProfile(), firstJob.id);
  assert.equal(rec.status, 'succeeded');
  assert.equal(rec.lastStep, firstJob.steps);
  await assert.rejects(e.attach(sshProfile(), '20990101-000000-abcdef'), /no job/);
  await e.close();
});

test('cancel is graceful: SIGTERM makes the real trainer checkpoint, the job ends cancelled, the checkpoint can be fetched', async () => {
  const e = engine(path.join(tmp, 'jobs.json'));
  const before = readdirSync(path.join(tmp, 'remote', 'backend')).length;
  const rec = await e.submit(sshProfile(), { data: EXPORT, model: 'builtin:tiny', preset: 'smoke', maxSteps: 5000 });
  assert.equal(readdirSync(path.join(tmp, 'remote', 'backend')).length, before, 'the backend is not uploaded twice');
  let steps = 0;
  const f = e.followEvents(rec.id, 0, (b) => { steps += stepsOf(b.events).length; if (steps >= 3) f.stop(); }, { intervalMs: 100 });
  await f.done;
  const cancelled = await e.cancel(rec.id, { graceMs: 90_000 });
  assert.equal(cancelled.status, 'cancelled');
  const jobDir = rec.remote!.jobDir;
  const log = () => readFileSync(path.join(jobDir, 'log.txt'), 'utf8').slice(-2000);
  assert.ok(existsSync(path.join(jobDir, 'exit_code')), `the runner saw the trainer exit: no forced kill was needed\n${log()}`);
  const pid = Number(readFileSync(path.join(jobDir, 'pid'), 'utf8'));
  assert.throws(() => process.kill(pid, 0), 'the trainer is gone');
  const { events } = await followAll(e, rec.id);
  const ckpt = events.filter((x) => x.event === 'checkpoint' && x.reason === 'signal');
  assert.equal(ckpt.length, 1, `one checkpoint on the signal\n${log()}`);
  const artifacts = await e.artifacts(rec.id);
  const listed = artifacts.find((a) => a.kind === 'checkpoint' && a.reason === 'signal');
  assert.ok(listed, 'the signal checkpoint is listed');
  const got = await e.fetch(rec.id, listed.name, path.join(tmp, 'ckpt'));
  assert.ok(got[0].files > 0 && got[0].bytes > 0);
  assert.ok(statSync(got[0].localPath).isDirectory());
  assert.deepEqual(await e.cancel(rec.id), await e.refresh(rec.id), 'cancelling an ended job changes nothing');
  await e.close();
});

test('hostile paths and arguments round-trip, and a secret reaches the trainer without touching a command line or a file', async () => {
  const root = hostileRoot();
  const data = path.join(tmp, `export ${hostile}`);
  cpSync(EXPORT, data, { recursive: true });
  const model = `builtin:tiny ${hostile}`;
  const secret = "hf_S3CR3T-$(id)-'\"-value";
  const e = engine(path.join(tmp, 'hostile-jobs.json'), STAND_IN_BACKEND);
  const cmdsBefore = commands.length;
  const rec = await e.submit(sshProfile({ root }), { data, model, preset: 'smoke', maxSteps: 3 }, { secretEnv: { HF_TOKEN: secret, DCD_FAKE_STEP_S: '0.05' } });
  assert.ok(rec.remote!.jobDir.startsWith(`${root}/jobs/`));
  const { events, status } = await followAll(e, rec.id);
  assert.equal(status, 'succeeded');
  assert.equal((events.find((x) => x.event === 'plan') as PlanEvent | undefined)?.model, model);
  assert.deepEqual(stepsOf(events), range(3));
  const config = JSON.parse(readFileSync(path.join(rec.remote!.jobDir, 'job.json'), 'utf8'));
  assert.equal(config.spec.data, data);
  assert.equal(config.spec.model, model);
  for (const canary of ['PWNED', 'PWNED2']) {
    for (const where of [os.homedir(), tmp, rec.remote!.jobDir, '/']) assert.ok(!existsSync(path.join(where, canary)), `${canary} in ${where}`);
  }
  // The secret arrived…
  const check = readFileSync(path.join(rec.remote!.jobDir, 'run', 'secret_check.txt'), 'utf8');
  assert.equal(check, createHash('sha256').update(secret).digest('hex'));
  // …and is nowhere else: not in a command, not in the job directory, the store, or the server log.
  const sent = commands.slice(cmdsBefore);
  assert.ok(sent.length > 0);
  for (const c of sent) assert.ok(!c.includes('S3CR3T'), `a command line holds the secret: ${c}`);
  const grep = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) return grep(p);
    return d.isFile() && readFileSync(p).includes('S3CR3T') ? [p] : [];
  });
  assert.deepEqual(grep(root), []);
  assert.ok(!readFileSync(path.join(tmp, 'hostile-jobs.json'), 'utf8').includes('S3CR3T'));
  assert.ok(!readFileSync(sshd.logPath, 'utf8').includes('S3CR3T'));
  await e.close();
});

test("a job's folders on the host are 0700 and its files 0600: root, uploads, job folder, run folder, log, checkpoints", async () => {
  const root = path.join(tmp, 'private root');
  const e = engine(path.join(tmp, 'private-jobs.json'), STAND_IN_BACKEND);
  try {
    const rec = await e.submit(sshProfile({ root }), { data: EXPORT, model: 'm', preset: 'smoke', maxSteps: 2 }, { secretEnv: { DCD_FAKE_STEP_S: '0.01' } });
    assert.equal((await followAll(e, rec.id)).status, 'succeeded');
    const { jobDir, backendDir, exportDir } = rec.remote!;
    const mode = (f: string) => (statSync(f).mode & 0o777).toString(8);
    for (const d of [root, path.join(root, 'jobs'), jobDir, path.join(root, 'backend'), backendDir, path.join(root, 'exports'), exportDir, path.join(jobDir, 'run')]) {
      assert.equal(mode(d), '700', d);
    }
    for (const f of ['log.txt', 'status', 'run/events.jsonl']) assert.equal(mode(path.join(jobDir, f)), '600', f);
  } finally {
    await e.close();
  }
});

test('a job whose runner vanished (host reboot, OOM kill) is marked failed', async () => {
  const e = engine(path.join(tmp, 'jobs.json'), STAND_IN_BACKEND);
  // Same backend and export as the hostile-path test, so nothing is uploaded again.
  const rec = await e.submit(sshProfile({ root: hostileRoot() }), { data: EXPORT, model: 'm', preset: 'smoke', maxSteps: 200 }, { secretEnv: { DCD_FAKE_STEP_S: '0.5' } });
  const jobDir = rec.remote!.jobDir;
  for (let i = 0; i < 100 && !existsSync(path.join(jobDir, 'pid')); i++) await new Promise((r) => setTimeout(r, 100));
  const runner = Number(readFileSync(path.join(jobDir, 'runner.pid'), 'utf8'));
  process.kill(-runner, 'SIGKILL'); // the whole detached process group, like a crash would
  // The kill is asynchronous: the next refreshes must find the runner gone within a few seconds.
  let r = await e.refresh(rec.id);
  for (let i = 0; i < 50 && r.status !== 'failed'; i++) { await new Promise((res) => setTimeout(res, 200)); r = await e.refresh(rec.id); }
  assert.equal(r.status, 'failed');
  assert.match(r.error ?? '', /no longer running/);
  assert.equal(readFileSync(path.join(jobDir, 'status'), 'utf8').trim(), 'failed');
  await e.close();
});

test('the local profile runs the same job, detached in tmux where present', async () => {
  const local: LocalProfile = { name: 'local', kind: 'local', python: '/usr/bin/python3', root: path.join(tmp, 'local root') };
  const e = engine(path.join(tmp, 'jobs.json'));
  const rec = await e.submit(local, { data: EXPORT, model: 'builtin:tiny', preset: 'smoke' });
  assert.equal(rec.remote!.backendDir, REAL_BACKEND, 'the local backend is used in place');
  assert.equal(rec.remote!.exportDir, EXPORT, 'the local export is used in place');
  const { events, status } = await followAll(e, rec.id);
  assert.equal(status, 'succeeded');
  const plan = events.find((x) => x.event === 'plan');
  assert.ok(plan && plan.event === 'plan');
  assert.deepEqual(stepsOf(events), range(plan.total_steps));
  assert.ok((await e.artifacts(rec.id)).some((a) => a.kind === 'model'));
  const list = await e.list();
  assert.ok(list.some((j) => j.id === rec.id && j.host.kind === 'local'));
  // Every record the engine wrote in this file (ssh and local jobs, live and finished) has the documented shape.
  for (const j of JSON.parse(readFileSync(path.join(tmp, 'jobs.json'), 'utf8')).jobs as unknown[]) assertMatchesSchema('job_record', j);
  await e.close();
});

test('a submit that cannot reach its host fails cleanly and is recorded as failed', async () => {
  const e = engine(path.join(tmp, 'jobs.json'));
  const unknownKey = sshProfile({ knownHostsFiles: [path.join(tmp, 'empty_known_hosts')] });
  await assert.rejects(e.submit(unknownKey, { data: EXPORT, model: 'builtin:tiny', preset: 'smoke' }), /not known/);
  const failed = (await e.list())[0];
  assert.equal(failed.status, 'failed');
  assert.match(failed.error ?? '', /not known/);
  await e.close();
});
