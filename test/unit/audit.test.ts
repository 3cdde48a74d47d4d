import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { auditCorpus, histogram } from '../../src/core/training/audit';
import { engineFor, resolveTokenizerSource, tokenizeTraceWith } from '../../src/core/tokenizer';
import { fixtureCorpus } from '../fixtures/tokenizer/oracle';

const tmpDirs: string[] = [];
const tmp = (): string => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-audit-test-')); tmpDirs.push(d); return d; };
after(() => { for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true }); });

test('histogram: bins of a multiple of 256 tokens that hold every length', () => {
  const h = histogram([0, 255, 256, 5000, 5119], 4);
  assert.equal(h.bin_width, 1280);
  assert.deepEqual(h.edges, [0, 1280, 2560, 3840, 5120]);
  assert.deepEqual(h.counts, [3, 0, 0, 2]);
  assert.deepEqual(histogram([], 20).counts, [0]);
});

test('auditCorpus: lengths, trained ratio and flags agree with tokenizing each sample', async () => {
  const samples = fixtureCorpus();
  const engine = engineFor(await resolveTokenizerSource());
  const a = await auditCorpus(samples, { cacheDir: false, workers: 0, maxLength: 32768 });
  let tokens = 0, untruncated = 0, trained = 0;
  const flaggedIds: string[] = [];
  for (const s of samples) {
    const t = tokenizeTraceWith(engine, s.text);
    tokens += t.ids.length;
    untruncated += t.totalTokens;
    trained += t.trainedTokens;
    if (Object.values(t.flags).some(Boolean)) flaggedIds.push(s.id);
  }
  assert.equal(a.samples, 10);
  assert.equal(a.tokens, tokens);
  assert.equal(a.tokens_untruncated, untruncated);
  assert.equal(a.trained_tokens, trained);
  assert.equal(a.trained_ratio, trained / tokens);
  assert.deepEqual(a.flagged.map((f) => f.id), flaggedIds);
  assert.deepEqual(a.flags, { truncated: 2, verdict_cut: 2, answer_cut: 2, zero_trained: 0 }); // the two AIME traces over 32,768 tokens
  assert.deepEqual(a.flagged[0], { index: 8, id: '534935f53a641871', tokens: a.length.max, trained: 32768 - 94, flags: ['truncated', 'verdict_cut', 'answer_cut'] });
  assert.equal(a.flagged[1].index, 9);
  assert.equal(a.histogram.counts.reduce((x, y) => x + y, 0), 10);
  assert.equal(a.length.min, 284);
  assert.equal(a.tokenizer.name, 'qwen2.5');
  assert.deepEqual(a.errors, []);
  assert.equal(a.cache.dir, null);
});

test('auditCorpus: mask-draft and a small max_length change the counts and flags', async () => {
  const samples = fixtureCorpus();
  const paper = await auditCorpus(samples, { cacheDir: false, workers: 0, maxLength: 2000 });
  const md = await auditCorpus(samples, { cacheDir: false, workers: 0, maxLength: 2000, policy: 'mask-draft' });
  assert.equal(paper.flags.truncated, 5); // the five AIME samples; MATH-500 #12 (1,385 tokens) stays whole
  assert.equal(paper.tokens, md.tokens);
  assert.ok(md.trained_tokens < paper.trained_tokens);
  assert.equal(md.policy, 'mask-draft');
});

test('auditCorpus: worker threads and the disk cache give the same result; a warm run reads only the cache', async () => {
  const samples = fixtureCorpus();
  const cacheDir = tmp();
  const inThread = await auditCorpus(samples, { cacheDir: false, workers: 0 });
  const cold = await auditCorpus(samples, { cacheDir, workers: 2 });
  assert.equal(cold.cache.misses, 10);
  assert.equal(cold.cache.hits, 0);
  const warm = await auditCorpus(samples, { cacheDir, workers: 2 });
  assert.equal(warm.cache.hits, 10);
  assert.equal(warm.cache.misses, 0);
  for (const r of [cold, warm]) {
    assert.deepEqual({ ...r, cache: null, elapsed_ms: 0 }, { ...inThread, cache: null, elapsed_ms: 0 });
  }
  // The warm run read one list file; without it, the per-sample entries serve.
  const tokDir = fs.readdirSync(cacheDir).map((d) => path.join(cacheDir, d))[0];
  assert.equal(fs.readdirSync(path.join(tokDir, 'lists')).length, 1);
  fs.rmSync(path.join(tokDir, 'lists'), { recursive: true });
  const perSample = await auditCorpus(samples, { cacheDir, workers: 2 });
  assert.equal(perSample.cache.hits, 10);
  assert.deepEqual({ ...perSample, cache: null, elapsed_ms: 0 }, { ...inThread, cache: null, elapsed_ms: 0 });
  // The samples sharing a chain went to the same worker: its chunk cache served the chain.
  assert.ok(cold.cache.chunk_hits > 50, `chunk hits ${cold.cache.chunk_hits}`);
});

test('auditCorpus: a sample whose text is not a trace is reported with its index, not counted', async () => {
  const samples = fixtureCorpus().slice(0, 3);
  samples[1] = { ...samples[1], text: samples[1].text.replace('<|im_start|>think\n', '') };
  const a = await auditCorpus(samples, { cacheDir: false, workers: 0 });
  assert.equal(a.failed, 1);
  assert.equal(a.errors[0].index, 1);
  assert.match(a.errors[0].error ?? '', /think/);
  assert.equal(a.histogram.counts.reduce((x, y) => x + y, 0), 2);
});

test('auditCorpus: progress is reported, and an aborted audit stops with the abort', async () => {
  const samples = fixtureCorpus().slice(0, 4);
  const seen: Array<[number, number]> = [];
  await auditCorpus(samples, { cacheDir: false, workers: 1, onProgress: (d, t) => seen.push([d, t]) });
  assert.deepEqual(seen.at(-1), [4, 4]);
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(auditCorpus(samples, { cacheDir: false, workers: 1, signal: ac.signal }), { name: 'AbortError' });
});
