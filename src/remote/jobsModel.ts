/**
 * The jobs feature's state: the job history of the extension's one JobEngine
 * (src/services/hosts.ts), and a watcher per live job that follows its events
 * from byte offset 0 (so the chart holds every step exactly once) and keeps
 * the tree up to date.
 */
import * as vscode from 'vscode';
import type { EventBatch, Follower, JobEngine } from '../core/jobs/engine';
import type { JobRecord } from '../core/jobs/store';
import { isTerminal } from '../core/jobs/status';
import type { HostProfile } from '../core/remote/profiles';
import type { ChartPoint } from '../core/protocols/jobs';
import type { HostKeyPolicy, HostServices } from '../services/hosts';

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
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly pointsEmitter = new vscode.EventEmitter<{ id: string; points: ChartPoint[]; seq: number }>();
  /** New points of a job, as read (each step once). */
  readonly onPoints = this.pointsEmitter.event;
  private readonly watches = new Map<string, Watch>();
  private jobs: JobRecord[] = [];

  constructor(readonly hosts: HostServices, private readonly output: vscode.OutputChannel) {}

  get engine(): JobEngine { return this.hosts.engine; }
  get trustStoreFile(): string { return this.hosts.trustStoreFile; }
  /** Tests replace the modal with a scripted answer. */
  get hostKeyPolicy(): HostKeyPolicy { return this.hosts.hostKeyPolicy; }
  set hostKeyPolicy(policy: HostKeyPolicy) { this.hosts.hostKeyPolicy = policy; }

  /** `local` (with `dcd.pythonPath`) and the valid `dcd.hosts` profiles; problems are collected. */
  profiles(problems: string[] = []): HostProfile[] {
    return this.hosts.profiles(problems);
  }

  profile(name: string): HostProfile {
    return this.hosts.profile(name);
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
    this.changed.dispose();
    this.pointsEmitter.dispose();
  }
}
