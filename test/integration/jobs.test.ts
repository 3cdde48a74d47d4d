/**
 * Remote hosts and jobs inside VS Code, on the `local` profile: "Train on
 * Host…" with arguments packs the demo corpus and runs a real job
 * (builtin:tiny, smoke); the loss chart holds every step of the events file
 * exactly once; cancelling a second job leaves a checkpoint; an untrusted
 * dispatch is refused; event-to-chart latency is measured through the real
 * follower and webview.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { JobRecord } from '../../src/core/jobs/store';
import type { ChartPoint } from '../../src/core/protocols/jobs';
import { activateExtension, EXTENSION_ID, waitFor, workspaceRoot } from './util';

/** A very small builtin model and short samples: the test machine's CPUs are shared. */
const MODEL = 'builtin:tiny?hidden=16&layers=1&heads=2&kv=1&ffn=32';
const MAX_LENGTH = 192;

function stepsOf(jobDir: string): ChartPoint[] {
  return fs.readFileSync(path.join(jobDir, 'events.jsonl'), 'utf8').split('\n').filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, number> & { event: string })
    .filter((e) => e.event === 'step')
    .map((e) => ({ step: e.step, loss: e.loss, lr: e.lr, grad_norm: e.grad_norm, tokens_per_s: e.tokens_per_s, elapsed_s: e.elapsed_s }));
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

describe('Remote hosts and jobs', function () {
  this.timeout(600_000);
  const config = () => vscode.workspace.getConfiguration('dcd');
  let previousPython: string | undefined;
  let root: string;

  before(async () => {
    const api = await activateExtension();
    previousPython = config().inspect<string>('pythonPath')?.globalValue;
    await config().update('pythonPath', '/usr/bin/python3', vscode.ConfigurationTarget.Global);
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-jobs-it-'));
    await waitFor(() => api.remote.model.profiles()[0].python === '/usr/bin/python3', 'the pythonPath setting');
  });

  after(async () => {
    const api = await activateExtension();
    api.remote.chart()?.panel.dispose();
    await config().update('pythonPath', previousPython, vscode.ConfigurationTarget.Global);
  });

  it('refuses to dispatch from an untrusted workspace', async () => {
    const api = await activateExtension();
    const before = (await api.remote.model.reload()).length;
    const corpus = vscode.Uri.joinPath(workspaceRoot(), 'demo.dcd.jsonl');
    await assert.rejects(api.remote.trainOnHost({ corpus, host: 'local', preset: 'smoke', model: MODEL }, { trusted: false }),
      (err: Error) => err.name === 'UntrustedWorkspaceError' && /Train on Host is disabled in an untrusted workspace/.test(err.message));
    assert.throws(() => api.remote.assertTrusted('Cancel Job', false), /Cancel Job is disabled in an untrusted workspace/);
    assert.doesNotThrow(() => api.remote.assertTrusted('Cancel Job', true));
    assert.equal((await api.remote.model.reload()).length, before, 'no job was recorded');
  });

  it('trains on local from "Train on Host…" with arguments; the chart holds every step exactly once', async () => {
    const api = await activateExtension();
    const corpus = vscode.Uri.joinPath(workspaceRoot(), 'demo.dcd.jsonl');
    const rec = await vscode.commands.executeCommand<JobRecord | undefined>('dcd.trainOnHost', {
      corpus, host: 'local', preset: 'smoke', model: MODEL, maxSteps: 3, maxLength: MAX_LENGTH,
    });
    assert.ok(rec, 'Train on Host returned a job');
    assert.equal(rec.host.kind, 'local');
    assert.equal(rec.host.python, '/usr/bin/python3');
    assert.deepEqual(rec.history.slice(0, 3).map((h) => h.status), ['preparing', 'uploading', 'queued']);
    const panel = api.remote.chart();
    assert.ok(panel, 'the loss chart opened');
    await panel.whenReady();

    await api.remote.model.settled(rec.id);
    const done = (await api.remote.model.reload()).find((j) => j.id === rec.id)!;
    assert.equal(done.status, 'succeeded', `job ended ${done.status}: ${done.error ?? ''}`);
    assert.deepEqual(done.history.map((h) => h.status), ['preparing', 'uploading', 'queued', 'running', 'succeeded']);
    assert.equal(done.lastStep, 3);
    assert.equal(done.totalSteps, 3);

    const fromFile = stepsOf(rec.remote!.jobDir);
    assert.deepEqual(fromFile.map((p) => p.step), [1, 2, 3]);
    assert.deepEqual(panel.data()[rec.id], fromFile, 'chart data = the events file, each step once');
    const painted = await waitFor(() => (panel.painted.get(rec.id)?.step === 3 ? panel.painted.get(rec.id) : undefined), 'the webview to paint step 3');
    assert.equal(painted.points, 3, 'the webview holds exactly 3 points');

    // The tree shows the job with its status and progress.
    const jobsGroup = api.hosts.getChildren().find((n) => n.kind === 'group' && n.group === 'jobs')!;
    const node = api.hosts.getChildren(jobsGroup).find((n) => n.kind === 'job' && n.job.id === rec.id)!;
    const item = api.hosts.getTreeItem(node);
    assert.match(String(item.description), /^succeeded · step 3\/3 · loss \d+\.\d{4} · local$/);
    assert.equal(item.contextValue, 'dcd.job.succeeded');
  });

  it('cancels a running job gracefully: it ends cancelled with a checkpoint', async () => {
    const api = await activateExtension();
    const corpus = vscode.Uri.joinPath(workspaceRoot(), 'demo.dcd.jsonl');
    const rec = await api.remote.trainOnHost({ corpus, host: 'local', preset: 'smoke', model: MODEL, maxSteps: 40, maxLength: MAX_LENGTH, showChart: false });
    assert.ok(rec);
    await waitFor(() => api.remote.model.points(rec.id).length >= 1, 'the first step of the second job', 300_000);
    const cancelled = await vscode.commands.executeCommand<JobRecord>('dcd.cancelJob', rec.id, 120_000);
    assert.equal(cancelled.status, 'cancelled');
    const checkpoints = (await api.remote.model.engine.artifacts(rec.id)).filter((a) => a.kind === 'checkpoint');
    assert.ok(checkpoints.length >= 1, 'a checkpoint was left');
    assert.equal(checkpoints[checkpoints.length - 1].reason, 'signal');
    assert.ok(fs.existsSync(checkpoints[checkpoints.length - 1].path));
  });

  it('measures event-to-chart latency on a running job (p95 ≤ 1 s)', async () => {
    const api = await activateExtension();
    const id = `latency-${Date.now()}`;
    const jobDir = path.join(root, id);
    fs.mkdirSync(jobDir, { recursive: true });
    fs.writeFileSync(path.join(jobDir, 'status'), 'running\n');
    fs.writeFileSync(path.join(jobDir, 'events.jsonl'), JSON.stringify({ event: 'plan', total_steps: 30, time: new Date().toISOString() }) + '\n');
    const now = new Date().toISOString();
    await api.remote.model.engine.store.put({
      id, host: { name: 'local', kind: 'local' }, status: 'running',
      history: ['preparing', 'uploading', 'queued', 'running'].map((status) => ({ status: status as JobRecord['status'], time: now })),
      createdAt: now, updatedAt: now, spec: { data: root, model: 'latency-probe', preset: 'smoke' },
      remote: { jobDir, backendDir: root, exportDir: root, python: '/usr/bin/python3' },
    });
    await api.remote.model.reload();
    const panel = await api.remote.showLossCurves([id]);
    await panel.whenReady();
    const latencies: number[] = [];
    for (let step = 1; step <= 30; step++) {
      const seen = new Promise<number>((resolve) => {
        const sub = panel.onPainted((p) => { if (p.run === id && p.step === step) { sub.dispose(); resolve(Date.now()); } });
      });
      const t0 = Date.now();
      fs.appendFileSync(path.join(jobDir, 'events.jsonl'), JSON.stringify({
        event: 'step', step, loss: 3 - step / 30, lr: 1e-5, grad_norm: 1, tokens: 100, tokens_per_s: 1000, elapsed_s: step, time: new Date().toISOString(),
      }) + '\n');
      latencies.push((await seen) - t0);
      await new Promise((r) => setTimeout(r, 100 + (step * 37) % 200));
    }
    fs.writeFileSync(path.join(jobDir, 'status'), 'succeeded\n');
    await api.remote.model.settled(id);
    assert.deepEqual(panel.data()[id].map((p) => p.step), Array.from({ length: 30 }, (_, i) => i + 1));
    const sorted = [...latencies].sort((a, b) => a - b);
    const result = { samples: sorted.length, p50_ms: quantile(sorted, 0.5), p95_ms: quantile(sorted, 0.95), max_ms: sorted[sorted.length - 1], poll_interval_ms: 250 };
    const out = path.join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionUri.fsPath, 'test-results', 'chart-latency.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    console.log(`chart latency: ${JSON.stringify(result)}`);
    assert.ok(result.p95_ms <= 1000, `p95 ${result.p95_ms} ms`);
    panel.remove(id);
  });
});

describe('Remote hosts and jobs over SSH (host key policy)', function () {
  this.timeout(180_000);
  const config = () => vscode.workspace.getConfiguration('dcd');
  // Loaded lazily: the support module spawns sshd (root only).
  let sshd: { port: number; user: string; clientKeyPath: string; hostPublicKey: string; stop(): Promise<void> } | undefined;
  let previousHosts: unknown;
  let knownHosts: string;

  before(async function () {
    if (!fs.existsSync('/usr/sbin/sshd') || process.getuid?.() !== 0) this.skip();
    const { startSshd } = await import('../support/sshd');
    sshd = await startSshd();
    knownHosts = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-kh-')), 'known_hosts');
    fs.writeFileSync(knownHosts, '');
    previousHosts = config().inspect('hosts')?.globalValue;
    await config().update('hosts', [{ name: 'sshd-test', host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.clientKeyPath, knownHostsFiles: [knownHosts], python: '/usr/bin/python3' }], vscode.ConfigurationTarget.Global);
  });

  after(async () => {
    const api = await activateExtension();
    api.remote.model.hostKeyPolicy = (await import('../../src/services/hosts')).hostKeyModal;
    await api.remote.model.engine.close();
    await config().update('hosts', previousHosts, vscode.ConfigurationTarget.Global);
    await sshd?.stop();
  });

  it('asks the policy about an unknown key with its SHA256 fingerprint; reject refuses, accept-save connects and Forget Host Key forgets', async () => {
    const api = await activateExtension();
    await waitFor(() => api.remote.model.profiles().some((p) => p.name === 'sshd-test'), 'the dcd.hosts setting');
    const blob = Buffer.from(sshd!.hostPublicKey.split(' ')[1], 'base64');
    const fingerprint = 'SHA256:' + (await import('node:crypto')).createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
    const asked: Array<{ fingerprintSha256: string; status: string; port: number }> = [];
    api.remote.model.hostKeyPolicy = async (info) => { asked.push(info); return 'reject'; };
    await assert.rejects(api.remote.checkHost('sshd-test'));
    assert.equal(asked.length, 1, 'the policy was asked once');
    assert.equal(asked[0].fingerprintSha256, fingerprint);
    assert.equal(asked[0].status, 'unknown');
    assert.equal(asked[0].port, sshd!.port);
    const trustStore = api.remote.model.trustStoreFile;
    assert.ok(!fs.existsSync(trustStore) || !fs.readFileSync(trustStore, 'utf8').includes(sshd!.hostPublicKey.split(' ')[1]), 'nothing saved on reject');

    api.remote.model.hostKeyPolicy = async (info) => { asked.push(info); return 'accept-save'; };
    const report = await api.remote.checkHost('sshd-test');
    assert.equal(asked.length, 2);
    assert.ok(report.summary.os, 'Check Host reports the OS');
    assert.ok(fs.readFileSync(trustStore, 'utf8').includes(sshd!.hostPublicKey.split(' ')[1]), 'the key was saved in the trust store');
    // The host node shows the check's facts as children.
    const hostsGroup = api.hosts.getChildren().find((n) => n.kind === 'group' && n.group === 'hosts')!;
    const host = api.hosts.getChildren(hostsGroup).find((n) => n.kind === 'host' && n.profile.name === 'sshd-test')!;
    const facts = api.hosts.getChildren(host).map((n) => (n.kind === 'fact' ? n.label : ''));
    assert.deepEqual(facts, ['OS', 'Python', 'torch', 'CUDA', 'GPUs', 'free disk', 'backend packages']);

    const forgotten = await vscode.commands.executeCommand<number>('dcd.forgetHostKey', 'sshd-test');
    assert.equal(forgotten, 1);
    assert.ok(!fs.readFileSync(trustStore, 'utf8').includes(sshd!.hostPublicKey.split(' ')[1]), 'Forget Host Key removed it');
  });
});
