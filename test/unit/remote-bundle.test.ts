import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BUNDLE_MARKER, collectBundle, FAST_GZIP, ParallelGzip, uploadBundle } from '../../src/core/remote/bundle';
import { LocalSession } from '../../src/core/remote/localSession';
import type { HostSession } from '../../src/core/remote/session';
import { tarStream, type TarEntry } from '../../src/core/remote/tar';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-tar-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const NAMES = [
  'plain.txt',
  'with space.py',
  "it's \"quoted\".json",
  '$(touch pwned); `x`.txt',
  'new\nline.txt',
  'ünïcødé ✓.md',
  `deep/${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(70)}.bin`,
  'empty',
];

/** A tree with awkward names, an empty file, an executable and a nested long path. */
function makeTree(root: string): void {
  for (const [i, name] of NAMES.entries()) {
    const file = path.join(root, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, name === 'empty' ? '' : `${name}\n`.repeat(i + 1));
  }
  writeFileSync(path.join(root, 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(path.join(root, 'run.sh'), 0o755);
  mkdirSync(path.join(root, '__pycache__'));
  writeFileSync(path.join(root, '__pycache__', 'x.pyc'), 'cache');
}

function listTree(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    const st = statSync(path.join(root, r));
    if (st.isDirectory()) out.push(`${r}/`, ...listTree(root, r));
    else out.push(`${r} ${st.mode & 0o111 ? 'x' : '-'} ${readFileSync(path.join(root, r), 'utf8')}`);
  }
  return out;
}

async function bytesOf(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

test('GNU tar reads our archives: awkward names, long paths, empty files, the executable bit', async () => {
  const src = path.join(tmp, 'src');
  makeTree(src);
  const bundle = await collectBundle(src);
  assert.ok(!bundle.entries.some((e) => e.name.includes('__pycache__')), 'caches are left out');
  const tarFile = path.join(tmp, 'a.tar.gz');
  writeFileSync(tarFile, gzipSync(await bytesOf(tarStream(bundle.entries))));
  const out = path.join(tmp, 'out');
  mkdirSync(out);
  execFileSync('tar', ['-xzf', tarFile, '-C', out]);
  rmSync(path.join(src, '__pycache__'), { recursive: true });
  assert.deepEqual(listTree(out), listTree(src));
});

test('archives are reproducible, and the content key follows the content', async () => {
  const a = path.join(tmp, 'ka');
  const b = path.join(tmp, 'kb');
  makeTree(a);
  makeTree(b);
  const [ba, bb] = [await collectBundle(a), await collectBundle(b)];
  assert.equal(ba.key, bb.key, 'same content elsewhere: same key');
  assert.ok((await bytesOf(tarStream(ba.entries))).equals(await bytesOf(tarStream(bb.entries))), 'same bytes');
  writeFileSync(path.join(b, 'plain.txt'), 'plain.txu\n');
  assert.notEqual((await collectBundle(b)).key, ba.key, 'one changed byte changes the key');
  chmodSync(path.join(b, 'plain.txt'), 0o755);
  writeFileSync(path.join(b, 'plain.txt'), 'plain.txt\n');
  assert.notEqual((await collectBundle(b)).key, ba.key, 'a changed mode changes the key');
});

test('a file that changes size while being archived fails the stream', async () => {
  const entries: TarEntry[] = [{ name: 'f', type: 'file', source: path.join(tmp, 'grow'), size: 1 }];
  writeFileSync(path.join(tmp, 'grow'), 'more than one byte');
  await assert.rejects(bytesOf(tarStream(entries)), /grew|changed size/);
});

test('uploadBundle unpacks on the host, checks the sha256, and skips a copy the host already has', async () => {
  const src = path.join(tmp, 'up-src');
  makeTree(src);
  rmSync(path.join(src, '__pycache__'), { recursive: true });
  const bundle = await collectBundle(src);
  const session = new LocalSession();
  const parent = path.join(tmp, "host root 'q' $(x); \n", 'exports');
  const progress: number[] = [];
  const first = await uploadBundle(session, bundle, parent, { gzip: FAST_GZIP, onProgress: (p) => progress.push(p.wireBytes) });
  assert.equal(first.skipped, false);
  assert.equal(first.dest, `${parent}/${bundle.key}`);
  assert.match(first.sha256!, /^[0-9a-f]{64}$/);
  assert.ok(first.wireBytes > 0 && progress.at(-1) === first.wireBytes);
  const marker = JSON.parse(readFileSync(path.join(first.dest, BUNDLE_MARKER), 'utf8'));
  assert.equal(marker.key, bundle.key);
  rmSync(path.join(first.dest, BUNDLE_MARKER));
  assert.deepEqual(listTree(first.dest), listTree(src));
  writeFileSync(path.join(first.dest, BUNDLE_MARKER), JSON.stringify(marker));
  assert.deepEqual(readdirSync(parent), [bundle.key], 'no temp files left behind');
  const again = await uploadBundle(session, bundle, parent);
  assert.equal(again.skipped, true);
  assert.equal(again.wireBytes, 0);
});

test('an upload whose host-side sha256 differs is refused and cleaned up', async () => {
  const src = path.join(tmp, 'bad-src');
  makeTree(src);
  const bundle = await collectBundle(src);
  const local = new LocalSession();
  // A host that reports a different hash than what we sent (a corrupted transfer).
  const lying: HostSession = Object.assign(Object.create(local) as HostSession, {
    exec: async (cmd: string, o?: Parameters<HostSession['exec']>[1]) => {
      const r = await local.exec(cmd, o);
      return { ...r, stdout: r.stdout.replace(/sha256=[0-9a-f]{64}/, `sha256=${'0'.repeat(64)}`) };
    },
  });
  const parent = path.join(tmp, 'bad-parent');
  await assert.rejects(uploadBundle(lying, bundle, parent), /corrupted/);
  assert.deepEqual(readdirSync(parent), [], 'nothing unverified stays on the host');
});

test('ParallelGzip writes concatenated gzip members that gunzip and tar read as one stream', async () => {
  const input = Buffer.concat(Array.from({ length: 40 }, (_, i) => Buffer.from(`${i} `.repeat(5000 + i * 97))));
  const gz = new ParallelGzip({ level: 1 }, 64 << 10, 3);
  const out = await bytesOf(Readable.from([input.subarray(0, 1000), input.subarray(1000)]).pipe(gz));
  assert.ok(gunzipSync(out).equals(input), 'node reads every member');
  const members = out.length > 0 ? (out.toString('latin1').match(/\x1f\x8b\x08/g) ?? []).length : 0;
  assert.ok(members >= Math.floor(input.length / (64 << 10)), `one member per block (${members})`);
  assert.equal(execFileSync('gzip', ['-dc'], { input: out }).length, input.length, 'gzip -d reads them as one stream');
  const empty = await bytesOf(Readable.from([]).pipe(new ParallelGzip()));
  assert.equal(gunzipSync(empty).length, 0, 'empty input is still a valid gzip file');
});
