import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  compareVersions, externalChangeAction, FileChangedError, hashBytes, readVersioned, writeFileIfUnchanged, type FileVersion,
} from '../../src/core/io/fileVersion';

const tmpFile = (content?: string): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-version-'));
  const file = path.join(dir, 'corpus.dcd.jsonl');
  if (content !== undefined) fs.writeFileSync(file, content);
  return file;
};

const v = (hash: string, size = 3, mtimeMs = 1000): FileVersion => ({ hash, size, mtimeMs });

describe('change detection', () => {
  it('tells same, touched (mtime only) and changed content apart; appearing or vanishing is a change', () => {
    assert.equal(compareVersions(v('a'), v('a')), 'same');
    assert.equal(compareVersions(v('a'), v('a', 3, 2000)), 'touched');
    assert.equal(compareVersions(v('a'), v('b')), 'changed');
    assert.equal(compareVersions(v('a'), v('a', 4)), 'changed');
    assert.equal(compareVersions(v('a'), null), 'changed');
    assert.equal(compareVersions(null, v('a')), 'changed');
    assert.equal(compareVersions(null, null), 'same');
  });

  it('reloads a clean document, asks about a dirty one, adopts a mere touch', () => {
    assert.equal(externalChangeAction(v('a'), v('a'), true), 'ignore');
    assert.equal(externalChangeAction(v('a'), v('a', 3, 5), true), 'adopt');
    assert.equal(externalChangeAction(v('a'), v('b'), false), 'reload');
    assert.equal(externalChangeAction(v('a'), v('b'), true), 'conflict');
    assert.equal(externalChangeAction(v('a'), null, true), 'conflict');
    assert.equal(externalChangeAction(v('a'), null, false), 'ignore');
  });

  it('reads bytes with the version of exactly those bytes; null for a missing file', async () => {
    const file = tmpFile('{"id":"a"}\n');
    const read = await readVersioned(file);
    assert.ok(read);
    assert.equal(Buffer.from(read.bytes).toString(), '{"id":"a"}\n');
    assert.deepEqual(read.version, { mtimeMs: fs.statSync(file).mtimeMs, size: 11, hash: hashBytes(read.bytes) });
    assert.equal(await readVersioned(path.join(path.dirname(file), 'missing.jsonl')), null);
  });
});

describe('writeFileIfUnchanged (compare-and-swap)', () => {
  it('writes when the file is still at the version read and returns the new version', async () => {
    const file = tmpFile('old\n');
    const { version } = (await readVersioned(file))!;
    const next = await writeFileIfUnchanged(file, version, Buffer.from('new content\n'));
    assert.equal(fs.readFileSync(file, 'utf8'), 'new content\n');
    assert.deepEqual(next, (await readVersioned(file))!.version, 'the returned version is the file on disk');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['corpus.dcd.jsonl'], 'no temp file is left');
  });

  it('refuses to write over a same-size change made within the same mtime, and leaves the change alone', async () => {
    const file = tmpFile('aaaa\n');
    const { version } = (await readVersioned(file))!;
    // Another writer: same size, and the mtime put back (a coarse-mtime file system cannot tell them apart).
    fs.writeFileSync(file, 'bbbb\n');
    fs.utimesSync(file, new Date(version.mtimeMs), new Date(version.mtimeMs));
    await assert.rejects(writeFileIfUnchanged(file, version, 'mine\n'), (err: unknown) => {
      assert.ok(err instanceof FileChangedError);
      assert.match(err.message, /changed on disk/);
      assert.equal(err.current?.hash, hashBytes('bbbb\n'));
      return true;
    });
    assert.equal(fs.readFileSync(file, 'utf8'), 'bbbb\n');
    assert.deepEqual(fs.readdirSync(path.dirname(file)), ['corpus.dcd.jsonl']);
    // Overwrite after seeing the conflict: compare against the version that was reported.
    await assert.rejects(writeFileIfUnchanged(file, version, 'mine\n'), FileChangedError);
    const current = (await readVersioned(file))!.version;
    await writeFileIfUnchanged(file, current, 'mine\n');
    assert.equal(fs.readFileSync(file, 'utf8'), 'mine\n');
  });

  it('writes over a file whose mtime alone changed (nothing would be lost)', async () => {
    const file = tmpFile('same\n');
    const { version } = (await readVersioned(file))!;
    fs.utimesSync(file, new Date(version.mtimeMs + 5000), new Date(version.mtimeMs + 5000));
    await writeFileIfUnchanged(file, version, 'next\n');
    assert.equal(fs.readFileSync(file, 'utf8'), 'next\n');
  });

  it('does not recreate a deleted file, and creates one only where none is expected', async () => {
    const file = tmpFile('x\n');
    const { version } = (await readVersioned(file))!;
    fs.rmSync(file);
    await assert.rejects(writeFileIfUnchanged(file, version, 'y\n'), /deleted on disk/);
    assert.equal(fs.existsSync(file), false);
    await writeFileIfUnchanged(file, null, 'created\n');
    await assert.rejects(writeFileIfUnchanged(file, null, 'again\n'), FileChangedError);
    assert.equal(fs.readFileSync(file, 'utf8'), 'created\n');
  });

  it('lets exactly one of two writers that read the same version win', async () => {
    const file = tmpFile('base\n');
    const { version } = (await readVersioned(file))!;
    const results = await Promise.allSettled([
      writeFileIfUnchanged(file, version, 'trace save\n'),
      writeFileIfUnchanged(file, version, 'workbench save\n'),
    ]);
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected']);
    assert.ok((results[1] as PromiseRejectedResult).reason instanceof FileChangedError);
    assert.equal(fs.readFileSync(file, 'utf8'), 'trace save\n');
  });
});
