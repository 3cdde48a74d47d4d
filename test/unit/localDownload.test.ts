/**
 * downloadModel: the real offline failure (this machine cannot reach the Hub),
 * and a Hub stand-in on 127.0.0.1 serving the tiny model folder for success,
 * cancel, HTTP errors and corrupt transfers. No failure leaves a folder behind.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { createServer, type Server } from 'node:http';
import { promises as fs, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { downloadModel, DownloadError, modelDirFor, type DownloadProgress } from '../../src/core/drafting/download';
import { checkModelFolder } from '../../src/core/drafting/modelFolder';
import { tempDir, tinyModel } from './localHelpers';

const FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx'];
let model: string;
let server: Server;
let endpoint: string;
const requests: string[] = [];
/** Per-test behaviour switches of the stand-in Hub. */
const mode = { throttle: false, corruptOnnx: false, truncateOnnx: false };
const tmp = tempDir('dcd-download-');

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  model = await tinyModel();
  const blobs = new Map(FILES.map((f) => [f, readFileSync(path.join(model, f))]));
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push(url.pathname);
    if (url.pathname.startsWith('/test/gated') || url.pathname.startsWith('/api/models/test/gated')) { res.writeHead(401).end('{}'); return; }
    if (url.pathname === '/api/models/test/tiny/revision/main') {
      assert.equal(url.searchParams.get('blobs'), 'true');
      const siblings = FILES.map((f) => {
        const b = blobs.get(f)!;
        return f.endsWith('.onnx') ? { rfilename: f, size: b.length, lfs: { size: b.length, sha256: sha(b) } } : { rfilename: f, size: b.length };
      });
      siblings.push({ rfilename: 'README.md', size: 3 });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'test/tiny', siblings }));
      return;
    }
    const m = /^\/test\/tiny\/resolve\/main\/(.+)$/.exec(url.pathname);
    const file = m ? decodeURIComponent(m[1]) : '';
    const body = blobs.get(file);
    if (!body) { res.writeHead(404).end('not found'); return; }
    let data = body;
    if (mode.corruptOnnx && file === 'onnx/model.onnx') { data = Buffer.from(body); data[data.length - 1] ^= 0xff; }
    res.writeHead(200, { 'content-length': String(body.length) });
    if (mode.truncateOnnx && file === 'onnx/model.onnx') { res.write(data.subarray(0, 4096)); setTimeout(() => res.destroy(), 20); return; }
    if (!mode.throttle || !file.endsWith('.onnx')) { res.end(data); return; }
    let off = 0;
    const tick = () => {
      if (res.destroyed) return;
      if (off >= data.length) { res.end(); return; }
      res.write(data.subarray(off, off + 65536));
      off += 65536;
      setTimeout(tick, 5);
    };
    tick();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => { server?.close(); tmp.cleanup(); });

async function entries(dir: string): Promise<string[]> {
  try { return (await fs.readdir(dir)).sort(); } catch { return []; }
}

function fails(code: string, ...mentions: (string | RegExp)[]) {
  return (e: unknown) => {
    assert.ok(e instanceof DownloadError, `not a DownloadError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const m of mentions) {
      if (typeof m === 'string') assert.ok(e.message.includes(m), `"${e.message}" lacks ${m}`);
      else assert.match(e.message, m);
    }
    return true;
  };
}

test('offline, for real: the Hub is unreachable, the error says so, nothing is left behind', async () => {
  const saved = process.env.HF_ENDPOINT;
  delete process.env.HF_ENDPOINT;
  const root = path.join(tmp.dir, 'offline');
  const phases: string[] = [];
  try {
    let hubResolves = true;
    try { await lookup('huggingface.co'); } catch { hubResolves = false; }
    const attempt = downloadModel('dcd-studio-tests/no-such-model', root, { dtype: 'q4', onProgress: (p) => phases.push(p.phase) });
    if (!hubResolves) {
      // This machine: no DNS for huggingface.co.
      await assert.rejects(attempt, fails('offline', 'Cannot reach the Hugging Face Hub', 'https://huggingface.co', /offline/));
    } else {
      // A machine with a network: the made-up id is refused, still with nothing kept.
      await assert.rejects(attempt, (e: unknown) => e instanceof DownloadError && ['offline', 'not-found', 'unauthorized'].includes(e.code));
    }
  } finally {
    if (saved !== undefined) process.env.HF_ENDPOINT = saved;
  }
  assert.deepEqual(phases, ['listing']);
  assert.deepEqual(await entries(root), []);
  // Also offline: a Hub address where nothing listens (connection refused), mid-way through the protocol.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  await assert.rejects(downloadModel('test/tiny', root, { endpoint: `http://127.0.0.1:${port}`, dtype: 'fp32' }),
    fails('offline', 'ECONNREFUSED', 'Nothing was downloaded'));
  assert.deepEqual(await entries(root), []);
});

test('success from a Hub on 127.0.0.1: files identical, progress monotonic, then found without the network', async () => {
  const root = path.join(tmp.dir, 'ok');
  const events: DownloadProgress[] = [];
  const r = await downloadModel('test/tiny', root, { endpoint, dtype: 'fp32', onProgress: (p) => events.push(p) });
  assert.equal(r.dir, modelDirFor(root, 'test/tiny'));
  assert.equal(r.dir, path.join(root, 'test', 'tiny'));
  assert.equal(r.alreadyPresent, false);
  assert.deepEqual(r.files, ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx']);
  for (const f of r.files) assert.equal(sha(await fs.readFile(path.join(r.dir, f))), sha(await fs.readFile(path.join(model, f))), f);
  assert.equal(await fs.stat(path.join(r.dir, 'onnx', 'model_quantized.onnx')).then(() => true, () => false), false, 'only the chosen variant');
  assert.equal((await checkModelFolder(r.dir, 'fp32')).onnxFile, 'onnx/model.onnx');
  assert.deepEqual(await entries(root), ['test'], 'no temporary folder left');
  // Progress: listing first, done last, bytes never go back, totals add up.
  assert.equal(events[0].phase, 'listing');
  assert.equal(events.at(-1)!.phase, 'done');
  const total = r.files.reduce((a, f) => a + readFileSync(path.join(model, f)).length, 0);
  assert.equal(r.bytes, total);
  assert.equal(events.at(-1)!.loaded, total);
  for (let i = 1; i < events.length; i++) assert.ok(events[i].loaded >= events[i - 1].loaded);
  assert.ok(events.filter((e) => e.phase === 'downloading').every((e) => e.total === total));
  // Again: already there, no request made.
  const before = requests.length;
  const again = await downloadModel('test/tiny', root, { endpoint, dtype: 'fp32' });
  assert.equal(again.alreadyPresent, true);
  assert.equal(requests.length, before);
  // A second variant joins the same folder.
  const q8 = await downloadModel('test/tiny', root, { endpoint, dtype: 'q8' });
  assert.equal(q8.alreadyPresent, false);
  assert.deepEqual((await checkModelFolder(q8.dir)).availableDtypes, ['fp32', 'q8']);
  assert.deepEqual(await entries(root), ['test']);
});

test('cancel mid-transfer: a cancelled error and no folder at all', async () => {
  const root = path.join(tmp.dir, 'cancel');
  mode.throttle = true;
  try {
    const ac = new AbortController();
    let sawOnnx = false;
    await assert.rejects(downloadModel('test/tiny', root, {
      endpoint, dtype: 'fp32', signal: ac.signal,
      onProgress: (p) => { if (p.file === 'onnx/model.onnx' && p.fileLoaded > 0 && !sawOnnx) { sawOnnx = true; ac.abort(); } },
    }), fails('cancelled', 'cancelled'));
    assert.ok(sawOnnx);
    assert.deepEqual(await entries(root), []);
  } finally {
    mode.throttle = false;
  }
});

test('HTTP errors and a missing variant are named; nothing is left behind', async () => {
  const root = path.join(tmp.dir, 'errors');
  await assert.rejects(downloadModel('test/missing', root, { endpoint }), fails('not-found', 'HTTP 404', 'test/missing'));
  await assert.rejects(downloadModel('test/gated', root, { endpoint }), fails('unauthorized', 'HTTP 401', /gated or private/));
  await assert.rejects(downloadModel('test/tiny', root, { endpoint, dtype: 'q4' }), fails('invalid-model', 'onnx/model_q4.onnx', 'fp32, q8'));
  await assert.rejects(downloadModel('../etc', root, { endpoint }), fails('bad-id'));
  assert.deepEqual(await entries(root), []);
});

test('a corrupt or broken transfer is refused and removed', async () => {
  const root = path.join(tmp.dir, 'corrupt');
  mode.corruptOnnx = true;
  try {
    await assert.rejects(downloadModel('test/tiny', root, { endpoint, dtype: 'fp32' }), fails('corrupt', 'sha256', 'onnx/model.onnx'));
  } finally {
    mode.corruptOnnx = false;
  }
  assert.deepEqual(await entries(root), []);
  mode.truncateOnnx = true;
  try {
    await assert.rejects(downloadModel('test/tiny', root, { endpoint, dtype: 'fp32' }),
      (e: unknown) => e instanceof DownloadError && ['offline', 'corrupt'].includes(e.code) && e.message.includes('onnx/model.onnx'));
  } finally {
    mode.truncateOnnx = false;
  }
  assert.deepEqual(await entries(root), []);
});

test('temporary folders of a killed download are removed by the next call', async () => {
  const root = path.join(tmp.dir, 'stale');
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  assert.ok(dead);
  const stale = path.join(root, `.partial-${dead}-abcd1234-test--tiny`);
  await fs.mkdir(path.join(stale, 'onnx'), { recursive: true });
  await fs.writeFile(path.join(stale, 'onnx', 'model.onnx'), 'half');
  await downloadModel('test/tiny', root, { endpoint, dtype: 'fp32' });
  assert.deepEqual(await entries(root), ['test']);
});
