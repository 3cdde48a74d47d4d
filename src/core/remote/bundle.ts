/**
 * Uploading a directory (the backend, an export) to a host: a deterministic
 * tar, compressed on the fly, streamed over one command's stdin while the
 * host unpacks it. The host hashes what it received; only when that sha256
 * equals ours is the unpacked tree renamed into place.
 *
 * Two host receivers: with Python 3 on the host (always, for a training
 * host), a framed stream with adaptive compression (framedUpload.ts: blocks
 * deflated while the link is the bottleneck); without it, POSIX sh + tar -z
 * with every block gzipped.
 *
 * Bundles are content-addressed (`<parent>/<key>/`), so the same backend or
 * export is uploaded once per host; a `.dcd-bundle` file inside marks a
 * complete, verified copy.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { joinHost, PRIVATE_UMASK, type HostSession } from './session';
import { shellQuote } from './shellQuote';
import { tarStream, type TarEntry } from './tar';
import { AdaptiveFramer, framedReceiveScript, hostPython } from './framedUpload';

export const BUNDLE_MARKER = '.dcd-bundle';

export interface Bundle {
  dir: string;
  entries: TarEntry[];
  /** Content key: changes when any file's path, size, mode or bytes change. */
  key: string;
  files: number;
  bytes: number;
}

export interface CollectOptions {
  /** Skip an entry (relative `/` path). */
  exclude?: (rel: string, isDir: boolean) => boolean;
  /** sha256 already known for some files (e.g. an export manifest's `files`), to avoid hashing them again. */
  knownHashes?: Record<string, string>;
}

/** Skips caches and VCS folders: what a backend upload never needs. */
export const DEFAULT_EXCLUDE = (rel: string): boolean => {
  const base = rel.split('/').pop()!;
  return base === '__pycache__' || base === '.git' || base.endsWith('.pyc') || base === '.pytest_cache' || base === '.mypy_cache';
};

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Lists a directory tree (sorted, so archives are reproducible) and computes its content key. */
export async function collectBundle(dir: string, opts: CollectOptions = {}): Promise<Bundle> {
  const exclude = opts.exclude ?? DEFAULT_EXCLUDE;
  const entries: TarEntry[] = [];
  const keyHash = createHash('sha256');
  let bytes = 0;
  let files = 0;
  const walk = async (rel: string): Promise<void> => {
    const names = (await fs.readdir(path.join(dir, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(dir, r);
      const st = await fs.stat(abs);
      if (exclude(r, st.isDirectory())) continue;
      if (st.isDirectory()) {
        entries.push({ name: r, type: 'dir' });
        keyHash.update(`d\0${r}\0`);
        await walk(r);
      } else if (st.isFile()) {
        const mode = st.mode & 0o111 ? 0o755 : 0o644;
        const sha = opts.knownHashes?.[r] ?? await sha256File(abs);
        entries.push({ name: r, type: 'file', source: abs, size: st.size, mode });
        keyHash.update(`f\0${r}\0${st.size}\0${mode}\0${sha}\0`);
        bytes += st.size;
        files++;
      }
    }
  };
  await walk('');
  return { dir, entries, key: keyHash.digest('hex').slice(0, 24), files, bytes };
}

/** The file hashes an export's manifest.json lists (docs/FORMATS.md §1), if any. */
export async function exportManifestHashes(dir: string): Promise<Record<string, string>> {
  try {
    const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as { files?: Record<string, string> };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(manifest.files ?? {})) if (typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) out[k] = v;
    return out;
  } catch {
    return {};
  }
}

export interface UploadProgress {
  /** Uncompressed tar bytes produced so far. */
  bytesIn: number;
  /** Compressed bytes sent so far. */
  wireBytes: number;
}

export interface UploadOptions {
  gzip?: zlib.ZlibOptions;
  /**
   * 'adaptive' (default): deflate blocks while the link is the bottleneck and
   * send them raw while it is not; 'always': deflate every block. Applies to
   * the Python receiver; the POSIX sh fallback always gzips.
   */
  compression?: 'adaptive' | 'always';
  /** Host side: 'auto' (default) uses Python 3 when the host has it, else POSIX sh + tar -z. */
  receiver?: 'auto' | 'sh';
  onProgress?: (p: UploadProgress) => void;
}

export interface UploadResult {
  dest: string;
  /** True when the host already held a verified copy. */
  skipped: boolean;
  bytes: number;
  wireBytes: number;
  /** Which host receiver took the upload. */
  receiver?: 'python' | 'sh';
  /** Python receiver: blocks sent deflated and raw. */
  blocks?: { deflated: number; raw: number };
  sha256?: string;
  seconds: number;
}

/**
 * gzip settings for binary token arrays: run-length matching only, which is
 * several times faster than the default deflate and compresses `<i4` token
 * ids about as well (their high bytes are mostly zero).
 */
export const FAST_GZIP: zlib.ZlibOptions = { level: 1, strategy: zlib.constants.Z_RLE };

const gzipBlock = promisify(zlib.gzip) as (buf: Buffer, opts: zlib.ZlibOptions) => Promise<Buffer>;

/**
 * gzip on several threads, pigz-style: the input is cut into blocks, each
 * compressed as its own gzip member on libuv's thread pool, and the members
 * are written in order. Concatenated members are one valid gzip stream
 * (RFC 1952 §2.2), which `tar -xz` reads as such.
 */
export class ParallelGzip extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private queue: Promise<Buffer>[] = [];

  constructor(private readonly opts: zlib.ZlibOptions = {}, private readonly blockBytes = 4 << 20,
    private readonly inFlight = Math.max(1, Math.min(4, os.availableParallelism()))) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.blocks().then(() => cb(), cb);
  }

  private async blocks(): Promise<void> {
    while (this.pendingBytes >= this.blockBytes) {
      const all = this.pending.length === 1 ? this.pending[0] : Buffer.concat(this.pending);
      this.pending = [all.subarray(this.blockBytes)];
      this.pendingBytes = all.length - this.blockBytes;
      this.startBlock(all.subarray(0, this.blockBytes));
      await this.drain(this.inFlight - 1);
    }
  }

  override _flush(cb: TransformCallback): void {
    if (this.pendingBytes > 0 || this.queue.length === 0) this.startBlock(Buffer.concat(this.pending));
    this.pending = [];
    this.pendingBytes = 0;
    this.drain(0).then(() => cb(), cb);
  }

  private startBlock(block: Buffer): void {
    const p = gzipBlock(block, this.opts);
    p.catch(() => { /* reported by drain */ });
    this.queue.push(p);
  }

  /** Writes finished members, oldest first, until at most `keep` are in flight. */
  private async drain(keep: number): Promise<void> {
    while (this.queue.length > keep) this.push(await this.queue.shift()!);
  }
}

class Meter extends Transform {
  bytes = 0;
  private readonly hash: Hash | undefined;
  constructor(private readonly onChunk?: (bytes: number) => void, hashing = true) {
    super();
    this.hash = hashing ? createHash('sha256') : undefined;
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash?.update(chunk);
    this.onChunk?.(this.bytes);
    cb(null, chunk);
  }
  digest(): string { return this.hash!.digest('hex'); }
}

/**
 * The fallback host command (no Python): unpacks the gzip stream as it
 * arrives and, at the same time, hashes it (through a FIFO: nothing is
 * written twice), then prints `sha256=<hex>`. POSIX sh, tar and one of
 * sha256sum / shasum / openssl.
 */
function receiveScript(tmp: string): string {
  const q = shellQuote;
  const fifo = `${tmp}.fifo`;
  const sum = `${tmp}.sha256`;
  return [
    PRIVATE_UMASK,
    'if command -v sha256sum >/dev/null 2>&1; then dcd_sha256() { sha256sum; }',
    'elif command -v shasum >/dev/null 2>&1; then dcd_sha256() { shasum -a 256; }',
    'else dcd_sha256() { openssl dgst -sha256 -r; }; fi',
    `mkdir -p ${q(tmp)} && mkfifo ${q(fifo)} || exit 90`,
    `dcd_sha256 < ${q(fifo)} > ${q(sum)} &`,
    `tee ${q(fifo)} | tar -xzmf - --no-same-owner -C ${q(tmp)}`,
    'rc=$?',
    'wait',
    `read -r digest _ < ${q(sum)}`,
    `rm -f ${q(fifo)} ${q(sum)}`,
    `if [ "$rc" -ne 0 ]; then rm -rf ${q(tmp)}; echo 'unpacking the upload failed' >&2; exit 91; fi`,
    'printf \'sha256=%s\\n\' "$digest"',
  ].join('\n');
}

export async function uploadBundle(session: HostSession, bundle: Bundle, parent: string, opts: UploadOptions = {}): Promise<UploadResult> {
  const started = Date.now();
  const dest = joinHost(parent, bundle.key);
  const marker = joinHost(dest, BUNDLE_MARKER);
  const seconds = () => (Date.now() - started) / 1000;
  const pythonProbe = opts.receiver === 'sh' ? Promise.resolve(undefined) : hostPython(session); // overlaps the marker check
  if (await session.readFrom(marker, 0, 4096)) return { dest, skipped: true, bytes: bundle.bytes, wireBytes: 0, seconds: seconds() };

  const markerBytes = Buffer.from(JSON.stringify({ key: bundle.key, files: bundle.files, bytes: bundle.bytes }) + '\n');
  const tar = tarStream([...bundle.entries, { name: BUNDLE_MARKER, type: 'file', source: markerBytes }]);
  let bytesIn = 0;
  const inMeter = new Meter((b) => { bytesIn = b; }, false);
  const wire = new Meter((b) => opts.onProgress?.({ bytesIn, wireBytes: b }));
  const python = await pythonProbe;
  const encoder = python
    ? new AdaptiveFramer({ deflate: opts.gzip, mode: opts.compression ?? 'adaptive' })
    : new ParallelGzip(opts.gzip ?? {});
  const fail = (err: Error) => wire.destroy(err);
  tar.on('error', fail);
  inMeter.on('error', fail);
  encoder.on('error', fail);
  tar.pipe(inMeter).pipe(encoder).pipe(wire);

  const tmp = `${dest}.partial-${randomBytes(6).toString('hex')}`;
  const r = await session.exec(python ? framedReceiveScript(python, tmp) : receiveScript(tmp), { stdin: wire });
  if (wire.destroyed && !wire.writableFinished) throw new Error(`upload of ${bundle.dir} failed while reading it`);
  if (r.code !== 0) throw new Error(`upload to ${session.label} failed (exit ${r.code ?? 'none'}): ${r.stderr.trim() || r.stdout.trim()}`);
  const sha = wire.digest();
  const got = /sha256=([0-9a-f]{64})/.exec(r.stdout)?.[1];
  if (got !== sha) {
    await session.exec(`rm -rf ${shellQuote(tmp)}`);
    throw new Error(`upload to ${session.label} arrived corrupted: sha256 on the host ${got ?? '(none)'} ≠ sent ${sha}`);
  }
  try {
    await session.rename(tmp, dest);
  } catch (err) {
    // Someone else finished the same bundle first: theirs is as good as ours.
    await session.exec(`rm -rf ${shellQuote(tmp)}`);
    if (!(await session.readFrom(marker, 0, 4096))) throw err;
  }
  return {
    dest, skipped: false, bytes: bundle.bytes, wireBytes: wire.bytes, receiver: python ? 'python' : 'sh',
    blocks: encoder instanceof AdaptiveFramer ? { ...encoder.blocks } : undefined, sha256: sha, seconds: seconds(),
  };
}
