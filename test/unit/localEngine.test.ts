/**
 * The in-process engine through the real transformers.js + onnxruntime-node
 * path, on the tiny random-weight Qwen2 model.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { LocalEngine } from '../../src/core/drafting/engine';
import { BareOrtGreedy } from '../../src/core/drafting/bareOrt';
import { argmax } from '../../src/core/drafting/sampling';
import type { TokenEvent } from '../../src/core/drafting/types';
import { GREEDY, tinyModel } from './localHelpers';

let engine: LocalEngine;
let dir: string;
before(async () => {
  dir = await tinyModel();
  engine = await LocalEngine.load(dir, { dtype: 'fp32', threads: 1 });
});
after(async () => { await engine?.dispose(); });

const QUESTION = { messages: [{ role: 'user' as const, content: 'What is 17 * 3? Give the answer in \\boxed{}.' }] };

test('the Qwen2.5 chat template renders the prompt exactly, with <|im_start|>/<|im_end|> as single tokens', () => {
  const text = engine.renderPrompt(QUESTION);
  assert.equal(text,
    '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
    '<|im_start|>user\nWhat is 17 * 3? Give the answer in \\boxed{}.<|im_end|>\n<|im_start|>assistant\n');
  const ids = engine.encode(text);
  assert.equal(ids[0], 151644);
  assert.equal(ids.filter((i) => i === 151645).length, 2);
  assert.deepEqual(engine.info.stopTokenIds.sort(), [151643, 151645]);
  assert.equal(engine.info.dtype, 'fp32');
  assert.equal(engine.info.onnxFile, 'onnx/model.onnx');
});

test('greedy ids with the KV cache equal greedy ids without it (transformers.js forward and bare onnxruntime)', async () => {
  const n = 16;
  const r = await engine.generate(QUESTION, { ...GREEDY, maxNewTokens: n, stopTokenIds: [] });
  assert.equal(r.tokenIds.length, n);
  assert.equal(r.finishReason, 'length');
  assert.ok(new Set(r.tokenIds).size > 3, 'a degenerate sequence would prove little');

  // No cache, through transformers.js: the full sequence every step.
  const prompt = engine.encode(engine.renderPrompt(QUESTION));
  const seq = [...prompt];
  const noCache: number[] = [];
  for (let i = 0; i < n; i++) {
    const { data, vocab } = await engine.logitsNoCache(seq);
    const next = argmax(data, data.length - vocab, vocab);
    noCache.push(next);
    seq.push(next);
  }
  assert.deepEqual(r.tokenIds, noCache);

  // Bare onnxruntime-node, with and without the cache.
  const bare = await BareOrtGreedy.load(path.join(dir, 'onnx', 'model.onnx'), { threads: 1 });
  try {
    assert.deepEqual((await bare.generate(prompt, n, { useCache: true })).ids, r.tokenIds);
    assert.deepEqual((await bare.generate(prompt, n, { useCache: false })).ids, r.tokenIds);
  } finally {
    await bare.dispose();
  }
});

test('streaming delivers every token, in order, and the text pieces add up to the result', async () => {
  const events: TokenEvent[] = [];
  const r = await engine.generate(QUESTION, { ...GREEDY, maxNewTokens: 40 }, { onToken: (e) => events.push(e) });
  const tokens = events.filter((e) => e.id >= 0);
  assert.deepEqual(tokens.map((e) => e.id), r.tokenIds);
  assert.deepEqual(tokens.map((e) => e.index), r.tokenIds.map((_, i) => i));
  assert.equal(events.map((e) => e.text).join(''), r.text);
  assert.equal(r.text, engine.decode(r.tokenIds));
  assert.ok(r.text.length > 0);
});

test('cancel stops within one token', async () => {
  for (const at of [0, 5]) {
    const ac = new AbortController();
    const seen: number[] = [];
    const r = await engine.generate(QUESTION, { ...GREEDY, maxNewTokens: 200 }, {
      signal: ac.signal,
      onToken: (e) => { seen.push(e.index); if (e.index === at) ac.abort(); },
    });
    assert.equal(r.finishReason, 'cancelled');
    assert.ok(r.tokenIds.length <= at + 2, `aborted at ${at}, got ${r.tokenIds.length} tokens`);
    assert.ok(Math.max(...seen) <= at + 1);
  }
  // Aborted from outside (a timer), not from the callback.
  const ac = new AbortController();
  let count = 0;
  let countAtAbort = -1;
  const r = await engine.generate(QUESTION, { ...GREEDY, maxNewTokens: 5000 }, {
    signal: ac.signal,
    onToken: () => {
      count++;
      if (count === 3) setImmediate(() => { countAtAbort = count; ac.abort(); });
    },
  });
  assert.equal(r.finishReason, 'cancelled');
  assert.ok(countAtAbort > 0 && r.tokenIds.length <= countAtAbort + 1, `abort after ${countAtAbort} tokens, got ${r.tokenIds.length}`);
  // Already aborted: nothing is generated.
  const pre = new AbortController();
  pre.abort();
  const none = await engine.generate(QUESTION, GREEDY, { signal: pre.signal });
  assert.equal(none.tokenIds.length, 0);
  assert.equal(none.finishReason, 'cancelled');
});

test('stops at a stop token (which is kept in the ids, not in the text)', async () => {
  const free = await engine.generate(QUESTION, { ...GREEDY, maxNewTokens: 12, stopTokenIds: [] });
  const stopAt = free.tokenIds[6];
  const firstIdx = free.tokenIds.indexOf(stopAt);
  const r = await engine.generate(QUESTION, { ...GREEDY, maxNewTokens: 12, stopTokenIds: [stopAt] });
  assert.equal(r.finishReason, 'stop');
  assert.deepEqual(r.tokenIds, free.tokenIds.slice(0, firstIdx + 1));
  assert.ok(engine.info.stopTokenIds.includes(151645), '<|im_end|> is always a stop token');
});

test('seeded sampling: same seed same draft, other seed other draft; max new tokens honoured', async () => {
  const p = { maxNewTokens: 12, temperature: 0.9, topP: 0.95, topK: 0, seed: 11 };
  const a = await engine.generate(QUESTION, p);
  const b = await engine.generate(QUESTION, p);
  const c = await engine.generate(QUESTION, { ...p, seed: 12 });
  assert.deepEqual(a.tokenIds, b.tokenIds);
  assert.notDeepEqual(a.tokenIds, c.tokenIds);
  assert.equal(a.tokenIds.length, 12);
  const greedy = await engine.generate(QUESTION, { ...GREEDY, maxNewTokens: 12 });
  assert.notDeepEqual(a.tokenIds, greedy.tokenIds);
});

test('one session serves concurrent calls one at a time; a raw-text prompt works', async () => {
  const [x, y] = await Promise.all([
    engine.generate({ text: 'Hello' }, { ...GREEDY, maxNewTokens: 8 }),
    engine.generate({ text: 'Hello' }, { ...GREEDY, maxNewTokens: 8 }),
  ]);
  assert.deepEqual(x.tokenIds, y.tokenIds);
  assert.equal(x.promptTokens, engine.encode('Hello').length);
});

test('the q8 variant loads and generates; dispose frees the session', async () => {
  const q8 = await LocalEngine.load(dir, { dtype: 'q8', threads: 1 });
  assert.equal(q8.info.onnxFile, 'onnx/model_quantized.onnx');
  const r = await q8.generate(QUESTION, { ...GREEDY, maxNewTokens: 8 });
  assert.equal(r.tokenIds.length, 8);
  await q8.dispose();
  await assert.rejects(q8.generate(QUESTION, GREEDY), /disposed/);
});
