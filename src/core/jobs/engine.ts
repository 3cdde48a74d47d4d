/**
 * The jobs engine: submit a training job to a host, follow its events and
 * log from a byte offset (reconnecting as needed), cancel it gracefully,
 * reattach to it later by id, and fetch its checkpoints and final model.
 *
 * The engine knows hosts only through `HostConnector`s that the caller makes
 * (with whatever host key policy, secrets and prompts it has), so the VS Code
 * extension and the `dcd` CLI share all of it.
 */
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { collectBundle, exportManifestHashes, FAST_GZIP, uploadBundle, type UploadProgress } from '../remote/bundle';
import { DEFAULT_PYTHON, DEFAULT_ROOT, type HostConnector, type HostProfile } from '../remote/profiles';
import { safeLocalPath, type DownloadOptions, type DownloadResult } from '../remote/safePaths';
import { shellExports } from '../remote/shellQuote';
import { execChecked, hostPath, joinHost, readHostText, writeHostFileAtomic, type HostSession } from '../remote/session';
import { completeLines, parseEvents, type CheckpointEvent, type ParsedEvents, type TrainingEvent } from './events';
import {
  cancelCommand, forceKillCommand, JOB_FILES, launchCommand, livenessCommand, runnerScript, type TrainCommand,
} from './runner';
import {
  isLiveState, parseState, parseSubmitOutput, slurmBatchScript, slurmCancelCommand, slurmForceKillCommand, stateCommand,
  statusOfEndedState, submitCommand,
} from './slurm';
import { HOST_STATUSES, isTerminal, type JobStatus } from './status';
import { applyStatus, JobStore, type JobRecord, type JobRemote, type JobSpec } from './store';

export interface JobEngineOptions {
  store: JobStore;
  /** The local `python-backend/` directory to run (uploaded to SSH hosts, used in place locally); needed to submit. */
  backendDir?: string;
  /** Makes a connector for a profile (the caller injects policies, secrets, prompts). */
  connectorFor: (profile: HostProfile) => HostConnector;
}

export interface SubmitOptions {
  /** Extra environment for the trainer (e.g. a Hub token): sent on stdin, never on a command line or into a file. */
  secretEnv?: Record<string, string>;
  onStatus?: (status: JobStatus) => void;
  onUpload?: (what: 'backend' | 'export', p: UploadProgress) => void;
}

export interface FollowOptions {
  /** Poll interval while the job runs (default 250 ms). */
  intervalMs?: number;
  /** Give up when the host stays unreachable this long (default 5 min). */
  reconnectTimeoutMs?: number;
  /** Called when the connection was lost: for each failed poll, and when a new connection replaces a dropped one. */
  onReconnect?: (attempt: number, err: Error) => void;
  /** Check that the runner still lives after this long without news (default 30 s). */
  stallCheckMs?: number;
  /** Read what is there now, once, and stop (no waiting for the job to end). */
  once?: boolean;
}

export interface EventBatch extends ParsedEvents {
  fromOffset: number;
  toOffset: number;
}

export interface Follower {
  stop(): void;
  /** Resolves when the job ended (and every event was delivered) or stop() was called. */
  done: Promise<{ offset: number; status: JobStatus }>;
}

export interface Artifact {
  /** `results`: an evaluation job's lm-eval output folder (results_*.json, samples_*.jsonl). */
  kind: 'checkpoint' | 'model' | 'results';
  /** `model`, `results`, or the checkpoint directory's name. */
  name: string;
  step?: number;
  reason?: string;
  /** Absolute path on the host. */
  path: string;
  isDirectory: boolean;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$/;

/** A new job id: sortable by creation time, unique enough without coordination. */
export function newJobId(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${randomBytes(3).toString('hex')}`;
}

export function checkJobId(id: string): string {
  if (!ID_RE.test(id)) throw new Error(`invalid job id ${JSON.stringify(id)}`);
  return id;
}

/** An exception thrown by the caller's callback: it ends the follow, it is not a connection problem. */
class CallbackError extends Error {
  constructor(override readonly cause: unknown) { super('callback failed'); }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class JobEngine {
  private readonly sessions = new Map<string, { connector: HostConnector; session?: Promise<HostSession> }>();

  constructor(private readonly opts: JobEngineOptions) {}

  get store(): JobStore { return this.opts.store; }

  /** The live session for a profile, reconnecting when the last one closed. */
  async session(profile: HostProfile): Promise<HostSession> {
    const key = JSON.stringify(profile);
    let slot = this.sessions.get(key);
    if (!slot) { slot = { connector: this.opts.connectorFor(profile) }; this.sessions.set(key, slot); }
    if (slot.session) {
      const s = await slot.session.catch(() => undefined);
      if (s && !s.closed) return s;
    }
    const s = slot.connector.connect();
    slot.session = s;
    s.catch(() => { if (slot.session === s) slot.session = undefined; });
    return s;
  }

  /** Closes every open connection. */
  async close(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map(async (slot) => (await slot.session?.catch(() => undefined))?.close()));
  }

  private async record(id: string): Promise<JobRecord> {
    const rec = await this.store.get(checkJobId(id));
    if (!rec) throw new Error(`unknown job ${id} (not in ${this.store.file}; use attach to adopt a job that runs on a host)`);
    return rec;
  }

  private remote(rec: JobRecord): JobRemote {
    if (!rec.remote) throw new Error(`job ${rec.id} never reached its host (status ${rec.status})`);
    return rec.remote;
  }

  private async setStatus(id: string, to: JobStatus, extra: Partial<JobRecord> = {}): Promise<JobRecord> {
    return this.store.update(id, (rec) => (isTerminal(rec.status) ? rec : { ...applyStatus(rec, to), ...extra }));
  }

  /**
   * Submits a job: uploads the backend and the export (SSH hosts; content-
   * addressed, so only once), writes the job directory and starts the runner
   * detached. Returns once the job is queued on the host.
   */
  async submit(profile: HostProfile, spec: JobSpec, opts: SubmitOptions = {}): Promise<JobRecord> {
    const localBackend = this.opts.backendDir;
    if (!localBackend) throw new Error('no python-backend/ directory configured: cannot submit');
    const id = newJobId();
    const now = new Date().toISOString();
    const data = path.resolve(spec.data);
    let rec: JobRecord = {
      id, host: profile, status: 'preparing', history: [{ status: 'preparing', time: now }],
      createdAt: now, updatedAt: now, spec: { ...spec, data },
    };
    await this.store.put(rec);
    opts.onStatus?.('preparing');
    try {
      const session = await this.session(profile);
      const root = hostPath(session.home, profile.root ?? DEFAULT_ROOT);
      const python = profile.python?.includes('/') ? hostPath(session.home, profile.python) : (profile.python ?? DEFAULT_PYTHON);
      const [backend, exportBundle] = session.kind === 'ssh'
        ? await Promise.all([collectBundle(localBackend), collectBundle(data, { knownHashes: await exportManifestHashes(data) })])
        : [undefined, undefined];
      rec = await this.setStatus(id, 'uploading');
      opts.onStatus?.('uploading');
      let backendDir = path.resolve(localBackend);
      let exportDir = data;
      if (backend && exportBundle) {
        // Two channels at once: the host's login shell starts only once in wall time.
        const [b, e] = await Promise.all([
          uploadBundle(session, backend, joinHost(root, 'backend'), { onProgress: (p) => opts.onUpload?.('backend', p) }),
          uploadBundle(session, exportBundle, joinHost(root, 'exports'), { gzip: FAST_GZIP, onProgress: (p) => opts.onUpload?.('export', p) }),
        ]);
        backendDir = b.dest;
        exportDir = e.dest;
      }
      const jobDir = joinHost(root, 'jobs', id);
      let resumeFrom: string | undefined;
      if (spec.resumeFrom !== undefined) {
        checkJobId(spec.resumeFrom);
        resumeFrom = joinHost(root, 'jobs', spec.resumeFrom, JOB_FILES.runDir);
      }
      const train: TrainCommand = { python, backendDir, exportDir, jobDir, model: spec.model, preset: spec.preset, maxSteps: spec.maxSteps, resumeFrom };
      await session.mkdirp(jobDir);
      await session.writeFile(joinHost(jobDir, JOB_FILES.config), JSON.stringify({ id, spec: rec.spec, host: profile.name, train, createdAt: now }, null, 2) + '\n');
      await session.writeFile(joinHost(jobDir, JOB_FILES.runner), profile.kind === 'slurm' ? slurmBatchScript(id, train, profile) : runnerScript(id, train));
      await writeHostFileAtomic(session, joinHost(jobDir, JOB_FILES.status), 'queued\n');
      rec = await this.setStatus(id, 'queued', { remote: { jobDir, backendDir, exportDir, python } });
      if (rec.status === 'cancelled') {
        // Cancelled (by another window or `dcd job cancel`) while it was uploading: never start it.
        await writeHostFileAtomic(session, joinHost(jobDir, JOB_FILES.status), 'cancelled\n');
        return rec;
      }
      opts.onStatus?.('queued');
      const env = opts.secretEnv && Object.keys(opts.secretEnv).length ? opts.secretEnv : undefined;
      if (profile.kind === 'slurm') {
        const r = await execChecked(session, submitCommand(jobDir, profile, env !== undefined), { stdin: env ? shellExports(env) : undefined });
        const slurmJobId = parseSubmitOutput(r.stdout);
        return await this.store.update(id, (x) => ({ ...x, remote: { ...x.remote!, launcher: 'slurm', slurmJobId } }));
      }
      const launch = launchCommand(jobDir, id, profile.launcher ?? 'auto', env !== undefined);
      const r = await execChecked(session, launch.command, { stdin: env ? shellExports(env) : undefined });
      const launcher = /launcher=(tmux|setsid)/.exec(r.stdout)?.[1] as 'tmux' | 'setsid' | undefined;
      rec = await this.store.update(id, (x) => ({ ...x, remote: { ...x.remote!, launcher } }));
      return rec;
    } catch (err) {
      await this.setStatus(id, 'failed', { error: (err as Error).message }).catch(() => undefined);
      throw err;
    }
  }

  /** Adopts a job that runs on a host but is not in the local store (another machine, a lost store). */
  async attach(profile: HostProfile, id: string): Promise<JobRecord> {
    checkJobId(id);
    const existing = await this.store.get(id);
    if (existing) return this.refresh(id);
    const session = await this.session(profile);
    const root = hostPath(session.home, profile.root ?? DEFAULT_ROOT);
    const jobDir = joinHost(root, 'jobs', id);
    const text = await readHostText(session, joinHost(jobDir, JOB_FILES.config));
    if (text === undefined) throw new Error(`no job ${id} on ${session.label} (looked in ${jobDir})`);
    // An evaluation job's job.json has no `train` (core/jobs/evalDispatch.ts).
    const cfg = JSON.parse(text) as { spec: JobSpec; train?: TrainCommand; createdAt?: string };
    const now = new Date().toISOString();
    await this.store.put({
      id, host: profile, status: 'queued', history: [{ status: 'queued', time: now }],
      createdAt: cfg.createdAt ?? now, updatedAt: now, spec: cfg.spec,
      remote: { jobDir, backendDir: cfg.train?.backendDir ?? '', exportDir: cfg.train?.exportDir ?? '', python: cfg.train?.python ?? '' },
    });
    return this.refresh(id);
  }

  /** The host's word on a job's status, applied to the local record through legal transitions. */
  async refresh(id: string, opts: { checkAlive?: boolean } = {}): Promise<JobRecord> {
    let rec = await this.record(id);
    if (isTerminal(rec.status) || !rec.remote) return rec;
    const session = await this.session(rec.host);
    const hostStatus = await this.readHostStatus(session, rec.remote.jobDir);
    if (hostStatus) rec = await this.setStatus(id, hostStatus);
    if (!isTerminal(rec.status) && opts.checkAlive !== false) rec = await this.checkAlive(session, rec);
    return this.summarize(session, rec);
  }

  private async readHostStatus(session: HostSession, jobDir: string): Promise<JobStatus | undefined> {
    const word = (await readHostText(session, joinHost(jobDir, JOB_FILES.status), 64))?.trim();
    return HOST_STATUSES.find((s) => s === word);
  }

  /** A running job whose runner is gone (host reboot, OOM kill) is failed. */
  private async checkAlive(session: HostSession, rec: JobRecord): Promise<JobRecord> {
    if (rec.host.kind === 'slurm') return this.checkSlurm(session, rec);
    if (rec.status !== 'running') return rec;
    const jobDir = this.remote(rec).jobDir;
    const alive = (await session.exec(livenessCommand(jobDir))).stdout.trim();
    if (alive !== 'gone') return rec;
    // Re-read: the runner may have finished between the two reads.
    const again = await this.readHostStatus(session, jobDir);
    if (again && again !== 'running') return this.setStatus(rec.id, again);
    await writeHostFileAtomic(session, joinHost(jobDir, JOB_FILES.status), 'failed\n');
    return this.setStatus(rec.id, 'failed', { error: 'the job runner is no longer running on the host (reboot or killed?)' });
  }

  /**
   * Slurm's word on a queued or running job: one that Slurm ended while the job directory still says
   * queued or running (the time limit's KILL, OOM, a node failure, a pending job removed) gets its status
   * from Slurm's state.
   */
  private async checkSlurm(session: HostSession, rec: JobRecord): Promise<JobRecord> {
    if (rec.host.kind !== 'slurm' || (rec.status !== 'running' && rec.status !== 'queued')) return rec;
    const jobDir = this.remote(rec).jobDir;
    const state = parseState((await session.exec(stateCommand(jobDir, rec.host))).stdout);
    if (isLiveState(state)) return rec;
    const again = await this.readHostStatus(session, jobDir);
    if (again && isTerminal(again)) return this.setStatus(rec.id, again);
    const status = statusOfEndedState(state);
    await writeHostFileAtomic(session, joinHost(jobDir, JOB_FILES.status), `${status}\n`);
    return this.setStatus(rec.id, status, status === 'failed' ? { error: `Slurm ended job ${rec.remote?.slurmJobId ?? ''} as ${state} before the runner recorded a status` } : {});
  }

  /** Last step, loss and total steps from the events file. */
  private async summarize(session: HostSession, rec: JobRecord): Promise<JobRecord> {
    const buf = await session.readFrom(joinHost(this.remote(rec).jobDir, JOB_FILES.events), 0, 64 << 20);
    if (!buf) return rec;
    const { events } = parseEvents(completeLines(buf).complete);
    const extra = summaryOf(events);
    if (!Object.keys(extra).length) return rec;
    return this.store.update(rec.id, (x) => ({ ...x, ...extra }));
  }

  /** Lists the local job history, newest first. */
  async list(): Promise<JobRecord[]> {
    return (await this.store.list()).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /**
   * Follows a job's events from a byte offset: `onEvents` gets every complete
   * line exactly once, in order, with the offset to resume from. A lost
   * connection is retried from the last delivered offset. Ends when the job
   * has ended and its events are all read.
   */
  followEvents(id: string, fromOffset: number, onEvents: (batch: EventBatch) => void, opts: FollowOptions = {}): Follower {
    return this.follow(id, JOB_FILES.events, fromOffset, (chunk, from, to) => {
      const parsed = parseEvents(chunk);
      onEvents({ ...parsed, fromOffset: from, toOffset: to });
      const extra = summaryOf(parsed.events);
      return Object.keys(extra).length ? extra : undefined;
    }, opts, true);
  }

  /** Follows `log.txt` the same way, in raw chunks (not cut at lines). */
  followLog(id: string, fromOffset: number, onText: (text: string, toOffset: number) => void, opts: FollowOptions = {}): Follower {
    return this.follow(id, JOB_FILES.log, fromOffset, (chunk, _from, to) => { onText(chunk.toString('utf8'), to); return undefined; }, opts, false);
  }

  private follow(
    id: string, file: string, fromOffset: number,
    deliver: (chunk: Buffer, from: number, to: number) => Partial<JobRecord> | undefined,
    opts: FollowOptions, lines: boolean,
  ): Follower {
    let stopped = false;
    let wake: (() => void) | undefined;
    const stop = () => { stopped = true; wake?.(); };
    const nap = (ms: number) => new Promise<void>((r) => { const t = setTimeout(r, ms); wake = () => { clearTimeout(t); r(); }; });
    const interval = opts.intervalMs ?? 250;
    const done = (async () => {
      let rec = await this.record(id);
      const jobDir = this.remote(rec).jobDir;
      const filePath = joinHost(jobDir, file);
      let offset = fromOffset;
      let attempt = 0;
      let lastContact = Date.now();
      let lastNews = Date.now();
      let summary: Partial<JobRecord> = {};
      let lastSession: HostSession | undefined;
      while (!stopped) {
        try {
          const session = await this.session(rec.host);
          if (lastSession && session !== lastSession && attempt === 0) opts.onReconnect?.(1, new Error(`connection to ${session.label} was lost`));
          lastSession = session;
          // Status first: once it is terminal, the read after it sees every event.
          const hostStatus = await this.readHostStatus(session, jobDir);
          let progressed = false;
          for (;;) {
            const buf = await session.readFrom(filePath, offset, 4 << 20);
            if (!buf || buf.length === 0) break;
            const cut = lines ? completeLines(buf) : { complete: buf, consumed: buf.length };
            if (cut.consumed === 0) break;
            const from = offset;
            offset += cut.consumed;
            progressed = true;
            try {
              summary = { ...summary, ...deliver(cut.complete, from, offset) };
            } catch (err) {
              throw new CallbackError(err);
            }
            if (buf.length < 4 << 20) break;
          }
          attempt = 0;
          lastContact = Date.now();
          if (progressed) lastNews = Date.now();
          if (hostStatus && hostStatus !== rec.status && !isTerminal(rec.status)) rec = await this.setStatus(id, hostStatus);
          if (hostStatus && isTerminal(hostStatus) && !progressed) break;
          if (opts.once) break;
          if (Date.now() - lastNews > (opts.stallCheckMs ?? 30_000)) {
            lastNews = Date.now();
            rec = await this.checkAlive(session, rec);
            if (isTerminal(rec.status)) continue; // one more read, then out
          }
          await nap(interval);
        } catch (err) {
          if (err instanceof CallbackError) throw err.cause;
          if (stopped) break;
          if (Date.now() - lastContact > (opts.reconnectTimeoutMs ?? 300_000)) throw err;
          attempt++;
          opts.onReconnect?.(attempt, err as Error);
          await nap(Math.min(200 * 2 ** (attempt - 1), 5000));
        }
      }
      if (Object.keys(summary).length) rec = await this.store.update(id, (x) => ({ ...x, ...summary }));
      return { offset, status: rec.status };
    })();
    return { stop, done };
  }

  /**
   * Cancels gracefully: SIGTERM to the trainer (it checkpoints and exits),
   * then, if the job has not ended after `graceMs`, a forced kill.
   */
  async cancel(id: string, opts: { graceMs?: number } = {}): Promise<JobRecord> {
    let rec = await this.record(id);
    if (isTerminal(rec.status)) return rec;
    if (!rec.remote) return this.setStatus(id, 'cancelled', { error: 'cancelled before it reached the host' });
    const session = await this.session(rec.host);
    const jobDir = rec.remote.jobDir;
    const slurm = rec.host.kind === 'slurm' ? rec.host : undefined;
    await execChecked(session, slurm ? slurmCancelCommand(jobDir, slurm) : cancelCommand(jobDir));
    const deadline = Date.now() + (opts.graceMs ?? 60_000);
    let hostStatus = await this.readHostStatus(session, jobDir);
    while (!(hostStatus && isTerminal(hostStatus)) && Date.now() < deadline) {
      await sleep(300);
      hostStatus = await this.readHostStatus(session, jobDir);
    }
    if (!(hostStatus && isTerminal(hostStatus))) {
      await execChecked(session, slurm ? slurmForceKillCommand(jobDir, slurm) : forceKillCommand(jobDir));
      hostStatus = 'cancelled';
    }
    rec = await this.setStatus(id, hostStatus);
    return this.summarize(session, rec);
  }

  /**
   * Checkpoints (from `checkpoint` events) and the final model (from `done`) that still exist on the host;
   * for an evaluation job, its results folder (`results`: what lm-eval wrote so far for the whole evaluation).
   */
  async artifacts(id: string): Promise<Artifact[]> {
    const rec = await this.record(id);
    const { jobDir } = this.remote(rec);
    const session = await this.session(rec.host);
    if (isEvalJob(rec)) {
      const evalSpec = rec.spec as unknown as { resultsDir?: string };
      const st = evalSpec.resultsDir ? await session.stat(evalSpec.resultsDir) : undefined;
      return st && evalSpec.resultsDir ? [{ kind: 'results', name: 'results', path: evalSpec.resultsDir, isDirectory: st.isDirectory }] : [];
    }
    const buf = await session.readFrom(joinHost(jobDir, JOB_FILES.events), 0, 64 << 20);
    const { events } = parseEvents(completeLines(buf ?? Buffer.alloc(0)).complete);
    const runDir = joinHost(jobDir, JOB_FILES.runDir);
    const seen = new Set<string>();
    const out: Artifact[] = [];
    const add = async (kind: Artifact['kind'], p: string, extra: Partial<Artifact>) => {
      const abs = p.startsWith('/') ? p : joinHost(runDir, p);
      if (seen.has(abs)) return;
      seen.add(abs);
      const st = await session.stat(abs);
      if (st) out.push({ kind, name: kind === 'model' ? 'model' : abs.split('/').filter(Boolean).pop()!, path: abs, isDirectory: st.isDirectory, ...extra });
    };
    // The final model first: the trainer may also announce it as a `final` checkpoint.
    for (const e of events) if (e.event === 'done' && e.model_dir) await add('model', e.model_dir, { step: e.step });
    // Newest first, so that a directory saved twice (interval, then signal) shows its last reason.
    const checkpoints = events.filter((e): e is CheckpointEvent => e.event === 'checkpoint').reverse();
    for (const e of checkpoints) await add('checkpoint', e.path, { step: e.step, reason: e.reason });
    return out.sort((a, b) => (a.kind === b.kind ? (a.step ?? 0) - (b.step ?? 0) : a.kind === 'model' ? 1 : -1));
  }

  /**
   * Downloads artifacts by name (`model`, a checkpoint name, `results`, or `all`) into
   * `localDir/<name>`. The names come from the host's events: one that is not
   * a plain folder name fails the fetch before anything is written. `default`:
   * `model` of a training job, `results` of an evaluation job.
   */
  async fetch(id: string, what: string, localDir: string, opts?: DownloadOptions): Promise<Array<Artifact & DownloadResult & { localPath: string }>> {
    const all = await this.artifacts(id);
    if (what === 'default') what = isEvalJob(await this.record(id)) ? 'results' : 'model';
    const chosen = what === 'all' ? all : all.filter((a) => a.name === what);
    if (!chosen.length) throw new Error(`job ${id} has no artifact ${JSON.stringify(what)} (has: ${all.map((a) => a.name).join(', ') || 'none'})`);
    const targets = chosen.map((a) => ({ a, localPath: safeLocalPath(localDir, a.name, `artifact name (from ${a.path} in events.jsonl)`) }));
    const rec = await this.record(id);
    const session = await this.session(rec.host);
    const out = [];
    for (const { a, localPath } of targets) {
      const r = await session.download(a.path, localPath, opts);
      out.push({ ...a, localPath, ...r });
    }
    return out;
  }
}

/** An evaluation job (core/jobs/evalDispatch.ts): its spec says `kind: 'eval'` instead of a training preset. */
export function isEvalJob(rec: Pick<JobRecord, 'spec'>): boolean {
  return (rec.spec as unknown as { kind?: string }).kind === 'eval';
}

function summaryOf(events: readonly TrainingEvent[]): Partial<JobRecord> {
  const extra: Partial<JobRecord> = {};
  for (const e of events) {
    if (e.event === 'plan') extra.totalSteps = e.total_steps;
    else if (e.event === 'step') { extra.lastStep = e.step; extra.lastLoss = e.loss; }
    else if (e.event === 'done') extra.lastStep = e.step;
    else if (e.event === 'error') extra.error = e.message;
  }
  return extra;
}
