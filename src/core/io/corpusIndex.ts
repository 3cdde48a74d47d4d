/**
 * The byte-offset index of a corpus: where each well-formed sample's line lies
 * in the file, so `dcd render` / `dcd tokens --index N` read one line instead
 * of parsing the whole corpus. Built by one streaming scan (scanCorpusInput:
 * the same problems every command reports, stored with the index so a later
 * call reports them without reading the file), then cached.
 *
 * Where: `<cache>/corpus-index/<sha256 of the corpus's real path, 32 hex>.idx`,
 * `<cache>` being env DCD_CACHE_DIR, else $XDG_CACHE_HOME/dcd-studio, else
 * ~/.cache/dcd-studio. A cache that cannot be written only costs the rebuild.
 *
 * Invalidation: the index is used only while the corpus has the size, the
 * mtime (nanoseconds) and the SHA-256 of its first and last 64 KiB recorded at
 * build time; any difference rebuilds it. The line read is checked too: its
 * CRC-32 must equal the one recorded, so a same-size edit that kept the mtime
 * and missed the hashed ends still never returns another line's bytes (the
 * index is rebuilt and the read retried).
 *
 * File format (little-endian): "DCDIDX01", u32 header length, the header as
 * JSON ({version, file, size, mtimeNs, ends, samples, rows, problems}), zero
 * padding to a multiple of 8, then four arrays of `samples` entries: f64 byte
 * offset, u32 byte length, u32 1-based line, u32 CRC-32 of the line's bytes.
 * 20 bytes per sample: a 5 GB corpus of 125,000 samples has a 2.5 MB index.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { classifyJsonlBytes } from './jsonl';
import { scanCorpusInput, type InputProblem } from './corpusInput';
import { writeFileAtomic } from './atomicWrite';
import type { DcdSample } from '../trace/model';

const MAGIC = 'DCDIDX01';
const VERSION = 1;
const ENDS_BYTES = 64 * 1024;

/** The cache folder of DCD Studio (indexes, …): env DCD_CACHE_DIR, else $XDG_CACHE_HOME/dcd-studio, else ~/.cache/dcd-studio. */
export function dcdCacheDir(): string {
  if (process.env.DCD_CACHE_DIR) return process.env.DCD_CACHE_DIR;
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'dcd-studio');
}

/** What a corpus looked like when its index was built. */
export interface CorpusStamp {
  size: number;
  /** mtime in nanoseconds, as a decimal string (a double loses nanoseconds). */
  mtimeNs: string;
  /** SHA-256 of the first and last 64 KiB (the whole file when smaller), hex. */
  ends: string;
}

interface IndexHeader extends CorpusStamp {
  version: number;
  file: string;
  samples: number;
  rows: number;
  problems: InputProblem[];
}

/** A sample read through the index. */
export interface IndexedSample { index: number; line: number; value: DcdSample }

export class CorpusIndex {
  private constructor(
    readonly file: string,
    private readonly header: IndexHeader,
    private readonly offsets: Float64Array,
    private readonly lengths: Uint32Array,
    private readonly lines: Uint32Array,
    private readonly crcs: Uint32Array,
    /** Whether this open built the index (false: read from the cache). */
    readonly built: boolean,
    readonly indexFile: string,
  ) {}

  get samples(): number { return this.header.samples; }
  get problems(): InputProblem[] { return this.header.problems; }
  get stamp(): CorpusStamp { return { size: this.header.size, mtimeNs: this.header.mtimeNs, ends: this.header.ends }; }

  /**
   * Opens the index of `file`: the cached one while the corpus is unchanged
   * (size, mtime, hashed ends), else a fresh scan (written to the cache).
   */
  static async open(file: string, opts: { cacheDir?: string; chunkBytes?: number } = {}): Promise<CorpusIndex> {
    const real = await fs.realpath(file);
    const indexFile = path.join(opts.cacheDir ?? path.join(dcdCacheDir(), 'corpus-index'), `${createHash('sha256').update(real).digest('hex').slice(0, 32)}.idx`);
    const stamp = await stampOf(real);
    const cached = await readIndexFile(indexFile).catch(() => null);
    if (cached && cached.header.version === VERSION && cached.header.file === real && sameStamp(cached.header, stamp)) {
      return new CorpusIndex(file, cached.header, cached.offsets, cached.lengths, cached.lines, cached.crcs, false, indexFile);
    }
    return CorpusIndex.build(file, real, indexFile, opts.chunkBytes);
  }

  private static async build(file: string, real: string, indexFile: string, chunkBytes?: number): Promise<CorpusIndex> {
    let cap = 1024;
    let offsets = new Float64Array(cap), lengths = new Uint32Array(cap), lines = new Uint32Array(cap), crcs = new Uint32Array(cap);
    const before = await stampOf(real);
    const scan = await scanCorpusInput(file, {
      chunkBytes,
      onSample: (s, span) => {
        if (s.index === cap) {
          cap *= 2;
          offsets = grow(offsets, new Float64Array(cap)); lengths = grow(lengths, new Uint32Array(cap));
          lines = grow(lines, new Uint32Array(cap)); crcs = grow(crcs, new Uint32Array(cap));
        }
        offsets[s.index] = span.offset;
        lengths[s.index] = span.end - span.offset;
        lines[s.index] = s.line;
        crcs[s.index] = crc32(span.bytes);
      },
    });
    const n = scan.samples;
    const header: IndexHeader = { version: VERSION, file: real, ...before, samples: n, rows: scan.rows, problems: scan.problems };
    const index = new CorpusIndex(file, header, offsets.subarray(0, n), lengths.subarray(0, n), lines.subarray(0, n), crcs.subarray(0, n), true, indexFile);
    // Cache only an index of the file as it was before and after the scan (a write during the scan: no cache).
    const after = await stampOf(real).catch(() => null);
    if (after && sameStamp(before, after)) await writeFileAtomic(indexFile, index.encode()).catch(() => undefined);
    return index;
  }

  private encode(): Uint8Array[] {
    const json = Buffer.from(JSON.stringify(this.header));
    const head = Buffer.alloc(12);
    head.write(MAGIC, 0, 'latin1');
    head.writeUInt32LE(json.length, 8);
    const pad = Buffer.alloc((8 - ((12 + json.length) % 8)) % 8);
    const bytes = (a: Float64Array | Uint32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    return [head, json, pad, bytes(this.offsets), bytes(this.lengths), bytes(this.lines), bytes(this.crcs)];
  }

  /**
   * Sample `index` (0-based among the well-formed samples), read by seeking to
   * its line. A line whose bytes no longer match the index (CRC-32) means the
   * corpus changed under it: the index is rebuilt and the read retried once.
   */
  async sample(index: number): Promise<{ sample: IndexedSample; index: CorpusIndex }> {
    if (!Number.isInteger(index) || index < 0 || index >= this.samples) throw new RangeError(`no sample ${index} (${this.samples} samples)`);
    const got = await this.readLine(index);
    if (got) return { sample: got, index: this };
    const fresh = await CorpusIndex.build(this.file, this.header.file, this.indexFile);
    if (index >= fresh.samples) throw new RangeError(`no sample ${index} (${fresh.samples} samples)`);
    const again = await fresh.readLine(index);
    if (!again) throw new Error(`${this.file} changed while it was read; try again`);
    return { sample: again, index: fresh };
  }

  private async readLine(index: number): Promise<IndexedSample | null> {
    const length = this.lengths[index];
    const buf = Buffer.allocUnsafe(length);
    const handle = await fs.open(this.header.file, 'r');
    try {
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buf, done, length - done, this.offsets[index] + done);
        if (!bytesRead) return null;
        done += bytesRead;
      }
    } finally {
      await handle.close();
    }
    if (crc32(buf) !== this.crcs[index]) return null;
    const row = classifyJsonlBytes<DcdSample>(buf, 0, length, this.lines[index], this.offsets[index]);
    return row?.kind === 'value' ? { index, line: this.lines[index], value: row.value } : null;
  }
}

function grow<A extends Float64Array | Uint32Array>(old: A, bigger: A): A {
  bigger.set(old);
  return bigger;
}

function sameStamp(a: CorpusStamp, b: CorpusStamp): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ends === b.ends;
}

/** The stamp of a corpus now: size, mtime (ns), SHA-256 of its first and last 64 KiB. */
export async function stampOf(file: string): Promise<CorpusStamp> {
  const handle = await fs.open(file, 'r');
  try {
    const st = await handle.stat({ bigint: true });
    const size = Number(st.size);
    const hash = createHash('sha256');
    const read = async (pos: number, len: number) => {
      const buf = Buffer.alloc(len);
      let done = 0;
      while (done < len) {
        const { bytesRead } = await handle.read(buf, done, len - done, pos + done);
        if (!bytesRead) break;
        done += bytesRead;
      }
      hash.update(buf.subarray(0, done));
    };
    if (size <= 2 * ENDS_BYTES) await read(0, size);
    else { await read(0, ENDS_BYTES); await read(size - ENDS_BYTES, ENDS_BYTES); }
    return { size, mtimeNs: st.mtimeNs.toString(), ends: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

async function readIndexFile(indexFile: string): Promise<{ header: IndexHeader; offsets: Float64Array; lengths: Uint32Array; lines: Uint32Array; crcs: Uint32Array } | null> {
  const bytes = await fs.readFile(indexFile);
  if (bytes.length < 12 || bytes.toString('latin1', 0, 8) !== MAGIC) return null;
  const hlen = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.toString('utf8', 12, 12 + hlen)) as IndexHeader;
  const n = header.samples;
  let at = 12 + hlen;
  at += (8 - (at % 8)) % 8;
  if (!Number.isInteger(n) || n < 0 || bytes.length !== at + n * 20) return null;
  const copy = new Uint8Array(bytes.subarray(at)).buffer; // aligned, and not the shared pool
  return {
    header,
    offsets: new Float64Array(copy, 0, n),
    lengths: new Uint32Array(copy, 8 * n, n),
    lines: new Uint32Array(copy, 12 * n, n),
    crcs: new Uint32Array(copy, 16 * n, n),
  };
}
