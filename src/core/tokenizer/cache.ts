/**
 * The on-disk token cache, keyed by sample content: one small binary file per
 * distinct (tokenizer, template preset, trace text). It holds the layout
 * (mask.ts) and the untruncated ids, so an audit reads 36 bytes per sample and
 * an export reads the ids; policy and max_length are applied afterwards.
 *
 * File: little-endian int32s: magic, version, the 7-integer packed layout,
 * then the ids. Written to a temporary name and renamed (no fsync: a torn
 * entry fails validation and is recomputed).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PACKED_LAYOUT_LENGTH, packLayout, unpackLayout, type TraceLayout } from '../trace/mask';
import { sha256Hex } from './source';

const MAGIC = 0x54444344; // "DCDT"
/** Bump when tokenization or the layout changes meaning. */
export const CACHE_VERSION = 1;
const HEADER_INTS = 2 + PACKED_LAYOUT_LENGTH;
const HEADER_BYTES = HEADER_INTS * 4;

export function defaultCacheDir(): string {
  return path.join(os.tmpdir(), 'dcd-token-cache');
}

/** The cache key of a trace. */
export function sampleKey(text: string, preset = 'paper'): string {
  return sha256Hex(`dcd-trace\u0000${preset}\u0000${text}`);
}

export function encodeEntry(layout: TraceLayout, ids: Int32Array): Uint8Array {
  const buf = new Int32Array(HEADER_INTS + ids.length);
  buf[0] = MAGIC;
  buf[1] = CACHE_VERSION;
  buf.set(packLayout(layout), 2);
  buf.set(ids, HEADER_INTS);
  return new Uint8Array(buf.buffer);
}

function headerOk(h: Int32Array, byteLength: number): boolean {
  return h[0] === MAGIC && h[1] === CACHE_VERSION && h[2] >= 0 && byteLength === HEADER_BYTES + 4 * h[2];
}

export class TokenCache {
  /** The folder of this tokenizer's entries. */
  readonly dir: string;
  constructor(root: string, tokenizerSha256: string) {
    this.dir = path.join(root, `${tokenizerSha256.slice(0, 16)}-v${CACHE_VERSION}`);
  }

  file(key: string): string {
    return path.join(this.dir, key.slice(0, 2), `${key}.bin`);
  }

  /** The cached layout, or null (missing or invalid entry). */
  async readLayout(key: string): Promise<TraceLayout | null> {
    let handle: fs.FileHandle;
    try { handle = await fs.open(this.file(key), 'r'); } catch { return null; }
    try {
      const head = new Int32Array(HEADER_INTS);
      const [{ bytesRead }, st] = await Promise.all([
        handle.read(new Uint8Array(head.buffer), 0, HEADER_BYTES, 0),
        handle.stat(),
      ]);
      if (bytesRead !== HEADER_BYTES || !headerOk(head, st.size)) return null;
      return unpackLayout(head.subarray(2));
    } catch {
      return null;
    } finally {
      await handle.close();
    }
  }

  /** The cached layout and ids, or null. */
  async read(key: string): Promise<{ layout: TraceLayout; ids: Int32Array } | null> {
    let bytes: Buffer;
    try { bytes = await fs.readFile(this.file(key)); } catch { return null; }
    if (bytes.byteLength < HEADER_BYTES) return null;
    const all = new Int32Array(bytes.byteLength >> 2);
    new Uint8Array(all.buffer).set(bytes.subarray(0, all.length * 4));
    if (!headerOk(all, bytes.byteLength)) return null;
    return { layout: unpackLayout(all.subarray(2, HEADER_INTS)), ids: all.subarray(HEADER_INTS) };
  }

  /**
   * Layouts of a whole list of traces in one file (the warm path of an audit:
   * one read instead of one per sample). `listKey` names the list (a hash of
   * its keys); null when missing or invalid.
   */
  async readLayoutList(listKey: string, count: number): Promise<TraceLayout[] | null> {
    let bytes: Buffer;
    try { bytes = await fs.readFile(path.join(this.dir, 'lists', `${listKey}.bin`)); } catch { return null; }
    const n = 3 + count * PACKED_LAYOUT_LENGTH;
    if (bytes.byteLength !== n * 4) return null;
    const all = new Int32Array(n);
    new Uint8Array(all.buffer).set(bytes);
    if (all[0] !== MAGIC || all[1] !== CACHE_VERSION || all[2] !== count) return null;
    const out: TraceLayout[] = [];
    for (let i = 0; i < count; i++) out.push(unpackLayout(all.subarray(3 + i * PACKED_LAYOUT_LENGTH, 3 + (i + 1) * PACKED_LAYOUT_LENGTH)));
    return out;
  }

  async writeLayoutList(listKey: string, layouts: readonly TraceLayout[]): Promise<void> {
    const all = new Int32Array(3 + layouts.length * PACKED_LAYOUT_LENGTH);
    all[0] = MAGIC;
    all[1] = CACHE_VERSION;
    all[2] = layouts.length;
    layouts.forEach((l, i) => all.set(packLayout(l), 3 + i * PACKED_LAYOUT_LENGTH));
    const file = path.join(this.dir, 'lists', `${listKey}.bin`);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await fs.writeFile(tmp, new Uint8Array(all.buffer));
    await fs.rename(tmp, file);
  }

  /** Stores an entry; the bytes are taken before the first await, so `ids` may be transferred right after the call. */
  async write(key: string, layout: TraceLayout, ids: Int32Array): Promise<void> {
    const bytes = encodeEntry(layout, ids);
    const file = this.file(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await fs.writeFile(tmp, bytes);
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw err;
    }
  }
}
