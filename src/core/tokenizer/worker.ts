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
import { TokenCache, sampleKey } from './cache';
import { layoutTrace, tokenizeTraceWith } from './trace';
import { packLayout, summarizeMask, type MaskPolicy } from '../trace/mask';
import { classifyJsonlBytes, classifyJsonlLine } from '../io/jsonl';
import type { ColumnItem, ColumnResult, FromWorker, ToWorker, TraceReply, WorkItem, WorkResult, WorkerInit } from './protocol';

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

/** A row's token column: its line parsed here, its trace from the disk cache or tokenized (and cached), summarised under the mask. */
async function columnOf(item: ColumnItem, preset: string, policy: MaskPolicy, maxLength: number): Promise<ColumnResult> {
  const none = (error: string): ColumnResult => ({ key: item.key, tokens: 0, trained: 0, flags: null, error });
  const row = item.line !== undefined
    ? classifyJsonlLine<Record<string, unknown>>(item.line, 0)
    : item.bytes ? classifyJsonlBytes<Record<string, unknown>>(Buffer.from(item.bytes.buffer, item.bytes.byteOffset, item.bytes.byteLength), 0, item.bytes.byteLength, 0) : undefined;
  if (!row || row.kind !== 'value') return none('the line is not a sample');
  const text = typeof row.value.text === 'string' ? row.value.text : '';
  if (!text) return none('the sample has no text');
  try {
    const key = sampleKey(text, preset);
    let layout = cache ? await cache.readLayout(key) : null;
    if (!layout) {
      const t = layoutTrace(engine, text, preset);
      layout = t.layout;
      if (cache) await cache.write(key, t.layout, t.enc.ids).catch(() => undefined);
    }
    const m = summarizeMask(layout, policy, maxLength);
    return { key: item.key, tokens: layout.tokens, trained: m.trained, flags: m.flags };
  } catch (err) {
    return none((err as Error).message);
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
      } else if (msg.type === 'columns') {
        const results: ColumnResult[] = [];
        for (const item of msg.items) results.push(await columnOf(item, msg.preset, msg.policy, msg.maxLength));
        post({ type: 'columns', id: msg.id, results });
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
