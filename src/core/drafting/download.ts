/**
 * Downloads a model (transformers.js layout, one ONNX variant) from the
 * Hugging Face Hub into a local folder, with progress and cancel.
 *
 * Everything is written into a temporary folder beside the destination and
 * moved into place only once every file is complete, its size (and, for LFS
 * files, its sha256) checked and the folder passes {@link checkModelFolder}.
 * Offline, unreachable Hub, HTTP errors, cancel, or a bad model: a clear
 * {@link DownloadError} and no partial folder left behind. Temporary folders of
 * a process that was killed are removed by the next call.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkModelFolder, ModelFolderError } from './modelFolder';
import { DTYPE_FILE_SUFFIX, DTYPES, onnxFileFor, type LocalDtype } from './types';

export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export type DownloadErrorCode = 'bad-id' | 'offline' | 'not-found' | 'unauthorized' | 'http' | 'cancelled' | 'invalid-model' | 'corrupt' | 'io';

export class DownloadError extends Error {
  constructor(readonly code: DownloadErrorCode, message: string, readonly status?: number) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface DownloadProgress {
  phase: 'listing' | 'downloading' | 'checking' | 'done';
  file?: string;
  fileLoaded: number;
  fileTotal: number | null;
  /** Bytes of all files so far, and in all (null while a size is unknown). */
  loaded: number;
  total: number | null;
  filesDone: number;
  filesTotal: number;
  bytesPerSecond: number;
}

export interface DownloadOptions {
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  /** Injected fetch (tests, proxies). Default: the global fetch. */
  fetch?: typeof fetch;
  /** The ONNX variant to fetch. Default q4 (small, fast on CPU). */
  dtype?: LocalDtype;
  /** Hub URL. Default: `$HF_ENDPOINT`, else https://huggingface.co. */
  endpoint?: string;
  revision?: string;
  /** Access token for gated or private models (sent as a Bearer header, never logged). */
  token?: string;
  /** Download again even when the variant is already there. */
  force?: boolean;
  /** Give up when the server sends nothing for this long. Default 30 s. */
  idleTimeoutMs?: number;
}

export interface DownloadResult {
  dir: string;
  dtype: LocalDtype;
  files: string[];
  bytes: number;
  /** The variant was already in place: nothing was fetched. */
  alreadyPresent: boolean;
}

const ID_RE = /^[A-Za-z0-9][\w.-]{0,95}\/[A-Za-z0-9][\w.-]{0,95}$/;

/** Where a model id lands under the storage root: `<root>/<owner>/<name>`. */
export function modelDirFor(destRoot: string, id: string): string {
  if (!ID_RE.test(id) || id.includes('..')) throw new DownloadError('bad-id', `"${id}" is not a Hugging Face model id (owner/name).`);
  const [owner, name] = id.split('/');
  return path.join(path.resolve(destRoot), owner, name);
}

interface Sibling { rfilename: string; size?: number; lfs?: { size?: number; sha256?: string } }

function networkMessage(endpoint: string, err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } };
  const detail = e?.cause?.code ? `${e.cause.code}${e.cause.message ? `: ${e.cause.message}` : ''}` : e?.message ?? String(err);
  return `Cannot reach the Hugging Face Hub at ${endpoint} (${detail}). You may be offline or behind a proxy. ` +
    'Nothing was downloaded. To use a model without the Hub, copy its folder (transformers.js layout) to this machine and set it as the local model folder.';
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Removes temporary folders left by killed downloads under `root`. */
async function removeStalePartials(root: string): Promise<void> {
  let names: string[];
  try { names = await fs.readdir(root); } catch { return; }
  for (const n of names) {
    const m = /^\.partial-(\d+)-/.exec(n);
    if (m && !pidAlive(Number(m[1]))) await fs.rm(path.join(root, n), { recursive: true, force: true });
  }
}

/**
 * Downloads `id` (owner/name) into `<destRoot>/<owner>/<name>` and returns the
 * folder. Rejects with a {@link DownloadError}; on any failure the destination
 * is as it was before the call.
 */
export async function downloadModel(id: string, destRoot: string, opts: DownloadOptions = {}): Promise<DownloadResult> {
  const dtype = opts.dtype ?? 'q4';
  if (!DTYPES.includes(dtype)) throw new DownloadError('bad-id', `Unknown dtype "${dtype}" (one of ${DTYPES.join(', ')}).`);
  const finalDir = modelDirFor(destRoot, id);
  const root = path.resolve(destRoot);
  const endpoint = (opts.endpoint ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB_ENDPOINT).replace(/\/+$/, '');
  const revision = opts.revision ?? 'main';
  const doFetch = opts.fetch ?? globalThis.fetch;
  const signal = opts.signal;
  const idleMs = opts.idleTimeoutMs ?? 30_000;
  const cancelled = () => new DownloadError('cancelled', `Download of ${id} cancelled. Nothing was kept.`);

  if (!opts.force) {
    try {
      await checkModelFolder(finalDir, dtype);
      return { dir: finalDir, dtype, files: [], bytes: 0, alreadyPresent: true };
    } catch { /* not there (or incomplete): download */ }
  }
  if (signal?.aborted) throw cancelled();
  await removeStalePartials(root);

  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;

  /** fetch with cancel + a no-response timeout; maps failures to DownloadErrors. */
  const get = async (url: string, what: string): Promise<{ res: Response; ac: AbortController; arm: () => void; disarm: () => void }> => {
    const ac = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => { timedOut = true; ac.abort(); }, idleMs);
    };
    const disarm = () => { if (timer) clearTimeout(timer); };
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    arm();
    let res: Response;
    try {
      res = await doFetch(url, { headers, signal: ac.signal, redirect: 'follow' });
    } catch (err) {
      disarm();
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) throw cancelled();
      if (timedOut) throw new DownloadError('offline', `${networkMessage(endpoint, { message: `no answer within ${idleMs / 1000} s` })}`);
      throw new DownloadError('offline', networkMessage(endpoint, err));
    }
    if (!res.ok) {
      disarm();
      signal?.removeEventListener('abort', onAbort);
      await res.body?.cancel().catch(() => undefined);
      if (res.status === 404) throw new DownloadError('not-found', `${what}: not found on ${endpoint} (HTTP 404). Check the model id "${id}" and revision "${revision}".`, 404);
      if (res.status === 401 || res.status === 403) {
        throw new DownloadError('unauthorized', `${what}: access denied by ${endpoint} (HTTP ${res.status}). The model may be gated or private: accept its terms on the Hub and provide an access token.`, res.status);
      }
      throw new DownloadError('http', `${what}: ${endpoint} answered HTTP ${res.status} ${res.statusText}.`, res.status);
    }
    return { res, ac, arm, disarm: () => { disarm(); signal?.removeEventListener('abort', onAbort); } };
  };

  // 1. List the repository's files.
  const t0 = performance.now();
  const emit = (p: Omit<DownloadProgress, 'bytesPerSecond'>) => {
    const secs = (performance.now() - t0) / 1000;
    opts.onProgress?.({ ...p, bytesPerSecond: secs > 0 ? p.loaded / secs : 0 });
  };
  emit({ phase: 'listing', fileLoaded: 0, fileTotal: null, loaded: 0, total: null, filesDone: 0, filesTotal: 0 });
  const listUrl = `${endpoint}/api/models/${id}/revision/${encodeURIComponent(revision)}?blobs=true`;
  const listing = await get(listUrl, `Model ${id}`);
  let info: { siblings?: Sibling[] };
  try {
    info = (await listing.res.json()) as { siblings?: Sibling[] };
  } catch (err) {
    if (signal?.aborted) throw cancelled();
    throw new DownloadError('http', `Model ${id}: the Hub's file list is not valid JSON (${(err as Error).message}).`);
  } finally {
    listing.disarm();
  }
  const siblings = new Map((info.siblings ?? []).map((s) => [s.rfilename, s]));
  const onnx = onnxFileFor(dtype);
  for (const req of ['config.json', 'tokenizer.json', 'tokenizer_config.json', onnx]) {
    if (!siblings.has(req)) {
      const variants = DTYPES.filter((d) => siblings.has(onnxFileFor(d)));
      const hint = req === onnx
        ? (variants.length ? ` Variants it has: ${variants.join(', ')}.` : ' It has no ONNX export in the transformers.js layout (onnx/model*.onnx); look for an ONNX copy, e.g. under onnx-community/.')
        : '';
      throw new DownloadError('invalid-model', `Model ${id} has no ${req}${req === onnx ? ` (dtype ${dtype})` : ''}.${hint} Nothing was downloaded.`);
    }
  }
  const wanted = ['config.json', 'tokenizer.json', 'tokenizer_config.json'];
  if (siblings.has('generation_config.json')) wanted.push('generation_config.json');
  const dataRe = new RegExp(`^onnx/model${DTYPE_FILE_SUFFIX[dtype]}\\.onnx_data(_\\d+)?$`);
  for (const name of siblings.keys()) if (dataRe.test(name)) wanted.push(name);
  wanted.push(onnx); // last: its arrival is what makes the variant usable
  const sizeOf = (f: string): number | null => siblings.get(f)?.lfs?.size ?? siblings.get(f)?.size ?? null;
  const known = wanted.map(sizeOf);
  const total = known.every((s) => s !== null) ? (known as number[]).reduce((a, b) => a + b, 0) : null;

  // 2. Fetch into a temporary folder beside the destination.
  await fs.mkdir(root, { recursive: true });
  const [owner, name] = id.split('/');
  const tmp = path.join(root, `.partial-${process.pid}-${randomBytes(4).toString('hex')}-${owner}--${name}`);
  await fs.mkdir(tmp);
  let loaded = 0;
  let bytes = 0;
  try {
    for (let i = 0; i < wanted.length; i++) {
      const file = wanted[i];
      if (signal?.aborted) throw cancelled();
      const url = `${endpoint}/${id}/resolve/${encodeURIComponent(revision)}/${file.split('/').map(encodeURIComponent).join('/')}`;
      const { res, arm, disarm } = await get(url, `${id}/${file}`);
      const lengthHeader = res.headers.get('content-length');
      const expected = sizeOf(file) ?? (lengthHeader !== null ? Number(lengthHeader) : null);
      const sha = siblings.get(file)?.lfs?.sha256;
      const hash = sha ? createHash('sha256') : null;
      const dest = path.join(tmp, ...file.split('/'));
      await fs.mkdir(path.dirname(dest), { recursive: true });
      const fh = await fs.open(dest, 'w');
      let fileLoaded = 0;
      let lastEmit = 0;
      try {
        if (!res.body) throw new DownloadError('http', `${id}/${file}: empty response.`);
        const reader = res.body.getReader();
        for (;;) {
          let chunk: ReadableStreamReadResult<Uint8Array>;
          try {
            chunk = await reader.read();
          } catch (err) {
            if (signal?.aborted) throw cancelled();
            throw new DownloadError('offline', `${id}/${file}: the transfer from ${endpoint} broke off after ${fileLoaded} bytes (${(err as Error).message}). Nothing was kept.`);
          }
          if (chunk.done) break;
          arm();
          await fh.write(chunk.value);
          hash?.update(chunk.value);
          fileLoaded += chunk.value.byteLength;
          loaded += chunk.value.byteLength;
          const now = performance.now();
          if (now - lastEmit > 100) {
            lastEmit = now;
            emit({ phase: 'downloading', file, fileLoaded, fileTotal: expected, loaded, total, filesDone: i, filesTotal: wanted.length });
          }
        }
      } finally {
        disarm();
        await fh.close();
      }
      if (expected !== null && fileLoaded !== expected) {
        throw new DownloadError('corrupt', `${id}/${file}: got ${fileLoaded} bytes, expected ${expected}. The transfer was incomplete.`);
      }
      if (hash && sha && hash.digest('hex') !== sha) {
        throw new DownloadError('corrupt', `${id}/${file}: sha256 does not match the Hub's. The file is corrupt.`);
      }
      bytes += fileLoaded;
      emit({ phase: 'downloading', file, fileLoaded, fileTotal: expected, loaded, total, filesDone: i + 1, filesTotal: wanted.length });
    }

    // 3. Check the folder, then move it into place.
    emit({ phase: 'checking', fileLoaded: 0, fileTotal: null, loaded, total, filesDone: wanted.length, filesTotal: wanted.length });
    try {
      await checkModelFolder(tmp, dtype);
    } catch (err) {
      if (err instanceof ModelFolderError) throw new DownloadError('invalid-model', `Model ${id} is not usable: ${err.message.split(tmp).join(id)}`);
      throw err;
    }
    if (signal?.aborted) throw cancelled();
    const exists = await fs.stat(finalDir).then(() => true, () => false);
    await fs.mkdir(path.dirname(finalDir), { recursive: true });
    if (!exists) {
      await fs.rename(tmp, finalDir);
    } else {
      // Another variant is already there: move this one's files in, its .onnx last.
      for (const file of wanted) {
        const to = path.join(finalDir, ...file.split('/'));
        await fs.mkdir(path.dirname(to), { recursive: true });
        await fs.rename(path.join(tmp, ...file.split('/')), to);
      }
      await fs.rm(tmp, { recursive: true, force: true });
    }
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    if (err instanceof DownloadError) throw err;
    if (signal?.aborted) throw cancelled();
    throw new DownloadError('io', `Download of ${id} failed: ${(err as Error).message}. Nothing was kept.`);
  }
  emit({ phase: 'done', fileLoaded: 0, fileTotal: null, loaded, total: total ?? loaded, filesDone: wanted.length, filesTotal: wanted.length });
  return { dir: finalDir, dtype, files: wanted, bytes, alreadyPresent: false };
}
