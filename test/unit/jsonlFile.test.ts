import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { MAX_LINE_BYTES, parseJsonl, type JsonlRow } from '../../src/core/io/jsonl';
import { forEachJsonlRow, forEachJsonlRowInBuffer } from '../../src/core/io/jsonlFile';

async function readRows(file: string): Promise<JsonlRow<unknown>[]> {
  const rows: JsonlRow<unknown>[] = [];
  await forEachJsonlRow(file, (r) => rows.push(r));
  return rows;
}

describe('streamed JSONL file reading', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-jsonl-'));

  it('classifies every line as parseJsonl does, across read-buffer boundaries and long lines', async () => {
    // Lines of many sizes (one well over the 1 MB read buffer), multi-byte characters
    // straddling chunk edges, CRLF endings, blank and malformed lines, no final newline.
    const lines: string[] = [];
    for (let i = 0; i < 400; i++) {
      const size = (i * 7919) % 9000;
      if (i % 97 === 5) lines.push('{"broken": ');
      else if (i % 53 === 7) lines.push('   ');
      else if (i % 61 === 3) lines.push('[1, 2]');
      else lines.push(JSON.stringify({ i, s: 'ü✓😀'.repeat(size) }) + (i % 5 === 0 ? '\r' : ''));
    }
    lines.splice(200, 0, JSON.stringify({ huge: 'x'.repeat(2_500_000) + '😀' }));
    const text = lines.join('\n');
    const file = path.join(dir, 'mixed.jsonl');
    fs.writeFileSync(file, text);
    const streamed = await readRows(file);
    const parsed = parseJsonl(text);
    assert.equal(streamed.length, parsed.length);
    assert.deepEqual(streamed, parsed);
    const errors = streamed.filter((r) => r.kind === 'error').map((r) => r.line);
    assert.ok(errors.length >= 8, 'malformed lines come back as errors');
    assert.deepEqual(errors, parsed.filter((r) => r.kind === 'error').map((r) => r.line));
  });

  it('skips a UTF-8 byte-order mark and reads an empty file as no rows', async () => {
    const bom = path.join(dir, 'bom.jsonl');
    fs.writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n{"a":2}\n')]));
    assert.deepEqual((await readRows(bom)).map((r) => (r.kind === 'value' ? r.value : r.message)), [{ a: 1 }, { a: 2 }]);
    const empty = path.join(dir, 'empty.jsonl');
    fs.writeFileSync(empty, '');
    assert.deepEqual(await readRows(empty), []);
  });

  it('reports invalid UTF-8 with its line and file byte offset, never decoding it with replacement characters', async () => {
    const head = Buffer.from('{"a":1}\n' + '{"s":"' + 'x'.repeat(1_500_000) + '"}\n{"b":"');
    const bytes = Buffer.concat([head, Buffer.from([0xe2, 0x28, 0xa1]), Buffer.from('"}\n{"c":3}')]);
    const file = path.join(dir, 'bad-utf8.jsonl');
    fs.writeFileSync(file, bytes);
    const streamed = await readRows(file);
    const inMemory: JsonlRow<unknown>[] = [];
    forEachJsonlRowInBuffer(bytes, (r) => inMemory.push(r));
    assert.deepEqual(streamed, inMemory);
    const bad = streamed[2];
    assert.ok(bad.kind === 'error' && bad.code === 'invalid-utf8');
    assert.equal(bad.line, 3);
    assert.equal(bad.byte, head.length);
    assert.equal(streamed[3].kind, 'value');
    assert.deepEqual(parseJsonl('\uFEFF{"a":1}\n').map((r) => r.kind), ['value'], 'a BOM in decoded text is skipped too');
  });

  it('skips a line over the limit to its newline without holding it, and reports it as too long', async () => {
    const size = 40 * 1024 * 1024;
    const file = path.join(dir, 'overlong.jsonl');
    const fd = fs.openSync(file, 'w');
    try {
      fs.writeSync(fd, '{"a":1}\n\n\uFEFF{"s":"');
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      for (let written = 0; written < size; written += chunk.length) fs.writeSync(fd, chunk);
      fs.writeSync(fd, '"}\r\n{"b":2}\n' + 'y'.repeat(MAX_LINE_BYTES + 5));
    } finally {
      fs.closeSync(fd);
    }
    const streamed = await readRows(file);
    const inMemory: JsonlRow<unknown>[] = [];
    forEachJsonlRowInBuffer(fs.readFileSync(file), (r) => inMemory.push(r));
    assert.deepEqual(streamed, inMemory);
    assert.deepEqual(streamed.map((r) => [r.line, r.kind === 'error' ? r.code : 'value']), [[1, 'value'], [3, 'too-long'], [4, 'value'], [5, 'too-long']]);

    // Peak memory, in a process of its own: a reader that held the line would need its 40 MiB and more.
    const script = path.join(dir, 'measure.ts');
    fs.writeFileSync(script, [
      `import { forEachJsonlRow } from ${JSON.stringify(path.resolve(__dirname, '../../src/core/io/jsonlFile'))};`,
      'const before = process.resourceUsage().maxRSS;',
      `void forEachJsonlRow(${JSON.stringify(file)}, () => undefined).then(() => console.log(JSON.stringify({ extraKiB: process.resourceUsage().maxRSS - before })));`,
    ].join('\n'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const { extraKiB } = JSON.parse(r.stdout.trim().split('\n').pop()!) as { extraKiB: number };
    assert.ok(extraKiB * 1024 < 1.5 * MAX_LINE_BYTES, `the reader took ${Math.round(extraKiB / 1024)} MiB more for a ${size / 1048576} MiB line`);
  });
});
