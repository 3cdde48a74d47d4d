/**
 * Tokenizer worker thread (bundled as out/tokenizer-worker.js; run from source
 * under tsx in development). Builds one engine, then tokenizes what the pool
 * sends: batches of traces for audits and exports (results also go to the disk
 * cache) and single traces for the editor.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { TokenEngine } from './engine';
import { TokenCache } from './cache';
import { layoutTrace, tokenizeTraceWith } from './trace';
import { packLayout } from '../trace/mask';
import type { FromWorker, ToWorker, TraceReply, WorkItem, WorkResult, WorkerInit } from './protocol';

const port = parentPort;
if (!port) throw new Error('tokenizer worker: not started as a worker thread');

const init = workerData as WorkerInit;
if (init.niceness) lowerThreadPriority(init.niceness);
const post = (msg: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer);

let engine: TokenEngine;
try {
  engine = new TokenEngine(init.tokenizerJson, init.configJson);
} catch (err) {
  post({ type: 'error', id: null, message: (err as Error).message, name: (err as Error).name });
  throw err;
}
const cache = init.cacheRoot ? new TokenCache(init.cacheRoot, init.sha256) : null;
post({ type: 'ready', vocabSize: engine.vocabSize });

async function runItem(item: WorkItem, transfer: ArrayBuffer[], writes: Promise<void>[]): Promise<WorkResult> {
  try {
    const { enc, layout } = layoutTrace(engine, item.text, item.preset);
    if (cache) writes.push(cache.write(item.key, layout, enc.ids).catch(() => undefined));
    const res: WorkResult = { key: item.key, layout: packLayout(layout) };
    if (item.wantIds) { res.ids = enc.ids; transfer.push(enc.ids.buffer as ArrayBuffer); }
    return res;
  } catch (err) {
    return { key: item.key, error: (err as Error).message };
  }
}

port.on('message', (msg: ToWorker) => {
  void (async () => {
    try {
      if (msg.type === 'batch') {
        const before = { ...engine.stats };
        const transfer: ArrayBuffer[] = [];
        const writes: Promise<void>[] = [];
        const results: WorkResult[] = [];
        for (const item of msg.items) results.push(await runItem(item, transfer, writes));
        await Promise.all(writes);
        post({
          type: 'batch', id: msg.id, results,
          chunkHits: engine.stats.chunkHits - before.chunkHits, chunkMisses: engine.stats.chunkMisses - before.chunkMisses,
        }, transfer);
      } else if (msg.type === 'trace') {
        const t = tokenizeTraceWith(engine, msg.text, msg.opts);
        const result: TraceReply = {
          ids: t.ids, offsets: t.offsets, labels: t.labels, layout: packLayout(t.layout),
          totalTokens: t.totalTokens, trainedTokens: t.trainedTokens, flags: t.flags, rendered: t.rendered,
        };
        post({ type: 'trace', id: msg.id, result }, [t.ids.buffer, t.offsets.buffer, t.labels.buffer] as ArrayBuffer[]);
      }
    } catch (err) {
      post({ type: 'error', id: msg.id, message: (err as Error).message, name: (err as Error).name });
    }
  })();
});

/**
 * Lowers this thread's priority (not the process's): on Linux a thread id is
 * a valid target of setpriority(2), found from /proc/thread-self. Best effort:
 * other systems, or a kernel that refuses, leave the priority as it was.
 */
function lowerThreadPriority(niceness: number): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0 && tid !== process.pid) setPriority(tid, niceness);
  } catch { /* not permitted or not available: run at the normal priority */ }
}
