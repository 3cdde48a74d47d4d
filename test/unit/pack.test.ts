import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { CorpusLineError, corpusTraces, decodeNpy, encodeNpy, packCorpus, readExport } from '../../src/core/training/pack';
import { IGNORE_INDEX } from '../../src/core/trace/mask';
import { engineFor, resolveTokenizerSource, tokenizeTraceWith } from '../../src/core/tokenizer';
import { main } from '../../src/cli/main';
import { CORPUS_FILE, fixtureCorpus } from '../fixtures/tokenizer/oracle';
import { assertMatchesSchema } from '../support/schemas';

const tmpDirs: string[] = [];
const tmp = (): string => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-pack-test-')); tmpDirs.push(d); return d; };
after(() => { for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true }); });

async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  // The CLI writes strings; the test runner's own (binary) messages pass through.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string') return ow(chunk, ...rest);
    stdout += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    if (typeof chunk !== 'string') return ew(chunk, ...rest);
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  const savedExit = process.exitCode;
  try {
    const code = await main(args);
    return { code, stdout, stderr };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = savedExit;
  }
}

test('.npy: NumPy v1.0 header, 64-byte aligned, little-endian data; round trip', () => {
  const a = Int32Array.of(1, -100, 151645);
  const bytes = encodeNpy(a);
  assert.deepEqual([...bytes.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const hlen = bytes[8] | (bytes[9] << 8);
  assert.equal((10 + hlen) % 64, 0);
  const header = Buffer.from(bytes.subarray(10, 10 + hlen)).toString('latin1');
  assert.match(header, /^\{'descr': '<i4', 'fortran_order': False, 'shape': \(3,\), \} *\n$/);
  assert.deepEqual([...bytes.subarray(10 + hlen)], [1, 0, 0, 0, 0x9c, 0xff, 0xff, 0xff, 0x5d, 0x50, 0x02, 0x00]);
  assert.deepEqual(Array.from(decodeNpy(bytes).data as Int32Array), [1, -100, 151645]);
  const b = BigInt64Array.of(0n, 5n, 2n ** 40n);
  const db = decodeNpy(encodeNpy(b));
  assert.equal(db.descr, '<i8');
  assert.deepEqual(db.shape, [3]);
  assert.deepEqual(Array.from(db.data as BigInt64Array), [0n, 5n, 2n ** 40n]);
  assert.deepEqual(decodeNpy(encodeNpy(new Int32Array(0))).shape, [0]);
  assert.throws(() => decodeNpy(bytes.subarray(0, bytes.length - 1)), /expected/);
});

test('pack: the export round-trips, and each sample is what tokenizeTrace gives', async () => {
  const out = path.join(tmp(), 'export');
  const cacheDir = tmp();
  const m = await packCorpus(CORPUS_FILE, out, { cacheDir, workers: 2 });
  assertMatchesSchema('manifest', JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')), 'the paper export\'s manifest');
  const back = await readExport(out);
  assert.deepEqual(back.manifest, m);
  const samples = fixtureCorpus();
  const engine = engineFor(await resolveTokenizerSource());
  assert.equal(back.offsets.length, samples.length + 1);
  assert.equal(back.offsets[0], 0n);
  let trained = 0;
  samples.forEach((s, i) => {
    const t = tokenizeTraceWith(engine, s.text);
    const a = Number(back.offsets[i]), b = Number(back.offsets[i + 1]);
    assert.deepEqual(Array.from(back.ids.subarray(a, b)), Array.from(t.ids), `ids of sample ${i}`);
    assert.deepEqual(Array.from(back.labels.subarray(a, b)), Array.from(t.labels), `labels of sample ${i}`);
    trained += t.trainedTokens;
  });
  assert.equal(m.format, 'dcd-export');
  assert.equal(m.version, 1);
  assert.match(m.created_by, /^dcd-studio \d+\.\d+\.\d+/);
  assert.equal(m.samples, 10);
  assert.equal(m.tokens, back.ids.length);
  assert.equal(m.trained_tokens, trained);
  assert.equal(m.trained_tokens, back.labels.filter((l) => l !== IGNORE_INDEX).length);
  assert.equal(m.corpus.path, 'corpus.dcd.jsonl');
  assert.equal(m.corpus.sha256, createHash('sha256').update(fs.readFileSync(CORPUS_FILE)).digest('hex'));
  assert.deepEqual(m.tokenizer, { name: 'qwen2.5', sha256: (await resolveTokenizerSource()).sha256, vocab_size: 151665 });
  assert.equal(m.policy, 'paper');
  assert.equal(m.max_length, 32768);
  assert.deepEqual(m.sample_ids, samples.map((s) => s.id));
  assert.deepEqual(m.flags, { truncated: 2, verdict_cut: 2, answer_cut: 2, zero_trained: 0 });
  assert.deepEqual(m.dropped, []);
  assert.equal(m.plan.preset, 'paper');
  assert.equal(m.plan.samples, 10);
  assert.equal(m.plan.optimizer_steps, 0);
  assert.equal(m.plan.tokens, m.tokens);
  for (const name of ['ids.npy', 'labels.npy', 'offsets.npy'] as const) {
    assert.equal(m.files[name], createHash('sha256').update(fs.readFileSync(path.join(out, name))).digest('hex'));
  }
  // The tokenizer the ids came from travels with the export (a builtin model saves it into final/).
  assert.deepEqual(fs.readdirSync(out).sort(), ['ids.npy', 'labels.npy', 'manifest.json', 'offsets.npy', 'tokenizer']);
  assert.deepEqual(fs.readdirSync(path.join(out, 'tokenizer')).sort(), ['tokenizer.json', 'tokenizer_config.json']);
  assert.equal(createHash('sha256').update(fs.readFileSync(path.join(out, 'tokenizer', 'tokenizer.json'))).digest('hex'), m.tokenizer.sha256);
  assert.equal(fs.readFileSync(path.join(out, 'tokenizer', 'tokenizer_config.json'), 'utf8'), (await resolveTokenizerSource()).configJson);

  // Again, from the warm cache and in this thread: the same bytes; the folder is replaced in place.
  const again = await packCorpus(CORPUS_FILE, out, { cacheDir, workers: 0 });
  assert.deepEqual(again.files, m.files);
  assert.deepEqual(fs.readdirSync(path.dirname(out)).sort(), ['export']);
  // In batches of a few samples, two in flight (batches finish out of order): the same bytes, lineage and samples.
  const batched = await packCorpus(CORPUS_FILE, path.join(tmp(), 'batched'), { cacheDir: false, workers: 2, batchBytes: 20_000 });
  assert.deepEqual(batched.files, m.files);
  assert.deepEqual(batched.sample_ids, m.sample_ids);
  assert.deepEqual(batched.lineage, m.lineage);

  // Tampering is caught by the hashes.
  fs.appendFileSync(path.join(out, 'labels.npy'), Buffer.alloc(4));
  await assert.rejects(readExport(out), /labels\.npy: sha256 differs/);
});

test('pack: mask-draft, a max_length and --drop-flagged shape the export', async () => {
  const out = path.join(tmp(), 'e');
  const m = await packCorpus(CORPUS_FILE, out, { cacheDir: false, workers: 0, policy: 'mask-draft', maxLength: 3000, dropFlagged: true, planPreset: 'smoke' });
  assertMatchesSchema('manifest', JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')), 'the smoke export\'s manifest');
  assert.equal(m.samples, 7);
  assert.deepEqual(m.dropped.map((d) => d.line), [8, 9, 10]);
  assert.deepEqual(m.dropped[0].flags, ['truncated', 'verdict_cut', 'answer_cut']);
  assert.deepEqual(m.flags, { truncated: 0, verdict_cut: 0, answer_cut: 0, zero_trained: 0 });
  assert.equal(m.policy, 'mask-draft');
  assert.equal(m.max_length, 3000);
  assert.equal(m.plan.preset, 'smoke');
  assert.equal(m.plan.optimizer_steps, 7);
  const back = await readExport(out);
  for (let i = 0; i < m.samples; i++) assert.ok(Number(back.offsets[i + 1] - back.offsets[i]) <= 3000);
});

test('pack: refuses a folder that is not an export, and names malformed corpus lines', async () => {
  const dir = tmp();
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'mine');
  await assert.rejects(packCorpus(CORPUS_FILE, dir, { cacheDir: false, workers: 0 }), /not a DCD export/);
  assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'mine');

  const lines = fs.readFileSync(CORPUS_FILE, 'utf8').split('\n');
  const broken = path.join(tmp(), 'broken.dcd.jsonl');
  fs.writeFileSync(broken, [lines[0], '{not json', lines[1]].join('\n'));
  await assert.rejects(packCorpus(broken, path.join(tmp(), 'x'), { cacheDir: false, workers: 0 }), (e: Error) => e instanceof CorpusLineError && /broken\.dcd\.jsonl:2:/.test(e.message));
  const notTrace = JSON.parse(lines[0]) as { text: string };
  notTrace.text = notTrace.text.replace('<|im_start|>answer', '');
  fs.writeFileSync(broken, [lines[0], '', JSON.stringify(notTrace)].join('\n'));
  await assert.rejects(packCorpus(broken, path.join(tmp(), 'x'), { cacheDir: false, workers: 0 }), /broken\.dcd\.jsonl:3:/);
  assert.throws(() => corpusTraces('{"id":"a"}\n', 'f.jsonl'), /f\.jsonl:1: missing required field "text"/);
});

test('CLI: dcd tokens, dcd pack and dcd plan print their JSON contracts', async () => {
  const t = await runCli(['tokens', CORPUS_FILE, '--index', '2', '--policy', 'mask-draft', '--max-length', '300', '--json']);
  assert.equal(t.code, 0, t.stderr);
  const tok = JSON.parse(t.stdout) as { ids: number[]; labels: number[]; offsets: Array<[number, number]>; flags: { truncated: boolean } };
  assert.equal(tok.ids.length, 300);
  assert.equal(tok.labels.length, 300);
  assert.equal(tok.offsets.length, 300);
  const s = fixtureCorpus()[2];
  const ref = tokenizeTraceWith(engineFor(await resolveTokenizerSource()), s.text, { policy: 'mask-draft', maxLength: 300 });
  assert.deepEqual(tok.ids, Array.from(ref.ids));
  assert.deepEqual(tok.labels, Array.from(ref.labels));
  assert.deepEqual(tok.offsets[5], [ref.offsets[10], ref.offsets[11]]);
  assert.equal(tok.flags.truncated, true);

  const out = path.join(tmp(), 'cli-export');
  const p = await runCli(['pack', CORPUS_FILE, '--out', out, '--no-cache', '--workers', '0', '--json']);
  assert.equal(p.code, 0, p.stderr);
  const { warnings, ...manifest } = JSON.parse(p.stdout) as { samples: number; files: Record<string, string>; warnings: unknown[] };
  assert.equal(manifest.samples, 10);
  assert.deepEqual(warnings, []);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')), manifest, 'the printed manifest is the written one (plus warnings)');
  assertMatchesSchema('manifest', manifest, 'dcd pack --json');
  assert.match(p.stderr, /flagged: 2 truncated/);

  const pl = await runCli(['plan', CORPUS_FILE, '--preset', 'paper', '--no-cache', '--workers', '0', '--json']);
  assert.equal(pl.code, 0, pl.stderr);
  const plan = JSON.parse(pl.stdout) as Record<string, unknown>;
  for (const key of ['samples', 'optimizer_steps', 'warmup_steps', 'tokens', 'trained_tokens']) assert.ok(key in plan, key);
  assert.equal(plan.samples, 10);
  assert.equal(plan.tokens, (manifest as unknown as { tokens: number }).tokens);

  const bad = await runCli(['tokens', CORPUS_FILE, '--index', '99', '--json']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /out of range: .* has 10 samples/);
  const badPolicy = await runCli(['plan', CORPUS_FILE, '--policy', 'nope']);
  assert.notEqual(badPolicy.code, 0);
  assert.match(badPolicy.stderr, /--policy must be one of paper, mask-draft/);
});
