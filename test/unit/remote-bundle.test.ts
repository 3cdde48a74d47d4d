import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BUNDLE_MARKER, collectBundle, FAST_GZIP, ParallelGzip, uploadBundle } from '../../src/core/remote/bundle';
import { LocalSession } from '../../src/core/remote/localSession';
import { AdaptiveFramer, framedReceiveScript, hostPython } from '../../src/core/remote/framedUpload';
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

for (const receiver of ['auto', 'sh'] as const) test(`uploadBundle (${receiver === 'auto' ? 'Python receiver' : 'POSIX sh receiver'}) unpacks on the host, checks the sha256, and skips a copy the host already has`, async () => {
  const src = path.join(tmp, `up-src-${receiver}`);
  makeTree(src);
  rmSync(path.join(src, '__pycache__'), { recursive: true });
  const bundle = await collectBundle(src);
  const session = new LocalSession();
  const parent = path.join(tmp, `host root 'q' $(x); \n ${receiver}`, 'exports');
  const progress: number[] = [];
  const first = await uploadBundle(session, bundle, parent, { gzip: FAST_GZIP, receiver, onProgress: (p) => progress.push(p.wireBytes) });
  assert.equal(first.skipped, false);
  assert.equal(first.receiver, receiver === 'auto' ? 'python' : 'sh');
  assert.equal(first.dest, `${parent}/${bundle.key}`);
  assert.match(first.sha256!, /^[0-9a-f]{64}$/);
  assert.ok(first.wireBytes > 0 && progress.at(-1) === first.wireBytes);
  const marker = JSON.parse(readFileSync(path.join(first.dest, BUNDLE_MARKER), 'utf8'));
  assert.equal(marker.key, bundle.key);
  rmSync(path.join(first.dest, BUNDLE_MARKER));
  assert.deepEqual(listTree(first.dest), listTree(src));
  writeFileSync(path.join(first.dest, BUNDLE_MARKER), JSON.stringify(marker));
  assert.deepEqual(readdirSync(parent), [bundle.key], 'no temp files left behind');
  const again = await uploadBundle(session, bundle, parent, { receiver });
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

async function framedStream(input: Buffer, framer: AdaptiveFramer, consumer: (chunk: Buffer) => Promise<void> = async () => undefined): Promise<Buffer> {
  const parts: Buffer[] = [];
  const source = Readable.from(Array.from({ length: Math.ceil(input.length / 65536) }, (_, i) => input.subarray(i * 65536, (i + 1) * 65536)));
  await pipeline(source, framer, new Writable({
    highWaterMark: 1,
    write(chunk: Buffer, _enc, cb) { parts.push(chunk); consumer(chunk).then(() => cb(), cb); },
  }));
  return Buffer.concat(parts);
}

/** Runs the host receiver on this machine with the stream on stdin; returns its exit code, stdout, stderr. */
async function receive(stream: Buffer, dest: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const python = await hostPython(new LocalSession());
  assert.ok(python, 'this machine has a Python 3');
  return new LocalSession().exec(framedReceiveScript(python, dest), { stdin: stream });
}

test('the adaptive framer sends blocks raw to a fast consumer and deflated to a slow one; the Python receiver unpacks both', async () => {
  const src = path.join(tmp, 'framed-src');
  makeTree(src);
  // Token-like data that deflates well, several blocks long.
  const ids = new Int32Array(600_000).map((_, i) => (i * 7919) % 5000);
  writeFileSync(path.join(src, 'ids.bin'), Buffer.from(ids.buffer));
  rmSync(path.join(src, '__pycache__'), { recursive: true });
  const tarBytes = await bytesOf(tarStream((await collectBundle(src)).entries));
  const opts = { deflate: FAST_GZIP, blockBytes: 128 << 10, inFlight: 2 };

  const fast = new AdaptiveFramer(opts);
  const fastStream = await framedStream(tarBytes, fast);
  assert.equal(fast.blocks.deflated, 1, `a consumer that keeps up gets raw blocks after the one that measures the compressor (${JSON.stringify(fast.blocks)})`);
  assert.ok(fast.blocks.raw >= 10);

  const slow = new AdaptiveFramer(opts);
  const slowStream = await framedStream(tarBytes, slow, () => new Promise((r) => setTimeout(r, 8))); // ~8 MB/s
  assert.ok(slow.blocks.deflated > 3 * slow.blocks.raw, `a slow link gets compressed blocks (${JSON.stringify(slow.blocks)}, ${JSON.stringify(slow.rates)})`);
  assert.ok(slowStream.length < fastStream.length * 0.7, 'and fewer bytes on the wire');

  for (const [name, stream] of [['fast', fastStream], ['slow', slowStream]] as const) {
    const dest = path.join(tmp, `framed-out-${name}`);
    const r = await receive(stream, dest);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), `sha256=${createHash('sha256').update(stream).digest('hex')}`, 'the host hashes exactly what was sent');
    assert.deepEqual(listTree(dest), listTree(src));
  }
});

test('the Python receiver refuses a cut or foreign stream and leaves nothing behind', async () => {
  const src = path.join(tmp, 'cut-src');
  makeTree(src);
  const stream = await framedStream(await bytesOf(tarStream((await collectBundle(src)).entries)), new AdaptiveFramer({ mode: 'always' }));
  const cut = path.join(tmp, 'cut-out');
  const r = await receive(stream.subarray(0, stream.length - 40), cut);
  assert.equal(r.code, 92);
  assert.match(r.stderr, /ended early/);
  assert.equal(existsSync(cut), false);
  const foreign = path.join(tmp, 'foreign-out');
  const f = await receive(gzipSync(Buffer.from('not ours')), foreign);
  assert.equal(f.code, 93);
  assert.equal(existsSync(foreign), false);
});
