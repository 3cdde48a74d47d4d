/**
 * The extension host's handle on the local model: it runs the model in a
 * separate Node process (entry ./worker, bundled as `out/local-worker.js`), so
 * loading and inference never block the host, a native crash cannot take the
 * host down, and dispose returns every byte of the model's memory (the process
 * exits). One process = one loaded model session, reused across generations.
 *
 * This module does not import transformers.js.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { LocalModelError, type FromWorker, type ToWorker } from './protocol';
import type {
  DraftModel, GenerateHooks, GenerateParams, GenerateResult, LoadOptions, ModelInfo, PromptInput, TokenEvent,
} from './types';

export interface WorkerEntry { entry: string; execArgv: string[] }

/** Name of the bundled worker entry, next to the bundle that contains this client. */
export const BUNDLED_WORKER_NAME = 'local-worker.js';

/**
 * Where the worker entry is: `$DCD_LOCAL_WORKER`, else `local-worker.js` beside
 * this code (bundled), else `worker.ts` beside this source (run under tsx).
 */
export function defaultWorkerEntry(): WorkerEntry {
  const env = process.env.DCD_LOCAL_WORKER;
  const candidates = env ? [env] : [path.join(__dirname, BUNDLED_WORKER_NAME), path.join(__dirname, 'worker.ts')];
  for (const c of candidates) {
    if (existsSync(c)) return workerEntry(c);
  }
  throw new Error(`Local-model worker not found (looked for ${candidates.join(', ')}).`);
}

/** execArgv for an entry: TypeScript sources run through tsx's loader. */
export function workerEntry(entry: string): WorkerEntry {
  if (/\.[cm]?ts$/.test(entry)) {
    const tsx = pathToFileURL(require.resolve('tsx')).href;
    return { entry, execArgv: ['--import', tsx] };
  }
  return { entry, execArgv: [] };
}

export interface StartOptions extends LoadOptions {
  worker?: WorkerEntry;
  /** Lines the worker writes on stdout/stderr (transformers.js and onnxruntime warnings). */
  onLog?: (line: string) => void;
}

interface Pending {
  resolve: (r: GenerateResult) => void;
  reject: (e: Error) => void;
  hooks: GenerateHooks;
  onAbort?: () => void;
  /** Token events passed on to the caller. */
  delivered: TokenEvent[];
  /** How many tokens had been delivered when the caller aborted. */
  cancelAt?: number;
}

export class LocalModelClient implements DraftModel {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exited = false;
  private exitInfo = '';
  private readonly logTail: string[] = [];
  private disposing?: Promise<void>;
  info!: ModelInfo;

  private constructor(private readonly child: ChildProcess, private readonly onLog?: (line: string) => void) {}

  /** The worker's process id (for diagnostics). */
  get pid(): number | undefined { return this.child.pid; }

  /** Starts a worker process and loads the model in it; rejects with the worker's (named) error. */
  static async start(dir: string, opts: StartOptions = {}): Promise<LocalModelClient> {
    const w = opts.worker ?? defaultWorkerEntry();
    const child = fork(w.entry, [], {
      execArgv: w.execArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    const client = new LocalModelClient(child, opts.onLog);
    client.wire();
    const { worker: _w, onLog: _l, ...load } = opts;
    try {
      client.info = await client.request<ModelInfo>(
        { type: 'load', dir: path.resolve(dir), opts: load },
        (m) => (m.type === 'loaded' ? m.info : m.type === 'load-error' ? new LocalModelError(m.error) : undefined),
      );
    } catch (err) {
      client.kill();
      throw err;
    }
    return client;
  }

  private wire(): void {
    const lines = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        this.logTail.push(line);
        if (this.logTail.length > 20) this.logTail.shift();
        this.onLog?.(line);
      }
    };
    this.child.stdout?.on('data', lines);
    this.child.stderr?.on('data', lines);
    this.child.on('message', (raw) => this.onMessage(raw as FromWorker));
    this.child.on('exit', (code, signal) => {
      this.exited = true;
      this.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      const tail = this.logTail.length ? `: ${this.logTail.slice(-5).join(' | ')}` : '';
      const err = new Error(`The local-model worker exited (${this.exitInfo})${tail}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      for (const l of this.waiters) l.reject(err);
      this.waiters.clear();
    });
  }

  private readonly waiters = new Set<{ pick: (m: FromWorker) => unknown; resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private request<T>(msg: ToWorker, pick: (m: FromWorker) => T | Error | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.exited) { reject(new Error(`The local-model worker has exited (${this.exitInfo}).`)); return; }
      this.waiters.add({ pick, resolve: resolve as (v: unknown) => void, reject });
      this.post(msg);
    });
  }

  private post(msg: ToWorker): void {
    if (!this.exited && this.child.connected) this.child.send(msg);
  }

  private onMessage(m: FromWorker): void {
    for (const w of this.waiters) {
      const v = w.pick(m);
      if (v === undefined) continue;
      this.waiters.delete(w);
      if (v instanceof Error) w.reject(v);
      else w.resolve(v);
      return;
    }
    if (m.type === 'token' || m.type === 'result' || m.type === 'error') {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === 'token') {
        // After an abort the worker may still be finishing a token or two (the cancel
        // message is in flight): pass on at most one more, as the in-process engine does.
        if (p.cancelAt !== undefined && p.delivered.length > p.cancelAt) return;
        p.delivered.push(m.ev);
        try { p.hooks.onToken?.(m.ev); } catch { this.post({ type: 'cancel', id: m.id }); }
        return;
      }
      this.pending.delete(m.id);
      if (p.onAbort) p.hooks.signal?.removeEventListener('abort', p.onAbort);
      if (m.type === 'error') { p.reject(new LocalModelError(m.error)); return; }
      let result = m.result;
      if (p.cancelAt !== undefined) {
        const ids = p.delivered.filter((e) => e.id >= 0).map((e) => e.id);
        if (result.finishReason === 'cancelled' || ids.length < result.tokenIds.length) {
          result = { ...result, tokenIds: ids, text: p.delivered.map((e) => e.text).join(''), finishReason: 'cancelled' };
        }
      }
      p.resolve(result);
    }
  }

  /** Streams tokens through `hooks.onToken`; aborting `hooks.signal` stops within one token. */
  generate(prompt: PromptInput, params: GenerateParams, hooks: GenerateHooks = {}): Promise<GenerateResult> {
    return new Promise<GenerateResult>((resolve, reject) => {
      if (this.exited || this.disposing) { reject(new Error('The local model has been disposed.')); return; }
      const id = this.nextId++;
      const p: Pending = { resolve, reject, hooks, delivered: [] };
      if (hooks.signal) {
        p.onAbort = () => {
          p.cancelAt ??= p.delivered.length;
          this.post({ type: 'cancel', id });
        };
        hooks.signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pending.set(id, p);
      this.post({ type: 'generate', id, prompt, params });
      if (hooks.signal?.aborted) p.onAbort?.();
    });
  }

  /** Ends the worker process, which frees the model's memory. Waits up to `timeoutMs`, then kills it. */
  dispose(timeoutMs = 5000): Promise<void> {
    this.disposing ??= new Promise<void>((resolve) => {
      if (this.exited) { resolve(); return; }
      const timer = setTimeout(() => this.kill(), timeoutMs);
      this.child.once('exit', () => { clearTimeout(timer); resolve(); });
      this.post({ type: 'dispose' });
    });
    return this.disposing;
  }

  private kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}
