/**
 * Downloads from a hostile host (test/support/hostileSftp.ts): names, links,
 * depths and sizes in the SFTP listing, and checkpoint paths in events.jsonl,
 * chosen to write outside the download folder. Nothing may land outside it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JobEngine } from '../../src/core/jobs/engine';
import { JobStore } from '../../src/core/jobs/store';
import { createConnector, type SshProfile } from '../../src/core/remote/profiles';
import { DownloadLimitError, safeLocalPath, UnsafeRemotePathError } from '../../src/core/remote/safePaths';
import type { HostSession } from '../../src/core/remote/session';
import { downloadEvalResults } from '../../src/core/jobs/evalDispatch';
import { dir, file, link, startHostileSftp, type HostileSftp, type VNode } from '../support/hostileSftp';

const secret = file('the host file a link points at');
const deep: VNode = dir(() => ({ d: deep }));
const loop: VNode = dir(() => ({ 'ok.txt': file('fine\n'), again: link(() => loop) }));
const events = [
  { event: 'checkpoint', time: '2026-12-01T00:00:00Z', step: 1, path: 'checkpoint-1', reason: 'interval' },
  { event: 'checkpoint', time: '2026-12-01T00:00:00Z', step: 2, path: '/..', reason: 'interval' },
  { event: 'checkpoint', time: '2026-12-01T00:00:00Z', step: 3, path: '../../..', reason: 'interval' },
  { event: 'checkpoint', time: '2026-12-01T00:00:00Z', step: 4, path: '/', reason: 'signal' },
  { event: 'done', time: '2026-12-01T00:00:00Z', step: 4, final_loss: 1, model_dir: '/job/run/final/..', elapsed_s: 1 },
].map((e) => JSON.stringify(e)).join('\n') + '\n';

const TREE: Record<string, VNode> = {
  dl: dir({
    'ok.txt': file('fine\n'),
    sub: dir({ 'inner.txt': file('inner\n') }),
    '..': dir({ 'dotdot.txt': file('pwned') }),
    '../../x': file('pwned'),
    '../escape-dir': dir({ 'y': file('pwned') }),
    'a/b': file('pwned'),
    'a\\b': file('pwned'),
    'nul\0name': file('pwned'),
    '.': file('pwned'),
    'secret-link': link(() => secret),
    loop: link(() => loop),
  }),
  loop,
  deep,
  huge: dir({ 'small.bin': file('12345678'), 'big.bin': file('x', 2 ** 52) }),
  two: dir({ 'a.bin': file('12345678'), 'b.bin': file('12345678') }),
  job: dir({ 'events.jsonl': file(events), run: dir({ 'checkpoint-1': dir({ 'w.bin': file('weights') }), final: dir({}) }) }),
  evals: dir({ e1: dir({ 'results.json': file('{}') }) }),
};

/** A hostile server must never hang the suite: each test fails on its own instead. */
const LIMIT = { timeout: 30_000 };

let host: HostileSftp;
let tmp: string;
let session: HostSession;
let profile: SshProfile;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-hostile-'));
  host = await startHostileSftp(TREE);
  const knownHosts = path.join(tmp, 'known_hosts');
  writeFileSync(knownHosts, host.knownHostsLine + '\n');
  profile = { name: 'hostile', kind: 'ssh', host: '127.0.0.1', port: host.port, user: 'u', identityFiles: [], knownHostsFiles: [knownHosts] };
  session = await connector().connect();
});

after(async () => {
  await session?.close();
  await host?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function connector() {
  return createConnector(profile, {
    hostKeyPolicy: async () => 'reject', trustStoreFile: path.join(tmp, 'trust'), sshConfigFile: false, agent: false,
    homeDir: path.join(tmp, 'no-home'), promptPassword: async () => 'anything',
  });
}

/** A fresh `sandbox/a/b/target`: escapes of one or two levels land in the sandbox, where `snapshot` sees them. */
function sandbox(name: string): { root: string; target: string } {
  const root = path.join(tmp, name);
  mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
  writeFileSync(path.join(root, 'a', 'keep.txt'), 'keep');
  return { root, target: path.join(root, 'a', 'b', 'target') };
}

/** Every path under `root` except inside `skip`, with file sizes. */
function snapshot(root: string, skip: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (p === skip) continue;
      const st = statSync(p);
      out.push(`${path.relative(root, p)}${st.isDirectory() ? '/' : ` ${st.size}`}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(root);
  return out.sort();
}

test('hostile names and links in a listing are skipped with a warning; only the safe entries are written, all inside the target', LIMIT, async () => {
  const { root, target } = sandbox('names');
  const before = snapshot(root, target);
  const warnings: string[] = [];
  const r = await session.download('/dl', target, { onWarning: (w) => warnings.push(w) });
  assert.deepEqual(snapshot(root, target), before, 'nothing changed outside the target');
  assert.deepEqual(snapshot(target, ''), ['ok.txt 5', 'sub/', 'sub/inner.txt 6']);
  assert.equal(r.files, 2);
  assert.equal(r.bytes, 11);
  const reasons = Object.fromEntries(r.skipped.map((s) => [s.path, s.reason]));
  assert.deepEqual(Object.keys(reasons).sort(), [
    '/dl/"../../x"', '/dl/"../escape-dir"', '/dl/"a/b"', '/dl/"a\\\\b"', '/dl/"nul\\u0000name"', '/dl/loop', '/dl/secret-link',
  ].sort());
  assert.match(reasons['/dl/"a/b"'], /contains "\/"/);
  assert.match(reasons['/dl/"nul\\u0000name"'], /NUL/);
  assert.match(reasons['/dl/secret-link'], /symbolic link/);
  assert.equal(warnings.length, r.skipped.length, 'each skip is reported as it happens');
  assert.ok(!host.requests.some((p) => p.includes('secret-link') || p.includes('../../x')), 'a skipped entry is never even asked for');
});

test('a link that loops back into the tree is not followed', LIMIT, async () => {
  const { root, target } = sandbox('loop');
  const r = await session.download('/loop', target);
  assert.deepEqual(snapshot(target, ''), ['ok.txt 5']);
  assert.deepEqual(r.skipped.map((s) => s.path), ['/loop/again']);
  assert.deepEqual(snapshot(root, target), ['a/', 'a/b/', 'a/keep.txt 4']);
});

test('an endless tree stops at the depth limit with a clear error (32 levels by default, or as asked)', LIMIT, async () => {
  const { target } = sandbox('deep');
  await assert.rejects(session.download('/deep', target), (err: unknown) => {
    assert.ok(err instanceof DownloadLimitError);
    assert.match(err.message, /more than 32 levels deep \(maxDepth\)/);
    return true;
  });
  await assert.rejects(session.download('/deep', `${target}-3`, { maxDepth: 3 }), /more than 3 levels deep/);
  assert.equal(snapshot(`${target}-3`, '').length, 3, 'three levels, then it stopped');
});

test('a listed size past the byte limit stops the download before a byte of that file is read', LIMIT, async () => {
  const { target } = sandbox('huge');
  await assert.rejects(session.download('/huge', target), (err: unknown) => {
    assert.ok(err instanceof DownloadLimitError);
    assert.match(err.message, /big\.bin \(4503599627370496 bytes\).*maxBytes/);
    return true;
  });
  assert.ok(!readdirSync(target).includes('big.bin'));
  assert.ok(!host.requests.includes('/huge/big.bin'), 'the huge file was never opened');
  await assert.rejects(session.download('/two', `${target}-two`, { maxBytes: 10 }), /past 10 bytes \(maxBytes\)/);
  assert.deepEqual(snapshot(`${target}-two`, ''), ['a.bin 8']);
});

test('checkpoint paths from events.jsonl that end in .. or name / are refused before anything is written', LIMIT, async () => {
  const store = path.join(tmp, 'jobs.json');
  const now = new Date().toISOString();
  await new JobStore(store).put({
    id: 'job-1', host: profile, status: 'succeeded', history: [{ status: 'succeeded', time: now }], createdAt: now, updatedAt: now,
    spec: { data: '/x', model: 'm', preset: 'smoke' }, remote: { jobDir: '/job', backendDir: '/b', exportDir: '/e', python: 'python3' },
  });
  const engine = new JobEngine({ store: new JobStore(store), connectorFor: () => connector() });
  try {
    const { root, target } = sandbox('events');
    const before = snapshot(root, target);
    for (const what of ['all', '..']) {
      await assert.rejects(engine.fetch('job-1', what, target), (err: unknown) => {
        assert.ok(err instanceof UnsafeRemotePathError, `${what}: ${String(err)}`);
        assert.match(err.message, /refusing the host's artifact name/);
        return true;
      });
    }
    assert.deepEqual(snapshot(root, target), before);
    const [got] = await engine.fetch('job-1', 'checkpoint-1', target);
    assert.equal(got.localPath, path.join(target, 'checkpoint-1'));
    assert.equal(readFileSync(path.join(target, 'checkpoint-1', 'w.bin'), 'utf8'), 'weights');
    assert.deepEqual(snapshot(root, target), before);
  } finally {
    await engine.close();
  }
});

test('eval results: a results folder named .. by the host is refused; a normal one lands in eval-results/<evalId>/', LIMIT, async () => {
  const { root, target } = sandbox('eval');
  const before = snapshot(root, target);
  await assert.rejects(downloadEvalResults(session, { evalId: 'e1', resultsDir: '/evals/e1/..' }, target), UnsafeRemotePathError);
  await assert.rejects(downloadEvalResults(session, { evalId: '..', resultsDir: '/evals/e1' }, target), UnsafeRemotePathError);
  assert.deepEqual(snapshot(root, target), before);
  const r = await downloadEvalResults(session, { evalId: 'e1', resultsDir: '/evals/e1' }, target);
  assert.equal(r.localPath, path.join(target, 'eval-results', 'e1', 'e1'));
  assert.equal(readFileSync(path.join(r.localPath, 'results.json'), 'utf8'), '{}');
});

test('safeLocalPath accepts one plain name and nothing else', () => {
  const root = path.join(tmp, 'names-only');
  assert.equal(safeLocalPath(root, 'checkpoint-10'), path.join(root, 'checkpoint-10'));
  assert.equal(safeLocalPath(root, '..x'), path.join(root, '..x'));
  for (const bad of ['', '.', '..', '../x', 'a/b', 'a\\b', '/abs', 'nul\0', 'x/..']) {
    assert.throws(() => safeLocalPath(root, bad), UnsafeRemotePathError, JSON.stringify(bad));
  }
});
