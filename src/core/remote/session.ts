/**
 * A connection to a host that runs jobs: this machine (`local`) or an SSH
 * server. The job engine only talks to this interface, so both profiles run
 * the same job code.
 *
 * Commands are POSIX shell command lines built with `shellQuote`. Data for a
 * command (a file's bytes, secret environment values) always travels on its
 * standard input, never on the command line.
 */
import type { Readable } from 'node:stream';
import type { DownloadOptions, DownloadResult } from './safePaths';

export interface ExecOptions {
  /** Bytes for the command's stdin; stdin is closed after them (or at once when absent). */
  stdin?: string | Buffer | Readable;
  /** Kills the command (local) or closes its channel (ssh) after this many ms. */
  timeoutMs?: number;
}

export interface ExecResult {
  /** Exit status; null when the command died from a signal or lost its connection. */
  code: number | null;
  signal?: string;
  stdout: string;
  stderr: string;
}

export interface HostSession {
  readonly kind: 'local' | 'ssh';
  /** `user@host:port` or `local`, for messages. */
  readonly label: string;
  /** The login user's home directory on the host (absolute). */
  readonly home: string;
  readonly closed: boolean;
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Up to `maxBytes` bytes of a file from byte `offset` (fewer at its end);
   * `undefined` when the file does not exist.
   */
  readFrom(file: string, offset: number, maxBytes: number): Promise<Buffer | undefined>;
  /** File or directory metadata; undefined when nothing is there. */
  stat(file: string): Promise<{ isDirectory: boolean; size: number } | undefined>;
  /** Creates a directory and its missing parents (no shell involved). */
  mkdirp(dir: string): Promise<void>;
  /** Writes a whole file (no shell involved); the parent directory must exist. */
  writeFile(file: string, data: string | Buffer): Promise<void>;
  /** Renames a file or directory on the host; fails when `to` exists (unless both are files). */
  rename(from: string, to: string): Promise<void>;
  /**
   * Copies a file or a directory tree from the host into `localPath`, through
   * `safePaths.downloadTree`: unsafe names and links are skipped, limits throw.
   */
  download(remotePath: string, localPath: string, opts?: DownloadOptions): Promise<DownloadResult>;
  /** Called once when the connection ends (dropped or closed). */
  onClose(listener: (err?: Error) => void): void;
  close(): Promise<void>;
}

/**
 * Everything DCD makes on a host (`~/.dcd`, uploads, job folders, logs,
 * checkpoints) holds the user's data, code or tokens in logs: other users of
 * a shared host must not read it. Folders are made with this mode, and host
 * scripts that create files start with {@link PRIVATE_UMASK}.
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_UMASK = 'umask 077';

/** Runs a command and fails with its stderr unless it exits 0. */
export async function execChecked(session: HostSession, command: string, opts?: ExecOptions): Promise<ExecResult> {
  const r = await session.exec(command, opts);
  if (r.code !== 0) {
    const detail = (r.stderr || r.stdout).trim().split('\n').slice(-8).join('\n');
    throw new RemoteCommandError(session.label, r, detail);
  }
  return r;
}

export class RemoteCommandError extends Error {
  constructor(readonly host: string, readonly result: ExecResult, detail: string) {
    super(`command on ${host} failed (${result.code === null ? `signal ${result.signal ?? 'or lost connection'}` : `exit ${result.code}`})${detail ? `: ${detail}` : ''}`);
    this.name = 'RemoteCommandError';
  }
}

/** Writes a small file on the host atomically: a temp file, then a rename over the target. */
export async function writeHostFileAtomic(session: HostSession, file: string, data: string | Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await session.writeFile(tmp, data);
  await session.rename(tmp, file);
}

/** A whole (small) file as text, or undefined when it does not exist. */
export async function readHostText(session: HostSession, file: string, maxBytes = 1 << 20): Promise<string | undefined> {
  const buf = await session.readFrom(file, 0, maxBytes);
  return buf?.toString('utf8');
}

/** Makes a host path absolute: `~` and `~/x` are resolved against the login home, relative paths too. */
export function hostPath(home: string, p: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return `${home}/${p.slice(2)}`;
  if (p.startsWith('/')) return p;
  return `${home}/${p}`;
}

/** POSIX join for host paths (the host may not be this OS). */
export function joinHost(...parts: string[]): string {
  return parts.join('/').replace(/\/{2,}/g, '/');
}
