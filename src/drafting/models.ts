/**
 * One loaded local model per model folder (and variant), shared by every
 * command: a {@link LocalModelClient} whose worker process holds the session.
 * Changing `dcd.local.modelPath`/`dcd.local.dtype`, or deactivating, disposes
 * them (the worker exits and frees the model's memory).
 */
import * as vscode from 'vscode';
import { LocalModelClient, type WorkerEntry } from '../core/drafting/client';
import { LocalModelError } from '../core/drafting/protocol';
import type { DtypeSetting } from '../core/drafting/types';

export class LocalModels implements vscode.Disposable {
  private readonly clients = new Map<string, Promise<LocalModelClient>>();

  constructor(private readonly output: vscode.OutputChannel, private readonly worker?: WorkerEntry) {}

  /** The client of `dir`, started (and the model loaded) on first use. Rejects with the core's named errors. */
  get(dir: string, dtype: DtypeSetting): Promise<LocalModelClient> {
    const key = `${dir}\u0000${dtype}`;
    let p = this.clients.get(key);
    if (!p) {
      const t0 = Date.now();
      p = LocalModelClient.start(dir, { dtype, worker: this.worker, onLog: (line) => this.output.appendLine(`[local] ${line}`) });
      this.clients.set(key, p);
      p.then(
        (c) => this.output.appendLine(`[local] loaded ${c.info.name} (${c.info.dtype}, ${c.info.onnxFile}) in ${Date.now() - t0} ms, worker pid ${c.pid}`),
        () => { if (this.clients.get(key) === p) this.clients.delete(key); },
      );
    }
    return p;
  }

  /** Number of live (or loading) model sessions. */
  get size(): number { return this.clients.size; }

  /**
   * Forgets a client after an error that is not the model's own (its worker
   * died): the next `get` starts a fresh one.
   */
  async evictOnCrash(client: LocalModelClient, err: unknown): Promise<void> {
    if (err instanceof LocalModelError) return;
    for (const [key, p] of this.clients) {
      if ((await p.catch(() => undefined)) === client) {
        this.clients.delete(key);
        this.output.appendLine(`[local] worker of ${client.info.name} lost: ${(err as Error).message}`);
        void client.dispose();
      }
    }
  }

  async disposeAll(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((p) => p.then((c) => c.dispose(), () => undefined)));
  }

  dispose(): void { void this.disposeAll(); }
}
