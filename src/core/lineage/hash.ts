/**
 * Content hashes of lineage nodes (docs/FORMATS.md §6): a file's sha256, and
 * a folder's — the sha256 of its sorted `relpath \t sha256 \n` lines — with a
 * cache keyed by path, size and mtime so that multi-gigabyte weights are read
 * once, not on every look.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite';

/** The sidecar file name; never part of a folder's hash (it records that hash). */
export const LINEAGE_FILE = 'dcd_lineage.json';

/** sha256 of file contents, remembered per (path, size, mtime); optionally kept in a JSON file. */
export class HashCache {
  private entries = new Map<string, string>();
  private dirty = false;

  constructor(readonly file?: string) {}

  private static key(p: string, size: number, mtimeMs: number): string {
    return `${p}\0${size}\0${Math.round(mtimeMs)}`;
  }

  async load(): Promise<this> {
    if (!this.file) return this;
    try {
      const data = JSON.parse(await fs.readFile(this.file, 'utf8')) as { version?: number; entries?: Record<string, string> };
      if (data.version === 1 && data.entries && typeof data.entries === 'object') {
        for (const [k, v] of Object.entries(data.entries)) if (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) this.entries.set(k, v);
      }
    } catch { /* no cache yet, or an unreadable one: start empty */ }
    return this;
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify({ version: 1, entries: Object.fromEntries(this.entries) }) + '\n');
    this.dirty = false;
  }

  /** The sha256 of a regular file's bytes. */
  async fileHash(file: string): Promise<string> {
    const abs = path.resolve(file);
    const st = await fs.stat(abs);
    const key = HashCache.key(abs, st.size, st.mtimeMs);
    const known = this.entries.get(key);
    if (known) return known;
    const h = await sha256File(abs);
    this.entries.set(key, h);
    this.dirty = true;
    return h;
  }

  /** docs/FORMATS.md §6 folder hash of `dir`. */
  async folderHash(dir: string): Promise<string> {
    const files = await listFiles(dir);
    const lines: string[] = [];
    for (const rel of files) lines.push(`${rel}\t${await this.fileHash(path.join(dir, rel))}\n`);
    return folderHashOf(lines);
  }
}

export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file).on('error', reject).on('data', (b) => h.update(b)).on('end', () => resolve(h.digest('hex')));
  });
}

/** The hash of the `relpath \t sha256 \n` lines, already sorted. */
export function folderHashOf(lines: string[]): string {
  const h = createHash('sha256');
  for (const l of lines) h.update(l, 'utf8');
  return h.digest('hex');
}

/**
 * The regular files under `dir`, as POSIX relative paths sorted by their
 * UTF-8 bytes; symbolic links and `dcd_lineage.json` files are left out.
 */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile() && e.name !== LINEAGE_FILE) out.push(r);
    }
  }
  await walk('');
  return out.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}
