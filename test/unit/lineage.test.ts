/**
 * The lineage core (docs/FORMATS.md §6) without a trainer: the folder hash as
 * documented, its size/mtime cache, line hashes and what they say changed, the
 * record checks, exports from before the lineage member (found by corpus name
 * and hash), and `dcd lineage`'s errors. The whole chain with a real training
 * run on a host is test/sshd/lineage.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { diffLines, HashCache, lineHashes, lineageOf, listFiles, parseLineageRecord, writeEvalLineage, type LineageReport } from '../../src/core/lineage';
import { packCorpus } from '../../src/core/training/pack';
import { dcd } from '../support/cli';
import { assertMatchesSchema } from '../support/schemas';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
let tmp: string;

before(() => { tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-lineage-unit-')); });
after(() => rmSync(tmp, { recursive: true, force: true }));

test('folder hash: sha256 of the sorted "relpath<TAB>sha256<LF>" lines, dcd_lineage.json and links left out', async () => {
  const dir = path.join(tmp, 'model');
  mkdirSync(path.join(dir, 'sub'), { recursive: true });
  writeFileSync(path.join(dir, 'b.json'), '{"b":1}');
  writeFileSync(path.join(dir, 'a.safetensors'), Buffer.from([0, 1, 2, 3]));
  writeFileSync(path.join(dir, 'sub', 'é.txt'), 'x');
  writeFileSync(path.join(dir, 'dcd_lineage.json'), '{}');
  assert.deepEqual(await listFiles(dir), ['a.safetensors', 'b.json', 'sub/é.txt']);
  const expected = sha(`a.safetensors\t${sha(Buffer.from([0, 1, 2, 3]))}\nb.json\t${sha('{"b":1}')}\nsub/é.txt\t${sha('x')}\n`);
  assert.equal(await new HashCache().folderHash(dir), expected);
  writeFileSync(path.join(dir, 'dcd_lineage.json'), '{"changed":true}');
  assert.equal(await new HashCache().folderHash(dir), expected, 'the sidecar is not part of the hash');
  writeFileSync(path.join(dir, 'b.json'), '{"b":2}');
  assert.notEqual(await new HashCache().folderHash(dir), expected);
});

test('the hash cache reads a file once per (path, size, mtime) and keeps entries in its file', async () => {
  const file = path.join(tmp, 'weights.bin');
  writeFileSync(file, 'aaaa');
  const cacheFile = path.join(tmp, 'cache', 'hashes.json');
  const c1 = await new HashCache(cacheFile).load();
  assert.equal(await c1.fileHash(file), sha('aaaa'));
  await c1.save();
  const st = statSync(file);
  // Same size and mtime: the cached hash stands (the documented trade-off that spares re-reading big weights).
  writeFileSync(file, 'bbbb');
  utimesSync(file, st.atime, st.mtime);
  const c2 = await new HashCache(cacheFile).load();
  assert.equal(await c2.fileHash(file), sha('aaaa'));
  utimesSync(file, st.atime, new Date(st.mtimeMs + 5000));
  assert.equal(await c2.fileHash(file), sha('bbbb'));
  writeFileSync(cacheFile, 'not json');
  assert.equal(await (await new HashCache(cacheFile).load()).fileHash(file), sha('bbbb'), 'an unreadable cache starts empty');
});

test('line hashes and their diff: edited in place, added, removed; blank lines and CRLF', () => {
  const before = lineHashes(Buffer.from('{"id":"a"}\n{"id":"b"}\n\n{"id":"c"}\n'));
  assert.equal(before.length, 4);
  assert.equal(before[2], '');
  assert.equal(before[0], sha('{"id":"a"}').slice(0, 16));
  assert.deepEqual(lineHashes(Buffer.from('{"id":"a"}\r\n')), [before[0]]);
  const edited = lineHashes(Buffer.from('{"id":"a"}\n{"id":"B"}\n\n{"id":"c"}'));
  assert.deepEqual(diffLines(before, edited), { edited: [2], added: [], removed: [] });
  const grown = lineHashes(Buffer.from('{"id":"a"}\n{"id":"b"}\n\n{"id":"c"}\n{"id":"d"}\n'));
  assert.deepEqual(diffLines(before, grown), { edited: [], added: [5], removed: [] });
  assert.deepEqual(diffLines(grown, before), { edited: [], added: [], removed: [5] });
});

test('lineage records: malformed ones are refused with the place and the reason', () => {
  const ok = { format: 'dcd-lineage', version: 1, kind: 'eval', parents: [{ kind: 'model', path: '/m', sha256: 'a'.repeat(64) }] };
  assert.equal(parseLineageRecord(ok, 'x').kind, 'eval');
  assert.throws(() => parseLineageRecord([], 'f.json'), /^Error: f\.json: lineage record is not a JSON object$/);
  assert.throws(() => parseLineageRecord({ ...ok, format: 'other' }, 'f.json'), /f\.json: format is "other", expected "dcd-lineage"/);
  assert.throws(() => parseLineageRecord({ ...ok, version: 2 }, 'f.json'), /unsupported lineage version 2/);
  assert.throws(() => parseLineageRecord({ ...ok, kind: 'weights' }, 'f.json'), /unknown kind "weights"/);
  assert.throws(() => parseLineageRecord({ ...ok, parents: [{ kind: 'model', path: '/m', sha256: 'xyz' }] }, 'f.json'), /parents\[0\]\.sha256 is not 64 hex digits/);
});

test('an export written by packCorpus records its corpus (path, sha256, line hashes) and matches the manifest schema', async () => {
  const corpus = path.join(tmp, 'pack', 'c.dcd.jsonl');
  mkdirSync(path.dirname(corpus), { recursive: true });
  cpSync(path.join(FIXTURES, 'formats', 'ts-corpus.dcd.jsonl'), corpus);
  const out = path.join(tmp, 'pack', 'export');
  const m = await packCorpus(corpus, out, { maxLength: 128, planPreset: 'smoke', cacheDir: false });
  const bytes = readFileSync(corpus);
  assert.deepEqual(m.lineage, { format: 'dcd-lineage', version: 1, kind: 'export', parents: [{ kind: 'corpus', path: corpus, sha256: sha(bytes), line_sha256: lineHashes(bytes) }] });
  assertMatchesSchema('manifest', JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')), 'export with lineage');
  const r = await lineageOf(corpus, { roots: [path.join(tmp, 'pack')] });
  assert.deepEqual(r.descendants.map((n) => [n.kind, n.id, n.stale]), [['export', out, false]]);
});

test('an export from before the lineage member finds its corpus by file name and hash, and says when it changed', async () => {
  const root = path.join(tmp, 'legacy');
  cpSync(path.join(FIXTURES, 'formats'), root, { recursive: true });
  const exp = path.join(root, 'ts-export');
  let r: LineageReport = await lineageOf(exp, { roots: [root] });
  assert.deepEqual(r.ancestors.map((n) => [n.kind, n.id, n.stale]), [['corpus', path.join(root, 'ts-corpus.dcd.jsonl'), false]]);
  assert.equal(r.edges[0].by, 'hash');
  writeFileSync(path.join(root, 'ts-corpus.dcd.jsonl'), readFileSync(path.join(root, 'ts-corpus.dcd.jsonl'), 'utf8') + '\n');
  r = await lineageOf(exp, { roots: [root] });
  assert.equal(r.edges[0].by, 'name');
  assert.equal(r.target.stale, true);
  assert.match(r.target.reasons[0], /^corpus ts-corpus\.dcd\.jsonl changed since this export was made: sha256 [0-9a-f]{12} → [0-9a-f]{12}$/);
});

test('evaluation sidecar: the model by folder hash, results and samples files by sha256; a missing model is reported, not stale', async () => {
  const model = path.join(tmp, 'ev', 'final');
  mkdirSync(model, { recursive: true });
  writeFileSync(path.join(model, 'config.json'), '{}');
  writeFileSync(path.join(model, 'dcd_training.json'), '{"config":{}}');
  const out = path.join(tmp, 'ev', 'results');
  cpSync(path.join(FIXTURES, 'lmeval', 'gemma3-12b-u1_tuned_gsm8k5shot'), path.join(out, 'm'), { recursive: true });
  const rec = await writeEvalLineage(out, { model, tasks: ['gsm8k'], limit: 3, time: '2026-01-01T00:00:00Z' });
  assert.deepEqual(rec.parents, [{ kind: 'model', path: model, sha256: await new HashCache().folderHash(model) }]);
  assert.deepEqual(Object.keys(rec.files as object).sort(), ['m/results_2025-09-09T13-31-53.431753.json', 'm/samples_gsm8k_2025-09-09T13-31-53.431753.jsonl']);
  const r = await lineageOf(path.join(out, 'm', 'results_2025-09-09T13-31-53.431753.json'), { roots: [path.join(tmp, 'ev')] });
  assert.deepEqual(r.ancestors.map((n) => [n.kind, n.id]), [['model', model], ['run', path.dirname(model)]]);
  rmSync(model, { recursive: true });
  const gone = await lineageOf(out, { roots: [path.join(tmp, 'ev')] });
  assert.equal(gone.target.stale, false);
  assert.equal(gone.ancestors[0].missing, true);
  assert.match(gone.target.problems[0], /^model .*final not found here \(recorded sha256 [0-9a-f]{12}\)$/);
});

test('dcd lineage: a path that is no artifact, a malformed sidecar, --tasks without --eval-of', () => {
  const plain = path.join(tmp, 'plain.txt');
  writeFileSync(plain, 'x');
  let r = dcd(['lineage', plain, '--no-cache']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /plain\.txt: not a corpus \(\*\.jsonl\), export \(manifest\.json\), run folder, model folder \(dcd_training\.json\) or results with a dcd_lineage\.json/);
  const bad = path.join(tmp, 'badeval');
  mkdirSync(bad);
  writeFileSync(path.join(bad, 'dcd_lineage.json'), JSON.stringify({ format: 'dcd-lineage', version: 1, kind: 'eval', parents: 'none' }));
  r = dcd(['lineage', bad, '--no-cache', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as LineageReport;
  assert.match(rep.target.problems[0], /badeval\/dcd_lineage\.json: parents is not an array/);
  r = dcd(['lineage', bad, '--tasks', 'gsm8k']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--tasks and --limit go with --eval-of/);
});
