/**
 * Tokenizing a whole corpus: the shared step of the audit and the export.
 * Each distinct trace is looked up in the disk cache by content hash; the
 * misses go to the worker pool (or, with `workers: 0`, to an engine in this
 * thread), grouped so that the samples sharing a chain land in the same batch
 * and hit that worker's chunk cache.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { TokenEngine } from './engine';
import { TokenCache, defaultCacheDir, sampleKey } from './cache';
import { TokenizerPool, defaultWorkerCount } from './pool';
import { resolveTokenizerSource, sha256Hex, type TokenizerSource } from './source';
import type { WorkItem, WorkResult } from './protocol';
import { layoutTrace } from './trace';
import { packLayout, unpackLayout, type TraceLayout } from '../trace/mask';

export interface CorpusTokenOptions {
  /** Template preset of the traces (default `paper`). */
  preset?: string;
  /** Tokenizer folder (else env DCD_TOKENIZER_DIR, else the default). */
  tokenizerDir?: string;
  /** An already resolved tokenizer (wins over tokenizerDir). */
  source?: TokenizerSource;
  /** Disk cache root (default under os.tmpdir()); false: no disk cache. */
  cacheDir?: string | false;
  /** Worker threads for the misses; 0 tokenizes in this thread. Default: available parallelism (at most 8). */
  workers?: number;
  /** A pool to reuse (its tokenizer must be the same); not closed here. */
  pool?: TokenizerPool;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface CorpusInput {
  text: string;
  /** Samples with the same group (their chain) are tokenized side by side. */
  group?: string;
}

export interface SampleTokens {
  layout: TraceLayout | null;
  /** Untruncated ids (only when asked for). */
  ids?: Int32Array;
  /** Why the trace could not be tokenized (it does not parse as a trace of the preset). */
  error?: string;
}

export interface CorpusTokens {
  source: TokenizerSource;
  samples: SampleTokens[];
  /** Distinct traces found in / missing from the disk cache; `dir` is null without a disk cache. */
  cache: { hits: number; misses: number; dir: string | null };
  /** Chunk-cache counters of the engines that did the work. */
  chunks: { hits: number; misses: number };
  /** Vocabulary size, when an engine was started. */
  vocabSize?: number;
}

const engines = new Map<string, TokenEngine>();
/** An engine in this thread for a tokenizer (memoised by fingerprint). */
export function engineFor(source: TokenizerSource): TokenEngine {
  let e = engines.get(source.sha256);
  if (!e) {
    e = new TokenEngine(source.tokenizerJson, source.configJson);
    engines.set(source.sha256, e);
  }
  return e;
}

/** Content keys of the texts, hashed in slices so the event loop keeps turning. */
async function keysOf(texts: readonly CorpusInput[], preset: string): Promise<string[]> {
  const keys: string[] = new Array<string>(texts.length);
  let budget = 0;
  for (let i = 0; i < texts.length; i++) {
    keys[i] = sampleKey(texts[i].text, preset);
    budget += texts[i].text.length;
    if (budget > 8_000_000) { budget = 0; await yieldToLoop(); }
  }
  return keys;
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const run = async (): Promise<void> => { while (next < items.length) await fn(items[next++]); };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run));
}

const JOB_CHARS = 512 * 1024;

export async function tokenizeCorpus(inputs: readonly CorpusInput[], wantIds: boolean, opts: CorpusTokenOptions = {}): Promise<CorpusTokens> {
  const preset = opts.preset ?? 'paper';
  const source = opts.source ?? opts.pool?.source ?? await resolveTokenizerSource({ dir: opts.tokenizerDir });
  const cacheRoot = opts.cacheDir === false ? null : (opts.cacheDir ?? defaultCacheDir());
  const cache = cacheRoot ? new TokenCache(cacheRoot, source.sha256) : null;

  const keys = await keysOf(inputs, preset);
  // Distinct traces, each with the first sample that has it.
  const firstOf = new Map<string, number>();
  keys.forEach((k, i) => { if (!firstOf.has(k)) firstOf.set(k, i); });
  const results = new Map<string, SampleTokens>();

  let hits = 0;
  // Layouts only: the whole list may be cached as one file.
  const distinct = [...firstOf.keys()];
  const listKey = cache && !wantIds ? sha256Hex(distinct.join('\n')) : null;
  if (cache && listKey) {
    const list = await cache.readLayoutList(listKey, distinct.length);
    if (list) {
      distinct.forEach((k, i) => results.set(k, { layout: list[i] }));
      hits = distinct.length;
    }
  }
  if (cache && !hits) {
    await mapLimit(distinct, 32, async (key) => {
      if (wantIds) {
        const e = await cache.read(key);
        if (e) { results.set(key, { layout: e.layout, ids: e.ids }); hits++; }
      } else {
        const layout = await cache.readLayout(key);
        if (layout) { results.set(key, { layout }); hits++; }
      }
    });
  }
  opts.signal?.throwIfAborted();

  const missing = [...firstOf.entries()].filter(([k]) => !results.has(k));
  const chunks = { hits: 0, misses: 0 };
  let vocabSize: number | undefined;
  const accept = (r: WorkResult): void => {
    results.set(r.key, r.error !== undefined || !r.layout
      ? { layout: null, error: r.error ?? 'no result' }
      : { layout: unpackLayout(r.layout), ids: r.ids });
  };

  if (missing.length) {
    // Group by chain, in order of first appearance; then pack groups into jobs.
    const groups = new Map<string, WorkItem[]>();
    for (const [key, i] of missing) {
      const g = inputs[i].group ?? key;
      let list = groups.get(g);
      if (!list) groups.set(g, (list = []));
      list.push({ key, text: inputs[i].text, preset, wantIds });
    }
    const jobs: WorkItem[][] = [];
    let cur: WorkItem[] = [];
    let size = 0;
    for (const list of groups.values()) {
      cur.push(...list);
      for (const it of list) size += it.text.length;
      if (size >= JOB_CHARS) { jobs.push(cur); cur = []; size = 0; }
    }
    if (cur.length) jobs.push(cur);

    const total = missing.length;
    let done = 0;
    const workers = opts.pool ? opts.pool.size : Math.min(opts.workers ?? defaultWorkerCount(), jobs.length);
    if (!opts.pool && workers <= 0) {
      const engine = engineFor(source);
      vocabSize = engine.vocabSize;
      const before = { ...engine.stats };
      for (const job of jobs) {
        const writes: Promise<void>[] = [];
        for (const item of job) {
          try {
            const { enc, layout } = layoutTrace(engine, item.text, preset);
            if (cache) writes.push(cache.write(item.key, layout, enc.ids).catch(() => undefined));
            accept({ key: item.key, layout: packLayout(layout), ids: wantIds ? enc.ids : undefined });
          } catch (err) {
            accept({ key: item.key, error: (err as Error).message });
          }
        }
        await Promise.all(writes);
        done += job.length;
        opts.onProgress?.(done, total);
        opts.signal?.throwIfAborted();
        await yieldToLoop();
      }
      chunks.hits = engine.stats.chunkHits - before.chunkHits;
      chunks.misses = engine.stats.chunkMisses - before.chunkMisses;
    } else {
      const pool = opts.pool ?? new TokenizerPool(source, { workers, cacheRoot });
      const before = { ...pool.stats };
      try {
        const onAbort = (): void => { if (!opts.pool) void pool.close(); };
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        try {
          await Promise.all(jobs.map(async (job) => {
            for (const r of await pool.batch(job)) accept(r);
            done += job.length;
            opts.onProgress?.(done, total);
          }));
        } catch (err) {
          opts.signal?.throwIfAborted(); // an abort closed the pool: report the abort, not the closing
          throw err;
        } finally {
          opts.signal?.removeEventListener('abort', onAbort);
        }
        opts.signal?.throwIfAborted();
        vocabSize = await pool.vocabSize;
      } finally {
        if (!opts.pool) await pool.close();
      }
      chunks.hits = pool.stats.chunkHits - before.chunkHits;
      chunks.misses = pool.stats.chunkMisses - before.chunkMisses;
    }
  }

  if (cache && listKey && hits < distinct.length && distinct.every((k) => results.get(k)?.layout)) {
    await cache.writeLayoutList(listKey, distinct.map((k) => results.get(k)!.layout!)).catch(() => undefined);
  }
  const samples = keys.map((k) => results.get(k) as SampleTokens);
  return { source, samples, cache: { hits, misses: missing.length, dir: cache?.dir ?? null }, chunks, vocabSize };
}
