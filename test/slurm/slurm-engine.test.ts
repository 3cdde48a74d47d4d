/**
 * The `slurm` host profile against a real one-node Slurm cluster (scripts/slurm-cluster.mjs: Debian's
 * slurm-wlm, munge, slurmctld, slurmd on this machine) and the real trainer (python-backend/train.py with
 * the project venv): submit through the jobs engine, follow events, cancel with SIGTERM (the trainer
 * checkpoints), resubmit resuming from it, and a 2-task srun + torchrun rendezvous job (gloo on CPU).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JobEngine } from '../../src/core/jobs/engine';
import type { TrainingEvent } from '../../src/core/jobs/events';
import { JobStore } from '../../src/core/jobs/store';
import { createConnector, normalizeProfile, type HostProfile, type SlurmProfile } from '../../src/core/remote/profiles';

const ROOT = path.join(__dirname, '..', '..');
const BACKEND = path.join(ROOT, 'python-backend');
const EXPORT = path.join(ROOT, 'test', 'fixtures', 'jobs', 'export');
const PY = process.env.DCD_VENV_PYTHON ?? path.join(ROOT, '.venv', 'bin', 'python');

let tmp: string;
let slurmConf: string;
let profile: SlurmProfile;

function engine(): JobEngine {
  return new JobEngine({
    store: new JobStore(path.join(tmp, 'jobs.json')),
    backendDir: BACKEND,
    connectorFor: (p: HostProfile) => createConnector(p, { hostKeyPolicy: async () => 'reject', trustStoreFile: path.join(tmp, 'trust'), sshConfigFile: false, agent: false }),
  });
}

async function followAll(e: JobEngine, id: string, onEvents?: (ev: TrainingEvent[]) => void) {
  const events: TrainingEvent[] = [];
  const end = await e.followEvents(id, 0, (b) => { events.push(...b.events); onEvents?.(events); }, { intervalMs: 200, stallCheckMs: 5000 }).done;
  return { events, ...end };
}

function slurm(args: string[]): string {
  return execFileSync(args[0], args.slice(1), { encoding: 'utf8', env: { ...process.env, SLURM_CONF: slurmConf } });
}

before(() => {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'slurm-cluster.mjs'), 'start'], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `slurm-cluster start: ${r.stderr}`);
  slurmConf = /SLURM_CONF=(.+)/.exec(r.stdout)![1].trim();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-slurm-test-'));
  // One CPU per task: two single-task jobs may share the node, and the trainer keeps to one thread.
  profile = normalizeProfile({ name: 'cluster', kind: 'slurm', slurmConf, python: PY, root: path.join(tmp, 'root'), cpusPerTask: 1, time: '00:20:00' }) as SlurmProfile;
  process.env.OMP_NUM_THREADS = '1';
});

after(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

test('the profile: kind slurm, no host means this machine, allocation fields kept', () => {
  assert.equal(profile.kind, 'slurm');
  assert.equal(profile.host, undefined);
  assert.equal(profile.cpusPerTask, 1);
  assert.throws(() => normalizeProfile({ name: 'x', kind: 'slurm', partition: 'gpu; rm -rf /' }), /one word/);
  assert.throws(() => normalizeProfile({ name: 'x', kind: 'slurm', sbatchArgs: ['--x=1', 'oops'] }), /sbatchArgs/);
});

test('builtin:tiny, --preset smoke on the fixture export: sbatch, events followed, succeeded', async () => {
  const e = engine();
  const t0 = Date.now();
  const rec = await e.submit(profile, { data: EXPORT, model: 'builtin:tiny', preset: 'smoke' });
  assert.equal(rec.remote?.launcher, 'slurm');
  assert.match(rec.remote?.slurmJobId ?? '', /^\d+$/);
  const { events, status } = await followAll(e, rec.id);
  const jobDir = rec.remote!.jobDir;
  assert.equal(status, 'succeeded', readFileSync(path.join(jobDir, 'log.txt'), 'utf8').slice(-3000));
  assert.equal(events[0].event, 'plan');
  assert.equal(events.filter((x) => x.event === 'step').length, 8);
  assert.equal(events.at(-1)!.event, 'done');
  const show = slurm(['scontrol', 'show', 'job', rec.remote!.slurmJobId!]);
  assert.match(show, /JobState=COMPLETED/);
  assert.match(readFileSync(path.join(jobDir, 'run.sh'), 'utf8'), /^#SBATCH --cpus-per-task=1$/m);
  const done = await e.refresh(rec.id);
  assert.equal(done.lastStep, 8);
  process.stdout.write(`# slurm job ${rec.remote!.slurmJobId}: ${(Date.now() - t0) / 1000} s\n`);
});

test('a Hugging Face model (the tiny random Qwen2 written by transformers) trains through sbatch into a complete final/ folder', async () => {
  // The model and a matching export (its tokenizer fingerprint) come from the backend's own test helpers, run in the venv.
  const exportDir = path.join(tmp, 'hf-export');
  const made = spawnSync(PY, ['-c', [
    'from tests.helpers import tiny_hf_model',
    'from dcd_backend.synth import write_export',
    'from dcd_backend.export import sha256_file',
    'm = tiny_hf_model()',
    `write_export(${JSON.stringify(exportDir)}, samples=8, vocab_size=512, tokenizer_sha256=sha256_file(m / "tokenizer.json"), plan_preset="smoke", grad_accum=2, max_steps=3)`,
    'print(m)',
  ].join('\n')], { cwd: BACKEND, encoding: 'utf8', timeout: 600_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  assert.equal(made.status, 0, made.stderr);
  const model = made.stdout.trim().split('\n').at(-1)!;
  const e = engine();
  const rec = await e.submit(profile, { data: exportDir, model, preset: 'smoke' });
  assert.equal(rec.remote?.launcher, 'slurm');
  const { events, status } = await followAll(e, rec.id);
  assert.equal(status, 'succeeded', readFileSync(path.join(rec.remote!.jobDir, 'log.txt'), 'utf8').slice(-3000));
  assert.deepEqual(events.filter((x) => x.event === 'step').map((x) => (x as { step: number }).step), [1, 2, 3]);
  const done = events.at(-1) as { event: string; model_dir: string | null };
  assert.equal(done.event, 'done');
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']) {
    assert.ok(existsSync(path.join(done.model_dir!, f)), `final/${f}`);
  }
});

test('cancel mid-run: SIGTERM through scancel, the trainer checkpoints; resubmitted with resumeFrom, it finishes', async () => {
  const e = engine();
  const steps = 400;
  const first = await e.submit(profile, { data: EXPORT, model: 'builtin:tiny', preset: 'smoke', maxSteps: steps });
  let cancelled: Promise<unknown> | undefined;
  const run1 = await followAll(e, first.id, (ev) => {
    if (!cancelled && ev.some((x) => x.event === 'step' && x.step >= 3)) cancelled = e.cancel(first.id, { graceMs: 90_000 });
  });
  await cancelled;
  const jobDir = first.remote!.jobDir;
  const log = readFileSync(path.join(jobDir, 'log.txt'), 'utf8');
  assert.equal(run1.status, 'cancelled', log.slice(-3000));
  const ckpt = run1.events.filter((x) => x.event === 'checkpoint').at(-1);
  assert.ok(ckpt && ckpt.event === 'checkpoint' && ckpt.reason === 'signal', `a signal checkpoint; log:\n${log.slice(-2000)}`);
  const stoppedAt = ckpt.step;
  assert.ok(stoppedAt >= 3 && stoppedAt < steps, `stopped at ${stoppedAt}`);
  assert.ok(existsSync(path.join(jobDir, 'run', 'checkpoints', 'latest')));
  assert.equal((await e.refresh(first.id)).status, 'cancelled');

  const second = await e.submit(profile, { data: EXPORT, model: 'builtin:tiny', preset: 'smoke', maxSteps: steps, resumeFrom: first.id });
  const run2 = await followAll(e, second.id);
  assert.equal(run2.status, 'succeeded', readFileSync(path.join(second.remote!.jobDir, 'log.txt'), 'utf8').slice(-3000));
  const plan = run2.events.find((x) => x.event === 'plan') as Record<string, unknown> | undefined;
  assert.equal(plan?.resume_step, stoppedAt, JSON.stringify(plan));
  const stepNums = run2.events.flatMap((x) => (x.event === 'step' ? [x.step] : []));
  assert.equal(stepNums[0], stoppedAt + 1);
  assert.equal(stepNums.at(-1), steps);
});

test('2 tasks on one node: srun starts two torchrun agents, c10d rendezvous, DDP over gloo', async () => {
  const data = path.join(tmp, 'export-ga2');
  // The fixture's plan has grad_accum 1; two ranks need an even global batch.
  execFileSync(PY, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(BACKEND)}); from dcd_backend.synth import write_export; `
    + `write_export(${JSON.stringify(data)}, samples=16, min_len=16, max_len=40, vocab_size=128, grad_accum=2, epochs=1, plan_preset='smoke')`]);
  const e = engine();
  const multi = { ...profile, name: 'cluster-2', tasks: 2 } as SlurmProfile;
  const rec = await e.submit(multi, { data, model: 'builtin:tiny', preset: 'smoke' });
  const script = readFileSync(path.join(rec.remote!.jobDir, 'run.sh'), 'utf8');
  assert.match(script, /^#SBATCH --ntasks=2$/m);
  assert.match(script, /srun --kill-on-bad-exit=1 --ntasks="\$SLURM_NTASKS" .* --nnodes="\$SLURM_NTASKS" .*--rdzv_endpoint="\$MASTER_ADDR:\$MASTER_PORT"/);
  const { events, status } = await followAll(e, rec.id);
  assert.equal(status, 'succeeded', readFileSync(path.join(rec.remote!.jobDir, 'log.txt'), 'utf8').slice(-3000));
  const plan = events.find((x) => x.event === 'plan') as Record<string, unknown> | undefined;
  assert.equal(plan?.world_size, 2);
  assert.equal(plan?.dist, 'ddp');
  assert.equal(events.at(-1)!.event, 'done');
});
