/**
 * The workbench search off the extension host's thread: one worker thread
 * per document (searchWorker.ts) reads the rows to search straight from the
 * file (the same descriptor, by byte offsets) or from the bytes it is sent,
 * and answers with a hit count per row.
 *
 * Cancellable: every job has an id, and a shared cell holds the id of the
 * job that may run; a new job (or an abort) changes it, and the worker,
 * which checks it between rows, drops the old job at once. So a new query
 * cancels the old one without waiting for it. A job stuck inside one row (a
 * regular expression that backtracks without end) cannot see the cell: if it
 * has not stopped CANCEL_GRACE_MS after its cancellation, the worker is
 * terminated and a fresh one takes the current job. Progress comes back as
 * `progress` messages (rows done of rows to search), a few times a second.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { SearchQuery } from './search';
import type { SourceRef } from './source';

export interface SearchJob {
  query: SearchQuery;
  source: SourceRef;
  /** Two numbers per row: [start, end) in the source, or [-1, index into `texts`] for an edited row. */
  ranges: Float64Array;
  texts: string[];
}

export interface SearchRunner {
  /** Hit counts, one per row of the job; rejects with an AbortError when cancelled. */
  run(job: SearchJob, opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void }): Promise<Int32Array>;
  dispose(): void;
}

/** Messages from the worker. */
export type SearchReply =
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'done'; id: number; counts: Int32Array }
  | { type: 'cancelled'; id: number }
  | { type: 'error'; id: number; message: string };

export const SEARCH_WORKER_BUNDLE = 'search-worker.js';
// A variable, so that bundlers leave the development-only require.resolve alone.
const TSX_CJS = 'tsx/cjs';

function spawn(current: SharedArrayBuffer): Worker {
  const bundled = path.join(__dirname, SEARCH_WORKER_BUNDLE);
  if (existsSync(bundled)) return new Worker(bundled, { workerData: { current } });
  const source = path.join(__dirname, 'searchWorker.ts');
  if (existsSync(source)) {
    const tsx = require.resolve(TSX_CJS);
    return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(source)});`, { eval: true, workerData: { current } });
  }
  throw new Error(`Search worker not found: expected ${bundled}.`);
}

function abortError(): Error {
  const err = new Error('The search was cancelled.');
  err.name = 'AbortError';
  return err;
}

/** How long a cancelled job may take to notice before its worker is terminated. */
export const CANCEL_GRACE_MS = 500;

interface Pending { job: SearchJob; resolve: (c: Int32Array) => void; reject: (e: Error) => void; onProgress?: (done: number, total: number) => void }

export class WorkerSearchRunner implements SearchRunner {
  private worker: Worker | null = null;
  private readonly current = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Workers started (a cancelled job stuck in one row costs a restart). */
  restarts = 0;

  private ensure(): Worker {
    if (this.worker) return this.worker;
    const w = spawn(this.current.buffer as SharedArrayBuffer);
    w.unref();
    w.on('message', (m: SearchReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') { p.onProgress?.(m.done, m.total); return; }
      this.pending.delete(m.id);
      if (m.type === 'done') p.resolve(m.counts);
      else if (m.type === 'cancelled') p.reject(abortError());
      else p.reject(new Error(m.message));
    });
    w.on('error', (err) => {
      if (this.worker !== w) return;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.worker = null;
    });
    this.worker = w;
    return w;
  }

  /** Job `id` is no longer wanted: it stops at its next row, or its worker is replaced after a grace period. */
  private cancel(id: number): void {
    if (!this.pending.has(id)) return;
    setTimeout(() => { if (this.pending.has(id)) this.restart(); }, CANCEL_GRACE_MS).unref();
  }

  /** Terminates a stuck worker: every job but the current one is cancelled, the current one runs again on a fresh worker. */
  private restart(): void {
    const old = this.worker;
    this.worker = null;
    void old?.terminate();
    this.restarts++;
    const cur = Atomics.load(this.current, 0);
    for (const [id, p] of [...this.pending]) {
      if (id === cur) continue;
      this.pending.delete(id);
      p.reject(abortError());
    }
    const live = this.pending.get(cur);
    if (live) this.ensure().postMessage({ id: cur, ...live.job });
  }

  run(job: SearchJob, opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<Int32Array> {
    if (opts.signal?.aborted) return Promise.reject(abortError());
    const worker = this.ensure();
    const id = this.nextId++;
    // The only job allowed to run from now on: an earlier one stops at its next row.
    Atomics.store(this.current, 0, id);
    for (const older of this.pending.keys()) this.cancel(older);
    return new Promise<Int32Array>((resolve, reject) => {
      this.pending.set(id, { job, resolve, reject, onProgress: opts.onProgress });
      opts.signal?.addEventListener('abort', () => {
        Atomics.compareExchange(this.current, 0, id, 0);
        this.cancel(id);
      }, { once: true });
      worker.postMessage({ id, ...job });
    });
  }

  /** Jobs being searched or queued. */
  get busy(): number { return this.pending.size; }

  dispose(): void {
    Atomics.store(this.current, 0, 0);
    for (const p of this.pending.values()) p.reject(abortError());
    this.pending.clear();
    void this.worker?.terminate();
    this.worker = null;
  }
}
