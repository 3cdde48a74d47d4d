/**
 * The search worker thread (searchRunner.ts runs it): counts a query's hits
 * in each row of a job, reading rows from the file descriptor it is given
 * (in blocks of several rows) or from bytes it is sent. It checks the shared
 * `current` cell before every row and stops as soon as its job is no longer
 * the current one.
 */
import { Buffer } from 'node:buffer';
import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { classifyJsonlBytes, classifyJsonlLine } from '../io/jsonl';
import { compileSearch, countLine } from './search';
import type { SearchJob, SearchReply } from './searchRunner';

const BLOCK = 8 * 1024 * 1024;
const current = new Int32Array((workerData as { current: SharedArrayBuffer }).current);
const post = (m: SearchReply): void => parentPort!.postMessage(m);

function search(job: SearchJob & { id: number }): void {
  const c = compileSearch(job.query);
  if ('error' in c) { post({ type: 'error', id: job.id, message: c.error }); return; }
  const n = job.ranges.length / 2;
  const counts = new Int32Array(n);
  const src = job.source;
  const mem = 'bytes' in src ? Buffer.from(src.bytes.buffer, src.bytes.byteOffset, src.bytes.byteLength) : null;
  let block = Buffer.alloc(0);
  let blockStart = 0;
  let blockEnd = 0;
  let lastProgress = Date.now();
  for (let i = 0; i < n; i++) {
    if (Atomics.load(current, 0) !== job.id) { post({ type: 'cancelled', id: job.id }); return; }
    // Started (and past the first check): 0 rows done.
    if (i === 0) post({ type: 'progress', id: job.id, done: 0, total: n });
    const start = job.ranges[2 * i];
    const end = job.ranges[2 * i + 1];
    if (start < 0) {
      const text = job.texts[end];
      counts[i] = countLine(c, text, () => {
        const row = classifyJsonlLine<Record<string, unknown>>(text, 0);
        if (!row) return { error: 'blank line' };
        return row.kind === 'value' ? { value: row.value } : { error: row.message };
      });
      continue;
    }
    let buf: Buffer;
    let from: number;
    if (mem) { buf = mem; from = start; } else {
      if (start < blockStart || end > blockEnd) {
        const want = Math.max(BLOCK, end - start);
        if (block.length < want) block = Buffer.allocUnsafe(want);
        let got = 0;
        while (got < want) {
          const r = fs.readSync((src as { fd: number }).fd, block, got, want - got, start + got);
          if (r === 0) break;
          got += r;
        }
        blockStart = start;
        blockEnd = start + got;
        if (end > blockEnd) { post({ type: 'error', id: job.id, message: 'The file is shorter than when it was read: reload it.' }); return; }
      }
      buf = block;
      from = start - blockStart;
    }
    const to = from + (end - start);
    const text = buf.toString('utf8', from, to);
    counts[i] = countLine(c, text, () => {
      const row = classifyJsonlBytes<Record<string, unknown>>(buf, from, to, 0);
      if (!row) return { error: 'blank line' };
      return row.kind === 'value' ? { value: row.value } : { error: row.message };
    });
    const now = Date.now();
    if (now - lastProgress >= 100) { lastProgress = now; post({ type: 'progress', id: job.id, done: i + 1, total: n }); }
  }
  post({ type: 'progress', id: job.id, done: n, total: n });
  post({ type: 'done', id: job.id, counts });
}

parentPort!.on('message', (job: SearchJob & { id: number }) => {
  try { search(job); } catch (err) { post({ type: 'error', id: job.id, message: (err as Error).message }); }
});
