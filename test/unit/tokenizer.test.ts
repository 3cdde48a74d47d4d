import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import {
  TokenEngine, TokenizerPool, TokenCache, resolveTokenizerSource, sha256Hex, tokenizeTrace, tokenizeTraceWith, engineFor,
  QWEN3_EXTRA_TOKEN_IDS, type TokenizerSource,
} from '../../src/core/tokenizer';
import { encodeEntry } from '../../src/core/tokenizer/cache';
import { fixtureCorpus, pairs, rustEncode, rustOracle } from '../fixtures/tokenizer/oracle';
import type { Tokenizer as RustTokenizer } from 'tokenizers';

let source: TokenizerSource;
let engine: TokenEngine;
let rust: RustTokenizer;
const tmpDirs: string[] = [];
const tmp = (): string => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-tok-test-')); tmpDirs.push(d); return d; };

before(async () => {
  source = await resolveTokenizerSource();
  engine = engineFor(source);
  rust = rustOracle(source);
});
after(() => { for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true }); });

/** GPT-2 byte-level alphabet, reversed: the bytes of each token. */
const CHAR_BYTE = (() => {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  return new Map(cs.map((c, i) => [String.fromCharCode(c), bs[i]]));
})();
function tokenBytes(id: number): number[] {
  const tok = engine.lib.id_to_token(id) as string;
  if (id >= 151643) return [...Buffer.from(tok, 'utf8')];
  return [...tok].map((ch) => CHAR_BYTE.get(ch) as number);
}

/**
 * Offsets slice the text back into the tokens: tokens that share characters
 * (one character's bytes split over tokens) form a group; the groups tile the
 * text, and each group's bytes are the UTF-8 of the NFC form of its slice.
 */
function assertOffsetsSliceBack(text: string, ids: Int32Array, offsets: Int32Array): void {
  let i = 0;
  let prevEnd = 0;
  while (i < ids.length) {
    const start = offsets[2 * i];
    let end = offsets[2 * i + 1];
    const bytes: number[] = [...tokenBytes(ids[i])];
    let j = i + 1;
    while (j < ids.length && offsets[2 * j] < end) {
      end = Math.max(end, offsets[2 * j + 1]);
      bytes.push(...tokenBytes(ids[j]));
      j++;
    }
    assert.equal(start, prevEnd, `token ${i} starts at ${start}, the previous group ended at ${prevEnd}`);
    const slice = text.slice(start, end);
    // Compared as UTF-8 bytes: a lone surrogate is U+FFFD on both sides.
    assert.deepEqual(Buffer.from(bytes), Buffer.from(slice.normalize('NFC'), 'utf8'), `tokens ${i}..${j - 1} vs ${JSON.stringify(slice)}`);
    prevEnd = end;
    i = j;
  }
  assert.equal(prevEnd, text.length, 'the tokens cover the whole text');
}

async function assertMatchesOracle(text: string, label: string): Promise<void> {
  const mine = engine.encode(text);
  const ref = await rustEncode(rust, text);
  assert.deepEqual(Array.from(mine.ids), ref.ids, `${label}: ids differ from the Rust tokenizer`);
  if (text.normalize('NFC') === text) assert.deepEqual(pairs(mine.offsets), ref.offsets, `${label}: offsets differ from the Rust tokenizer`);
  assertOffsetsSliceBack(text, mine.ids, mine.offsets);
}

test('the default tokenizer is Qwen2.5: the Qwen3 extras are gone, the chat tokens are where they belong', () => {
  assert.equal(source.name, 'qwen2.5');
  assert.equal(engine.vocabSize, 151665);
  const added = (JSON.parse(source.tokenizerJson) as { added_tokens: Array<{ id: number; content: string }> }).added_tokens;
  assert.equal(added.length, 22);
  for (const id of QWEN3_EXTRA_TOKEN_IDS) assert.ok(!added.some((t) => t.id === id), `id ${id} still present`);
  assert.deepEqual(Array.from(engine.encode('<|im_start|><|im_end|><|endoftext|>').ids), [151644, 151645, 151643]);
  // <think> is an added token in Qwen3 (151667) but plain text in Qwen2.5.
  const think = Array.from(engine.encode('<think>').ids);
  assert.ok(think.length > 1 && think.every((id) => id < 151643), `"<think>" → ${think}`);
  assert.equal(source.sha256, sha256Hex(source.tokenizerJson));
  const config = JSON.parse(source.configJson) as { added_tokens_decoder: Record<string, unknown>; chat_template?: string };
  assert.ok(!('151667' in config.added_tokens_decoder) && '151664' in config.added_tokens_decoder);
  assert.equal(config.chat_template, undefined);
});

test('scripts/derive-tokenizer.mjs writes the same bytes as the in-memory derivation', () => {
  const out = tmp();
  const r = spawnSync(process.execPath, [path.join(__dirname, '../../scripts/derive-tokenizer.mjs'), out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(sha256Hex(fs.readFileSync(path.join(out, 'tokenizer.json'))), source.sha256);
  assert.equal(fs.readFileSync(path.join(out, 'tokenizer_config.json'), 'utf8'), source.configJson);
});

test('a tokenizer folder (DCD_TOKENIZER_DIR or a model folder) is read and fingerprinted', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), source.tokenizerJson);
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), source.configJson);
  const fromDir = await resolveTokenizerSource({ dir });
  assert.equal(fromDir.sha256, source.sha256);
  assert.equal(fromDir.dir, dir);
  const saved = process.env.DCD_TOKENIZER_DIR;
  process.env.DCD_TOKENIZER_DIR = dir;
  try {
    assert.equal((await resolveTokenizerSource()).dir, dir);
  } finally {
    if (saved === undefined) delete process.env.DCD_TOKENIZER_DIR; else process.env.DCD_TOKENIZER_DIR = saved;
  }
  await assert.rejects(resolveTokenizerSource({ dir: tmp() }), /No tokenizer\.json/);
});

test('ids and offsets equal the Rust tokenizer on every sample of the fixture corpus', async () => {
  for (const s of fixtureCorpus()) await assertMatchesOracle(s.text, s.id);
});

test('ids equal the Rust tokenizer on long real reasoning traces (10k+ tokens)', async () => {
  const long = fixtureCorpus().filter((s) => s.chain.length > 40_000);
  assert.ok(long.length >= 2);
  for (const s of long) {
    const ids = engine.encode(s.chain).ids;
    assert.ok(ids.length >= 10_000, `${s.id}: ${ids.length} tokens`);
    await assertMatchesOracle(s.chain, `${s.id} chain`);
  }
});

const EDGE_CASES: Record<string, string> = {
  'NFD accents': 'Cafe\u0301, re\u0301sume\u0301 and na\u0308ive \u00e9 vs e\u0301: \u212b (angstrom) \u1100\u1161\u11a8 (jamo)',
  'combining mark after a newline': 'x\n\u0301abc\ne\u0301tude\n\u0308',
  NBSP: 'a\u00a0b\u00a0\u00a0c \u00a0\n\u00a0d\u202fe',
  CRLF: 'line one\r\nline two\r\n\r\nline three\r\n\r\n',
  tabs: '\tindented\n\t\tmore\t tabs\t\n\tend\t',
  emoji: 'ok 👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 😀🦜 \u2764\ufe0f',
  CJK: '中文字符测试，日本語のテキスト、한국어 텍스트。全角ＡＢＣ１２３',
  'literal <think>': 'the literal <think> tag, </think>, <tool_response> and </tool_response> stay text',
  'special tokens mid-text': 'before<|im_start|>middle<|im_end|>after<|endoftext|>x<|im_start|><|im_end|>think\n<|im_start|',
  'other whitespace': 'a\u0085b\u2028c\u2029d\u000be\u000cf\ufeffg\u200bh \u3000i',
  'math symbols': '𝕏 ≤ ∑_{i=1}^{∞} ∫ √2 ≈ 1.414… x² ½ ¼',
  'apostrophes at line starts': "x\n's\n'T\n'll\n'S 've\n''",
  'digits and punctuation runs': '12345678901234567890 3.14159 -0.5e-10 ((([[[{{{}}}]]]))) !!!??? ...\n\n\n--- ***',
  'lone surrogate': 'a\ud800b\udc00c',
  'empty and blank': ' \n \n\n   ',
};

test('ids and offsets equal the Rust tokenizer on Unicode edge cases', async () => {
  for (const [name, text] of Object.entries(EDGE_CASES)) await assertMatchesOracle(text, name);
  assert.equal(engine.encode('').ids.length, 0);
});

test('NFD text: offsets cover the composed characters, so slices normalise to the token strings', () => {
  const text = 'e\u0301';
  const { ids, offsets } = engine.encode(text);
  assert.deepEqual(pairs(offsets).at(-1), [0, 2]);
  assert.equal(Buffer.from(ids.length === 1 ? tokenBytes(ids[0]) : [...ids].flatMap(tokenBytes)).toString('utf8'), '\u00e9');
});

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('chunking at safe boundaries is exact: random texts built from tricky pieces match the Rust tokenizer', async () => {
  const atoms = ['a', 'b', 'The', ' ', '  ', '\n', '\n', '\n\n', '\r\n', '\r', '\t', "'", "'s", 's', '1', '23', '!', '.', '$', '\\', '{', 'x²',
    'é', 'e\u0301', '\u0301', '中', '文', '😀', '\u00a0', '<|im_start|>', '<|im_end|>', '<think>', 'think', 'Wait,', ' so', '\u3000'];
  const next = rng(42);
  for (let k = 0; k < 300; k++) {
    let text = '';
    const n = 1 + Math.floor(next() * 120);
    for (let i = 0; i < n; i++) text += atoms[Math.floor(next() * atoms.length)];
    await assertMatchesOracle(text, `random #${k} ${JSON.stringify(text)}`);
  }
});

test('the chunk cache gives the same tokens when a chain reappears after another draft', async () => {
  const [a, b] = fixtureCorpus().filter((s) => s.id === '43657cba08ecddc2' || s.id === '9712fdb87243c5e5');
  assert.equal(a.chain, b.chain, 'the two samples share their chain');
  engine.clearCaches();
  const first = engine.encode(a.text);
  const hitsBefore = engine.stats.chunkHits;
  const second = engine.encode(b.text);
  assert.ok(engine.stats.chunkHits - hitsBefore > 20, `the shared chain was served from the chunk cache (${engine.stats.chunkHits - hitsBefore} hits)`);
  const ref = await rustEncode(rust, b.text);
  assert.deepEqual(Array.from(second.ids), ref.ids);
  assert.deepEqual(pairs(second.offsets), ref.offsets);
  assert.deepEqual(Array.from(engine.encode(a.text).ids), Array.from(first.ids));
});

test('tokenizeTrace: ids, UTF-16 offsets and labels from one call, in this thread or in a worker', async () => {
  const s = fixtureCorpus()[3];
  const here = await tokenizeTrace(s.text, { policy: 'mask-draft' });
  assert.equal(here.ids.length, here.labels.length);
  assert.equal(here.offsets.length, 2 * here.ids.length);
  const pool = new TokenizerPool(source, { workers: 1 });
  try {
    const there = await pool.tokenizeTrace(s.text, { policy: 'mask-draft' });
    assert.deepEqual(Array.from(there.ids), Array.from(here.ids));
    assert.deepEqual(Array.from(there.offsets), Array.from(here.offsets));
    assert.deepEqual(Array.from(there.labels), Array.from(here.labels));
    assert.equal(await pool.vocabSize, 151665);
    const viaOpt = await tokenizeTrace(s.text, { policy: 'mask-draft', pool });
    assert.deepEqual(viaOpt.layout, here.layout);
    await assert.rejects(pool.tokenizeTrace('not a trace'), /Expected/);
  } finally {
    await pool.close();
  }
  assert.throws(() => tokenizeTraceWith(engine, s.text.replace('<|im_start|>answer', '<|im_start|>answr')), /TraceStructure|Expected|Could not find/);
});

test('the disk cache stores layout and ids, and rejects torn entries', async () => {
  const cache = new TokenCache(tmp(), source.sha256);
  const layout = { tokens: 5, thinkStart: 1, draft: [2, 3] as [number, number], verdict: [3, 4] as [number, number], answer: [4, 5] as [number, number] };
  const ids = Int32Array.of(10, 20, 30, 40, 50);
  assert.equal(await cache.readLayout('ab'.repeat(32)), null);
  await cache.write('ab'.repeat(32), layout, ids);
  assert.deepEqual(await cache.readLayout('ab'.repeat(32)), layout);
  assert.deepEqual(Array.from((await cache.read('ab'.repeat(32)))!.ids), Array.from(ids));
  const file = cache.file('ab'.repeat(32));
  fs.writeFileSync(file, encodeEntry(layout, ids).subarray(0, 40));
  assert.equal(await cache.readLayout('ab'.repeat(32)), null);
  assert.equal(await cache.read('ab'.repeat(32)), null);
});

test('a line of megabytes without whitespace tokenizes in bounded time, offsets covering it', { timeout: 30_000 }, () => {
  // The library's BPE over one giant pre-token is superlinear and overflows the stack at 25 MB;
  // the astral letters check that a cut never splits a surrogate pair.
  const started = Date.now();
  for (const text of ['a'.repeat(5_000_000), '#'.repeat(5_000_000), '𝒜'.repeat(1_000_000)]) {
    const e = engine.encode(text);
    assert.equal(e.offsets[0], 0);
    assert.equal(e.offsets[e.offsets.length - 1], text.length);
    for (let k = 2; k < e.offsets.length; k += 2) assert.ok(e.offsets[k] >= e.offsets[k - 2]);
  }
  // Encoding is synchronous, so the test timeout cannot stop it: measure instead.
  assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
});

test('the engine caches keep no trace alive: the heap does not grow with the text encoded', () => {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const fresh = new TokenEngine(source.tokenizerJson, source.configJson);
  // 120 traces of ~190 KB: one line of their own (a cache miss: a new chunk and words), then lines the caches already hold.
  const trace = (k: number): string => `Trace number ${k} of the memory check begins here.\n${'Then the same line of reasoning, checked once more.\n'.repeat(3600)}`;
  fresh.encode(trace(0));
  gc();
  const before = process.memoryUsage().heapUsed;
  let chars = 0;
  for (let k = 1; k <= 120; k++) { const t = trace(k); chars += t.length; fresh.encode(t); }
  gc();
  const grown = process.memoryUsage().heapUsed - before;
  // 120 new cache entries hold a few KB; a cache keyed by slices of the traces holds every trace (~22 MB).
  assert.ok(grown < chars / 10, `heap grew ${(grown / 2 ** 20).toFixed(1)} MB after encoding ${(chars / 2 ** 20).toFixed(1)} M characters`);
});
