/**
 * Checks a local model folder in the transformers.js layout before anything
 * tries to load it, so that a bad folder gives an error naming what is wrong:
 * no config.json, an architecture we cannot draft with, no ONNX file for the
 * chosen variant, a missing tokenizer, or a corrupt (truncated, garbled) file.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { AUTO_DTYPE_ORDER, DTYPES, onnxFileFor, type DtypeSetting, type LocalDtype } from './types';

/** Model types the drafter supports: decoder-only Qwen2 (Qwen2.5-*-Instruct and its ONNX exports). */
export const SUPPORTED_MODEL_TYPES: readonly string[] = ['qwen2'];

export type ModelFolderErrorCode =
  | 'not-found' | 'missing-config' | 'unsupported-architecture' | 'missing-onnx' | 'missing-tokenizer' | 'corrupt-file';

export class ModelFolderError extends Error {
  constructor(
    readonly code: ModelFolderErrorCode,
    message: string,
    /** The folder-relative path of the missing or corrupt file, where there is one. */
    readonly file?: string,
  ) {
    super(message);
    this.name = 'ModelFolderError';
  }
}

export interface ModelFolderCheck {
  dir: string;
  config: Record<string, unknown>;
  modelType: string;
  dtype: LocalDtype;
  /** Folder-relative path of the ONNX file the session will load. */
  onnxFile: string;
  /** Folder-relative paths of its external-data files (may be empty). */
  externalData: string[];
  /** Every variant that has an ONNX file in the folder. */
  availableDtypes: LocalDtype[];
}

async function exists(p: string): Promise<boolean> {
  try { await fs.access(p); return true; } catch { return false; }
}

async function readJson(dir: string, rel: string): Promise<Record<string, unknown>> {
  const text = await fs.readFile(path.join(dir, rel), 'utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ModelFolderError('corrupt-file', `${rel} in ${dir} is not valid JSON (${(err as Error).message}).`, rel);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ModelFolderError('corrupt-file', `${rel} in ${dir} is not a JSON object.`, rel);
  }
  return value as Record<string, unknown>;
}

/** Variants with an ONNX file present. */
export async function availableDtypes(dir: string): Promise<LocalDtype[]> {
  const out: LocalDtype[] = [];
  for (const d of DTYPES) if (await exists(path.join(dir, onnxFileFor(d)))) out.push(d);
  return out;
}

/** External-data chunk names transformers.js loads for a variant, from `transformers.js_config.use_external_data_format`. */
export function externalDataFiles(config: Record<string, unknown>, onnxFile: string): string[] {
  const tjs = config['transformers.js_config'] as Record<string, unknown> | undefined;
  const setting = tjs?.use_external_data_format;
  const base = path.posix.basename(onnxFile);
  let chunks = 0;
  if (typeof setting === 'boolean' || typeof setting === 'number') chunks = Number(setting);
  else if (setting && typeof setting === 'object') {
    const s = setting as Record<string, unknown>;
    const v = s[base] ?? s[base.replace(/\.onnx$/, '')];
    chunks = v === undefined ? 0 : Number(v);
  }
  const out: string[] = [];
  for (let i = 0; i < chunks; i++) out.push(`${onnxFile}_data${i === 0 ? '' : '_' + i}`);
  return out;
}

/**
 * Structural check of an ONNX file without loading it: walks the top-level
 * protobuf fields of the ModelProto with positional reads (cheap even for
 * multi-GB files) and requires an `ir_version` and a `graph` and that every
 * field ends inside the file. Truncated or garbled files fail here.
 * Returns null when fine, else the reason.
 */
export async function onnxStructureProblem(file: string): Promise<string | null> {
  const fh = await fs.open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    if (size === 0) return 'the file is empty';
    const buf = Buffer.alloc(16);
    let pos = 0;
    let sawIr = false;
    let sawGraph = false;
    const readVarint = async (at: number): Promise<{ value: number; len: number } | null> => {
      const { bytesRead } = await fh.read(buf, 0, Math.min(10, size - at), at);
      let value = 0;
      let mul = 1;
      for (let i = 0; i < bytesRead; i++) {
        const b = buf[i];
        value += (b & 0x7f) * mul;
        mul *= 128;
        if ((b & 0x80) === 0) return { value, len: i + 1 };
      }
      return null;
    };
    let fields = 0;
    while (pos < size) {
      const tag = await readVarint(pos);
      if (!tag) return `unreadable field header at byte ${pos}`;
      pos += tag.len;
      const field = Math.floor(tag.value / 8);
      const wire = tag.value % 8;
      if (field === 0) return `invalid field number 0 at byte ${pos - tag.len}`;
      if (wire === 0) {
        const v = await readVarint(pos);
        if (!v) return `truncated value at byte ${pos}`;
        pos += v.len;
        if (field === 1) sawIr = true;
      } else if (wire === 1) {
        pos += 8;
      } else if (wire === 5) {
        pos += 4;
      } else if (wire === 2) {
        const len = await readVarint(pos);
        if (!len) return `truncated length at byte ${pos}`;
        pos += len.len + len.value;
        if (field === 7) sawGraph = true;
      } else {
        return `invalid wire type ${wire} at byte ${pos - tag.len}`;
      }
      if (pos > size) return `field ${field} runs past the end of the file (${size} bytes): the file is truncated`;
      if (++fields > 1_000_000) return 'too many top-level fields';
    }
    if (!sawIr) return 'no ir_version: not an ONNX model';
    if (!sawGraph) return 'no graph: not an ONNX model';
    return null;
  } finally {
    await fh.close();
  }
}

/**
 * Checks a model folder for the given variant (`auto`: the first present in
 * {@link AUTO_DTYPE_ORDER}). Throws {@link ModelFolderError} naming what is wrong.
 */
export async function checkModelFolder(dir: string, dtype: DtypeSetting = 'auto'): Promise<ModelFolderCheck> {
  const abs = path.resolve(dir);
  const st = await fs.stat(abs).catch(() => undefined);
  if (!st || !st.isDirectory()) throw new ModelFolderError('not-found', `Model folder ${abs} does not exist or is not a folder.`);

  if (!(await exists(path.join(abs, 'config.json')))) {
    throw new ModelFolderError('missing-config', `No config.json in ${abs}: not a model folder in the transformers.js layout.`, 'config.json');
  }
  const config = await readJson(abs, 'config.json');
  const modelType = typeof config.model_type === 'string' ? config.model_type : '';
  if (!SUPPORTED_MODEL_TYPES.includes(modelType)) {
    const arch = Array.isArray(config.architectures) ? ` (${config.architectures.join(', ')})` : '';
    throw new ModelFolderError('unsupported-architecture',
      `Wrong architecture: config.json in ${abs} has model_type "${modelType || '(none)'}"${arch}; DCD Studio drafts with ` +
      `${SUPPORTED_MODEL_TYPES.join(', ')} models (for example an ONNX export of Qwen2.5-1.5B-Instruct).`, 'config.json');
  }

  const present = await availableDtypes(abs);
  let chosen: LocalDtype;
  if (dtype === 'auto') {
    const first = AUTO_DTYPE_ORDER.find((d) => present.includes(d));
    if (!first) {
      throw new ModelFolderError('missing-onnx',
        `No ONNX file in ${abs}: expected one of ${AUTO_DTYPE_ORDER.map(onnxFileFor).join(', ')}.`, 'onnx/model.onnx');
    }
    chosen = first;
  } else {
    if (!present.includes(dtype)) {
      const have = present.length ? ` Variants present: ${present.join(', ')}.` : ' The folder has no ONNX file at all.';
      throw new ModelFolderError('missing-onnx', `No ONNX file for dtype ${dtype} in ${abs}: ${onnxFileFor(dtype)} is missing.${have}`, onnxFileFor(dtype));
    }
    chosen = dtype;
  }
  const onnxFile = onnxFileFor(chosen);
  const problem = await onnxStructureProblem(path.join(abs, onnxFile));
  if (problem) throw new ModelFolderError('corrupt-file', `Corrupt ONNX file ${onnxFile} in ${abs}: ${problem}.`, onnxFile);
  const externalData = externalDataFiles(config, onnxFile);
  for (const f of externalData) {
    if (!(await exists(path.join(abs, f)))) {
      throw new ModelFolderError('missing-onnx', `Missing external data file ${f} in ${abs} (config.json says ${onnxFile} keeps its weights there).`, f);
    }
  }

  for (const rel of ['tokenizer.json', 'tokenizer_config.json']) {
    if (!(await exists(path.join(abs, rel)))) {
      throw new ModelFolderError('missing-tokenizer', `No ${rel} in ${abs}: the tokenizer is needed to draft.`, rel);
    }
  }
  const tok = await readJson(abs, 'tokenizer.json');
  const tokModel = tok.model as Record<string, unknown> | undefined;
  if (!tokModel || typeof tokModel !== 'object' || !tokModel.vocab) {
    throw new ModelFolderError('corrupt-file', `tokenizer.json in ${abs} has no model vocabulary.`, 'tokenizer.json');
  }
  await readJson(abs, 'tokenizer_config.json');
  if (await exists(path.join(abs, 'generation_config.json'))) await readJson(abs, 'generation_config.json');

  return { dir: abs, config, modelType, dtype: chosen, onnxFile, externalData, availableDtypes: present };
}
