/**
 * SSH connections through `ssh2`: host key verification before
 * authentication (fail closed), ProxyJump chains, agent / key file / password
 * authentication with secrets kept by the caller, keepalives, and an SFTP
 * channel for reading and downloading files.
 *
 * Every UI decision is injected: the host key policy, the secret store and
 * the password/passphrase prompts. Nothing here logs a secret.
 */
import { Client, utils, type AnyAuthMethod, type AuthenticationType, type ClientChannel, type SFTPWrapper } from 'ssh2';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import {
  hostKeyRefusal, knownHostsName, lookupHostKey, readKnownHostsFiles,
  type HostKeyInfo, type KnownHostEntry, type TrustStore,
} from './knownHosts';
import { downloadTree, type DownloadOptions, type DownloadResult, kindOf, type TreeSource } from './safePaths';
import { PRIVATE_DIR_MODE, type ExecOptions, type ExecResult, type HostSession } from './session';
import type { SshEndpoint, SshTarget } from './sshConfig';

export type HostKeyDecision = 'accept-once' | 'accept-save' | 'reject';
/** Asked for an unknown key and for one of another type than the recorded ones (`info.status` says which); changed and revoked keys are refused without asking. */
export type HostKeyPolicy = (info: HostKeyInfo) => Promise<HostKeyDecision>;

/** Where passwords and key passphrases are kept (VS Code SecretStorage in the extension). */
export interface Secrets {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete?(key: string): Promise<void>;
}

export interface SshAuthDeps {
  secrets?: Secrets;
  /** Asks the user for a password; undefined: cancelled. */
  promptPassword?: (req: { user: string; host: string; port: number }) => Promise<string | undefined>;
  /** Asks the user for a key file's passphrase; undefined: cancelled. */
  promptPassphrase?: (req: { keyFile: string }) => Promise<string | undefined>;
  /** ssh-agent socket; default `SSH_AUTH_SOCK`; false: no agent. */
  agent?: string | false;
}

export interface SshConnectOptions extends SshAuthDeps {
  target: SshTarget;
  /** Read-only known_hosts files (the user's). */
  knownHostsFiles: readonly string[];
  /** The extension's own store: read, and written on `accept-save`. */
  trustStore: TrustStore;
  hostKeyPolicy: HostKeyPolicy;
  /** Keys accepted with `accept-once` in this process (`host:port fingerprint`), so a reconnect does not ask again. */
  acceptedOnce?: Set<string>;
  readyTimeoutMs?: number;
}

export const secretKeys = {
  password: (user: string, host: string, port: number) => `dcd.ssh.password:${user}@${host}:${port}`,
  passphrase: (keyFile: string) => `dcd.ssh.passphrase:${keyFile}`,
};

/** Connects through every jump host to the target; each hop's key is verified before it authenticates. */
export async function connectSsh(opts: SshConnectOptions): Promise<SshSession> {
  const entries = [
    ...(await readKnownHostsFiles(opts.knownHostsFiles)),
    ...(await opts.trustStore.entries()),
  ];
  const hops = [...opts.target.jumps, opts.target];
  const clients: Client[] = [];
  try {
    let sock: Readable | undefined;
    for (let i = 0; i < hops.length; i++) {
      const client = await connectHop(hops[i], sock, entries, opts);
      clients.push(client);
      if (i + 1 < hops.length) sock = await forward(client, hops[i + 1]);
    }
  } catch (err) {
    for (const c of clients.reverse()) c.end();
    throw err;
  }
  const t = opts.target;
  const session = new SshSession(clients, `${t.user}@${t.host}:${t.port}`);
  await session.init();
  return session;
}

function forward(client: Client, to: SshEndpoint): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, to.host, to.port, (err, stream) => {
      if (err) reject(new Error(`jump host could not open a channel to ${to.host}:${to.port}: ${err.message}`));
      else resolve(stream);
    });
  });
}

const ALGOS_FOR_TYPE: Record<string, string[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
};

/** Prefer the host key algorithms we already hold a key for, as OpenSSH does. */
function preferredHostKeyAlgos(entries: readonly KnownHostEntry[], ep: SshEndpoint): string[] {
  const probe = lookupHostKey(entries, ep.host, ep.port, Buffer.alloc(0));
  return probe.knownTypes.flatMap((t) => ALGOS_FOR_TYPE[t] ?? []);
}

function connectHop(ep: SshEndpoint, sock: Readable | undefined, entries: readonly KnownHostEntry[], opts: SshConnectOptions): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let refusal: Error | undefined;
    let settled = false;
    const auth = new AuthSequence(ep, opts);
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      client.end();
      reject(err);
    };
    client.on('ready', () => {
      if (settled) return;
      settled = true;
      auth.succeeded().then(() => resolve(client), (err: Error) => { client.end(); reject(err); });
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (refusal) return fail(refusal);
      if (err.level === 'client-authentication') {
        return fail(new Error(`authentication failed for ${ep.user}@${ep.host}:${ep.port} (tried: ${auth.tried.join(', ') || 'nothing'})`));
      }
      fail(new Error(`ssh ${ep.user}@${ep.host}:${ep.port}: ${err.message}`));
    });
    client.on('close', () => fail(refusal ?? new Error(`ssh ${ep.host}:${ep.port}: connection closed before it was ready`)));
    const preferred = preferredHostKeyAlgos(entries, ep);
    client.connect({
      host: ep.host,
      port: ep.port,
      sock,
      username: ep.user,
      readyTimeout: opts.readyTimeoutMs ?? 20_000,
      keepaliveInterval: ep.keepaliveIntervalMs,
      keepaliveCountMax: ep.keepaliveCountMax,
      algorithms: preferred.length ? { serverHostKey: { remove: preferred, prepend: preferred } as never } : undefined,
      // Always set: without it ssh2 accepts any key.
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        verifyHostKey(ep, key, entries, opts).then(() => verify(true), (err: Error) => { refusal = err; verify(false); });
      },
      authHandler: ((methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void) => {
        auth.next(methodsLeft).then(next, (err: Error) => { refusal = err; next(false); });
      }) as never,
    });
  });
}

async function verifyHostKey(ep: SshEndpoint, key: Buffer, entries: readonly KnownHostEntry[], opts: SshConnectOptions): Promise<void> {
  const found = lookupHostKey(entries, ep.host, ep.port, key);
  if (found.status === 'known') return;
  const info: HostKeyInfo = { host: ep.host, port: ep.port, keyType: found.keyType, fingerprintSha256: found.fingerprintSha256, status: found.status };
  if (found.status === 'type-changed') info.recordedKeyTypes = found.knownTypes;
  // A key of another type than the recorded ones is asked about (as OpenSSH does), with its own wording; a changed or revoked one never.
  if (found.status !== 'unknown' && found.status !== 'type-changed') throw hostKeyRefusal(info, found.entry);
  const onceKey = `${knownHostsName(ep.host, ep.port)} ${found.fingerprintSha256}`;
  if (opts.acceptedOnce?.has(onceKey)) return;
  const decision = await opts.hostKeyPolicy(info);
  if (decision === 'accept-save') {
    await opts.trustStore.add(ep.host, ep.port, key);
    return;
  }
  if (decision === 'accept-once') {
    opts.acceptedOnce?.add(onceKey);
    return;
  }
  throw hostKeyRefusal(info, found.entry);
}

/**
 * The order OpenSSH uses: agent keys, then identity files (asking for a
 * passphrase when one is needed), then a password. A secret that came from a
 * prompt is saved only once the server accepted it.
 */
class AuthSequence {
  readonly tried: string[] = [];
  private step = 0;
  private pendingSave?: { key: string; value: string };
  private passwordTries = 0;

  constructor(private readonly ep: SshEndpoint, private readonly deps: SshAuthDeps) {}

  async next(methodsLeft: AuthenticationType[] | null): Promise<AnyAuthMethod | false> {
    const allowed = (m: AuthenticationType) => methodsLeft === null || methodsLeft.includes(m);
    const username = this.ep.user;
    this.pendingSave = undefined;
    for (;;) {
      const step = this.step++;
      const agent = this.deps.agent === undefined ? process.env.SSH_AUTH_SOCK : this.deps.agent;
      if (step === 0) {
        if (agent && !this.ep.identitiesOnly && allowed('publickey')) {
          this.tried.push('agent');
          return { type: 'agent', username, agent };
        }
        continue;
      }
      const fileIndex = step - 1;
      if (fileIndex < this.ep.identityFiles.length) {
        if (!allowed('publickey')) continue;
        const file = this.ep.identityFiles[fileIndex];
        const method = await this.keyFileMethod(file);
        if (method) { this.tried.push(`publickey ${file}`); return method; }
        continue;
      }
      if (allowed('password') || allowed('keyboard-interactive')) {
        const password = await this.password();
        if (password === undefined) return false;
        this.step = step; // stay on the password step for a retry
        if (allowed('password')) { this.tried.push('password'); return { type: 'password', username, password }; }
        this.tried.push('keyboard-interactive');
        return {
          type: 'keyboard-interactive', username,
          prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => password)),
        };
      }
      return false;
    }
  }

  private async keyFileMethod(file: string): Promise<AnyAuthMethod | undefined> {
    let data: Buffer;
    try { data = await fs.readFile(file); } catch { return undefined; }
    // Parsed keys are handed over as they are: decrypting a key (bcrypt) is slow.
    const plain = utils.parseKey(data);
    if (!(plain instanceof Error)) return { type: 'publickey', username: this.ep.user, key: plain };
    if (!/passphrase|encrypted/i.test(plain.message)) return undefined; // not a key we can use: skip it, as OpenSSH does
    const secretKey = secretKeys.passphrase(path.resolve(file));
    const stored = await this.deps.secrets?.get(secretKey);
    if (stored !== undefined) {
      const key = utils.parseKey(data, stored);
      if (!(key instanceof Error)) return { type: 'publickey', username: this.ep.user, key };
    }
    for (let i = 0; i < 3 && this.deps.promptPassphrase; i++) {
      const pass = await this.deps.promptPassphrase({ keyFile: file });
      if (pass === undefined) return undefined;
      const key = utils.parseKey(data, pass);
      if (!(key instanceof Error)) {
        this.pendingSave = { key: secretKey, value: pass };
        return { type: 'publickey', username: this.ep.user, key };
      }
    }
    return undefined;
  }

  private async password(): Promise<string | undefined> {
    const { user, host, port } = this.ep;
    const key = secretKeys.password(user, host, port);
    const attempt = this.passwordTries++;
    if (attempt === 0) {
      const stored = await this.deps.secrets?.get(key);
      if (stored !== undefined) return stored;
    } else if (attempt === 1) {
      // The stored password (if any) was refused: forget it.
      await this.deps.secrets?.delete?.(key);
    }
    if (attempt > 3 || !this.deps.promptPassword) return undefined;
    const pass = await this.deps.promptPassword({ user, host, port });
    if (pass !== undefined) this.pendingSave = { key, value: pass };
    return pass;
  }

  /** The last method worked: keep the secret it used, if it was typed in. */
  async succeeded(): Promise<void> {
    if (this.pendingSave && this.deps.secrets) await this.deps.secrets.set(this.pendingSave.key, this.pendingSave.value);
    this.pendingSave = undefined;
  }
}

export class SshSession implements HostSession {
  readonly kind = 'ssh' as const;
  readonly label: string;
  home = '';
  private isClosed = false;
  private closeListeners: Array<(err?: Error) => void> = [];
  private sftpChannel?: Promise<SFTPWrapper>;
  private readonly client: Client;

  constructor(private readonly chain: Client[], label: string) {
    this.client = chain[chain.length - 1];
    this.label = label;
    let lastError: Error | undefined;
    for (const client of chain) {
      client.on('error', (err: Error) => { lastError = err; });
      client.on('close', () => this.markClosed(lastError));
    }
  }

  get closed(): boolean { return this.isClosed; }

  /** Learns the home directory (the SFTP server's start directory). */
  async init(): Promise<void> {
    const sftp = await this.sftp();
    this.home = await new Promise<string>((resolve, reject) => sftp.realpath('.', (err, p) => (err ? reject(err) : resolve(p))));
  }

  private markClosed(err?: Error): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const c of this.chain) c.end();
    for (const l of this.closeListeners.splice(0)) l(err);
  }

  private sftp(): Promise<SFTPWrapper> {
    if (!this.sftpChannel) {
      this.sftpChannel = new Promise<SFTPWrapper>((resolve, reject) => {
        this.client.sftp((err, sftp) => {
          if (err) { this.sftpChannel = undefined; reject(err); return; }
          sftp.on('close', () => { this.sftpChannel = undefined; });
          resolve(sftp);
        });
      });
    }
    return this.sftpChannel;
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.isClosed) return Promise.reject(new Error(`ssh connection to ${this.label} is closed`));
    return new Promise((resolve, reject) => {
      this.client.exec(command, (err, stream) => {
        if (err) { reject(err); return; }
        const out: Buffer[] = [];
        const errOut: Buffer[] = [];
        let code: number | null = null;
        let signal: string | undefined;
        let timer: NodeJS.Timeout | undefined;
        stream.on('data', (d: Buffer) => out.push(d));
        stream.stderr.on('data', (d: Buffer) => errOut.push(d));
        stream.on('exit', (c: number | null, s?: string) => { code = c ?? null; signal = s ?? undefined; });
        stream.on('error', () => { /* surfaced as a null exit code */ });
        stream.on('close', () => {
          if (timer) clearTimeout(timer);
          resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8') });
        });
        if (opts.timeoutMs) timer = setTimeout(() => { stream.signal('KILL'); stream.close(); }, opts.timeoutMs);
        const input = opts.stdin;
        if (input === undefined) stream.end();
        else if (typeof input === 'string' || Buffer.isBuffer(input)) stream.end(input);
        else {
          input.on('error', () => stream.close());
          input.pipe(stream);
        }
      });
    });
  }

  async readFrom(file: string, offset: number, maxBytes: number): Promise<Buffer | undefined> {
    const sftp = await this.sftp();
    const handle = await new Promise<Buffer | undefined>((resolve, reject) => sftp.open(file, 'r', (err, h) => {
      if (err) { if ((err as { code?: number }).code === 2) resolve(undefined); else reject(err); } else resolve(h);
    }));
    if (!handle) return undefined;
    try {
      const size = await new Promise<number>((resolve, reject) => sftp.fstat(handle, (err, st) => (err ? reject(err) : resolve(st.size))));
      const n = Math.max(0, Math.min(maxBytes, size - offset));
      const buf = Buffer.alloc(n);
      let got = 0;
      while (got < n) {
        const read = await new Promise<number>((resolve, reject) => sftp.read(handle, buf, got, Math.min(n - got, 1 << 18), offset + got,
          (err, bytes) => (err ? reject(err) : resolve(bytes))));
        if (read === 0) break;
        got += read;
      }
      return buf.subarray(0, got);
    } finally {
      await new Promise<void>((resolve) => sftp.close(handle, () => resolve()));
    }
  }

  async stat(file: string): Promise<{ isDirectory: boolean; size: number } | undefined> {
    const sftp = await this.sftp();
    return new Promise((resolve, reject) => sftp.stat(file, (err, st) => {
      if (err) { if ((err as { code?: number }).code === 2) resolve(undefined); else reject(err); } else resolve({ isDirectory: st.isDirectory(), size: st.size });
    }));
  }

  async mkdirp(dir: string): Promise<void> {
    const sftp = await this.sftp();
    const parts = dir.split('/').filter(Boolean);
    let cur = dir.startsWith('/') ? '' : '.';
    for (const part of parts) {
      cur = `${cur}/${part}`;
      const st = await this.stat(cur);
      if (st?.isDirectory) continue;
      await new Promise<void>((resolve, reject) => sftp.mkdir(cur, { mode: PRIVATE_DIR_MODE }, (err) => {
        // A concurrent mkdir may win the race; that is fine if a directory is there now.
        if (!err) return resolve();
        this.stat(cur).then((s) => (s?.isDirectory ? resolve() : reject(new Error(`cannot create ${cur} on ${this.label}: ${err.message}`))), reject);
      }));
    }
  }

  async writeFile(file: string, data: string | Buffer): Promise<void> {
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) => sftp.writeFile(file, data, (err) => (err ? reject(err) : resolve())));
  }

  /** POSIX rename (replaces an existing file) where the server offers it, else plain SFTP rename. */
  async rename(from: string, to: string): Promise<void> {
    const sftp = await this.sftp();
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error | null) => (err ? reject(err) : resolve());
      try { sftp.ext_openssh_rename(from, to, done); } catch { sftp.rename(from, to, done); }
    });
  }

  async download(remotePath: string, localPath: string, opts?: DownloadOptions): Promise<DownloadResult> {
    return downloadTree(sftpTree(await this.sftp()), remotePath, localPath, opts);
  }

  onClose(listener: (err?: Error) => void): void {
    if (this.isClosed) listener();
    else this.closeListeners.push(listener);
  }

  async close(): Promise<void> {
    this.markClosed();
  }
}


/** The SFTP side of a download: the kinds come from the listing (lstat), so a link is seen as a link. */
function sftpTree(sftp: SFTPWrapper): TreeSource {
  return {
    stat: (p) => new Promise((resolve, reject) => sftp.stat(p, (err, st) => (err ? reject(err) : resolve({ kind: kindOf(st), size: st.size })))),
    list: (dir) => new Promise((resolve, reject) => sftp.readdir(dir, (err, list) => (err ? reject(err)
      : resolve(list.map((e) => ({ name: e.filename, kind: kindOf(e.attrs), size: e.attrs.size })))))),
    // The size from the listing bounds what is read: a server that later claims more cannot make us write more.
    copyFile: (remote, local, size) => new Promise((resolve, reject) => sftp.fastGet(remote, local, { fileSize: size }, (err) => (err ? reject(err) : resolve()))),
  };
}
