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
  const buffers = [Buffer.allocUnsafe(BATCH_BYTES), Buffer.allocUnsafe(BATCH_BYTES)];
  let current = 0;
  let used = 0;
  let pending: Promise<void> = Promise.resolve();
  const flush = async (): Promise<void> => {
    if (!used) return;
    const buf = buffers[current];
    const length = used;
    await pending; // the other buffer's write must finish before that buffer is refilled
    pending = writeAll(handle, buf, length);
    current ^= 1;
    used = 0;
  };
  try {
    for (const chunk of chunks) {
      if (typeof chunk === 'string') {
        // A string of n UTF-16 units encodes to at most 3n bytes.
        if (chunk.length * 3 > BATCH_BYTES - used) {
          await flush();
          if (chunk.length * 3 > BATCH_BYTES) { await pending; pending = writeAll(handle, Buffer.from(chunk)); continue; }
        }
        used += buffers[current].write(chunk, used);
      } else {
        if (chunk.length > BATCH_BYTES - used) {
          await flush();
          if (chunk.length > BATCH_BYTES) { await pending; pending = writeAll(handle, chunk); continue; }
        }
        buffers[current].set(chunk, used);
        used += chunk.length;
      }
    }
    await flush();
  } finally {
    await pending; // never leave a write in flight (its failure, if any, is thrown here)
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
