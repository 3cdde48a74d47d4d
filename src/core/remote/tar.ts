/**
 * A minimal, deterministic tar writer (POSIX ustar, with a pax `path` record
 * for names that do not fit or are not ASCII). Only what uploads need:
 * regular files and directories, fixed owner (0/0) and mtime, so the same
 * tree always gives the same bytes. No tar library is a declared dependency.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

export interface TarEntry {
  /** Path inside the archive, `/`-separated, relative. */
  name: string;
  type: 'file' | 'dir';
  /** File bytes: a path to read, or the bytes themselves. */
  source?: string | Buffer;
  size?: number;
  /** Permission bits (default 0644 for files, 0755 for directories). */
  mode?: number;
}

const BLOCK = 512;
/** Fixed mtime for reproducible archives (2000-01-01T00:00:00Z). */
export const TAR_MTIME = 946684800;

function octal(n: number, width: number): string {
  // width includes the terminating NUL
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name: string, type: '0' | '5' | 'x', size: number, mode: number): Buffer {
  if (size >= 8 ** 11) throw new Error(`tar entry ${name} is too large for ustar (8 GiB)`);
  const h = Buffer.alloc(BLOCK);
  Buffer.from(name, 'utf8').copy(h, 0, 0, 100);
  h.write(octal(mode, 8), 100, 'latin1');
  h.write(octal(0, 8), 108, 'latin1');
  h.write(octal(0, 8), 116, 'latin1');
  h.write(octal(size, 12), 124, 'latin1');
  h.write(octal(TAR_MTIME, 12), 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write(type, 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 'latin1');
  return h;
}

function padding(size: number): Buffer {
  const rem = size % BLOCK;
  return Buffer.alloc(rem === 0 ? 0 : BLOCK - rem);
}

/** A pax extended header record: "<len> path=<value>\n", where len counts itself. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  const bodyLen = Buffer.byteLength(body);
  let len = bodyLen + String(bodyLen).length;
  if (String(len).length !== String(bodyLen).length) len = bodyLen + String(len).length;
  return Buffer.from(`${len}${body}`, 'utf8');
}

/** The header blocks for one entry (a pax header first when the name needs one). */
export function entryHeader(entry: TarEntry, size: number): Buffer {
  if (entry.name.includes('\0')) throw new Error('tar entry name contains NUL');
  const name = entry.type === 'dir' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  const mode = entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644);
  const blocks: Buffer[] = [];
  if (Buffer.byteLength(name) > 100 || /[^\x20-\x7e]/.test(name)) {
    const rec = paxRecord('path', name);
    blocks.push(header('PaxHeader', 'x', rec.length, 0o644), rec, padding(rec.length));
  }
  // With a pax path the ustar name is only a fallback for old readers.
  blocks.push(header(name, entry.type === 'dir' ? '5' : '0', entry.type === 'dir' ? 0 : size, mode));
  return Buffer.concat(blocks);
}

async function* tarChunks(entries: readonly TarEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    if (entry.type === 'dir') { yield entryHeader(entry, 0); continue; }
    const src = entry.source;
    if (Buffer.isBuffer(src)) {
      yield entryHeader(entry, src.length);
      yield src;
      yield padding(src.length);
      continue;
    }
    if (typeof src !== 'string' || entry.size === undefined) throw new Error(`tar entry ${entry.name}: a file needs a source path and a size`);
    yield entryHeader(entry, entry.size);
    let got = 0;
    for await (const chunk of createReadStream(src, { highWaterMark: 1 << 20 })) {
      const b = chunk as Buffer;
      got += b.length;
      if (got > entry.size) throw new Error(`${src} grew while it was being archived`);
      yield b;
    }
    if (got !== entry.size) throw new Error(`${src} changed size while it was being archived`);
    yield padding(entry.size);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** The archive as a stream of bytes. */
export function tarStream(entries: readonly TarEntry[]): Readable {
  return Readable.from(tarChunks(entries), { objectMode: false });
}
