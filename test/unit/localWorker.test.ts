/**
 * The local model in its worker process, driven by the client the extension
 * host uses: from the TypeScript sources under tsx, and from an esbuild bundle
 * built the way scripts/build.mjs builds out/local-worker.js.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as esbuild from 'esbuild';
import { defaultWorkerEntry, LocalModelClient, workerEntry } from '../../src/core/drafting/client';
import type { TokenEvent } from '../../src/core/drafting/types';
import { GREEDY, REPO, tinyModel } from './localHelpers';

let dir: string;
let client: LocalModelClient;
let maxGapDuringStart = 0;
const PROMPT = { messages: [{ role: 'user' as const, content: 'Name a prime number.' }] };
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** Largest gap between ticks of a 10 ms timer while `fn` runs: how long the event loop was blocked. */
async function maxLoopGap<T>(fn: () => Promise<T>): Promise<{ value: T; gap: number }> {
  let last = performance.now();
  let gap = 0;
  const timer = setInterval(() => { const now = performance.now(); gap = Math.max(gap, now - last); last = now; }, 10);
  try {
    const value = await fn();
    return { value, gap };
  } finally {
    clearInterval(timer);
  }
}

before(async () => {
  dir = await tinyModel();
  const r = await maxLoopGap(() => LocalModelClient.start(dir, { dtype: 'fp32', threads: 1 }));
  client = r.value;
  maxGapDuringStart = r.gap;
});
after(async () => { await client?.dispose(); });

test('from the sources, the worker entry is src/core/drafting/worker.ts run through tsx', () => {
  const w = defaultWorkerEntry();
  assert.equal(w.entry, path.join(REPO, 'src', 'core', 'drafting', 'worker.ts'));
  assert.equal(w.execArgv[0], '--import');
  assert.equal(workerEntry('/x/local-worker.js').execArgv.length, 0);
});

test('loading and generating happen off the host: its event loop keeps ticking', async () => {
  assert.notEqual(client.pid, process.pid);
  assert.ok(alive(client.pid!));
  assert.equal(client.info.dtype, 'fp32');
  assert.ok(maxGapDuringStart < 500, `host blocked ${maxGapDuringStart.toFixed(0)} ms while the model loaded`);
  const { value: r, gap } = await maxLoopGap(() => client.generate(PROMPT, { ...GREEDY, maxNewTokens: 40 }));
  assert.equal(r.tokenIds.length, 40);
  assert.ok(gap < 500, `host blocked ${gap.toFixed(0)} ms while generating`);
});

test('streaming through the worker delivers every token', async () => {
  const events: TokenEvent[] = [];
  const r = await client.generate(PROMPT, { ...GREEDY, maxNewTokens: 30 }, { onToken: (e) => events.push(e) });
  assert.deepEqual(events.filter((e) => e.id >= 0).map((e) => e.id), r.tokenIds);
  assert.equal(events.map((e) => e.text).join(''), r.text);
});

test('cancel through the worker stops within one token; the session stays usable', async () => {
  const ac = new AbortController();
  const seen: number[] = [];
  const r = await client.generate(PROMPT, { ...GREEDY, maxNewTokens: 2000 }, {
    signal: ac.signal, onToken: (e) => { seen.push(e.id); if (e.index === 2) ac.abort(); },
  });
  assert.equal(r.finishReason, 'cancelled');
  assert.ok(seen.length <= 4, `${seen.length} tokens delivered after aborting at the 3rd`);
  assert.deepEqual(r.tokenIds, seen);
  const again = await client.generate(PROMPT, { ...GREEDY, maxNewTokens: 5 });
  assert.equal(again.tokenIds.length, 5);
  // Greedy: the cancelled run is a prefix of the fresh one.
  assert.deepEqual(again.tokenIds.slice(0, r.tokenIds.length), r.tokenIds);
});

test('the esbuild bundle (out/local-worker.js layout) works and decodes the same ids', async () => {
  const outDir = path.join(REPO, '.dcd-test', `local-worker-${randomBytes(4).toString('hex')}`);
  mkdirSync(outDir, { recursive: true });
  try {
    const outfile = path.join(outDir, 'local-worker.js');
    await esbuild.build({
      entryPoints: [path.join(REPO, 'src', 'core', 'drafting', 'worker.ts')], outfile, bundle: true,
      platform: 'node', target: 'node20', format: 'cjs', external: ['onnxruntime-node', 'sharp'], logLevel: 'error',
    });
    const bundled = await LocalModelClient.start(dir, { dtype: 'fp32', threads: 1, worker: workerEntry(outfile) });
    try {
      const a = await bundled.generate(PROMPT, { ...GREEDY, maxNewTokens: 12 });
      const b = await client.generate(PROMPT, { ...GREEDY, maxNewTokens: 12 });
      assert.deepEqual(a.tokenIds, b.tokenIds);
    } finally {
      await bundled.dispose();
    }
    assert.ok(!alive(bundled.pid!));
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
});

test('a crashed worker fails the pending call with a clear error; dispose ends the process', async () => {
  const other = await LocalModelClient.start(dir, { dtype: 'fp32', threads: 1 });
  const pending = other.generate(PROMPT, { ...GREEDY, maxNewTokens: 100000 }, { onToken: (e) => { if (e.index === 1) process.kill(other.pid!, 'SIGKILL'); } });
  await assert.rejects(pending, /worker exited \(signal SIGKILL\)/);
  await assert.rejects(other.generate(PROMPT, GREEDY), /disposed|exited/);
  await other.dispose();

  const pid = client.pid!;
  await client.dispose();
  assert.ok(!alive(pid), 'the worker process is gone: its memory is back');
  await assert.rejects(client.generate(PROMPT, GREEDY), /disposed/);
});
