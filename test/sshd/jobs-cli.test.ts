/**
 * `dcd job …` as a user runs it (a subprocess), against a real OpenSSH
 * server on 127.0.0.1, with the stand-in trainer of test/fixtures/jobs/backend.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { killLeftoverJobs, startSshd, type Sshd } from '../support/sshd';

const ROOT = path.resolve(__dirname, '..', '..');
const EXPORT = path.join(ROOT, 'test', 'fixtures', 'jobs', 'export');

let sshd: Sshd;
let tmp: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-cli-jobs-'));
  sshd = await startSshd({ dir: path.join(tmp, 'sshd') });
});

after(async () => {
  killLeftoverJobs(tmp);
  await sshd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * Runs `dcd job ARGS`. The full `dcd` program loads every subcommand (seconds
 * per start on a busy machine), so most calls run the same `job` module
 * through a minimal commander program; one test goes through the real entry.
 */
const JOB_ONLY = `
const { Command } = require('commander');
const { register } = require('./src/cli/commands/job');
const program = new Command('dcd').exitOverride();
register(program);
program.parseAsync(process.argv.slice(1), { from: 'user' }).catch((e) => {
  if (!String(e.code || '').startsWith('commander.')) process.stderr.write('dcd: ' + e.message + '\\n');
  process.exitCode = e.exitCode || 1;
});`;

function dcd(args: string[], full = false) {
  const env = {
    ...process.env,
    DCD_BACKEND_DIR: path.join(ROOT, 'test', 'fixtures', 'jobs', 'backend'),
    DCD_JOBS_STORE: path.join(tmp, 'jobs.json'),
    DCD_TRUST_STORE: path.join(tmp, 'dcd_known_hosts'),
    DCD_HOSTS_FILE: '',
    SSH_AUTH_SOCK: '',
  };
  const entry = full ? ['src/cli/index.ts'] : ['-e', JOB_ONLY];
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...entry, 'job', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const sshArgs = () => [
  '--ssh', `${sshd.user}@127.0.0.1:${sshd.port}`, '--identity', sshd.clientKeyPath,
  '--known-hosts', path.join(tmp, 'empty_known_hosts'), '--python', '/usr/bin/python3', '--root', path.join(tmp, 'remote'), '--ssh-config', path.join(tmp, 'no_ssh_config'),
];

let jobId = '';

test('an unknown host key is refused, with its fingerprint, until --accept-new-host-key', () => {
  const refused = dcd(['submit', ...sshArgs(), '--data', EXPORT, '--model', 'builtin:tiny', '--preset', 'smoke', '--json']);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /not known \(ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}\)/);
  assert.match(refused.stderr, /--accept-new-host-key/);
  assert.equal(refused.stdout, '');
  assert.ok(!existsSync(path.join(tmp, 'dcd_known_hosts')));

  const ok = dcd(['submit', ...sshArgs(), '--accept-new-host-key', '--data', EXPORT, '--model', 'builtin:tiny', '--preset', 'smoke', '--max-steps', '4', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  const out = JSON.parse(ok.stdout);
  assert.match(out.job, /^\d{8}-\d{6}-[0-9a-f]{6}$/);
  assert.equal(out.status, 'queued');
  assert.equal(readFileSync(path.join(tmp, 'dcd_known_hosts'), 'utf8'), `${sshd.knownHostsLine}\n`, 'the accepted key went to the trust store');
  jobId = out.job;
});

test('logs --follow --events streams every step once until the job ends; status, list and fetch report it', () => {
  assert.ok(jobId);
  const logs = dcd(['logs', jobId, '--follow', '--events']);
  assert.equal(logs.code, 0, logs.stderr);
  const events = logs.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; step?: number });
  assert.deepEqual(events.filter((e) => e.event === 'step').map((e) => e.step), [1, 2, 3, 4]);
  assert.equal(events.at(-1)!.event, 'done');

  const status = dcd(['status', jobId, '--json']);
  assert.equal(status.code, 0, status.stderr);
  const st = JSON.parse(status.stdout);
  assert.equal(st.status, 'succeeded');
  assert.equal(st.lastStep, 4);

  const text = dcd(['logs', jobId]);
  assert.match(text.stdout, /step 4 loss/);

  const list = JSON.parse(dcd(['list', '--json'], true).stdout);
  assert.ok(list.jobs.some((j: { job: string; status: string }) => j.job === jobId && j.status === 'succeeded'));

  const out = path.join(tmp, 'fetched');
  const fetched = dcd(['fetch', jobId, '--out', out, '--json']);
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.ok(existsSync(path.join(out, 'model', 'config.json')));
  assert.deepEqual(JSON.parse(fetched.stdout).fetched.map((f: { name: string; kind: string }) => [f.name, f.kind]), [['model', 'model']]);
});

test('a hosts-file profile submits; cancel stops the job with a checkpoint', async () => {
  const hostsFile = path.join(tmp, 'hosts.json');
  writeFileSync(hostsFile, JSON.stringify([{
    name: 'loopback', host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.clientKeyPath,
    knownHostsFiles: [path.join(tmp, 'empty_known_hosts')], python: '/usr/bin/python3', root: path.join(tmp, 'remote'),
  }]));
  const sub = dcd(['submit', '--host', 'loopback', '--hosts-file', hostsFile, '--ssh-config', path.join(tmp, 'none'), '--data', EXPORT, '--model', 'm', '--preset', 'smoke', '--max-steps', '1000', '--json']);
  assert.equal(sub.code, 0, sub.stderr);
  const id = JSON.parse(sub.stdout).job as string;
  const jobDir = path.join(tmp, 'remote', 'jobs', id);
  const events = path.join(jobDir, 'events.jsonl');
  for (let i = 0; i < 300 && !(existsSync(events) && readFileSync(events, 'utf8').includes('"step"')); i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  const cancel = dcd(['cancel', id, '--grace', '30', '--json']);
  assert.equal(cancel.code, 0, cancel.stderr);
  const c = JSON.parse(cancel.stdout);
  assert.equal(c.status, 'cancelled');
  assert.ok(c.checkpoints.some((k: { reason: string }) => k.reason === 'signal'), 'a checkpoint was written on SIGTERM');
  assert.equal(readFileSync(path.join(jobDir, 'status'), 'utf8'), 'cancelled\n', 'the host agrees');
});

test('bad input is refused with a clear message', () => {
  const r = dcd(['submit', '--data', tmp, '--model', 'x', '--preset', 'smoke']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /not an export/);
  const p = dcd(['submit', '--data', EXPORT, '--model', 'x', '--preset', 'huge']);
  assert.match(p.stderr, /--preset must be paper or smoke/);
  const u = dcd(['status', 'no-such-job', '--json']);
  assert.notEqual(u.code, 0);
  assert.match(u.stderr, /unknown job no-such-job/);
  const h = dcd(['submit', '--host', 'nowhere', '--data', EXPORT, '--model', 'x', '--preset', 'smoke']);
  assert.match(h.stderr, /no host profile named "nowhere"/);
});
