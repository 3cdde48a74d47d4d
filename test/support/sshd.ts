/**
 * A real OpenSSH server on 127.0.0.1 for tests: it stands in for a remote
 * training host. Each call starts a private `sshd -D` (its own config, keys,
 * authorized_keys and log in a temp dir) on a free port, and logs in as the
 * user running the tests. Needs root (sshd's privilege separation) and
 * `/usr/sbin/sshd`.
 *
 *   const sshd = await startSshd();
 *   ... connect to 127.0.0.1:sshd.port as sshd.user with sshd.clientKeyPath,
 *       trusting sshd.knownHostsLine ...
 *   await sshd.stop();
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SshProfile } from '../../src/core/remote/profiles';
import type { HostSession } from '../../src/core/remote/session';

export const SSHD_BIN = process.env.DCD_SSHD || '/usr/sbin/sshd';

export interface SshdOptions {
  /** Work directory (keys, config, log); default: a new temp dir, removed by stop(). */
  dir?: string;
  /** Port to listen on; default: a free one. Reuse a port with a new host key to fake a changed key. */
  port?: number;
  /** Host key type for a generated host key (default ed25519). */
  hostKeyType?: 'ed25519' | 'ecdsa' | 'rsa';
  /** Use this existing host private key instead of generating one. */
  hostKeyPath?: string;
  /** Encrypt the generated client key with this passphrase. */
  clientKeyPassphrase?: string;
  /** More public key lines to authorize. */
  authorizedKeys?: string[];
  /** Extra sshd_config lines. */
  extraConfig?: string[];
}

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  user: string;
  dir: string;
  hostKeyPath: string;
  /** The host public key, `type base64` (no comment). */
  hostPublicKey: string;
  clientKeyPath: string;
  clientPublicKey: string;
  /** A known_hosts line that trusts this server: `[127.0.0.1]:port type base64`. */
  knownHostsLine: string;
  logPath: string;
  pid: number;
  /** Drops every open connection (kills the per-connection sshd processes); the listener stays. */
  killConnections(): void;
  stop(): Promise<void>;
}

/** Generates an ssh key pair; returns the public key line without its comment. */
export function generateKey(file: string, type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519', passphrase = ''): string {
  rmSync(file, { force: true });
  rmSync(`${file}.pub`, { force: true });
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', passphrase, '-C', 'dcd-test', '-f', file], { stdio: 'ignore' });
  return publicKeyOf(`${file}.pub`);
}

function publicKeyOf(pubFile: string): string {
  return readFileSync(pubFile, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForBanner(port: number, timeoutMs: number, child: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('data', (d) => { s.destroy(); resolve(d.toString('latin1').startsWith('SSH-')); });
      s.once('error', () => resolve(false));
      s.setTimeout(1000, () => { s.destroy(); resolve(false); });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not answer on port ${port}: ${existsSync(logPath) ? readFileSync(logPath, 'utf8') : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Child process ids of a process, read from /proc. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch { /* gone */ }
  }
  return out;
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  if (!existsSync(SSHD_BIN)) throw new Error(`${SSHD_BIN} not found: install openssh-server`);
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'dcd-sshd-'));
  mkdirSync(dir, { recursive: true });
  mkdirSync('/run/sshd', { recursive: true });
  const port = opts.port ?? await freePort();
  let hostKeyPath = opts.hostKeyPath;
  if (!hostKeyPath) {
    hostKeyPath = path.join(dir, `host_${opts.hostKeyType ?? 'ed25519'}_key`);
    if (!existsSync(hostKeyPath)) generateKey(hostKeyPath, opts.hostKeyType ?? 'ed25519');
  }
  const hostPublicKey = existsSync(`${hostKeyPath}.pub`)
    ? publicKeyOf(`${hostKeyPath}.pub`)
    : execFileSync('ssh-keygen', ['-y', '-f', hostKeyPath], { encoding: 'utf8' }).trim().split(/\s+/).slice(0, 2).join(' ');
  const clientKeyPath = path.join(dir, 'client_key');
  const clientPublicKey = existsSync(clientKeyPath) && !opts.clientKeyPassphrase
    ? publicKeyOf(`${clientKeyPath}.pub`)
    : generateKey(clientKeyPath, 'ed25519', opts.clientKeyPassphrase ?? '');
  const authorizedKeysPath = path.join(dir, 'authorized_keys');
  writeFileSync(authorizedKeysPath, [clientPublicKey, ...(opts.authorizedKeys ?? [])].join('\n') + '\n', { mode: 0o600 });
  const logPath = path.join(dir, 'sshd.log');
  const configPath = path.join(dir, 'sshd_config');
  writeFileSync(configPath, [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKeyPath}`,
    `AuthorizedKeysFile ${authorizedKeysPath}`,
    `PidFile ${path.join(dir, 'sshd.pid')}`,
    'StrictModes no',
    'UsePAM no',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'AllowTcpForwarding yes',
    'MaxStartups 100',
    'MaxSessions 100',
    'LogLevel VERBOSE',
    'Subsystem sftp internal-sftp',
    ...(opts.extraConfig ?? []),
  ].join('\n') + '\n');
  const child = spawn(SSHD_BIN, ['-D', '-f', configPath, '-E', logPath], { stdio: 'ignore' });
  const onExit = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
  process.once('exit', onExit);
  try {
    await waitForBanner(port, 10_000, child, logPath);
  } catch (err) {
    onExit();
    throw err;
  }
  const [type, b64] = hostPublicKey.split(' ');
  const pid = child.pid!;
  return {
    host: '127.0.0.1',
    port,
    user: os.userInfo().username,
    dir,
    hostKeyPath,
    hostPublicKey,
    clientKeyPath,
    clientPublicKey,
    knownHostsLine: `[127.0.0.1]:${port} ${type} ${b64}`,
    logPath,
    pid,
    killConnections() {
      for (const c of childrenOf(pid)) {
        try { process.kill(c, 'SIGKILL'); } catch { /* already gone */ }
      }
    },
    async stop() {
      process.removeListener('exit', onExit);
      for (const c of childrenOf(pid)) {
        try { process.kill(c, 'SIGKILL'); } catch { /* already gone */ }
      }
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A failed test may leave a detached job running on the test host: kill the
 * process group of every job runner (`runner.pid`, src/core/jobs/runner.ts) under `dir`.
 */
export function killLeftoverJobs(dir: string): void {
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'runner.pid') {
        const pid = Number(readFileSync(p, 'utf8'));
        // Only a runner that still runs this job's run.sh (a reused pid is someone else's).
        try {
          const ours = readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('run.sh')
            && readFileSync(`/proc/${pid}/cwd/run.sh`, 'utf8') === readFileSync(path.join(d, 'run.sh'), 'utf8');
          if (ours) process.kill(-pid, 'SIGKILL');
        } catch { /* gone, or not ours */ }
      }
    }
  };
  if (dir && existsSync(dir)) walk(dir);
}

/**
 * An `ssh` host profile for this server: its address, the client key, a known_hosts file that
 * trusts it, the host's Python and DCD's root folder, detached with setsid.
 */
export function loopbackProfile(s: Sshd, o: { knownHosts: string; python: string; root: string }, extra: Partial<SshProfile> = {}): SshProfile {
  return {
    name: 'loopback', kind: 'ssh', host: s.host, port: s.port, user: s.user, identityFiles: [s.clientKeyPath],
    knownHostsFiles: [o.knownHosts], python: o.python, root: o.root, launcher: 'setsid', ...extra,
  };
}

/** A session that appends each command line it runs to `commands`, then runs it. */
export function recordingSession(session: HostSession, commands: string[]): HostSession {
  return new Proxy(session, {
    get(target, prop) {
      if (prop === 'exec') return (cmd: string, o?: Parameters<HostSession['exec']>[1]) => { commands.push(cmd); return target.exec(cmd, o); };
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}
