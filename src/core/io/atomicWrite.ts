/**
 * Atomic file writes: write a temporary file beside the target, flush it, then
 * rename over the target, so a crash never leaves a half-written corpus.
 * Large outputs can be given as an iterable of chunks (e.g. JSONL lines):
 * they are copied into two reused batch buffers and written while the next
 * batch fills, never joined into one giant string. Reusing the buffers
 * matters: on this project's VMs a first touch of fresh memory costs ~4 ms per
 * MB, more than encoding and writing it.
 */
import { promises as fs, type Stats } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

const BATCH_BYTES = 4 * 1024 * 1024;

export interface AtomicWriteOptions {
  /**
   * Runs once the temporary file is complete, just before it replaces the
   * target; throwing abandons the write. The slow part (writing, syncing) is
   * over by then, so a check made here leaves the shortest window for a
   * change to slip in before the rename (see fileVersion.ts).
   */
  beforeRename?: () => Promise<void>;
}

/** Writes `file` atomically; resolves with the stat of the new file (rename keeps its mtime and size). */
export async function writeFileAtomic(file: string, data: string | Uint8Array | Iterable<string | Uint8Array>, options: AtomicWriteOptions = {}): Promise<Stats> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'w');
  let written: Stats;
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) await handle.writeFile(data);
    else await writeChunks(handle, data);
    await handle.sync();
    written = await handle.stat();
  } catch (err) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await options.beforeRename?.();
    const st = await fs.stat(file).catch(() => undefined);
    if (st) await fs.chmod(tmp, st.mode);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  return written;
}

/** Writes chunks in order through two alternating batch buffers (one fills while the other is written). */
async function writeChunks(handle: fs.FileHandle, chunks: Iterable<string | Uint8Array>): Promise<void> {
  const w = new ChunkWriter(handle);
  try {
    for (const chunk of chunks) {
      const p = w.write(chunk);
      if (p) await p;
    }
    await w.flush();
  } finally {
    await w.settle();
  }
}

/**
 * Chunks written in order through two alternating batch buffers (one fills
 * while the other is written); write returns a promise only when it had to
 * wait for a buffer (back-pressure), so a tight loop of small writes stays synchronous.
 */
class ChunkWriter {
  private readonly buffers = [Buffer.allocUnsafe(BATCH_BYTES), Buffer.allocUnsafe(BATCH_BYTES)];
  private current = 0;
  private used = 0;
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly handle: fs.FileHandle) {}

  write(chunk: string | Uint8Array): Promise<void> | undefined {
    // A string of n UTF-16 units encodes to at most 3n bytes.
    const room = typeof chunk === 'string' ? chunk.length * 3 : chunk.length;
    if (room > BATCH_BYTES - this.used) return this.writeSlow(chunk, room);
    if (typeof chunk === 'string') this.used += this.buffers[this.current].write(chunk, this.used);
    else { this.buffers[this.current].set(chunk, this.used); this.used += chunk.length; }
    return undefined;
  }

  private async writeSlow(chunk: string | Uint8Array, room: number): Promise<void> {
    await this.flush();
    if (room > BATCH_BYTES) { await this.pending; this.pending = writeAll(this.handle, typeof chunk === 'string' ? Buffer.from(chunk) : chunk); return; }
    this.write(chunk);
  }

  async flush(): Promise<void> {
    if (!this.used) return;
    const buf = this.buffers[this.current];
    const length = this.used;
    await this.pending; // the other buffer's write must finish before that buffer is refilled
    this.pending = writeAll(this.handle, buf, length);
    this.current ^= 1;
    this.used = 0;
  }

  /** Waits for the write in flight (its failure, if any, is thrown here). */
  settle(): Promise<void> { return this.pending; }
}

/**
 * A file written atomically from a stream of chunks whose end is not known in
 * advance (a corpus export written while the corpus is read): `write` each
 * chunk (await the promise it returns, if any), then `commit` (sync, rename
 * over the target) or `abort` (the target untouched, the temporary removed).
 */
export class AtomicFileWriter {
  private constructor(readonly file: string, private readonly tmp: string, private readonly handle: fs.FileHandle, private readonly w: ChunkWriter) {}

  static async open(file: string): Promise<AtomicFileWriter> {
    const dir = path.dirname(file);
    await fs.mkdir(dir, { recursive: true });
    const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const handle = await fs.open(tmp, 'w');
    return new AtomicFileWriter(file, tmp, handle, new ChunkWriter(handle));
  }

  write(chunk: string | Uint8Array): Promise<void> | undefined { return this.w.write(chunk); }

  async commit(): Promise<Stats> {
    let written: Stats;
    try {
      await this.w.flush();
      await this.w.settle();
      await this.handle.sync();
      written = await this.handle.stat();
    } catch (err) {
      await this.abort();
      throw err;
    }
    await this.handle.close();
    try {
      const st = await fs.stat(this.file).catch(() => undefined);
      if (st) await fs.chmod(this.tmp, st.mode);
      await fs.rename(this.tmp, this.file);
    } catch (err) {
      await fs.rm(this.tmp, { force: true });
      throw err;
    }
    return written;
  }

  async abort(): Promise<void> {
    await this.w.settle().catch(() => undefined);
    await this.handle.close().catch(() => undefined);
    await fs.rm(this.tmp, { force: true });
  }
}

/** Writes all of bytes[0, length) at the file's current position (a write may be partial). */
function writeAll(handle: fs.FileHandle, bytes: Uint8Array, length = bytes.length): Promise<void> {
  const run = async (): Promise<void> => {
    let done = 0;
    while (done < length) done += (await handle.write(bytes, done, length - done)).bytesWritten;
  };
  const p = run();
  p.catch(() => undefined); // awaited later; this only keeps an early failure from counting as unhandled
  return p;
}
