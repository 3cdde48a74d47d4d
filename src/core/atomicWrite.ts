/**
 * Atomic file writes: write a temporary file beside the target, flush it, then
 * rename over the target, so a crash never leaves a half-written corpus.
 * Large outputs can be given as an iterable of chunks (e.g. JSONL lines):
 * they are written in ~8 MB batches, never joined into one giant string.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';

const BATCH_BYTES = 8 * 1024 * 1024;

export async function writeFileAtomic(file: string, data: string | Uint8Array | Iterable<string | Uint8Array>): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await fs.open(tmp, 'w');
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await handle.writeFile(data);
    } else {
      let batch: Uint8Array[] = [];
      let size = 0;
      for (const chunk of data) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        batch.push(bytes);
        size += bytes.length;
        if (size >= BATCH_BYTES) { await handle.write(Buffer.concat(batch)); batch = []; size = 0; }
      }
      if (batch.length) await handle.write(Buffer.concat(batch));
    }
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    const st = await fs.stat(file).catch(() => undefined);
    if (st) await fs.chmod(tmp, st.mode);
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
}
