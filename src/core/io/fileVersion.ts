/**
 * File versions and compare-and-swap writes: the one mechanism by which the
 * editors that rewrite a corpus (the workbench, trace documents) avoid
 * writing over a change they did not read — another editor's save, a
 * `git pull`, a `dcd build` rerun.
 *
 * A version is what a writer loaded: mtime, size and a SHA-256 of the bytes.
 * The hash decides; mtime and size are recorded because they are what the
 * file system reports cheaply, and because a coarse mtime (1–2 s on some file
 * systems) can hide a same-size rewrite that only the hash reveals.
 *
 * `writeFileIfUnchanged` checks the file against the version its caller read
 * after the new bytes are in a temporary file and just before the rename
 * (atomicWrite.ts), under a per-path lock, so two writers in this process can
 * never interleave. Another process can still change the file in the
 * microseconds between that check and the rename; nothing short of mandatory
 * locks closes that, and the next save's check reports it.
 */
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from './atomicWrite';

export interface FileVersion {
  mtimeMs: number;
  size: number;
  /** SHA-256 of the content, hex. */
  hash: string;
}

export function hashBytes(bytes: string | Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The version of bytes with the stat they were read under. */
export function versionOf(bytes: Uint8Array, mtimeMs: number): FileVersion {
  return { mtimeMs, size: bytes.length, hash: hashBytes(bytes) };
}

/**
 * How the file now compares with the version a writer loaded:
 * - `same`: nothing changed;
 * - `touched`: only the mtime moved (a `touch`, a checkout writing identical
 *   bytes): writing loses nothing, so this is not a conflict;
 * - `changed`: the content differs, or the file appeared or disappeared.
 */
export type VersionChange = 'same' | 'touched' | 'changed';

export function compareVersions(loaded: FileVersion | null, current: FileVersion | null): VersionChange {
  if (!loaded || !current) return loaded === current ? 'same' : 'changed';
  if (loaded.size !== current.size || loaded.hash !== current.hash) return 'changed';
  return loaded.mtimeMs === current.mtimeMs ? 'same' : 'touched';
}

/** What an open document does about the file's current version (seen by a watcher or at save). */
export type ExternalChangeAction = 'ignore' | 'adopt' | 'reload' | 'conflict';

/**
 * - `ignore`: nothing changed;
 * - `adopt`: same content, new mtime: record the new version, keep everything;
 * - `reload`: the content changed and the document has no unsaved edits;
 * - `conflict`: the content changed under unsaved edits: ask (reload, compare, overwrite).
 */
export function externalChangeAction(loaded: FileVersion | null, current: FileVersion | null, dirty: boolean): ExternalChangeAction {
  const change = compareVersions(loaded, current);
  if (change === 'same') return 'ignore';
  if (change === 'touched') return 'adopt';
  // A file deleted under a clean document: keep showing it (VS Code does the same for text files).
  if (!current) return dirty ? 'conflict' : 'ignore';
  return dirty ? 'conflict' : 'reload';
}

/** Reads a file with the version of exactly the bytes returned (null version: the file does not exist). */
export async function readVersioned(file: string): Promise<{ bytes: Uint8Array; version: FileVersion } | null> {
  for (let attempt = 0; ; attempt++) {
    let before;
    let bytes: Buffer;
    try {
      before = await fs.stat(file);
      bytes = await fs.readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const after = await fs.stat(file).catch(() => null);
    // A write between the two stats: read again so mtime belongs to these bytes (the hash is theirs anyway).
    if (after && after.mtimeMs === before.mtimeMs && after.size === bytes.length) return { bytes, version: versionOf(bytes, after.mtimeMs) };
    if (attempt >= 3) return { bytes, version: versionOf(bytes, before.mtimeMs) };
  }
}

/**
 * The current version of a file; null when it does not exist. The file is
 * hashed as a stream, so checking a corpus of any size holds none of it.
 */
export async function currentVersion(file: string): Promise<FileVersion | null> {
  for (let attempt = 0; ; attempt++) {
    let before;
    let hashed: { hash: string; size: number };
    try {
      before = await fs.stat(file);
      hashed = await hashFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    const after = await fs.stat(file).catch(() => null);
    if ((after && after.mtimeMs === before.mtimeMs && after.size === hashed.size) || attempt >= 3) {
      return { mtimeMs: (after ?? before).mtimeMs, size: hashed.size, hash: hashed.hash };
    }
  }
}

/** SHA-256 and size of a file, read as a stream. */
export async function hashFile(file: string): Promise<{ hash: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { hash: h.digest('hex'), size };
}

/** The file is no longer at the version the writer read: nothing was written. */
export class FileChangedError extends Error {
  constructor(readonly file: string, readonly expected: FileVersion | null, readonly current: FileVersion | null) {
    super(current
      ? `${path.basename(file)} has been changed on disk since it was read: not written over.`
      : `${path.basename(file)} has been deleted on disk since it was read: not recreated.`);
    this.name = 'FileChangedError';
  }
}

const locks = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier call for the same file has settled. */
async function withFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const key = path.resolve(file);
  const previous = locks.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  try {
    return await run;
  } finally {
    if (locks.get(key) === tail) locks.delete(key);
  }
}

/**
 * Compare-and-swap write: replaces `file` with `data` atomically only if the
 * file is still at `expected` (null: only if it does not exist); otherwise
 * throws FileChangedError and leaves the file alone. Resolves with the new
 * version, which the caller records as what it now has on disk.
 */
export function writeFileIfUnchanged(file: string, expected: FileVersion | null, data: Uint8Array | string | Iterable<Uint8Array>): Promise<FileVersion> {
  return withFileLock(file, async () => {
    if (!(typeof data === 'string' || data instanceof Uint8Array)) {
      // Pieces (a big corpus copied line run by line run): hashed as they are written.
      const h = createHash('sha256');
      let size = 0;
      const pieces = data;
      const hashed = function* (): Generator<Uint8Array> { for (const p of pieces) { h.update(p); size += p.length; yield p; } };
      const stat = await writeFileAtomic(file, hashed(), {
        beforeRename: async () => {
          const current = await currentVersion(file);
          if (compareVersions(expected, current) === 'changed') throw new FileChangedError(file, expected, current);
        },
      });
      return { mtimeMs: stat.mtimeMs, size, hash: h.digest('hex') };
    }
    const stat = await writeFileAtomic(file, data, {
      beforeRename: async () => {
        const current = await currentVersion(file);
        if (compareVersions(expected, current) === 'changed') throw new FileChangedError(file, expected, current);
      },
    });
    const size = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    return { mtimeMs: stat.mtimeMs, size, hash: hashBytes(data) };
  });
}
