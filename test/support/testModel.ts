/**
 * The random-weight test models made by `scripts/make-tiny-model`, built on
 * demand and cached outside the repository (keyed by the script's hash, so a
 * changed script rebuilds). Used by the tests and the benchmark; never by the
 * extension at run time.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type TestModelShape = 'tiny' | '0.5b';

export interface TestModelOptions {
  shape?: TestModelShape;
  /** ONNX variants to build besides fp32 (the script knows fp32 and q8). */
  dtypes?: string[];
  /** Default: `$DCD_MODEL_CACHE`, else ~/.cache/dcd-studio. */
  cacheRoot?: string;
  /** Repository root holding scripts/make-tiny-model. */
  repoRoot?: string;
  /** Python with torch + onnx. Default: `$DCD_PYTHON`, else /usr/bin/python3 (Debian's: `apt-get install python3-torch python3-onnx`). */
  python?: string;
  timeoutMs?: number;
}

export function defaultCacheRoot(): string {
  return process.env.DCD_MODEL_CACHE || path.join(os.homedir(), '.cache', 'dcd-studio');
}

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(path.join(dir, 'scripts', 'make-tiny-model'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`scripts/make-tiny-model not found above ${start}`);
    dir = up;
  }
}

/** Hash of the script(s) that make the model: the cache key. */
export function makeTinyModelHash(repoRoot: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(path.join(repoRoot, 'scripts', 'make-tiny-model')));
  const derive = path.join(repoRoot, 'scripts', 'derive-tokenizer.mjs');
  if (existsSync(derive)) h.update(readFileSync(derive));
  return h.digest('hex').slice(0, 16);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Returns the folder of a cached test model, building it first if needed (concurrent callers wait on a lock). */
export async function ensureTestModel(opts: TestModelOptions = {}): Promise<string> {
  const shape = opts.shape ?? 'tiny';
  const dtypes = [...new Set(['fp32', ...(opts.dtypes ?? [])])].sort();
  const repoRoot = opts.repoRoot ?? findRepoRoot(__dirname);
  const root = opts.cacheRoot ?? defaultCacheRoot();
  const dir = path.join(root, `${shape}-${dtypes.join('+')}-${makeTinyModelHash(repoRoot)}`);
  const ready = () => existsSync(path.join(dir, 'config.json'));
  if (ready()) return dir;
  await fs.mkdir(root, { recursive: true });
  const lock = `${dir}.lock`;
  const deadline = Date.now() + (opts.timeoutMs ?? 30 * 60_000);
  for (;;) {
    try {
      await fs.mkdir(lock);
      break;
    } catch {
      if (ready()) return dir;
      const st = await fs.stat(lock).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 60 * 60_000) await fs.rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lock}`);
      await sleep(500);
    }
  }
  try {
    if (ready()) return dir;
    const python = opts.python ?? process.env.DCD_PYTHON ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
    const args = [path.join(repoRoot, 'scripts', 'make-tiny-model'), dir, '--shape', shape, '--dtypes', dtypes.join(','), '--force'];
    await new Promise<void>((resolve, reject) => {
      execFile(python, args, { timeout: opts.timeoutMs ?? 30 * 60_000, maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`scripts/make-tiny-model failed (${python}): ${stderr.trim().split('\n').slice(-3).join(' | ') || err.message}`));
        else resolve();
      });
    });
    if (!ready()) throw new Error(`scripts/make-tiny-model did not produce ${dir}`);
    // Models made by older versions of the script are dead weight (the 0.5b one is 2 GB).
    const prefix = `${shape}-`;
    for (const n of await fs.readdir(root)) {
      if (n.startsWith(prefix) && !n.endsWith('.lock') && path.join(root, n) !== dir && !n.endsWith(makeTinyModelHash(repoRoot))) {
        await fs.rm(path.join(root, n), { recursive: true, force: true });
      }
    }
    return dir;
  } finally {
    await fs.rm(lock, { recursive: true, force: true });
  }
}
