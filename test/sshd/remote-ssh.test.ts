/**
 * SSH connections against a real OpenSSH server on 127.0.0.1 (test/support/sshd.ts):
 * host key verification before authentication, ProxyJump, agent and
 * passphrase-protected keys, the session operations, Check Host and Set Up Host.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { Server } from 'ssh2';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { collectBundle, uploadBundle } from '../../src/core/remote/bundle';
import { checkHost, HostSetupError, setupHost } from '../../src/core/remote/hostCheck';
import { fingerprintSha256, HostKeyError, type HostKeyInfo, TrustStore } from '../../src/core/remote/knownHosts';
import { createConnector, type SshProfile } from '../../src/core/remote/profiles';
import { shellJoin } from '../../src/core/remote/shellQuote';
import type { SshEndpoint, SshTarget } from '../../src/core/remote/sshConfig';
import { connectSsh, secretKeys, type HostKeyDecision, type Secrets, type SshConnectOptions } from '../../src/core/remote/sshSession';
import { generateKey, startSshd, type Sshd } from '../support/sshd';

const ROOT = path.resolve(__dirname, '..', '..');
const STAND_IN_BACKEND = path.join(ROOT, 'test', 'fixtures', 'jobs', 'backend');
const REAL_BACKEND = path.join(ROOT, 'python-backend');

let sshd: Sshd;
let tmp: string;
let knownHosts: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-ssh-test-'));
  sshd = await startSshd({ dir: path.join(tmp, 'sshd') });
  knownHosts = path.join(tmp, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine + '\n');
});

after(async () => {
  await sshd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function endpoint(extra: Partial<SshEndpoint> = {}): SshEndpoint {
  return {
    alias: 'test', host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [sshd.clientKeyPath],
    identitiesOnly: true, keepaliveIntervalMs: 5000, keepaliveCountMax: 3, ...extra,
  };
}

function target(extra: Partial<SshTarget> = {}): SshTarget {
  return { ...endpoint(), jumps: [], ...extra };
}

function options(extra: Partial<SshConnectOptions> = {}): SshConnectOptions {
  return {
    target: target(), knownHostsFiles: [knownHosts], trustStore: new TrustStore(path.join(tmp, 'never-written')),
    hostKeyPolicy: async () => { throw new Error('the policy must not be asked'); }, agent: false, ...extra,
  };
}

const accepted = () => (readFileSync(sshd.logPath, 'utf8').match(/Accepted publickey/g) ?? []).length;
const hostFingerprint = () => fingerprintSha256(Buffer.from(sshd.hostPublicKey.split(' ')[1], 'base64'));

function recordingPolicy(decision: HostKeyDecision) {
  const calls: HostKeyInfo[] = [];
  return { calls, policy: async (info: HostKeyInfo) => { calls.push(info); return decision; } };
}

test('a known host key connects; the session runs commands, reads, writes and downloads', async () => {
  const s = await connectSsh(options());
  try {
    assert.equal(s.home, os.userInfo().homedir ?? os.homedir());
    const hostile = ["it's", '$(touch /tmp/dcd-pwned-ssh)', 'a; b', 'line\nbreak', '`x`', ''];
    const r = await s.exec(`${shellJoin(['printf', '%s\\0', ...hostile])}; exit 7`);
    assert.equal(r.code, 7);
    assert.deepEqual(r.stdout.split('\0').slice(0, -1), hostile);
    assert.ok(!existsSync('/tmp/dcd-pwned-ssh'));
    assert.equal((await s.exec('wc -c', { stdin: Buffer.alloc(300_000, 1) })).stdout.trim(), '300000');

    const dir = path.join(tmp, "remote dir 'q' $(x);\nend", 'a', 'b');
    await s.mkdirp(dir);
    assert.deepEqual(await s.stat(dir), { isDirectory: true, size: (await s.stat(dir))!.size });
    const file = `${dir}/f.txt`;
    await s.writeFile(`${file}.tmp`, 'hello\nworld\n');
    await s.rename(`${file}.tmp`, file);
    assert.equal((await s.readFrom(file, 0, 100))!.toString(), 'hello\nworld\n');
    assert.equal((await s.readFrom(file, 6, 3))!.toString(), 'wor');
    assert.equal((await s.readFrom(file, 100, 10))!.length, 0);
    assert.equal(await s.readFrom(`${dir}/missing`, 0, 10), undefined);
    assert.equal(await s.stat(`${dir}/missing`), undefined);
    const local = path.join(tmp, 'downloaded');
    const d = await s.download(path.dirname(path.dirname(dir)), local);
    assert.deepEqual(d, { files: 1, bytes: 12, skipped: [] });
    assert.equal(readFileSync(path.join(local, 'a', 'b', 'f.txt'), 'utf8'), 'hello\nworld\n');
  } finally {
    await s.close();
  }
});

test('an unknown host key is refused before authentication, and the policy sees its SHA256 fingerprint', async () => {
  const before = accepted();
  const { calls, policy } = recordingPolicy('reject');
  await assert.rejects(connectSsh(options({ knownHostsFiles: [], hostKeyPolicy: policy })), (err: unknown) => {
    assert.ok(err instanceof HostKeyError);
    assert.equal(err.info.status, 'unknown');
    assert.match(err.message, /not known/);
    assert.ok(err.message.includes(hostFingerprint()));
    return true;
  });
  assert.deepEqual(calls, [{ host: '127.0.0.1', port: sshd.port, keyType: 'ssh-ed25519', fingerprintSha256: hostFingerprint(), status: 'unknown' }]);
  const sshKeygen = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${sshd.hostKeyPath}.pub`], { encoding: 'utf8' });
  assert.equal(calls[0].fingerprintSha256, sshKeygen.split(' ')[1], 'the fingerprint is the one ssh-keygen prints');
  assert.equal(accepted(), before, 'the server never saw an authentication');
});

test('accept-once trusts the key for this connector only; accept-save stores it and is not asked again', async () => {
  const storeFile = path.join(tmp, 'trust', 'dcd_known_hosts');
  const trustStore = new TrustStore(storeFile);
  const once = recordingPolicy('accept-once');
  const acceptedOnce = new Set<string>();
  (await connectSsh(options({ knownHostsFiles: [], trustStore, hostKeyPolicy: once.policy, acceptedOnce }))).close();
  (await connectSsh(options({ knownHostsFiles: [], trustStore, hostKeyPolicy: once.policy, acceptedOnce }))).close();
  assert.equal(once.calls.length, 1, 'a reconnect in the same process does not ask again');
  assert.ok(!existsSync(storeFile), 'accept-once writes nothing');
  await assert.rejects(connectSsh(options({ knownHostsFiles: [], trustStore })), /must not be asked/, 'a new connector asks again');

  const save = recordingPolicy('accept-save');
  (await connectSsh(options({ knownHostsFiles: [], trustStore, hostKeyPolicy: save.policy }))).close();
  assert.equal(save.calls.length, 1);
  assert.equal(readFileSync(storeFile, 'utf8'), `${sshd.knownHostsLine}\n`);
  (await connectSsh(options({ knownHostsFiles: [], trustStore }))).close();
  assert.ok(readFileSync(knownHosts, 'utf8') === `${sshd.knownHostsLine}\n`, "the user's known_hosts is never written");
});

test('a hashed known_hosts entry (ssh-keygen -H) is honoured', async () => {
  const hashed = path.join(tmp, 'hashed_known_hosts');
  writeFileSync(hashed, sshd.knownHostsLine + '\n');
  execFileSync('ssh-keygen', ['-q', '-H', '-f', hashed], { stdio: 'ignore' });
  assert.ok(!readFileSync(hashed, 'utf8').includes('127.0.0.1'));
  (await connectSsh(options({ knownHostsFiles: [hashed] }))).close();
});

test('a revoked key is refused without asking', async () => {
  const revoked = path.join(tmp, 'revoked_known_hosts');
  writeFileSync(revoked, `${sshd.knownHostsLine}\n@revoked * ${sshd.hostPublicKey}\n`);
  await assert.rejects(connectSsh(options({ knownHostsFiles: [revoked] })), (err: unknown) => {
    assert.ok(err instanceof HostKeyError && err.info.status === 'revoked');
    assert.match(err.message, /REVOKED/);
    return true;
  });
});

test('a changed key (the server was re-keyed on the same port) is refused without asking', async () => {
  const { port, dir } = sshd;
  await sshd.stop();
  const rekeyedDir = path.join(tmp, 'rekeyed');
  const rekeyed = await startSshd({ port, dir: rekeyedDir });
  try {
    assert.notEqual(rekeyed.hostPublicKey, sshd.hostPublicKey);
    const opts = options({ target: target({ identityFiles: [rekeyed.clientKeyPath] }) });
    await assert.rejects(connectSsh(opts), (err: unknown) => {
      assert.ok(err instanceof HostKeyError && err.info.status === 'changed');
      assert.match(err.message, /CHANGED/);
      assert.equal(err.info.fingerprintSha256, fingerprintSha256(Buffer.from(rekeyed.hostPublicKey.split(' ')[1], 'base64')));
      return true;
    });
  } finally {
    await rekeyed.stop();
    // The original server comes back with its own keys, on its port.
    sshd = await startSshd({ port, dir });
  }
});

test('a host key of another type than the one on record is asked about as a possible change, naming both types', async () => {
  const rsaFile = path.join(tmp, 'recorded_rsa');
  const recorded = path.join(tmp, 'rsa_known_hosts');
  writeFileSync(recorded, `[127.0.0.1]:${sshd.port} ${generateKey(rsaFile, 'rsa')}\n`);
  const before = accepted();
  const refuse = recordingPolicy('reject');
  await assert.rejects(connectSsh(options({ knownHostsFiles: [recorded], hostKeyPolicy: refuse.policy })), (err: unknown) => {
    assert.ok(err instanceof HostKeyError && err.info.status === 'type-changed');
    assert.match(err.message, /DIFFERENT TYPE/);
    assert.ok(err.message.includes('On record: ssh-rsa. Offered now: ssh-ed25519'), err.message);
    return true;
  });
  assert.deepEqual(refuse.calls, [{
    host: '127.0.0.1', port: sshd.port, keyType: 'ssh-ed25519', fingerprintSha256: hostFingerprint(), status: 'type-changed', recordedKeyTypes: ['ssh-rsa'],
  }]);
  assert.equal(accepted(), before, 'refused before authentication');
  const once = recordingPolicy('accept-once');
  (await connectSsh(options({ knownHostsFiles: [recorded], hostKeyPolicy: once.policy, acceptedOnce: new Set() }))).close();
  assert.equal(once.calls.length, 1, 'connects only once the user accepted the warning');
});

test('ProxyJump through two hops: every hop is verified and authenticated', async () => {
  const before = accepted();
  const hop = endpoint({ alias: 'jump' });
  const s = await connectSsh(options({ target: target({ jumps: [hop, hop] }) }));
  try {
    assert.equal((await s.exec('echo through')).stdout, 'through\n');
  } finally {
    await s.close();
  }
  assert.equal(accepted() - before, 3, 'two jump hosts and the target');
});

test('ssh-agent: a key held by the agent authenticates', async () => {
  const agentKey = path.join(tmp, 'agent_key');
  const pub = generateKey(agentKey);
  appendFileSync(path.join(sshd.dir, 'authorized_keys'), pub + '\n');
  const sock = path.join(tmp, 'agent.sock');
  const out = execFileSync('ssh-agent', ['-s', '-a', sock], { encoding: 'utf8' });
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)![1]);
  try {
    execFileSync('ssh-add', [agentKey], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
    const s = await connectSsh(options({ target: target({ identityFiles: [], identitiesOnly: false }), agent: sock }));
    assert.equal((await s.exec('echo agent')).stdout, 'agent\n');
    await s.close();
  } finally {
    process.kill(pid);
  }
});

test('a passphrase-protected key: asked once, kept in the secrets after the server accepted it', async () => {
  const keyFile = path.join(tmp, 'pp_key');
  const pub = generateKey(keyFile, 'ed25519', 'correct horse');
  appendFileSync(path.join(sshd.dir, 'authorized_keys'), pub + '\n');
  const store = new Map<string, string>();
  const secrets: Secrets = { get: async (k) => store.get(k), set: async (k, v) => { store.set(k, v); } };
  const asked: string[] = [];
  const answers = ['wrong one', 'correct horse'];
  const promptPassphrase = async ({ keyFile: f }: { keyFile: string }) => { asked.push(f); return answers.shift(); };
  const s = await connectSsh(options({ target: target({ identityFiles: [keyFile] }), secrets, promptPassphrase }));
  await s.close();
  assert.deepEqual(asked, [keyFile, keyFile], 'a wrong passphrase is asked again');
  assert.equal(store.get(secretKeys.passphrase(keyFile)), 'correct horse');
  const again = await connectSsh(options({
    target: target({ identityFiles: [keyFile] }), secrets,
    promptPassphrase: async () => { throw new Error('must not ask: the secret store has it'); },
  }));
  await again.close();
  await assert.rejects(connectSsh(options({ target: target({ identityFiles: [keyFile] }), promptPassphrase: async () => undefined })), /authentication failed/);
});

test('a dropped connection is noticed: onClose fires and the session says closed', async () => {
  const s = await connectSsh(options());
  const closed = new Promise<void>((resolve) => s.onClose(() => resolve()));
  sshd.killConnections();
  await closed;
  assert.equal(s.closed, true);
  await assert.rejects(s.exec('true'), /closed/);
});

function profile(extra: Partial<SshProfile> = {}): SshProfile {
  return {
    name: 'test', kind: 'ssh', host: sshd.host, port: sshd.port, user: sshd.user, identityFiles: [sshd.clientKeyPath],
    knownHostsFiles: [knownHosts], root: path.join(tmp, 'dcd root'), python: '/usr/bin/python3', ...extra,
  };
}

function connector(p: SshProfile) {
  return createConnector(p, {
    hostKeyPolicy: async () => 'reject', trustStoreFile: path.join(tmp, 'unused_store'), sshConfigFile: false, agent: false,
  });
}

test('folders DCD makes on the host are 0700: mkdirp, and uploads through either receiver', async () => {
  const p = profile({ root: path.join(tmp, 'private root') });
  const s = await connector(p).connect();
  const mode = (f: string) => (statSync(f).mode & 0o777).toString(8);
  try {
    const nested = path.join(p.root!, 'a', 'b');
    await s.mkdirp(nested);
    for (const d of [p.root!, path.join(p.root!, 'a'), nested]) assert.equal(mode(d), '700', d);
    const bundle = await collectBundle(STAND_IN_BACKEND);
    for (const receiver of ['auto', 'sh'] as const) {
      const parent = path.join(p.root!, `up-${receiver}`);
      const up = await uploadBundle(s, bundle, parent, { receiver });
      assert.equal(up.receiver, receiver === 'auto' ? 'python' : 'sh');
      assert.equal(mode(parent), '700', `${receiver}: the uploads folder`);
      assert.equal(mode(up.dest), '700', `${receiver}: the upload`);
    }
  } finally {
    await s.close();
  }
});

test("Check Host uploads the backend and runs its host_check.py; without Python it falls back to the shell", async () => {
  const p = profile();
  const s = await connector(p).connect();
  try {
    const real = await checkHost(s, p, REAL_BACKEND);
    assert.equal(real.via, 'host_check.py');
    assert.ok(real.backendDir.startsWith(`${p.root}/backend/`));
    assert.equal(real.summary.python, execFileSync('/usr/bin/python3', ['-c', 'import platform; print(platform.python_version())'], { encoding: 'utf8' }).trim());
    assert.ok(real.summary.torch, 'torch is installed here');
    assert.ok(typeof real.summary.diskFreeBytes === 'number' && real.summary.diskFreeBytes > 0);
    assert.ok(Array.isArray(real.summary.missing));

    const bare = { ...p, python: '/nonexistent/python3' };
    const shell = await checkHost(s, bare, REAL_BACKEND);
    assert.equal(shell.via, 'shell');
    assert.match(shell.pythonError!, /not found/);
    assert.match(shell.summary.os ?? '', /\S/);
    assert.ok(typeof shell.summary.diskFreeBytes === 'number' && shell.summary.diskFreeBytes > 0);
    assert.equal(readdirSync(path.join(p.root!, 'backend')).length, 1, 'the backend was uploaded once');
  } finally {
    await s.close();
  }
});

test('Set Up Host runs venv + pip and fails with a clear message when the index cannot provide the requirements', async () => {
  const p = profile({ root: path.join(tmp, 'setup root') });
  const s = await connector(p).connect();
  try {
    await assert.rejects(setupHost(s, p, STAND_IN_BACKEND, { timeoutMs: 120_000 }), (err: unknown) => {
      assert.ok(err instanceof HostSetupError);
      assert.match(err.message, /package index|internet|venv/);
      assert.match(err.message, /dcd-studio-no-such-package-for-tests|ensurepip|python3-venv/);
      return true;
    });
  } finally {
    await s.close();
  }
});

test('passwords: asked only when needed, kept after the server accepted them, forgotten when refused', async () => {
  // sshd here has no user with a password, so ssh2's own server plays the host for this one.
  const hostKeyFile = path.join(tmp, 'pw_host_key');
  const hostPub = generateKey(hostKeyFile);
  let password = 'open sesame';
  const server = new Server({ hostKeys: [readFileSync(hostKeyFile)] }, (client) => {
    client.on('authentication', (ctx) => {
      if (ctx.method === 'password' && ctx.password === password) ctx.accept();
      else ctx.reject(['password']);
    });
    client.on('ready', () => client.on('session', (accept) => {
      accept().on('sftp', (acceptSftp) => {
        const sftp = acceptSftp();
        sftp.on('REALPATH', (reqid) => sftp.name(reqid, [{ filename: '/home/pw', longname: '/home/pw', attrs: {} as never }]));
      });
    }));
    client.on('error', () => { /* the client hung up */ });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  const kh = path.join(tmp, 'pw_known_hosts');
  writeFileSync(kh, `[127.0.0.1]:${port} ${hostPub}\n`);
  const store = new Map<string, string>();
  const secrets: Secrets = { get: async (k) => store.get(k), set: async (k, v) => { store.set(k, v); }, delete: async (k) => { store.delete(k); } };
  const asked: string[] = [];
  const answers: string[] = [];
  const promptPassword = async (r: { user: string; host: string; port: number }) => { asked.push(`${r.user}@${r.host}:${r.port}`); return answers.shift(); };
  const opts = () => options({ target: target({ port, user: 'pw', identityFiles: [] }), knownHostsFiles: [kh], secrets, promptPassword });
  const key = secretKeys.password('pw', '127.0.0.1', port);
  try {
    answers.push('wrong', 'open sesame');
    const s1 = await connectSsh(opts());
    assert.equal(s1.home, '/home/pw');
    await s1.close();
    assert.equal(asked.length, 2, 'asked again after a wrong password');
    assert.equal(store.get(key), 'open sesame', 'kept once accepted');

    const s2 = await connectSsh(opts());
    await s2.close();
    assert.equal(asked.length, 2, 'the stored password is used without asking');

    password = 'changed';
    answers.push('changed');
    const s3 = await connectSsh(opts());
    await s3.close();
    assert.equal(asked.length, 3, 'a refused stored password leads to one question');
    assert.equal(store.get(key), 'changed');

    password = 'again';
    await assert.rejects(connectSsh(opts()), /authentication failed/, 'cancelling the prompt ends the attempt');
    assert.equal(store.has(key), false, 'the refused password was forgotten');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
