/**
 * Corpora of any size (issue 20): the one streaming reader's edge cases at
 * tiny read sizes, the streamed input check against the in-memory one, the
 * byte-offset index and its invalidation, the incremental .npy writer, and
 * the CLI on a corpus far bigger than its heap.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { forEachJsonlRow, forEachJsonlRowInBuffer, type LineSpan } from '../../src/core/io/jsonlFile';
import type { JsonlRow } from '../../src/core/io/jsonl';
import { checkCorpusBytes, scanCorpusBatches, scanCorpusInput } from '../../src/core/io/corpusInput';
import { CorpusIndex } from '../../src/core/io/corpusIndex';
import { encodeNpy, NpyAppender } from '../../src/core/training/pack';
import { importS1k } from '../../src/core/corpus/importers';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { CORPUS_FILE } from '../fixtures/tokenizer/oracle';
import { REPO } from '../support/cli';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-scale-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

type Seen = { row: JsonlRow<unknown>; span: { offset: number; end: number; text: string } };

async function streamed(file: string, chunkBytes: number): Promise<Seen[]> {
  const out: Seen[] = [];
  await forEachJsonlRow(file, (row, span: LineSpan) => { out.push({ row, span: { offset: span.offset, end: span.end, text: span.bytes.toString('latin1') } }); }, { chunkBytes });
  return out;
}

function inMemory(bytes: Buffer): Seen[] {
  const out: Seen[] = [];
  forEachJsonlRowInBuffer(bytes, (row, span) => { out.push({ row, span: { offset: span.offset, end: span.end, text: span.bytes.toString('latin1') } }); });
  return out;
}

describe('the streaming reader at tiny read sizes', () => {
  // Every awkward thing at once: a BOM, CRLF and LF endings, blank lines (empty and
  // spaces), 2-, 3- and 4-byte UTF-8 characters, invalid UTF-8, a malformed line,
  // and no final newline; read 1, 2, 3, 5, 7, 13 and 64 bytes at a time, so that
  // every line, "\r\n" pair and multi-byte sequence straddles reads somewhere.
  const parts: Buffer[] = [
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from('{"a":"é","n":1}\r\n'),
    Buffer.from('\n'),
    Buffer.from('   \r\n'),
    Buffer.from('{"b":"✓€","n":2}\n'),
    Buffer.from('{"c":"😀𝄞","n":3}\r\n'),
    Buffer.from('{"bad":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n'),
    Buffer.from('{"broken": \n'),
    Buffer.from('{"d":"ü'), Buffer.from([0xf0, 0x9f, 0x98]), Buffer.from('"}\r\n'), // a 4-byte sequence cut short
    Buffer.from('{"e":"last","n":5}'),
  ];
  const bytes = Buffer.concat(parts);
  const file = path.join(dir, 'edges.jsonl');
  fs.writeFileSync(file, bytes);

  it('gives the in-memory rows and byte spans for every read size', async () => {
    const want = inMemory(bytes);
    assert.deepEqual(want.map((s) => [s.row.line, s.row.kind === 'error' ? s.row.code : 'value']), [
      [1, 'value'], [4, 'value'], [5, 'value'], [6, 'invalid-utf8'], [7, 'malformed-json'], [8, 'invalid-utf8'], [9, 'value'],
    ]);
    assert.deepEqual(want[0].row.kind === 'value' && want[0].row.value, { a: 'é', n: 1 }, 'the BOM is not part of line 1');
    assert.deepEqual(want[2].row.kind === 'value' && want[2].row.value, { c: '😀𝄞', n: 3 });
    assert.deepEqual(want[6].row.kind === 'value' && want[6].row.value, { e: 'last', n: 5 }, 'a final line without a newline is read');
    for (const s of want) {
      // A span is the line's bytes: no BOM, no "\r", no "\n".
      assert.equal(s.span.text, bytes.subarray(s.span.offset, s.span.end).toString('latin1'));
      assert.ok(!/[\r\n]/.test(s.span.text));
    }
    assert.equal(want[0].span.offset, 3);
    const bad = want[3].row;
    assert.ok(bad.kind === 'error' && bad.byte === bytes.indexOf(Buffer.from([0xc3, 0x28])), 'the bad byte is named by its file offset');
    for (const chunk of [1, 2, 3, 5, 7, 13, 64]) assert.deepEqual(await streamed(file, chunk), want, `read size ${chunk}`);
  });

  it('hands over every byte read, in order (the running hash of pack and the index)', async () => {
    const seen: Buffer[] = [];
    await forEachJsonlRow(file, () => undefined, { chunkBytes: 5, onBytes: (b) => seen.push(Buffer.from(b)) });
    assert.deepEqual(Buffer.concat(seen), bytes);
  });

  it('waits for a callback that returns a promise before reading on', async () => {
    const order: string[] = [];
    await forEachJsonlRow(file, async (row) => {
      order.push(`start ${row.line}`);
      await new Promise((r) => setTimeout(r, 2));
      order.push(`end ${row.line}`);
    }, { chunkBytes: 4 });
    for (let i = 0; i < order.length; i += 2) assert.equal(order[i].replace('start', 'end'), order[i + 1]);
  });
});

describe('the streamed input check', () => {
  it('reports what the in-memory check reports, with the same samples in the same order', async () => {
    const lines = fs.readFileSync(CORPUS_FILE, 'utf8').split('\n').filter(Boolean);
    const text = ['\uFEFF' + lines[0], '{"id": 3', lines[1], lines[1], '', '[1]', '{"id":"x","text":7}', lines[2]].join('\r\n');
    const file = path.join(dir, 'mixed.dcd.jsonl');
    fs.writeFileSync(file, text);
    const mem = checkCorpusBytes(Buffer.from(text), file);
    for (const chunkBytes of [3, 4096, undefined]) {
      const samples: unknown[] = [];
      const scan = await scanCorpusInput(file, { chunkBytes, hash: true, onSample: (s) => { samples.push(s); } });
      assert.deepEqual(scan.problems, mem.problems);
      assert.deepEqual(samples, mem.samples);
      assert.equal(scan.samples, mem.samples.length);
      assert.deepEqual(scan.errorLines, mem.rows.filter((r) => r.kind === 'error').map((r) => r.line));
      assert.equal(scan.size, Buffer.byteLength(text));
      assert.equal(scan.sha256, createHash('sha256').update(text).digest('hex'));
    }
    const empty = path.join(dir, 'blank.dcd.jsonl');
    fs.writeFileSync(empty, '\n \n');
    assert.deepEqual((await scanCorpusInput(empty)).problems.map((p) => p.code), ['empty']);
  });

  it('cuts batches by line bytes and awaits each batch before reading on', async () => {
    const sizes: number[] = [];
    const scan = await scanCorpusBatches(CORPUS_FILE, async (b) => { sizes.push(b.length); }, { batchBytes: 50_000 });
    assert.ok(sizes.length > 2);
    assert.equal(sizes.reduce((a, b) => a + b, 0), scan.samples);
  });

  it('with inFlight 2, reads on while two batches run, starts them in file order, and stops at a failing batch', async () => {
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const gates: Array<() => void> = [];
    const scan = scanCorpusBatches(CORPUS_FILE, async (b) => {
      started.push(b[0].index);
      running++;
      most = Math.max(most, running);
      await new Promise<void>((resolve) => gates.push(resolve));
      running--;
    }, { batchBytes: 50_000, inFlight: 2 });
    // Release the batches one at a time, oldest first, whenever one is waiting.
    const release = setInterval(() => gates.shift()?.(), 5);
    const done = await scan.finally(() => clearInterval(release));
    assert.equal(most, 2, 'two batches ran at once');
    assert.deepEqual(started, [...started].sort((a, b) => a - b), 'batches start in file order');
    assert.ok(started.length > 2);
    assert.equal(started[0], 0);
    assert.ok(done.samples > 0);

    let calls = 0;
    await assert.rejects(scanCorpusBatches(CORPUS_FILE, async () => {
      calls++;
      if (calls === 1) throw new Error('batch 1 failed');
    }, { batchBytes: 50_000, inFlight: 2 }), /batch 1 failed/);
    assert.ok(calls <= 3, `the reading stopped soon after the failure (${calls} batches started)`);
  });
});

describe('the byte-offset index', () => {
  const cacheDir = path.join(dir, 'index-cache');
  const lines = fs.readFileSync(CORPUS_FILE, 'utf8').split('\n').filter(Boolean);
  // Big enough that the middle lies outside the hashed first and last 64 KiB.
  const body = [...lines, ...lines.map((l) => l.replace(/"id":"([^"]+)"/, '"id":"$1-b"'))];
  const values = body.map((l) => JSON.parse(l) as { id: string; text: string });

  it('seeks to each sample, is cached, and carries the input problems', async () => {
    const file = path.join(dir, 'indexed.dcd.jsonl');
    fs.writeFileSync(file, [body[0], '{"broken"', ...body.slice(1)].join('\n') + '\n');
    const first = await CorpusIndex.open(file, { cacheDir, chunkBytes: 1000 });
    assert.equal(first.built, true);
    assert.equal(first.samples, body.length);
    assert.deepEqual(first.problems.map((p) => [p.code, p.line]), [['malformed-json', 2]]);
    for (const i of [0, 1, body.length - 1]) {
      const { sample } = await first.sample(i);
      assert.deepEqual(sample.value, values[i]);
      assert.equal(sample.line, i === 0 ? 1 : i + 2);
    }
    await assert.rejects(first.sample(body.length), RangeError);
    const again = await CorpusIndex.open(file, { cacheDir });
    assert.equal(again.built, false, 'the second open reads the cached index');
    assert.deepEqual(again.problems, JSON.parse(JSON.stringify(first.problems)));
    assert.deepEqual((await again.sample(5)).sample.value, values[5]);
  });

  it('is rebuilt when the size, the mtime or the hashed ends change, and never returns a changed line', async () => {
    const file = path.join(dir, 'changing.dcd.jsonl');
    const write = (ls: string[]) => fs.writeFileSync(file, ls.join('\n') + '\n');
    write(body);
    assert.ok(fs.statSync(file).size > 3 * 65536);
    assert.equal((await CorpusIndex.open(file, { cacheDir })).built, true);
    assert.equal((await CorpusIndex.open(file, { cacheDir })).built, false);

    // Size: a sample appended.
    write([...body, body[0].replace(/"id":"([^"]+)"/, '"id":"$1-c"')]);
    const grown = await CorpusIndex.open(file, { cacheDir });
    assert.equal(grown.built, true);
    assert.equal(grown.samples, body.length + 1);

    // mtime alone (a touch).
    const t = fs.statSync(file).mtime;
    fs.utimesSync(file, t, new Date(t.getTime() + 5000));
    assert.equal((await CorpusIndex.open(file, { cacheDir })).built, true);
    assert.equal((await CorpusIndex.open(file, { cacheDir })).built, false);

    // Same size, mtime put back, first line edited: the hashed ends catch it.
    const restore = fs.statSync(file);
    const edited = fs.readFileSync(file);
    const at = edited.indexOf('"id":"') + 6;
    edited[at] = edited[at] === 0x41 ? 0x42 : 0x41;
    fs.writeFileSync(file, edited);
    fs.utimesSync(file, restore.atime, restore.mtime);
    const reEnds = await CorpusIndex.open(file, { cacheDir });
    assert.equal(reEnds.built, true);
    assert.equal((await reEnds.sample(0)).sample.value.id, JSON.parse(edited.subarray(0, edited.indexOf(10)).toString()).id);

    // Same size, mtime put back, a line in the middle edited (outside the hashed ends):
    // the cached index is used, but the line's CRC-32 differs, so it is rebuilt and the new line read.
    const cached = await CorpusIndex.open(file, { cacheDir });
    assert.equal(cached.built, false);
    const mid = Math.floor(body.length / 2);
    const st = fs.statSync(file);
    const bytes = fs.readFileSync(file);
    let lineStart = 0;
    for (let i = 0; i < mid; i++) lineStart = bytes.indexOf(10, lineStart) + 1;
    const idAt = bytes.indexOf('"id":"', lineStart) + 6;
    assert.ok(idAt > 65536 && idAt < bytes.length - 65536);
    bytes[idAt] = bytes[idAt] === 0x5a ? 0x59 : 0x5a;
    fs.writeFileSync(file, bytes);
    fs.utimesSync(file, st.atime, st.mtime);
    assert.equal((await CorpusIndex.open(file, { cacheDir })).built, false, 'size, mtime and ends all match');
    const { sample, index } = await cached.sample(mid);
    assert.equal(index.built, true, 'the stale line made it rebuild');
    const wantLine = bytes.subarray(lineStart, bytes.indexOf(10, lineStart)).toString();
    assert.deepEqual(sample.value, JSON.parse(wantLine));
  });
});

describe('parquet inputs by row group', () => {
  it('reads every row group, numbering rows across groups, to the rows the JSONL form gives', async () => {
    const fix = path.join(REPO, 'test', 'fixtures', 'corpus');
    const rows = fs.readFileSync(path.join(fix, 's1k-mini.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string>);
    const cols = Object.keys(rows[0]);
    const file = path.join(dir, 'groups.parquet');
    fs.writeFileSync(file, Buffer.from(parquetWriteBuffer({ columnData: cols.map((name) => ({ name, data: rows.map((r) => r[name]), type: 'STRING' as const })), rowGroupSize: 4 })));
    const jsonl = path.join(dir, 'groups.jsonl');
    fs.writeFileSync(jsonl, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const [pq, jl] = [await importS1k(file), await importS1k(jsonl)];
    assert.equal(pq.format, 'parquet');
    assert.deepEqual(pq.rows, jl.rows);
    assert.deepEqual(pq.rowNumbers, jl.rowNumbers);
    assert.deepEqual(pq.rowNumbers, rows.map((_, i) => i + 1));
    assert.equal((await parquetMetadataAsync(await asyncBufferFromFile(file))).row_groups.length, Math.ceil(rows.length / 4));
  });
});

describe('the incremental .npy writer', () => {
  it('writes the bytes encodeNpy writes, whatever the appends', async () => {
    const data = Int32Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 151_000 - 100);
    const file = path.join(dir, 'a.npy');
    const w = await NpyAppender.create(file);
    await w.append(data.subarray(0, 1));
    await w.append(data.subarray(1, 1));
    await w.append(data.subarray(1, 4000));
    await w.append(data.subarray(4000));
    const hash = await w.finish();
    const want = encodeNpy(data);
    assert.deepEqual(new Uint8Array(fs.readFileSync(file)), want);
    assert.equal(hash, createHash('sha256').update(want).digest('hex'));
    const empty = path.join(dir, 'empty.npy');
    await (await NpyAppender.create(empty)).finish();
    assert.deepEqual(new Uint8Array(fs.readFileSync(empty)), encodeNpy(new Int32Array(0)));
  });
});

describe('the CLI on a corpus far bigger than its heap', () => {
  it('stats, render --index of the last sample and export run in a 64 MB heap, tokens in 128 MB, with bounded memory', (t) => {
    // ~120 MB of real samples, each line made unique by its id; the heap is 64 MB.
    const lines = fs.readFileSync(CORPUS_FILE, 'utf8').split('\n').filter(Boolean);
    const file = path.join(dir, 'big.dcd.jsonl');
    const fd = fs.openSync(file, 'w');
    let n = 0;
    try {
      for (let size = 0; size < 120 * 1024 * 1024;) {
        const chunk = lines.map((l) => l.replace(/"id":"([^"]+)"/, `"id":"$1-${n++}"`)).join('\n') + '\n';
        fs.writeSync(fd, chunk);
        size += Buffer.byteLength(chunk);
      }
    } finally {
      fs.closeSync(fd);
    }
    const last = JSON.parse(lines[(n - 1) % lines.length]) as { text: string };
    const runner = path.join(dir, 'measure.ts');
    fs.writeFileSync(runner, [
      `import { main } from ${JSON.stringify(path.join(REPO, 'src/cli/main'))};`,
      'void main(process.argv.slice(2)).then((code) => { process.stderr.write(`\\nMAXRSS_KIB=${process.resourceUsage().maxRSS}\\n`); process.exitCode = code; });',
    ].join('\n'));
    const run = (args: string[], heapMiB = 64) => {
      const r = spawnSync(process.execPath, [`--max-old-space-size=${heapMiB}`, '--import', 'tsx', runner, ...args], {
        cwd: REPO, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, DCD_CACHE_DIR: path.join(dir, 'cli-cache') },
      });
      assert.equal(r.status, 0, `dcd ${args.join(' ')}: ${r.stderr}`);
      const rssMiB = Number(/MAXRSS_KIB=(\d+)/.exec(r.stderr)![1]) / 1024;
      return { stdout: r.stdout, rssMiB };
    };
    const stats = run(['stats', file, '--no-tokens', '--json']);
    assert.equal(JSON.parse(stats.stdout).samples, n);
    const render = run(['render', file, '--index', String(n - 1)]);
    assert.equal(render.stdout, last.text);
    // The tokenizer itself (its vocabulary and merges) needs about 100 MB of heap, whatever the corpus.
    const tokens = run(['tokens', file, '--index', String(n - 1), '--max-length', '64', '--json'], 128);
    assert.equal(JSON.parse(tokens.stdout).ids.length, 64);
    const out = path.join(dir, 'big.text.jsonl');
    const exp = run(['export', file, '--format', 'text', '--out', out, '--json']);
    assert.equal(JSON.parse(exp.stdout).samples, n);
    assert.equal(fs.statSync(out).size > 50 * 1024 * 1024, true);
    fs.rmSync(out);
    // Reading the whole file into memory would take 120 MB for the bytes alone, several times that parsed.
    t.diagnostic(`peak RSS MiB: ${Object.entries({ stats, render, tokens, exp }).map(([k, r]) => `${k} ${Math.round(r.rssMiB)}`).join(', ')}`);
    for (const [name, r] of Object.entries({ stats, render, tokens, exp })) assert.ok(r.rssMiB < 400, `${name}: peak RSS ${Math.round(r.rssMiB)} MiB`);
  });
});
