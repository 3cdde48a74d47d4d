import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../../src/core/io/atomicWrite';

describe('atomic writes of chunked output', () => {
  it('writes strings and byte runs in order, whatever their sizes against the batch buffers', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-atomic-'));
    const shared = Buffer.from('shared bytes — ü\n');
    const chunks: (string | Buffer)[] = [];
    for (let i = 0; i < 3000; i++) {
      chunks.push(`line ${i} ${'✓😀'.repeat(i % 700)}\n`);
      if (i % 3 === 0) chunks.push(shared);
      if (i === 1000) chunks.push('big string ü'.repeat(600_000)); // over the 4 MB batch
      if (i === 2000) chunks.push(Buffer.alloc(9 * 1024 * 1024, 0x61)); // bytes over the batch
    }
    const file = path.join(dir, 'out.jsonl');
    fs.writeFileSync(file, 'old contents');
    await writeFileAtomic(file, chunks);
    const expected = Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
    assert.ok(expected.length > 20 * 1024 * 1024);
    assert.ok(fs.readFileSync(file).equals(expected));
    assert.deepEqual(fs.readdirSync(dir), ['out.jsonl'], 'no temp file is left');
  });

  it('leaves the old file in place when producing the chunks fails', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-atomic-'));
    const file = path.join(dir, 'out.jsonl');
    fs.writeFileSync(file, 'old contents');
    function* failing(): Generator<string> {
      for (let i = 0; i < 100_000; i++) yield `line ${i} ${'x'.repeat(100)}\n`;
      throw new Error('encoder failed');
    }
    await assert.rejects(writeFileAtomic(file, failing()), /encoder failed/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'old contents');
    assert.deepEqual(fs.readdirSync(dir), ['out.jsonl']);
  });
});
