/**
 * The fast upload path: a framed stream that carries the tar either as raw
 * bytes or as deflated blocks, chosen block by block (adaptive compression),
 * and a small Python receiver on the host
 * (python-backend/dcd_backend/upload_receiver.py) that checks the stream's sha256
 * while it unpacks. One host process does the reading, hashing and inflating,
 * so a fast link (loopback, a LAN) runs at tar speed while a slow link gets
 * every block compressed.
 *
 * Stream: the magic line `DCDU1\n`, then frames `kind (1 byte) | length
 * (uint32 big-endian) | payload`, kind `R` (raw tar bytes), `Z` (raw deflate
 * of tar bytes, RFC 1951) or `E` (end, length 0). The sha256 covers every
 * byte of the stream, magic and frame headers included.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { PRIVATE_UMASK, type HostSession } from './session';
import { shellQuote } from './shellQuote';

export const FRAME_MAGIC = Buffer.from('DCDU1\n');
const RAW = 0x52;
const DEFLATED = 0x5a;
const END = 0x45;

const deflateBlock = promisify(zlib.deflateRaw) as (buf: Buffer, opts: zlib.ZlibOptions) => Promise<Buffer>;

function frameHeader(kind: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(5);
  h[0] = kind;
  h.writeUInt32BE(length, 1);
  return h;
}

/**
 * Frames a byte stream, deflating a block only when that makes the transfer
 * faster. Two rates are measured as the stream runs:
 *
 * - the link's: wire bytes the consumer (the SSH channel) takes per second,
 *   from the moment a block is pushed to the moment the consumer asks for
 *   more (`_read`);
 * - the compressor's: input bytes deflated per second, times the blocks
 *   deflated in parallel (libuv's thread pool).
 *
 * A block is deflated while the compressor is faster than the link (then the
 * link stays busy and carries fewer bytes) and sent raw, with no copy, while
 * the link is faster (loopback, a LAN), where compressing would only slow it
 * down. The first block is deflated to measure the compressor. Deflated
 * blocks are written in order.
 */
export class AdaptiveFramer extends Transform {
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private queue: Promise<Buffer[]>[] = [];
  /** Wire bytes per second the consumer takes (moving average); undefined until measured. */
  private linkRate: number | undefined;
  /** Input bytes per second the deflating blocks achieve together (moving average). */
  private deflateRate: number | undefined;
  /** The pushes since the consumer last asked for more: when they began and their bytes. */
  private window: { since: number; bytes: number } | undefined;
  /** Blocks sent deflated and raw so far. */
  readonly blocks = { deflated: 0, raw: 0 };

  constructor(private readonly opts: { deflate?: zlib.ZlibOptions; blockBytes?: number; inFlight?: number; mode?: 'adaptive' | 'always' } = {}) {
    super();
    this.push(FRAME_MAGIC);
  }

  private get blockBytes(): number { return this.opts.blockBytes ?? 4 << 20; }
  private get inFlight(): number { return this.opts.inFlight ?? Math.max(1, Math.min(4, os.availableParallelism())); }

  /** The rates the framer has measured, in bytes per second (for reports and tests). */
  get rates(): { link?: number; deflate?: number } { return { link: this.linkRate, deflate: this.deflateRate }; }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    if (this.chunkBytes < this.blockBytes) { cb(); return; }
    this.startBlock();
    this.drain(this.inFlight - 1).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    if (this.chunkBytes > 0) this.startBlock();
    this.drain(0).then(() => { this.push(frameHeader(END, 0)); cb(); }, cb);
  }

  override _read(size: number): void {
    // The consumer wants more: everything pushed since the window began has (nearly) been taken.
    if (this.window && this.window.bytes >= this.readableHighWaterMark) {
      const seconds = (performance.now() - this.window.since) / 1000;
      if (seconds > 0) this.linkRate = average(this.linkRate, this.window.bytes / seconds);
    }
    this.window = undefined;
    super._read(size);
  }

  private pushParts(parts: Buffer[]): void {
    this.window ??= { since: performance.now(), bytes: 0 };
    for (const part of parts) {
      this.window.bytes += part.length;
      this.push(part);
    }
  }

  private shouldDeflate(): boolean {
    const mode = this.opts.mode ?? 'adaptive';
    if (mode === 'always') return true;
    if (this.deflateRate === undefined) return this.blocks.deflated === 0; // measure the compressor once
    return this.linkRate !== undefined && this.deflateRate > this.linkRate;
  }

  private startBlock(): void {
    const chunks = this.chunks;
    const length = this.chunkBytes;
    this.chunks = [];
    this.chunkBytes = 0;
    if (!this.shouldDeflate()) {
      this.blocks.raw++;
      const parts = [frameHeader(RAW, length), ...chunks];
      if (this.queue.length) this.queue.push(Promise.resolve(parts));
      else this.pushParts(parts);
      return;
    }
    this.blocks.deflated++;
    const started = performance.now();
    const parallel = Math.min(this.inFlight, this.queue.length + 1);
    const p = deflateBlock(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, length), this.opts.deflate ?? {})
      .then((body) => {
        const seconds = (performance.now() - started) / 1000;
        if (seconds > 0) this.deflateRate = average(this.deflateRate, (length / seconds) * parallel);
        return body.length < length ? [frameHeader(DEFLATED, body.length), body] : [frameHeader(RAW, length), ...chunks];
      });
    p.catch(() => { /* reported by drain */ });
    this.queue.push(p);
  }

  /** Pushes finished blocks, oldest first, until at most `keep` are in flight. */
  private async drain(keep: number): Promise<void> {
    while (this.queue.length > keep) this.pushParts(await this.queue.shift()!);
  }
}

function average(previous: number | undefined, sample: number): number {
  return previous === undefined ? sample : (previous + sample) / 2;
}

const RECEIVER_FILE = path.join('python-backend', 'dcd_backend', 'upload_receiver.py');
let receiverSource: string | undefined;

/**
 * The host side (python-backend/dcd_backend/upload_receiver.py): reads the
 * framed stream on stdin, unpacks it into argv[1] and prints `sha256=<hex>`.
 * It is looked up above this file rather than in a configured backend folder
 * so that the receiver always matches this build's framer: python-backend/
 * ships next to out/ in the VSIX and the CLI package, and next to src/ in a
 * checkout.
 */
export function receiverScript(): string {
  if (receiverSource !== undefined) return receiverSource;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, RECEIVER_FILE);
    if (existsSync(file)) return (receiverSource = readFileSync(file, 'utf8'));
    if (path.dirname(dir) === dir) throw new Error(`${RECEIVER_FILE} not found above ${__dirname}`);
  }
}

/** The host command that receives a framed upload into `tmp` with `python`; on failure it removes `tmp`. */
export function framedReceiveScript(python: string, tmp: string): string {
  const q = shellQuote;
  return `${PRIVATE_UMASK}; ${q(python)} -c ${q(receiverScript())} ${q(tmp)} || { rc=$?; rm -rf ${q(tmp)}; exit $rc; }`;
}

const pythonOf = new WeakMap<HostSession, Promise<string | undefined>>();

/**
 * The interpreter of a Python 3 on the host's PATH (python3, then python),
 * found once per session; undefined when there is none. It is the real
 * executable (`sys.executable`), not a version-manager shim: a pyenv shim
 * alone can cost half a second per start.
 */
export function hostPython(session: HostSession): Promise<string | undefined> {
  let found = pythonOf.get(session);
  if (!found) {
    const probe = [
      'for p in python3 python; do',
      '  if command -v "$p" >/dev/null 2>&1 && "$p" -c "import sys, zlib, hashlib, subprocess; print(sys.executable) if sys.version_info[0] >= 3 and sys.executable else sys.exit(1)" 2>/dev/null; then exit 0; fi',
      'done; exit 1',
    ].join('\n');
    found = session.exec(probe).then((r) => (r.code === 0 && r.stdout.trim() ? r.stdout.trim().split('\n')[0] : undefined), () => undefined);
    pythonOf.set(session, found);
  }
  return found;
}
