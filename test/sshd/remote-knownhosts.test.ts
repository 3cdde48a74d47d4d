import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  fingerprintSha256, formatKnownHostsLine, hostFieldMatches, hostKeyRefusal, lookupHostKey, parseKnownHosts, TrustStore, typeChangeWarning,
} from '../../src/core/remote/knownHosts';
import { generateKey } from '../support/sshd';

const dir = mkdtempSync(path.join(os.tmpdir(), 'dcd-kh-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/** A fresh key pair made by OpenSSH: [public line, blob]. */
function key(name: string, type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519'): { line: string; blob: Buffer; file: string } {
  const file = path.join(dir, name);
  const line = generateKey(file, type);
  return { line, blob: Buffer.from(line.split(' ')[1], 'base64'), file };
}

const a = key('a');
const b = key('b');
const rsa = key('r', 'rsa');

test('fingerprints match ssh-keygen -l -E sha256', () => {
  for (const k of [a, rsa]) {
    const out = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${k.file}.pub`], { encoding: 'utf8' });
    assert.equal(fingerprintSha256(k.blob), out.split(' ')[1]);
  }
});

test('plain names: port 22 is bare, other ports are [host]:port', () => {
  const entries = parseKnownHosts(`example.org ${a.line}\n[example.org]:2222 ${b.line}\n`);
  assert.equal(lookupHostKey(entries, 'example.org', 22, a.blob).status, 'known');
  assert.equal(lookupHostKey(entries, 'example.org', 2222, b.blob).status, 'known');
  // The port-22 key does not vouch for port 2222 and vice versa.
  assert.equal(lookupHostKey(entries, 'example.org', 2222, a.blob).status, 'changed');
  assert.equal(lookupHostKey(entries, 'example.org', 2200, a.blob).status, 'unknown');
  assert.equal(lookupHostKey(entries, 'other.org', 22, a.blob).status, 'unknown');
});

test('hashed names written by ssh-keygen -H are matched, and agree with ssh-keygen -F', () => {
  const file = path.join(dir, 'hashed_known_hosts');
  writeFileSync(file, `gpu.example.org ${a.line}\n[10.0.0.7]:2201 ${b.line}\n`);
  execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes('gpu.example.org') && text.startsWith('|1|'), 'ssh-keygen hashed the names');
  const entries = parseKnownHosts(text, file);
  assert.equal(entries.length, 2);
  assert.equal(lookupHostKey(entries, 'gpu.example.org', 22, a.blob).status, 'known');
  assert.equal(lookupHostKey(entries, '10.0.0.7', 2201, b.blob).status, 'known');
  assert.equal(lookupHostKey(entries, '10.0.0.7', 22, b.blob).status, 'unknown');
  assert.equal(lookupHostKey(entries, 'gpu.example.org', 22, b.blob).status, 'changed');
  for (const [name, found] of [['gpu.example.org', true], ['[10.0.0.7]:2201', true], ['10.0.0.7', false]] as const) {
    let ok = true;
    try { execFileSync('ssh-keygen', ['-F', name, '-f', file], { stdio: 'ignore' }); } catch { ok = false; }
    assert.equal(ok, found, `ssh-keygen -F ${name}`);
    const [host, port] = name.startsWith('[') ? [name.slice(1, name.indexOf(']')), Number(name.split(':').pop())] : [name, 22];
    assert.equal(entries.some((e) => hostFieldMatches(e.hosts, host, port)), found, `ours for ${name}`);
  }
});

test('patterns: comma lists, * and ? wildcards, ! negation', () => {
  assert.ok(hostFieldMatches('a.org,b.org', 'b.org', 22));
  assert.ok(hostFieldMatches('*.example.org', 'gpu1.example.org', 22));
  assert.ok(hostFieldMatches('gpu?.example.org', 'gpu7.example.org', 22));
  assert.ok(!hostFieldMatches('gpu?.example.org', 'gpu17.example.org', 22));
  assert.ok(!hostFieldMatches('*.example.org,!bad.example.org', 'bad.example.org', 22));
  assert.ok(hostFieldMatches('[*.example.org]:2222', 'x.example.org', 2222));
  assert.ok(!hostFieldMatches('*.example.org', 'x.example.org', 2222), 'a bare pattern means port 22');
  assert.ok(hostFieldMatches('GPU.Example.ORG', 'gpu.example.org', 22), 'host names are case-insensitive');
});

test('@revoked wins over a matching plain entry; @cert-authority lines are skipped', () => {
  const entries = parseKnownHosts([
    `gpu.example.org ${a.line}`,
    `@revoked * ${a.line}`,
    `@cert-authority *.example.org ${b.line}`,
    'garbage line',
    `# comment ${b.line}`,
    '',
  ].join('\n'));
  assert.equal(entries.length, 3);
  const r = lookupHostKey(entries, 'gpu.example.org', 22, a.blob);
  assert.equal(r.status, 'revoked');
  assert.equal(lookupHostKey(entries, 'x.example.org', 22, b.blob).status, 'unknown', 'a CA key is not a host key');
});

test('a key of another type than the recorded ones is a possible key change (type-changed), not unknown', () => {
  const entries = parseKnownHosts(`gpu.example.org ${rsa.line}\n`, '/k');
  const r = lookupHostKey(entries, 'gpu.example.org', 22, a.blob);
  assert.equal(r.status, 'type-changed');
  assert.deepEqual(r.knownTypes, ['ssh-rsa']);
  assert.equal(r.entry?.source, '/k', 'the recorded entry is named in messages');
  assert.equal(lookupHostKey(entries, 'other.example.org', 22, a.blob).status, 'unknown', 'another host is still unknown');
  const info = { host: 'gpu.example.org', port: 22, keyType: r.keyType, fingerprintSha256: r.fingerprintSha256, status: 'type-changed' as const, recordedKeyTypes: r.knownTypes };
  const words = typeChangeWarning(info);
  assert.match(words.message, /different type.*man-in-the-middle/);
  assert.match(words.detail, new RegExp(`On record: ssh-rsa\\. Offered now: ssh-ed25519 ${r.fingerprintSha256.replace(/[+/]/g, '\\$&')}`));
  assert.match(hostKeyRefusal(info, r.entry).message, /DIFFERENT TYPE.*\(\/k:1\).*ssh-rsa.*ssh-ed25519/);
});

test('lines whose key type disagrees with the blob are ignored', () => {
  const [type, b64] = a.line.split(' ');
  assert.equal(type, 'ssh-ed25519');
  assert.equal(parseKnownHosts(`h ssh-rsa ${b64}\n`).length, 0);
});

test('TrustStore appends OpenSSH-readable lines, and forgets a host', async () => {
  const store = new TrustStore(path.join(dir, 'sub', 'trusted_hosts'));
  assert.deepEqual(await store.entries(), []);
  await store.add('127.0.0.1', 2222, a.blob);
  await store.add('gpu.example.org', 22, b.blob);
  const text = readFileSync(store.file, 'utf8');
  assert.equal(text, `${formatKnownHostsLine('127.0.0.1', 2222, a.blob)}\n${formatKnownHostsLine('gpu.example.org', 22, b.blob)}\n`);
  execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', store.file], { stdio: 'ignore' });
  assert.equal(lookupHostKey(await store.entries(), '127.0.0.1', 2222, a.blob).status, 'known');
  assert.equal(await store.remove('127.0.0.1', 2222), 1);
  assert.equal(lookupHostKey(await store.entries(), '127.0.0.1', 2222, a.blob).status, 'unknown');
  assert.equal(lookupHostKey(await store.entries(), 'gpu.example.org', 22, b.blob).status, 'known');
});
