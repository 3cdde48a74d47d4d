/**
 * The workbench's token columns (core/workbench/tokenColumns.ts) with the
 * real Qwen2.5 tokenizer in a real worker pool: every sample row gets the
 * counts the tokenizer and mask core give for its trace, error and text-less
 * rows get an error, the event loop runs between slices (row requests are
 * answered while the columns fill in), an abort stops the loop, and the pool
 * is not started when nothing needs tokenizing. The pool's workers run at
 * the nice value they are given (Linux).
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CorpusDocument, computeTokenColumns, rowsToTokenize, type TokenProgress } from '../../src/core/workbench';
import { TokenizerPool, resolveTokenizerSource, tokenizeCorpus } from '../../src/core/tokenizer';
import { summarizeMask } from '../../src/core/trace/mask';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'workbench', 'pairs.dcd.jsonl');
const lines = fs.readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l.trim());
const text = [...lines, '{"id": "broken", oops', JSON.stringify({ id: 'no-text', question: 'q?' })].join('\n') + '\n';

let pool: TokenizerPool;
before(async () => { pool = new TokenizerPool(await resolveTokenizerSource({}), { workers: 1, cacheRoot: null, niceness: 10 }); await pool.vocabSize; });
after(async () => { await pool.close(); });

const opts = (signal: AbortSignal, progress: TokenProgress[], extra: { sliceChars?: number; beforeSlice?: () => void } = {}) => ({
  policy: 'mask-draft' as const, maxLength: 4096, signal, onProgress: (p: TokenProgress) => progress.push(p), ...extra,
});

test('every sample row gets the token counts of its trace; error rows are not columns, text-less samples get an error', async () => {
  const doc = new CorpusDocument(Buffer.from(text));
  const progress: TokenProgress[] = [];
  const ac = new AbortController();
  // One row per slice: the loop yields to the event loop before each one.
  const order: string[] = [];
  let slices = 0;
  const ticker = setInterval(() => order.push('tick'), 0);
  await computeTokenColumns(doc, async () => pool, opts(ac.signal, progress, { sliceChars: 1, beforeSlice: () => { slices++; order.push('slice'); } }));
  clearInterval(ticker);
  const samples = doc.rows().filter((e) => doc.info(e).kind === 'sample');
  assert.equal(samples.length, lines.length + 1);
  assert.equal(slices, samples.length);
  assert.deepEqual(progress.at(-1), { done: samples.length, total: samples.length, finished: true });
  assert.ok(progress.every((p, i) => i === 0 || p.done > progress[i - 1].done));
  // Timers ran between slices, not only after the last one.
  assert.ok(order.indexOf('tick') < order.lastIndexOf('slice'), order.join(','));

  const traces = lines.map((l) => JSON.parse(l) as { text: string; chain?: string });
  const direct = await tokenizeCorpus(traces.map((t) => ({ text: t.text, group: t.chain })), false, { pool, cacheDir: false });
  samples.slice(0, lines.length).forEach((e, i) => {
    const layout = direct.samples[i].layout!;
    const m = summarizeMask(layout, 'mask-draft', 4096);
    const got = doc.tokensOf(e.key)!;
    assert.equal(got.error, undefined);
    assert.equal(got.tokens, layout.tokens);
    assert.equal(got.trained, m.trained);
    assert.ok(got.tokens > 100);
  });
  assert.match(doc.tokensOf(samples.at(-1)!.key)!.error ?? '', /no text/);
  const broken = doc.rows().find((e) => doc.info(e).kind === 'error')!;
  assert.equal(doc.tokensOf(broken.key), undefined);
  assert.deepEqual(rowsToTokenize(doc), { rows: [], total: samples.length });

  // Nothing left: the pool is not asked for.
  let asked = false;
  const again: TokenProgress[] = [];
  await computeTokenColumns(doc, async () => { asked = true; return pool; }, opts(ac.signal, again));
  assert.equal(asked, false);
  assert.deepEqual(again, [{ done: samples.length, total: samples.length, finished: true }]);
});

test('an abort stops the loop between slices; the rows done keep their columns, the next run does the rest', async () => {
  const doc = new CorpusDocument(Buffer.from(text));
  const ac = new AbortController();
  const progress: TokenProgress[] = [];
  let slices = 0;
  await assert.rejects(computeTokenColumns(doc, async () => pool, opts(ac.signal, progress, {
    sliceChars: 1, beforeSlice: () => { if (++slices === 3) ac.abort(); },
  })), { name: 'AbortError' });
  const left = rowsToTokenize(doc);
  assert.equal(left.rows.length, left.total - 2);
  const rest: TokenProgress[] = [];
  await computeTokenColumns(doc, async () => pool, opts(new AbortController().signal, rest));
  assert.equal(rest[0].done, 2);
  assert.equal(rowsToTokenize(doc).rows.length, 0);
});

test('an edited line is counted from its text; the worker writes the traces to the disk cache, and a pool on that cache gives the same counts', async () => {
  const cacheRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-wb-tokens-'));
  const source = await resolveTokenizerSource({});
  const cached = new TokenizerPool(source, { workers: 1, cacheRoot });
  const counts = (doc: CorpusDocument) => doc.rows().map((e) => { const t = doc.tokensOf(e.key); return t ? [t.tokens, t.trained, t.error ?? ''] : null; });
  try {
    const doc = new CorpusDocument(Buffer.from(text));
    doc.apply(doc.reviewEdit([doc.rows()[1].key], { status: 'accepted', at: '2026-01-01T00:00:00Z' }));
    assert.notEqual(doc.entryByKey(doc.rows()[1].key)?.text, undefined, 'the edited row is held as text');
    await computeTokenColumns(doc, async () => cached, opts(new AbortController().signal, []));
    assert.ok(fs.readdirSync(cacheRoot, { recursive: true }).length > lines.length, 'the worker wrote the traces to the cache');
    const plain = new CorpusDocument(Buffer.from(text));
    await computeTokenColumns(plain, async () => pool, opts(new AbortController().signal, []));
    assert.deepEqual(counts(doc), counts(plain));
    await cached.close();
    const again = new TokenizerPool(source, { workers: 1, cacheRoot });
    try {
      const fromCache = new CorpusDocument(Buffer.from(text));
      await computeTokenColumns(fromCache, async () => again, opts(new AbortController().signal, []));
      assert.deepEqual(counts(fromCache), counts(plain));
    } finally { await again.close(); }
  } finally {
    await cached.close();
    fs.rmSync(cacheRoot, { recursive: true, force: true });
  }
});

test('the pool\'s worker threads run at the nice value given (Linux: read from /proc)', () => {
  const nice = (task: string): number => {
    const stat = fs.readFileSync(`/proc/self/task/${task}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  };
  const tasks = fs.readdirSync('/proc/self/task');
  assert.equal(tasks.filter((t) => nice(t) === 10).length, pool.size);
});
