/**
 * The local job history: one JSON file (a path the caller chooses), written
 * atomically under a small lock file so that the extension and `dcd job`
 * processes can share it. Records hold no secrets.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite';
import type { HostProfile } from '../remote/profiles';
import { isTerminal, transitionPath, type JobStatus } from './status';
import type { Measured } from './measured';

export interface JobSpec {
  /** The export directory on this machine. */
  data: string;
  model: string;
  preset: 'paper' | 'smoke';
  maxSteps?: number;
  /** Continue from the checkpoints of this earlier job on the same host (same export, model and steps). */
  resumeFrom?: string;
}

export interface JobRemote {
  jobDir: string;
  backendDir: string;
  exportDir: string;
  python: string;
  launcher?: 'setsid' | 'tmux' | 'slurm';
  /** The id sbatch gave (Slurm profiles). */
  slurmJobId?: string;
}

export interface JobRecord {
  id: string;
  host: HostProfile;
  status: JobStatus;
  history: Array<{ status: JobStatus; time: string }>;
  createdAt: string;
  updatedAt: string;
  spec: JobSpec;
  remote?: JobRemote;
  /** Last step / loss seen in the events, and the total from the plan. */
  lastStep?: number;
  totalSteps?: number;
  /** As the trainer wrote it: a diverged run's loss is `"NaN"`; jobs.json files from before the strings hold `null`. */
  lastLoss?: Measured;
  /** Why the job failed, when known. */
  error?: string;
}

interface StoreFile { version: 1; jobs: JobRecord[] }

/** Moves a record to `to` through legal transitions only; a no-op when it is already there. */
export function applyStatus(rec: JobRecord, to: JobStatus, time = new Date().toISOString()): JobRecord {
  const steps = transitionPath(rec.status, to);
  if (!steps.length) return rec;
  return { ...rec, status: to, updatedAt: time, history: [...rec.history, ...steps.map((status) => ({ status, time }))] };
}

const LOCK_STALE_MS = 10_000;

export class JobStore {
  constructor(readonly file: string) {}

  private async read(): Promise<StoreFile> {
    try {
      const data = JSON.parse(await fs.readFile(this.file, 'utf8')) as StoreFile;
      if (!Array.isArray(data.jobs)) throw new Error(`${this.file}: not a job store`);
      return data;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, jobs: [] };
      throw err;
    }
  }

  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const lock = `${this.file}.lock`;
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    for (let i = 0; ; i++) {
      try {
        await (await fs.open(lock, 'wx')).close();
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const st = await fs.stat(lock).catch(() => undefined);
        if (st && Date.now() - st.mtimeMs > LOCK_STALE_MS) await fs.rm(lock, { force: true });
        else await new Promise((r) => setTimeout(r, Math.min(10 * (i + 1), 100)));
      }
    }
    try { return await fn(); } finally { await fs.rm(lock, { force: true }); }
  }

  async list(): Promise<JobRecord[]> {
    return (await this.read()).jobs;
  }

  async get(id: string): Promise<JobRecord | undefined> {
    return (await this.read()).jobs.find((j) => j.id === id);
  }

  async put(rec: JobRecord): Promise<void> {
    await this.withLock(async () => {
      const data = await this.read();
      const i = data.jobs.findIndex((j) => j.id === rec.id);
      if (i >= 0) data.jobs[i] = rec; else data.jobs.push(rec);
      await writeFileAtomic(this.file, JSON.stringify(data, null, 2) + '\n');
    });
  }

  /** Read-modify-write of one record under the lock; returns the new record. */
  async update(id: string, fn: (rec: JobRecord) => JobRecord): Promise<JobRecord> {
    return this.withLock(async () => {
      const data = await this.read();
      const i = data.jobs.findIndex((j) => j.id === id);
      if (i < 0) throw new Error(`no job ${id} in ${this.file}`);
      const cur = data.jobs[i];
      const next = fn(cur);
      // A terminal record never changes status again, whoever writes.
      if (isTerminal(cur.status) && next.status !== cur.status) return cur;
      data.jobs[i] = next;
      await writeFileAtomic(this.file, JSON.stringify(data, null, 2) + '\n');
      return next;
    });
  }
}
