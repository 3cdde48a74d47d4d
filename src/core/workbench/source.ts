/**
 * Where the workbench document's original bytes live: in memory (small files,
 * other file systems, tests) or in the file itself, read on demand by
 * positioned reads of an open descriptor, so a corpus of any size costs the
 * extension host no more memory than the lines it is looking at.
 *
 * The descriptor stays open while the document (or a search worker) uses it:
 * an atomic rename over the path (our own save, `git pull`, `dcd build`)
 * leaves these bytes readable, and the document's watcher decides what to do
 * about the new file. A write in place into the same file is detected by
 * `check()` (size and mtime of the descriptor) before anything is copied from it.
 */
import { Buffer } from 'node:buffer';
import * as fs from 'node:fs';

export interface ByteSource {
  readonly size: number;
  /** Bytes [start, end) (a copy or a view: read-only). */
  read(start: number, end: number): Buffer;
  /** Throws when the bytes can no longer be trusted (changed in place). */
  check(): void;
  /** What a worker thread needs to read the same bytes. */
  ref(): SourceRef;
  /** Keeps the bytes readable until the matching release. */
  retain(): void;
  release(): void;
}

/** A source as a worker thread reads it: the process-wide descriptor, or the bytes themselves. */
export type SourceRef = { fd: number } | { bytes: Uint8Array };

export class MemorySource implements ByteSource {
  readonly bytes: Buffer;
  constructor(bytes: Uint8Array) {
    this.bytes = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  get size(): number { return this.bytes.length; }
  read(start: number, end: number): Buffer { return this.bytes.subarray(start, end); }
  check(): void { /* memory does not change */ }
  ref(): SourceRef { return { bytes: this.bytes }; }
  retain(): void { /* nothing to keep open */ }
  release(): void { /* nothing to close */ }
}

export class FileChangedInPlaceError extends Error {
  constructor(readonly file: string) {
    super(`${file} was rewritten in place while the workbench was reading it: reload it (nothing was written).`);
    this.name = 'FileChangedInPlaceError';
  }
}

export class FileSource implements ByteSource {
  private users = 1;
  private closed = false;

  private constructor(readonly file: string, readonly fd: number, readonly size: number, readonly mtimeMs: number) {}

  /** Opens a file for reading; `size` and `mtimeMs` are those of the opened descriptor. */
  static async open(file: string): Promise<FileSource> {
    // A plain descriptor, not a FileHandle (which closes itself when collected): workers read it too.
    const fd = await new Promise<number>((resolve, reject) => fs.open(file, 'r', (err, n) => (err ? reject(err) : resolve(n))));
    const st = fs.fstatSync(fd);
    return new FileSource(file, fd, st.size, st.mtimeMs);
  }

  read(start: number, end: number): Buffer {
    const len = Math.max(0, Math.min(end, this.size) - start);
    const buf = Buffer.allocUnsafe(len);
    let done = 0;
    while (done < len) {
      const n = fs.readSync(this.fd, buf, done, len - done, start + done);
      if (n === 0) throw new FileChangedInPlaceError(this.file);
      done += n;
    }
    return buf;
  }

  /** Reads into `buf` at `offset` (the streaming indexer's reused buffer). */
  readInto(buf: Buffer, offset: number, length: number, position: number): Promise<number> {
    return new Promise((resolve, reject) => {
      fs.read(this.fd, buf, offset, length, position, (err, n) => (err ? reject(err) : resolve(n)));
    });
  }

  check(): void {
    const st = fs.fstatSync(this.fd);
    if (st.size !== this.size || st.mtimeMs !== this.mtimeMs) throw new FileChangedInPlaceError(this.file);
  }

  ref(): SourceRef { return { fd: this.fd }; }
  retain(): void { this.users++; }
  release(): void {
    if (--this.users > 0 || this.closed) return;
    this.closed = true;
    fs.close(this.fd, () => undefined);
  }
}
