/**
 * Host key verification against OpenSSH `known_hosts` files, read only.
 *
 * Supported: plain and hashed (`|1|salt|hmac`) host names, comma-separated
 * patterns with `*`/`?` wildcards and `!` negation, `[host]:port` for ports
 * other than 22, and the `@revoked` marker. `@cert-authority` lines are
 * skipped (certificates are not supported), as are malformed lines.
 *
 * Keys the user accepts are saved only in the extension's own store (a file
 * in known_hosts format, see {@link TrustStore}); the user's known_hosts files
 * are never written.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../io/atomicWrite';

export interface KnownHostEntry {
  marker?: 'revoked' | 'cert-authority';
  /** The raw host field: patterns, or one hashed name. */
  hosts: string;
  keyType: string;
  key: Buffer;
  /** Where the line came from, for messages. */
  source?: string;
  line?: number;
}

/**
 * `type-changed`: the files hold keys for this host, but none of the offered
 * key's type. OpenSSH warns about it: it may be a re-keyed host, or someone in
 * the middle who offers a type the client has no record of.
 */
export type HostKeyStatus = 'known' | 'unknown' | 'changed' | 'type-changed' | 'revoked';

export interface HostKeyInfo {
  host: string;
  port: number;
  keyType: string;
  /** `SHA256:` + unpadded base64, as `ssh-keygen -lf` prints it. */
  fingerprintSha256: string;
  status: Exclude<HostKeyStatus, 'known'>;
  /** With `type-changed`: the key types on record for this host. */
  recordedKeyTypes?: string[];
}

export interface HostKeyLookup {
  status: HostKeyStatus;
  keyType: string;
  fingerprintSha256: string;
  /** The entry that decided a `known`, `changed` or `revoked` status. */
  entry?: KnownHostEntry;
  /** Key types the files hold for this host (any status). */
  knownTypes: string[];
}

/** Parses known_hosts text; lines that do not parse are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, source?: string): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    if (fields.length < 3) continue;
    const [hosts, keyType, b64] = fields;
    const key = Buffer.from(b64, 'base64');
    if (key.length === 0 || blobKeyType(key) !== keyType) continue;
    out.push({ marker, hosts, keyType, key, source, line: i + 1 });
  }
  return out;
}

/** The key type named inside an SSH public key blob (its first string). */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const n = blob.readUInt32BE(0);
  if (n === 0 || n > 64 || 4 + n > blob.length) return undefined;
  return blob.subarray(4, 4 + n).toString('latin1');
}

export function fingerprintSha256(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

/** The name OpenSSH looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** One known_hosts line for a key, with a plain host name. */
export function formatKnownHostsLine(host: string, port: number, blob: Buffer): string {
  const type = blobKeyType(blob);
  if (!type) throw new Error('not an SSH public key blob');
  return `${knownHostsName(host, port)} ${type} ${blob.toString('base64')}`;
}

function globToRegExp(pattern: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 'i');
}

function hashedMatches(field: string, name: string): boolean {
  const parts = field.split('|'); // ['', '1', salt, hash]
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2], 'base64');
  const want = Buffer.from(parts[3], 'base64');
  const got = createHmac('sha1', salt).update(name).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/** Whether an entry's host field names `host`:`port`. */
export function hostFieldMatches(field: string, host: string, port: number): boolean {
  const name = knownHostsName(host, port);
  if (field.startsWith('|')) return hashedMatches(field, name);
  let matched = false;
  for (const raw of field.split(',')) {
    const negate = raw.startsWith('!');
    const pattern = negate ? raw.slice(1) : raw;
    if (!pattern) continue;
    if (globToRegExp(pattern).test(name)) {
      if (negate) return false;
      matched = true;
    }
  }
  return matched;
}

/** Looks a server's key up: revoked beats known, known beats changed. */
export function lookupHostKey(entries: readonly KnownHostEntry[], host: string, port: number, blob: Buffer): HostKeyLookup {
  const keyType = blobKeyType(blob) ?? 'unknown';
  const fingerprint = fingerprintSha256(blob);
  const matching = entries.filter((e) => e.marker !== 'cert-authority' && hostFieldMatches(e.hosts, host, port));
  const knownTypes = [...new Set(matching.filter((e) => !e.marker).map((e) => e.keyType))];
  const base = { keyType, fingerprintSha256: fingerprint, knownTypes };
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(blob) && hostFieldMatches(e.hosts, host, port));
  if (revoked) return { status: 'revoked', entry: revoked, ...base };
  const known = matching.find((e) => !e.marker && e.key.equals(blob));
  if (known) return { status: 'known', entry: known, ...base };
  const changed = matching.find((e) => !e.marker && e.keyType === keyType);
  if (changed) return { status: 'changed', entry: changed, ...base };
  const otherType = matching.find((e) => !e.marker);
  if (otherType) return { status: 'type-changed', entry: otherType, ...base };
  return { status: 'unknown', ...base };
}

/** Reads known_hosts files that exist; missing ones count as empty. */
export async function readKnownHostsFiles(files: readonly string[]): Promise<KnownHostEntry[]> {
  const out: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try { text = await fs.readFile(file, 'utf8'); } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    out.push(...parseKnownHosts(text, file));
  }
  return out;
}

/**
 * The extension's own store of accepted host keys: a known_hosts-format file
 * that only DCD Studio writes.
 */
export class TrustStore {
  constructor(readonly file: string) {}

  async entries(): Promise<KnownHostEntry[]> {
    return readKnownHostsFiles([this.file]);
  }

  async add(host: string, port: number, blob: Buffer): Promise<void> {
    const text = await fs.readFile(this.file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    });
    const sep = text === '' || text.endsWith('\n') ? '' : '\n';
    await writeFileAtomic(this.file, text + sep + formatKnownHostsLine(host, port, blob) + '\n');
  }

  /** Forgets every key saved for host:port; returns how many lines went. */
  async remove(host: string, port: number): Promise<number> {
    let text: string;
    try { text = await fs.readFile(this.file, 'utf8'); } catch { return 0; }
    const kept: string[] = [];
    let removed = 0;
    for (const line of text.split('\n')) {
      const [entry] = parseKnownHosts(line);
      if (entry && !entry.marker && hostFieldMatches(entry.hosts, host, port)) removed++;
      else if (line !== '') kept.push(line);
    }
    if (removed) await writeFileAtomic(this.file, kept.map((l) => l + '\n').join(''));
    return removed;
  }
}

/** A refused host key: changed, revoked, or unknown and not accepted. */
export class HostKeyError extends Error {
  constructor(readonly info: HostKeyInfo, message: string) { super(message); this.name = 'HostKeyError'; }
}

export function hostKeyRefusal(info: HostKeyInfo, entry?: KnownHostEntry): HostKeyError {
  const where = entry?.source ? ` (${entry.source}${entry.line ? `:${entry.line}` : ''})` : '';
  const name = knownHostsName(info.host, info.port);
  switch (info.status) {
    case 'revoked':
      return new HostKeyError(info, `Host key for ${name} is REVOKED${where}: ${info.keyType} ${info.fingerprintSha256}. Refusing to connect.`);
    case 'changed':
      return new HostKeyError(info, `Host key for ${name} has CHANGED: the server offers ${info.keyType} ${info.fingerprintSha256}, which differs from the key on record${where}. This could be a man-in-the-middle attack, or the host was reinstalled. Refusing to connect; remove the old key yourself if the change is expected.`);
    case 'type-changed':
      return new HostKeyError(info, `Host key for ${name} is of a DIFFERENT TYPE than the one on record${where}: ${typeChangeWarning(info).detail} It was not accepted. Refusing to connect.`);
    default:
      return new HostKeyError(info, `Host key for ${name} is not known (${info.keyType} ${info.fingerprintSha256}) and was not accepted. Refusing to connect.`);
  }
}

/** The words for a `type-changed` key, the same in every prompt and error: what is on record, what is offered, what it may mean. */
export function typeChangeWarning(info: HostKeyInfo): { message: string; detail: string } {
  const recorded = info.recordedKeyTypes?.length ? info.recordedKeyTypes.join(', ') : 'another type';
  return {
    message: `WARNING: ${knownHostsName(info.host, info.port)} offers a host key of a different type than the one on record. This could be a man-in-the-middle attack.`,
    detail: `On record: ${recorded}. Offered now: ${info.keyType} ${info.fingerprintSha256}. The host's keys may have been changed, or someone may be intercepting the connection. Connect only if the host's administrator confirms this ${info.keyType} fingerprint.`,
  };
}
