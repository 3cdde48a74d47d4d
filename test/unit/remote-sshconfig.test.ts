import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseHostSpec, resolveSshTarget } from '../../src/core/remote/sshConfig';
import { loadHostsFile, normalizeProfile, sshProfileFromSpec } from '../../src/core/remote/profiles';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CONFIG = `
# the training box, two hops away
Host gpu
  HostName 10.0.0.5
  User alice
  Port 2200
  IdentityFile ~/.ssh/id_gpu
  IdentityFile %d/keys/%r@%h-%p
  ProxyJump bastion,carol@inner:2222
  ServerAliveInterval 30
  ServerAliveCountMax 5
  IdentitiesOnly yes

Host bastion
  HostName bastion.example.org
  User bob

Host direct
  HostName direct.example.org
  ProxyJump none

Host *
  IdentityFile ~/.ssh/id_default
  Match exec "touch /tmp/dcd-should-never-exist"
`;

const opts = { configText: CONFIG, homeDir: '/home/me', localUser: 'me' };

test('a Host alias resolves HostName, User, Port, identity files with tokens, and keepalives', () => {
  const t = resolveSshTarget({ host: 'gpu' }, opts);
  assert.equal(t.alias, 'gpu');
  assert.equal(t.host, '10.0.0.5');
  assert.equal(t.user, 'alice');
  assert.equal(t.port, 2200);
  assert.deepEqual(t.identityFiles, ['/home/me/.ssh/id_gpu', '/home/me/keys/alice@10.0.0.5-2200', '/home/me/.ssh/id_default']);
  assert.equal(t.keepaliveIntervalMs, 30_000);
  assert.equal(t.keepaliveCountMax, 5);
  assert.equal(t.identitiesOnly, true);
});

test('ProxyJump with two hops: each hop is resolved through the config too, first hop first', () => {
  const t = resolveSshTarget({ host: 'gpu' }, opts);
  assert.deepEqual(t.jumps.map((j) => [j.user, j.host, j.port]), [['bob', 'bastion.example.org', 22], ['carol', 'inner', 2222]]);
  assert.deepEqual(t.jumps[0].identityFiles, ['/home/me/.ssh/id_default']);
});

test('explicit settings beat the config; ProxyJump none means direct', () => {
  const t = resolveSshTarget({ host: 'gpu', user: 'root', port: 22, identityFiles: ['/k'], proxyJump: 'none' }, opts);
  assert.deepEqual([t.user, t.port, t.identityFiles, t.jumps], ['root', 22, ['/k'], []]);
  assert.deepEqual(resolveSshTarget({ host: 'direct' }, opts).jumps, []);
});

test('an unknown name is its own host name, with the local user and port 22; no config is fine', () => {
  const t = resolveSshTarget({ host: 'elsewhere.org' }, { homeDir: '/h', localUser: 'u' });
  assert.deepEqual([t.host, t.user, t.port, t.jumps, t.identityFiles], ['elsewhere.org', 'u', 22, [], []]);
  assert.equal(t.keepaliveIntervalMs, 15_000, 'keepalives are on by default');
});

test('Match exec is never run while reading the config', () => {
  resolveSshTarget({ host: 'gpu' }, opts);
  assert.ok(!existsSync('/tmp/dcd-should-never-exist'));
});

test('a ProxyJump loop is refused', () => {
  const loop = 'Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n';
  assert.throws(() => resolveSshTarget({ host: 'a' }, { configText: loop, homeDir: '/h', localUser: 'u' }), /loop|deeper/);
});

test('parseHostSpec: user@host:port, bare host, IPv6 in brackets, bad ports', () => {
  assert.deepEqual(parseHostSpec('alice@gpu:2222'), { user: 'alice', host: 'gpu', port: 2222 });
  assert.deepEqual(parseHostSpec('gpu'), { user: undefined, host: 'gpu', port: undefined });
  assert.deepEqual(parseHostSpec('root@[::1]:22'), { user: 'root', host: '::1', port: 22 });
  assert.throws(() => parseHostSpec('gpu:0'), /port/);
  assert.throws(() => parseHostSpec('gpu:ssh'), /port/);
  assert.throws(() => parseHostSpec('@gpu'), /user/);
});

test('host profiles: settings objects, hosts files, the built-in local profile', async () => {
  assert.deepEqual(normalizeProfile({ name: 'box', host: 'gpu', port: 2200, user: 'a', python: '/opt/py/bin/python' }),
    { name: 'box', kind: 'ssh', host: 'gpu', port: 2200, user: 'a', python: '/opt/py/bin/python', root: undefined, launcher: undefined, identityFiles: undefined, proxyJump: undefined, knownHostsFiles: undefined });
  assert.equal(normalizeProfile({ name: 'here', host: 'local' }).kind, 'local');
  assert.throws(() => normalizeProfile({ name: 'x', host: 'h', port: 70000 }), /port/);
  assert.throws(() => normalizeProfile({ host: 'h' }), /name/);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dcd-hosts-'));
  const file = path.join(dir, 'hosts.json');
  writeFileSync(file, JSON.stringify({ hosts: [{ name: 'box', host: 'gpu', identityFile: '~/.ssh/k' }] }));
  const profiles = await loadHostsFile(file);
  assert.deepEqual(profiles.map((p) => [p.name, p.kind]), [['local', 'local'], ['box', 'ssh']]);
  assert.deepEqual((await loadHostsFile(undefined)).map((p) => p.name), ['local']);
  assert.deepEqual(sshProfileFromSpec('root@127.0.0.1:2222'), { kind: 'ssh', name: 'root@127.0.0.1:2222', host: '127.0.0.1', port: 2222, user: 'root' });
});
