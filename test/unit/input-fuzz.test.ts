/**
 * Seeded fuzzing of the corpus input layer and the workbench document model:
 * random bytes and mutated real corpus lines (invalid UTF-8, cut JSON, BOMs,
 * CRLF, deep nesting, wrong types) must never crash a reader, and saving the
 * workbench after review edits must give back every line it did not edit byte
 * for byte, bad lines included.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isUtf8 } from 'node:buffer';
import { seededRandom } from '../../src/core/random';
import { checkCorpusBytes } from '../../src/core/io/corpusInput';
import { forEachJsonlRowInBuffer } from '../../src/core/io/jsonlFile';
import { CorpusDocument } from '../../src/core/workbench';

const REPO = path.join(__dirname, '..', '..');
const REAL_LINES = [
  ...fs.readFileSync(path.join(REPO, 'media', 'demo', 'demo.dcd.jsonl'), 'utf8').split('\n'),
  ...fs.readFileSync(path.join(REPO, 'test', 'fixtures', 'corpus', 'drafts-mini.jsonl'), 'utf8').split('\n'),
].filter((l) => l.trim()).map((l) => Buffer.from(l));

const BUDGET_MS = 10_000;
const SEED = 20240611;

function mutatedLine(rnd: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const base = Buffer.from(pick(REAL_LINES));
  switch (Math.floor(rnd() * 9)) {
    case 0: return base; // untouched
    case 1: { // a random invalid or stray byte
      const b = Buffer.from(base);
      b[Math.floor(rnd() * b.length)] = pick([0xff, 0xc3, 0x80, 0xed, 0xf5, 0x00, 0x22]);
      return b;
    }
    case 2: return base.subarray(0, Math.floor(rnd() * base.length)); // cut short
    case 3: return Buffer.from(Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256)).filter((x) => x !== 0x0a));
    case 4: { // a field of the wrong type
      const v = JSON.parse(base.toString()) as Record<string, unknown>;
      v[pick(['text', 'question', 'verdict', 'id', 'draft'])] = pick([42, null, [], {}, true]);
      return Buffer.from(JSON.stringify(v));
    }
    case 5: return Buffer.from(`{"id":"deep","x":${'['.repeat(300 + Math.floor(rnd() * 3000))}`); // deep and unclosed
    case 6: { const d = 200 + Math.floor(rnd() * 400); return Buffer.from(`{"id":"deep2","x":${'['.repeat(d)}${']'.repeat(d)}}`); }
    case 7: return Buffer.concat([base, Buffer.from('\r')]); // CRLF ending
    default: return Buffer.from(' '.repeat(Math.floor(rnd() * 3))); // blank
  }
}

function randomFile(rnd: () => number): Buffer {
  const lines = Array.from({ length: Math.floor(rnd() * 12) }, () => mutatedLine(rnd));
  const parts: Buffer[] = [];
  if (rnd() < 0.2) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
  lines.forEach((l, i) => { parts.push(l); if (i < lines.length - 1 || rnd() < 0.7) parts.push(Buffer.from('\n')); });
  return Buffer.concat(parts);
}

test('fuzz: the input layer and the workbench never crash and never lose an unedited line on save', { timeout: 30_000 }, () => {
  const rnd = seededRandom(SEED);
  const start = Date.now();
  let files = 0;
  while (Date.now() - start < BUDGET_MS) {
    const bytes = randomFile(rnd);
    files++;

    // The input layer: every non-blank line comes back as a row, in order; a problem names a real line.
    const read = checkCorpusBytes(bytes, 'fuzz.dcd.jsonl');
    let lines = 0;
    forEachJsonlRowInBuffer(bytes, () => { lines++; });
    assert.equal(read.rows.length, lines);
    for (const p of read.problems) assert.ok(p.line === undefined || (p.line >= 1 && p.line <= bytes.length + 1), p.message);

    // The workbench: load, summarize, review some sample rows, save.
    const doc = new CorpusDocument(bytes);
    assert.deepEqual(doc.serialize(), bytes, 'an unedited document saves byte for byte');
    const rows = doc.rows();
    for (const e of rows) doc.summary(e);
    const keys = rows.filter(() => rnd() < 0.5).map((e) => e.key);
    const edit = doc.reviewEdit(keys, { status: 'accepted' });
    const edited = new Set(edit.changes.map((c) => (c.kind === 'replace' ? c.before.key : -1)));
    const before = doc.lines().map((e) => ({ key: e.key, bytes: bytes.subarray(e.start, e.end), sample: doc.summary(e).kind === 'sample' }));
    doc.apply(edit);
    const saved = doc.serialize();
    const again = new CorpusDocument(saved);
    const after = again.lines();
    assert.equal(after.length, before.length, 'no line is dropped or added');
    before.forEach((b, i) => {
      const got = saved.subarray(after[i].start, after[i].end);
      if (!edited.has(b.key)) assert.deepEqual(got, b.bytes, `line ${i + 1} is kept byte for byte`);
      else {
        assert.ok(isUtf8(b.bytes), `line ${i + 1} has invalid UTF-8: an edit would re-encode it`);
        assert.equal(again.summary(after[i]).review, 'accepted');
      }
    });
    doc.revert(edit);
    assert.deepEqual(doc.serialize(), bytes, 'undo gives the original bytes back');
  }
  assert.ok(files > 50, `fuzzed ${files} files`);
});
