/**
 * The jobs feature's state: ONE JobEngine (job history and trust store under
 * the extension's globalStorage), the host profiles from settings, and a
 * watcher per live job that follows its events from byte offset 0 (so the
 * chart holds every step exactly once) and keeps the tree up to date.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { JobEngine, type EventBatch, type Follower } from '../core/jobs/engine';
import { JobStore, type JobRecord } from '../core/jobs/store';
import { isTerminal } from '../core/jobs/status';
import { createConnector, type HostProfile } from '../core/remote/profiles';
import { typeChangeWarning, type HostKeyInfo } from '../core/remote/knownHosts';
import type { ChartPoint } from '../core/protocols/jobs';
import { configuredProfiles } from '../config';

export type HostKeyDecision = 'accept-once' | 'accept-save' | 'reject';
export type HostKeyPolicy = (info: HostKeyInfo) => Promise<HostKeyDecision>;

/** The host-key modal (an unknown key, or one of another type than recorded): SHA256 fingerprint; Trust and Connect / Connect Once / cancel (reject). */
export async function hostKeyModal(info: HostKeyInfo): Promise<HostKeyDecision> {
  const trust = 'Trust and Connect';
  const once = 'Connect Once';
  const typeChanged = info.status === 'type-changed' ? typeChangeWarning(info) : undefined;
  const pick = await vscode.window.showWarningMessage(
    typeChanged ? `DCD: ${typeChanged.message}` : `DCD: the authenticity of host ${info.host}:${info.port} can't be established.`,
    {
      modal: true,
      detail: `${typeChanged ? typeChanged.detail : `${info.keyType} key fingerprint is ${info.fingerprintSha256}.`}\n\nConnect only if this matches the host's key (ask its administrator, or run \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on it). "Trust and Connect" remembers the key in DCD Studio's own trust store.`,
    },
    trust, once,
  );
  return pick === trust ? 'accept-save' : pick === once ? 'accept-once' : 'reject';
}

/** Thrown when an untrusted workspace tries to dispatch work to a host. */
export class UntrustedWorkspaceError extends Error {
  constructor(action: string) {
    super(`${action} is disabled in an untrusted workspace: it runs code on a host. Trust this workspace (Manage Workspace Trust) to dispatch jobs.`);
    this.name = 'UntrustedWorkspaceError';
  }
}

/** The Workspace Trust guard of every dispatching command. */
export function assertTrusted(action: string, trusted: boolean = vscode.workspace.isTrusted): void {
  if (!trusted) throw new UntrustedWorkspaceError(action);
}

/** Step events → chart points. */
export function stepPoints(batch: EventBatch): ChartPoint[] {
  const out: ChartPoint[] = [];
  for (const e of batch.events) {
    if (e.event !== 'step') continue;
    out.push({ step: e.step, loss: e.loss, lr: e.lr, grad_norm: e.grad_norm, tokens_per_s: e.tokens_per_s, elapsed_s: e.elapsed_s });
  }
  return out;
}

interface Watch {
  follower: Follower;
  points: ChartPoint[];
  offset: number;
  batches: number;
}

export class JobsModel implements vscode.Disposable {
  readonly engine: JobEngine;
  readonly trustStoreFile: string;
  /** Tests replace the modal with a scripted answer. */
  hostKeyPolicy: HostKeyPolicy = hostKeyModal;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly pointsEmitter = new vscode.EventEmitter<{ id: string; points: ChartPoint[]; seq: number }>();
  /** New points of a job, as read (each step once). */
  readonly onPoints = this.pointsEmitter.event;
  private readonly watches = new Map<string, Watch>();
  private jobs: JobRecord[] = [];

  constructor(private readonly context: vscode.ExtensionContext, backendDir: string, private readonly output: vscode.OutputChannel) {
    const storage = context.globalStorageUri.fsPath;
    this.trustStoreFile = path.join(storage, 'known_hosts');
    const secrets = context.secrets;
    this.engine = new JobEngine({
      store: new JobStore(path.join(storage, 'jobs.json')),
      backendDir,
      connectorFor: (profile) => createConnector(profile, {
        hostKeyPolicy: (info) => this.hostKeyPolicy(info),
        trustStoreFile: this.trustStoreFile,
        secrets: { get: (k) => Promise.resolve(secrets.get(k)), set: (k, v) => Promise.resolve(secrets.store(k, v)), delete: (k) => Promise.resolve(secrets.delete(k)) },
        promptPassword: ({ user, host, port }) => Promise.resolve(vscode.window.showInputBox({ password: true, ignoreFocusOut: true, title: `DCD: password for ${user}@${host}:${port}` })),
        promptPassphrase: ({ keyFile }) => Promise.resolve(vscode.window.showInputBox({ password: true, ignoreFocusOut: true, title: `DCD: passphrase for ${keyFile}` })),
      }),
    });
  }

  /** `local` (with `dcd.pythonPath`) and the valid `dcd.hosts` profiles; problems are collected. */
  profiles(problems: string[] = []): HostProfile[] {
    return configuredProfiles(problems);
  }

  profile(name: string): HostProfile {
    const p = this.profiles().find((x) => x.name === name);
    if (!p) throw new Error(`no host profile "${name}" (known: ${this.profiles().map((x) => x.name).join(', ')})`);
    return p;
  }

  /** The job history as last read (newest first). */
  list(): readonly JobRecord[] { return this.jobs; }

  async reload(): Promise<JobRecord[]> {
    this.jobs = await this.engine.list();
    this.changed.fire();
    return this.jobs;
  }

  /** Points of a job read so far (starts following it when it is not yet). */
  points(id: string): ChartPoint[] { return this.watch(id).points; }

  isWatching(id: string): boolean { return this.watches.has(id); }

  /** Follows a job's events from offset 0 (once per job); terminal jobs are read once. */
  watch(id: string): Watch {
    let w = this.watches.get(id);
    if (w) return w;
    const rec = this.jobs.find((j) => j.id === id);
    const once = rec ? isTerminal(rec.status) : false;
    const points: ChartPoint[] = [];
    const watch: Watch = { follower: undefined as unknown as Follower, points, offset: 0, batches: 0 };
    watch.follower = this.engine.followEvents(id, 0, (batch) => {
      watch.offset = batch.toOffset;
      const fresh = stepPoints(batch);
      if (!fresh.length && !batch.events.length) return;
      points.push(...fresh);
      const seq = ++watch.batches;
      if (fresh.length) this.pointsEmitter.fire({ id, points: fresh, seq });
      void this.reload();
    }, {
      once,
      onReconnect: (n, err) => this.output.appendLine(`[job ${id}] connection lost (${err.message}); reconnecting (${n})…`),
    });
    w = watch;
    this.watches.set(id, w);
    void w.follower.done.then(
      (end) => { this.output.appendLine(`[job ${id}] ${end.status} (events read to byte ${end.offset})`); return this.reload(); },
      (err: Error) => { this.output.appendLine(`[job ${id}] stopped following: ${err.message}`); this.watches.delete(id); },
    ).catch(() => undefined);
    return w;
  }

  /** Waits until the job's follower has ended (the job is terminal and every event was read). */
  async settled(id: string): Promise<void> {
    await this.watch(id).follower.done;
  }

  /** Reattaches every non-terminal job of the history (on activation). */
  async reattachAll(): Promise<string[]> {
    const jobs = await this.reload();
    const live = jobs.filter((j) => !isTerminal(j.status) && j.remote);
    for (const j of live) this.watch(j.id);
    return live.map((j) => j.id);
  }

  dispose(): void {
    for (const w of this.watches.values()) w.follower.stop();
    this.watches.clear();
    void this.engine.close();
    this.changed.dispose();
    this.pointsEmitter.dispose();
  }
}
