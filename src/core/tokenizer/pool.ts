/**
 * A pool of tokenizer worker threads, so tokenization never blocks the
 * extension host. Jobs queue; each idle worker takes the next one (dynamic
 * scheduling keeps every core busy when trace lengths differ a lot).
 *
 * The worker entry is out/tokenizer-worker.js next to the bundle; running from
 * the TypeScript sources (tests, `npm run bench`), it is worker.ts loaded
 * through tsx.
 */
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TokenizerSource } from './source';
import type { ColumnItem, ColumnResult, FromWorker, ToWorker, TraceReply, WorkItem, WorkResult, WorkerInit } from './protocol';
import type { MaskPolicy } from '../trace/mask';
import type { TraceTokenOptions } from './trace';

/** The bundle's name for the worker entry (scripts/build.mjs: src/core/tokenizer/worker.ts → out/tokenizer-worker.js). */
export const WORKER_BUNDLE = 'tokenizer-worker.js';

export interface PoolOptions {
  /** Worker threads (default: the available parallelism, at most 8). */
  workers?: number;
  /** Disk cache root for the workers to write; null: none. */
  cacheRoot?: string | null;
  /** Explicit worker entry (a .js file). */
  workerFile?: string;
  /**
   * Nice value of each worker's thread (Linux: setpriority on the thread id;
   * elsewhere ignored). The extension host gives its workers a positive one so
   * that on few cores its own thread, which answers the webviews, wins the CPU
   * over background tokenization.
   */
  niceness?: number;
}

export function defaultWorkerCount(): number {
  const n = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return Math.max(1, Math.min(8, n));
}

// A variable, so that bundlers leave the development-only require.resolve alone.
const TSX_CJS = 'tsx/cjs';

function spawnWorker(init: WorkerInit, workerFile?: string): Worker {
  const bundled = workerFile ?? path.join(__dirname, WORKER_BUNDLE);
  if (existsSync(bundled)) return new Worker(bundled, { workerData: init });
  const source = path.join(__dirname, 'worker.ts');
  if (existsSync(source)) {
    const tsx = require.resolve(TSX_CJS);
    return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(source)});`, { eval: true, workerData: init });
  }
  throw new Error(`Tokenizer worker not found: expected ${bundled}.`);
}

interface Job {
  msg: ToWorker;
  resolve: (m: FromWorker) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export class TokenizerPool {
  /** Vocabulary size reported by the first worker that is ready. */
  vocabSize: Promise<number>;
  readonly size: number;
  /** Chunk-cache counters summed over the workers' batches. */
  readonly stats = { chunkHits: 0, chunkMisses: 0 };

  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private failure: Error | null = null;

  constructor(readonly source: TokenizerSource, opts: PoolOptions = {}) {
    this.size = Math.max(1, opts.workers ?? defaultWorkerCount());
    const init: WorkerInit = {
      tokenizerJson: source.tokenizerJson, configJson: source.configJson, sha256: source.sha256, cacheRoot: opts.cacheRoot ?? null,
      niceness: opts.niceness,
    };
    let readyResolve!: (n: number) => void;
    let readyReject!: (e: Error) => void;
    this.vocabSize = new Promise<number>((res, rej) => { readyResolve = res; readyReject = rej; });
    this.vocabSize.catch(() => undefined);
    for (let i = 0; i < this.size; i++) {
      const worker = spawnWorker(init, opts.workerFile);
      const slot: Slot = { worker, job: null };
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') { readyResolve(m.vocabSize); return; }
        if (m.type === 'error' && m.id === null) { this.fail(new Error(m.message)); readyReject(new Error(m.message)); return; }
        const job = slot.job;
        slot.job = null;
        if (job) {
          if (m.type === 'error') { const e = new Error(m.message); if (m.name) e.name = m.name; job.reject(e); }
          else job.resolve(m);
        }
        this.pump();
      });
      worker.on('error', (err) => { readyReject(err); this.fail(err); });
      worker.on('exit', (code) => {
        if (!this.closed) { const e = new Error(`tokenizer worker exited with code ${code}`); readyReject(e); this.fail(e); }
      });
      this.slots.push(slot);
    }
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    for (const s of this.slots) { s.job?.reject(err); s.job = null; }
    for (const j of this.queue.splice(0)) j.reject(err);
    void this.close();
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || !this.queue.length) continue;
      const job = this.queue.shift() as Job;
      slot.job = job;
      slot.worker.postMessage(job.msg);
    }
  }

  private submit(msg: ToWorker): Promise<FromWorker> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new Error('tokenizer pool is closed'));
    return new Promise<FromWorker>((resolve, reject) => {
      this.queue.push({ msg, resolve, reject });
      this.pump();
    });
  }

  /** Tokenizes a batch of traces in one worker. */
  async batch(items: WorkItem[]): Promise<WorkResult[]> {
    const m = await this.submit({ type: 'batch', id: this.nextId++, items });
    if (m.type !== 'batch') throw new Error(`unexpected worker reply ${m.type}`);
    this.stats.chunkHits += m.chunkHits;
    this.stats.chunkMisses += m.chunkMisses;
    return m.results;
  }

  /**
   * Token columns of rows in one worker: it parses each row, takes the trace
   * from the disk cache or tokenizes it (and caches it), and sends back only
   * the counts and flags of the mask summary.
   */
  async columns(items: ColumnItem[], opts: { preset?: string; policy: MaskPolicy; maxLength: number }): Promise<ColumnResult[]> {
    const m = await this.submit({ type: 'columns', id: this.nextId++, items, preset: opts.preset ?? 'paper', policy: opts.policy, maxLength: opts.maxLength });
    if (m.type !== 'columns') throw new Error(`unexpected worker reply ${m.type}`);
    return m.results;
  }

  /** Tokenizes one trace in a worker (for the editor). */
  async tokenizeTrace(text: string, opts: TraceTokenOptions = {}): Promise<TraceReply> {
    const m = await this.submit({ type: 'trace', id: this.nextId++, text, opts });
    if (m.type !== 'trace') throw new Error(`unexpected worker reply ${m.type}`);
    return m.result;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new Error('tokenizer pool closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
