/**
 * The workbench at scale: a file indexed by the streaming pass (small chunks,
 * so lines and multi-byte characters straddle reads) is the same document as
 * the same bytes in memory; edits, undo and a streamed save round-trip; a
 * file rewritten in place is refused; the search worker gives the in-thread
 * counts, reports progress and is cancelled by a newer query or an abort.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CorpusDocument, EditHistory, FileChangedInPlaceError, WorkerSearchRunner } from '../../src/core/workbench';
import { currentVersion, writeFileIfUnchanged } from '../../src/core/io/fileVersion';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'workbench', 'pairs.dcd.jsonl');
const base = fs.readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * About `bytes` of corpus from the fixture's samples: ids, s1k indices and
 * numbers changed per copy, non-ASCII text (2-, 3- and 4-byte characters),
 * plus a BOM, CRLF lines, blank and malformed lines and no final newline.
 */
function bigCorpus(bytes: number): Buffer {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const s = base[i % base.length];
    const copy = {
      ...s, id: `${String(s.id)}-${i}`, s1k_index: Math.floor(i / base.length),
      question: `(café № ${i} — 😀) ${String(s.question)}`,
      chain: String(s.chain).replace(/\d+/g, (d) => String(Number(d) + (i % 7))),
    };
    let line = JSON.stringify(copy);
    if (i % 97 === 5) line = `{"id": "broken-${i}", oops`;
    const eol = i % 13 === 3 ? '\r\n' : '\n';
    const blank = i % 41 === 7 ? '\n' : '';
    parts.push(line + eol + blank);
    size += Buffer.byteLength(line) + eol.length + blank.length;
  }
  const text = parts.join('').replace(/\r?\n$/, '');
  return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
}

let dir: string;
let file: string;
let bytes: Buffer;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-wb-scale-'));
  file = path.join(dir, 'big.dcd.jsonl');
  bytes = bigCorpus(3 * 1024 * 1024);
  fs.writeFileSync(file, bytes);
});
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

async function streamed(opts: { chunkBytes?: number } = {}): Promise<CorpusDocument> {
  const d = await CorpusDocument.openFile(file, { chunkBytes: opts.chunkBytes ?? 4093 });
  await d.whenIndexed();
  return d;
}

describe('CorpusDocument on a file: the streaming index', () => {
  it('indexes the same lines, rows and values as the bytes in memory, and hashes the file', async () => {
    const mem = new CorpusDocument(bytes);
    const d = await streamed();
    assert.equal(d.complete, true);
    assert.equal(d.lines().length, mem.lines().length);
    assert.deepEqual(d.lines().map((e) => [e.start, e.end, e.lineEnd, e.blank]), mem.lines().map((e) => [e.start, e.end, e.lineEnd, e.blank]));
    assert.equal(d.rows().length, mem.rows().length);
    assert.ok(d.rows().every((e) => d.isSummarized(e)), 'every row was summarised while its bytes were read');
    for (const i of [0, 1, 5, 6, 100, d.rows().length - 1]) {
      const a = d.summary(d.rows()[i]);
      const b = mem.summary(mem.rows()[i]);
      assert.deepEqual(a, b, `row ${i}`);
    }
    assert.equal(d.summary(d.rows()[0]).kind, 'sample', 'the BOM is not part of the first line');
    assert.match(d.summary(d.rows()[0]).question, /café № 0 — 😀/);
    assert.equal(d.sourceHash, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(d.defaultEol, '\n');
    await mem.summarizeAll();
    assert.deepEqual(d.stats(), mem.stats());
    d.dispose();
  });

  it('reads a list row\'s question from just its bytes, never from a decoy key', async () => {
    const d = await streamed();
    for (const i of [0, 1, 2, 77, 1000, d.rows().length - 1]) {
      const e = d.rows()[i];
      assert.equal(d.questionLine(e), d.summary(e).question, `row ${i}`);
      if (d.info(e).kind === 'sample') assert.ok(d.info(e).questionAt !== undefined, 'the index found the question');
    }
    d.dispose();
    const decoy = JSON.stringify({ id: 'd', meta: { question: 'nested decoy' }, note: 'a "question": "in a string"', question: 'Real \\"question\\" é\nsecond line' });
    const m = new CorpusDocument(Buffer.from(`${decoy}\n`));
    const e = m.rows()[0];
    assert.equal(m.questionLine(e), 'Real \\"question\\" é');
    assert.equal(m.questionLine(e), m.summary(e).question);
  });

  it('serves the first rows before the whole file is read, with progress', async () => {
    const seen: number[] = [];
    const d = await CorpusDocument.openFile(file, { chunkBytes: 64 * 1024, onProgress: (p) => seen.push(p.bytes) });
    await d.whenFirstRows();
    assert.ok(d.rows().length > 0, 'rows after the first chunk');
    assert.equal(d.complete, false, 'the rest is still being read');
    assert.equal(d.summary(d.rows()[0]).id, `${String(base[0].id)}-0`);
    await d.whenIndexed();
    assert.equal(seen[seen.length - 1], bytes.length, 'the last progress is the whole file');
    assert.ok(seen.every((b, i) => i === 0 || b >= seen[i - 1]));
    d.dispose();
  });

  it('edits, undoes and saves by streaming copy: the same bytes as in memory, and undo gives back the original file', async () => {
    const d = await streamed();
    const mem = new CorpusDocument(bytes);
    const h = new EditHistory(d);
    const hm = new EditHistory(mem);
    const pick = (doc: CorpusDocument) => [3, 500, doc.rows().length - 1].map((i) => doc.rows()[i].key);
    h.push(d.reviewEdit(pick(d), { status: 'flagged', note: 'check № 2 😀', at: '2026-01-01T00:00:00.000Z' }));
    hm.push(mem.reviewEdit(pick(mem), { status: 'flagged', note: 'check № 2 😀', at: '2026-01-01T00:00:00.000Z' }));
    h.push(d.duplicateEdit([d.rows()[10].key, d.rows()[d.rows().length - 1].key]));
    hm.push(mem.duplicateEdit([mem.rows()[10].key, mem.rows()[mem.rows().length - 1].key]));
    h.push(d.deleteEdit([d.rows()[2].key]));
    hm.push(mem.deleteEdit([mem.rows()[2].key]));
    const version = await currentVersion(file);
    assert.equal(version?.hash, d.sourceHash);
    const saved = await writeFileIfUnchanged(file, version, d.chunks());
    const onDisk = fs.readFileSync(file);
    assert.ok(onDisk.equals(mem.serialize()), 'the streamed save writes what the in-memory document serialises');
    assert.equal(saved.hash, createHash('sha256').update(onDisk).digest('hex'));
    assert.equal(saved.size, onDisk.length);
    const lines = onDisk.toString('utf8').split('\n');
    assert.match(JSON.parse(lines[lines.length - 1]).id, /-copy$/, 'the duplicate of the last line is last');
    // The document still reads the bytes it was opened on (the old file, replaced by rename).
    h.undo(); h.undo(); h.undo();
    assert.ok(d.serialize().equals(bytes), 'undo restores the original bytes');
    await writeFileIfUnchanged(file, saved, d.chunks());
    assert.ok(fs.readFileSync(file).equals(bytes));
    d.dispose();
  });

  it('refuses to copy from a file rewritten in place', async () => {
    const copy = path.join(dir, 'inplace.dcd.jsonl');
    fs.writeFileSync(copy, bytes.subarray(0, 200_000));
    const d = await CorpusDocument.openFile(copy, { chunkBytes: 8192 });
    await d.whenIndexed();
    fs.appendFileSync(copy, '{"id":"appended"}\n');
    assert.throws(() => d.serialize(), FileChangedInPlaceError);
    d.dispose();
  });
});

describe('the search worker', () => {
  it('counts what the in-thread search counts, edited rows included, with progress', async () => {
    const d = await streamed();
    const mem = new CorpusDocument(bytes);
    const runner = new WorkerSearchRunner();
    d.searchRunner = runner;
    try {
      new EditHistory(d).push(d.reviewEdit([d.rows()[4].key], { status: 'flagged', note: 'zebra crossing', at: 'x' }));
      new EditHistory(mem).push(mem.reviewEdit([mem.rows()[4].key], { status: 'flagged', note: 'zebra crossing', at: 'x' }));
      for (const q of [{ text: 'ducks' }, { text: 'café № 1\\d', regex: true }, { text: 'oops', regex: true }, { text: 'zebra' }, { text: 'DUCKS', caseSensitive: true }]) {
        const progress: number[] = [];
        const a = await d.search(q, { onProgress: (done) => progress.push(done) });
        const b = await mem.search(q);
        assert.equal(a.occurrences, b.occurrences, JSON.stringify(q));
        assert.deepEqual([...a.hits.values()], [...b.hits.values()]);
        assert.equal(progress[progress.length - 1], d.rows().length, 'the last progress is every row');
      }
      const again = await d.search({ text: 'ducks' }, { onProgress: () => assert.fail('a cached query searches nothing') });
      assert.ok(again.occurrences > 0);
    } finally {
      runner.dispose();
      d.dispose();
    }
  });

  it('a newer query cancels the running one; an abort cancels too', async () => {
    const d = await streamed();
    const runner = new WorkerSearchRunner();
    d.searchRunner = runner;
    try {
      // A regex that is slow on every row, so the first job is still running when the second arrives.
      const slow = d.search({ text: '(a|b|c|d|e|f|g|h|i|j)+q', regex: true });
      const fast = d.search({ text: 'ducks' });
      await assert.rejects(slow, { name: 'AbortError' });
      assert.ok((await fast).occurrences > 0);
      assert.equal(runner.busy, 0);
      assert.ok((await d.search({ text: 'café' })).occurrences > 0, 'the worker takes new jobs after a cancellation');
    } finally {
      runner.dispose();
      d.dispose();
    }
  });

  it('a job stuck inside one row (catastrophic backtracking) is cancelled by a newer query or an abort', async () => {
    // 40 a's: ^(a|a)+$ tries about 2^40 ways on this row, never finishing by itself.
    const d = new CorpusDocument(Buffer.from(`${JSON.stringify({ id: 'stuck', question: `${'a'.repeat(40)}!` })}\n${JSON.stringify({ id: 'ok', question: 'ducks' })}\n`));
    const runner = new WorkerSearchRunner();
    d.searchRunner = runner;
    try {
      let started!: () => void;
      const running = new Promise<void>((resolve) => { started = resolve; });
      const stuck = d.search({ text: '^(a|a)+$', regex: true }, { onProgress: () => started() });
      await running; // the worker has taken the job (it reports 0 rows done as it starts)
      const newer = d.search({ text: 'ducks' });
      await assert.rejects(stuck, { name: 'AbortError' });
      assert.equal((await newer).samples, 1, 'the newer query ran on a fresh worker');
      assert.equal(runner.restarts, 1);
      const ctl = new AbortController();
      const aborted = d.search({ text: '^(a|a)+$', regex: true }, { signal: ctl.signal });
      ctl.abort();
      await assert.rejects(aborted, { name: 'AbortError' });
      assert.equal(runner.busy, 0);
      assert.equal((await d.search({ text: 'stuck' })).samples, 1, 'and takes new jobs after an abort');
    } finally {
      runner.dispose();
    }
  });
});
