/**
 * The one gate between names a host chooses and files on this machine.
 *
 * A host (or whoever controls it) picks every name in an SFTP listing and
 * every path in `events.jsonl`. None of them may decide where we write: each
 * name must be a single plain path component, each local path is proven to
 * lie inside the folder the user chose, links are never followed, and a
 * download stops at a depth, a file count and a byte total (so a listing
 * cannot fill the disk or recurse for ever). Every download (SSH, local,
 * checkpoints, eval results) goes through {@link downloadTree} or
 * {@link safeLocalPath}.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** A name or path from a host that would leave the download folder. */
export class UnsafeRemotePathError extends Error {
  constructor(message: string) { super(message); this.name = 'UnsafeRemotePathError'; }
}

/** A download that went past one of its {@link DownloadLimits}; what was written so far stays. */
export class DownloadLimitError extends Error {
  constructor(message: string) { super(message); this.name = 'DownloadLimitError'; }
}

export interface DownloadLimits {
  /** Directory levels below the downloaded folder. */
  maxDepth: number;
  /** Files in one download. */
  maxFiles: number;
  /** Bytes in one download, summed over its files. */
  maxBytes: number;
}

/**
 * Generous for a checkpoint (a few levels, hundreds of shards, the full
 * optimizer state of a 14B model), small enough that a hostile listing is
 * stopped long before the disk is full.
 */
export const DEFAULT_DOWNLOAD_LIMITS: Readonly<DownloadLimits> = {
  maxDepth: 32,
  maxFiles: 100_000,
  maxBytes: 256 * 2 ** 30,
};

export interface DownloadOptions extends Partial<DownloadLimits> {
  /** One line per entry that was not downloaded (an unsafe name, a link, a device…). */
  onWarning?: (message: string) => void;
}

export interface DownloadResult {
  files: number;
  bytes: number;
  /** Entries left out, with why: the caller shows them, nothing is dropped silently. */
  skipped: Array<{ path: string; reason: string }>;
}

/** Why a name from a host cannot be one local path component; undefined when it can. */
export function remoteNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '') return 'an empty name';
  if (name === '.' || name === '..') return `the name ${JSON.stringify(name)} is a directory reference, not an entry`;
  if (name.includes('\0')) return 'the name contains a NUL byte';
  if (name.includes('/')) return 'the name contains "/"';
  if (name.includes('\\')) return 'the name contains "\\"';
  return undefined;
}

/** Whether `p` lies strictly below `root` (both resolved; no filesystem access). */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(path.resolve(root), path.resolve(p));
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** `root/name` for a name a host chose: the name is one plain component and the result is inside `root`, or this throws. */
export function safeLocalPath(root: string, name: string, what = 'name'): string {
  const problem = remoteNameProblem(name);
  if (problem) throw new UnsafeRemotePathError(`refusing the host's ${what} ${JSON.stringify(name)}: ${problem}`);
  const p = path.resolve(root, name);
  if (!isInside(root, p)) throw new UnsafeRemotePathError(`refusing the host's ${what} ${JSON.stringify(name)}: it resolves outside ${root}`);
  return p;
}

export type RemoteKind = 'file' | 'directory' | 'symlink' | 'other';

/** The kind of an entry from anything that answers like a stat (SFTP attributes, fs.Stats, fs.Dirent). */
export function kindOf(st: { isSymbolicLink(): boolean; isDirectory(): boolean; isFile(): boolean }): RemoteKind {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'directory';
  return st.isFile() ? 'file' : 'other';
}

export interface RemoteEntry {
  name: string;
  /** What the entry itself is (a link is `symlink`, never what it points to). */
  kind: RemoteKind;
  size: number;
}

/** What a host offers a download: the SFTP channel, or this machine's file system. */
export interface TreeSource {
  /** The path the caller named (a link there is followed: the caller chose it). */
  stat(remotePath: string): Promise<{ kind: RemoteKind; size: number }>;
  list(remoteDir: string): Promise<RemoteEntry[]>;
  /** Copies at most `size` bytes of a regular file to `localPath` (which is not there, or is a regular file). */
  copyFile(remotePath: string, localPath: string, size: number): Promise<void>;
}

/**
 * Copies a file or a directory tree from a host into `localPath`, under the
 * rules of this module. Unsafe names, links and special files are skipped
 * (each reported through `onWarning` and in `skipped`); going past a limit
 * throws {@link DownloadLimitError}.
 */
export async function downloadTree(source: TreeSource, remotePath: string, localPath: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const limits: DownloadLimits = {
    maxDepth: opts.maxDepth ?? DEFAULT_DOWNLOAD_LIMITS.maxDepth,
    maxFiles: opts.maxFiles ?? DEFAULT_DOWNLOAD_LIMITS.maxFiles,
    maxBytes: opts.maxBytes ?? DEFAULT_DOWNLOAD_LIMITS.maxBytes,
  };
  const target = path.resolve(localPath);
  const out: DownloadResult = { files: 0, bytes: 0, skipped: [] };
  const skip = (remote: string, reason: string) => {
    out.skipped.push({ path: remote, reason });
    opts.onWarning?.(`skipped ${remote}: ${reason}`);
  };

  const copy = async (remote: string, local: string, size: number) => {
    if (out.files + 1 > limits.maxFiles) throw new DownloadLimitError(`download of ${remotePath} stopped: more than ${limits.maxFiles} files (maxFiles)`);
    if (!Number.isSafeInteger(size) || size < 0 || out.bytes + size > limits.maxBytes) {
      throw new DownloadLimitError(`download of ${remotePath} stopped: ${remote} (${size} bytes) would take it past ${limits.maxBytes} bytes (maxBytes)`);
    }
    await refuseLocalLink(local);
    if (size === 0) await fs.writeFile(local, '');
    else await source.copyFile(remote, local, size);
    const written = (await fs.lstat(local)).size;
    if (written > size) throw new DownloadLimitError(`download of ${remotePath} stopped: ${remote} sent ${written} bytes where it listed ${size}`);
    out.files++;
    out.bytes += written;
  };

  const root = await source.stat(remotePath);
  if (root.kind === 'file') {
    await fs.mkdir(path.dirname(target), { recursive: true });
    await copy(remotePath, target, root.size);
    return out;
  }
  if (root.kind !== 'directory') throw new UnsafeRemotePathError(`${remotePath} on the host is neither a file nor a directory`);
  await ensureDirectory(target);
  const realTarget = await fs.realpath(target);

  const walk = async (remoteDir: string, localDir: string, depth: number): Promise<void> => {
    for (const entry of await source.list(remoteDir)) {
      // Every SFTP server lists these two; they are never entries to copy.
      if (entry.name === '.' || entry.name === '..') continue;
      const remote = `${remoteDir}/${entry.name}`;
      const problem = remoteNameProblem(entry.name);
      if (problem) { skip(`${remoteDir}/${JSON.stringify(entry.name)}`, problem); continue; }
      const local = path.join(localDir, entry.name);
      if (!isInside(target, local)) { skip(remote, `it would be written outside ${target}`); continue; }
      if (entry.kind === 'symlink') { skip(remote, 'a symbolic link (links are not followed)'); continue; }
      if (entry.kind === 'other') { skip(remote, 'not a regular file or directory'); continue; }
      if (entry.kind === 'file') { await copy(remote, local, entry.size); continue; }
      if (depth + 1 > limits.maxDepth) throw new DownloadLimitError(`download of ${remotePath} stopped: ${remote} is more than ${limits.maxDepth} levels deep (maxDepth)`);
      await ensureDirectory(local);
      // Proven on disk as well as on paper: no local link may carry us out.
      if (!isInside(realTarget, await fs.realpath(local))) throw new UnsafeRemotePathError(`${local} resolves outside ${target}`);
      await walk(remote, local, depth + 1);
    }
  };
  await walk(remotePath, target, 0);
  return out;
}

/** A real directory at `dir` (made if missing); a link or a file there is refused. */
async function ensureDirectory(dir: string): Promise<void> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  try {
    await fs.mkdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (!(await fs.lstat(dir)).isDirectory()) throw new UnsafeRemotePathError(`${dir} exists and is not a directory (a link?): refusing to download into it`);
  }
}

/** Writing through a link that is already in the target folder would land wherever it points. */
async function refuseLocalLink(file: string): Promise<void> {
  const st = await fs.lstat(file).catch(() => undefined);
  if (st && !st.isFile()) throw new UnsafeRemotePathError(`${file} exists and is not a regular file (a link?): refusing to overwrite it`);
}
