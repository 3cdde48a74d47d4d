/**
 * The training export (docs/FORMATS.md §1): ids.npy, labels.npy, offsets.npy
 * and manifest.json in one folder, which the Python trainer consumes as-is.
 * The folder is written under a temporary name and renamed into place, so a
 * reader sees the old export or the new one, never half of one.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { version } from '../../../package.json';
import { LineHashes, lineageRecord, type LineageRecord } from '../lineage/record';
import { createHash } from 'node:crypto';
import { checkCorpusBytes, errorsOf, formatProblem, scanCorpusBatches, scanCorpusInput, type CorpusRead, type CorpusSampleRow, type CorpusScan } from '../io/corpusInput';
import { DEFAULT_MAX_LENGTH, DEFAULT_POLICY, IGNORE_INDEX, labelsFor, summarizeMask, MASK_FLAGS, maskFlagCounts, type MaskFlag, type MaskPolicy } from '../trace/mask';
import { planTraining, type TrainingPlan } from './plan';
import { sha256Hex, vocabSizeOf } from '../tokenizer/source';
import { tokenizeCorpus, type CorpusTokenOptions } from '../tokenizer/corpus';
import { TokenizerPool, defaultWorkerCount } from '../tokenizer/pool';
import { resolveTokenizerSource } from '../tokenizer/source';
import { defaultCacheDir } from '../tokenizer/cache';

// ---------------------------------------------------------------- .npy

export type NpyDescr = '<i4' | '<i8';

/** The NumPy v1.0 header (magic, version, length, dict, padding) of a 1-D array of `length` elements. */
export function npyHeader(descr: NpyDescr, length: number): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${length},), }`;
  // magic (6) + version (2) + header length (2) + dict + padding + '\n' is a multiple of 64.
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0); // \x93NUMPY v1.0
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

/** A NumPy v1.0 .npy file holding a 1-D little-endian array. */
export function encodeNpy(data: Int32Array | BigInt64Array): Uint8Array {
  const header = npyHeader(data instanceof Int32Array ? '<i4' : '<i8', data.length);
  const out = new Uint8Array(header.length + data.byteLength);
  out.set(header, 0);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), header.length);
  return out;
}

/**
 * A 1-D `<i4` .npy written as it grows: the header is written with a
 * placeholder length and patched by `finish`. The header is 128 bytes for
 * every length below 10^60, so the bytes equal encodeNpy's of the same data.
 */
export class NpyAppender {
  private length = 0;
  private readonly headerBytes = npyHeader('<i4', 0).length;

  private constructor(readonly file: string, private readonly handle: fs.FileHandle) {}

  static async create(file: string): Promise<NpyAppender> {
    const handle = await fs.open(file, 'w+'); // read too: finish hashes what was written
    const a = new NpyAppender(file, handle);
    await handle.write(new Uint8Array(a.headerBytes), 0, a.headerBytes, 0);
    return a;
  }

  async append(data: Int32Array): Promise<void> {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let done = 0;
    while (done < bytes.length) done += (await this.handle.write(bytes, done, bytes.length - done, this.headerBytes + this.length * 4 + done)).bytesWritten;
    this.length += data.length;
  }

  /** Patches the header, syncs, closes; returns the SHA-256 of the whole file (read back, streamed). */
  async finish(): Promise<string> {
    const header = npyHeader('<i4', this.length);
    if (header.length !== this.headerBytes) throw new Error(`.npy header grew past ${this.headerBytes} bytes`);
    await this.handle.write(header, 0, header.length, 0);
    await this.handle.sync();
    const hash = createHash('sha256');
    const buf = Buffer.allocUnsafe(4 << 20);
    for (let pos = 0; ;) {
      const { bytesRead } = await this.handle.read(buf, 0, buf.length, pos);
      if (!bytesRead) break;
      hash.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
    await this.handle.close();
    return hash.digest('hex');
  }

  async close(): Promise<void> { await this.handle.close().catch(() => undefined); }
}

/** Reads a 1-D `<i4` or `<i8` .npy (v1.0–3.0). */
export function decodeNpy(bytes: Uint8Array): { descr: NpyDescr; shape: number[]; data: Int32Array | BigInt64Array } {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new Error('not a .npy file');
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if ((descr !== '<i4' && descr !== '<i8') || fortran !== 'False' || shapeText === undefined) throw new Error(`unsupported .npy header ${header.trim()}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = hstart + hlen;
  const width = descr === '<i4' ? 4 : 8;
  if (bytes.length - start !== count * width) throw new Error(`.npy data has ${bytes.length - start} bytes, expected ${count * width}`);
  const copy = new Uint8Array(bytes.subarray(start)).buffer; // a copy: a Buffer's own .buffer may be a shared pool
  return { descr, shape, data: descr === '<i4' ? new Int32Array(copy) : new BigInt64Array(copy) };
}

// ---------------------------------------------------------------- corpus input

/** A corpus line that cannot be exported; the message names the file and line. */
export class CorpusLineError extends Error {
  constructor(message: string, readonly line: number) { super(message); this.name = 'CorpusLineError'; }
}

export interface CorpusTrace {
  /** 0-based position among the corpus's non-blank lines. */
  index: number;
  /** 1-based line number in the file. */
  line: number;
  id: string | null;
  text: string;
  chain?: string;
}

/**
 * The traces of a corpus (DcdSample lines; the `text` field), through the
 * corpus input layer: any input error (a malformed line, invalid UTF-8, a
 * missing or non-string field, an empty corpus) is a CorpusLineError naming
 * every bad line.
 */
export function corpusTraces(content: string | Buffer | CorpusRead, file = '<corpus>'): CorpusTrace[] {
  const read = typeof content === 'string' || Buffer.isBuffer(content) ? checkCorpusBytes(Buffer.from(content), file) : content;
  const errors = errorsOf(read.problems);
  if (errors.length) throw new CorpusLineError(errors.map(formatProblem).join('\n'), errors[0].line ?? 0);
  return tracesOf(read.samples);
}

/** The traces of checked samples. */
export function tracesOf(samples: readonly CorpusSampleRow[]): CorpusTrace[] {
  return samples.map(({ index, line, value: v }) => ({
    index, line, id: typeof v.id === 'string' ? v.id : null, text: v.text, chain: typeof v.chain === 'string' ? v.chain : undefined,
  }));
}

// ---------------------------------------------------------------- export

/** The export's copy of the tokenizer it was packed with (tokenizer.json, tokenizer_config.json). */
export const EXPORT_TOKENIZER_DIR = 'tokenizer';

export interface ExportManifest {
  format: 'dcd-export';
  version: 1;
  created_by: string;
  corpus: { path: string; sha256: string };
  tokenizer: { name: string; sha256: string; vocab_size: number };
  /** Template preset the traces were parsed with. */
  template: string;
  policy: MaskPolicy;
  max_length: number;
  samples: number;
  tokens: number;
  trained_tokens: number;
  sample_ids: Array<string | null>;
  files: Record<'ids.npy' | 'labels.npy' | 'offsets.npy', string>;
  /** Counts over the exported samples (docs/SPEC.md §4: flagged, never trained silently). */
  flags: Record<MaskFlag, number>;
  /** Samples left out by `dropFlagged`, with their flags. */
  dropped: Array<{ index: number; line: number; id: string | null; flags: Array<MaskFlag> }>;
  plan: TrainingPlan;
  /** docs/FORMATS.md §6: the corpus this export was made from, by absolute path and sha256. */
  lineage?: LineageRecord;
}

export interface PackOptions extends CorpusTokenOptions {
  policy?: MaskPolicy;
  maxLength?: number;
  /** Plan preset recorded in the manifest (default `paper`). */
  planPreset?: string;
  /** Leave out samples whose verdict or answer would be cut, or that have no trained token. */
  dropFlagged?: boolean;
  /** The corpus as the caller already scanned it (scanCorpusInput with `hash`): its check is not repeated. */
  checked?: CorpusScan;
  /** Line bytes per tokenized batch (default 32 MiB). */
  batchBytes?: number;
}

async function writeSynced(file: string, data: Uint8Array | string): Promise<void> {
  const h = await fs.open(file, 'w');
  try { await h.writeFile(data); await h.sync(); } finally { await h.close(); }
}

/** Replaces `dir` by `tmp` (a fresh export); refuses to replace a folder that is not an export. */
async function swapInto(tmp: string, dir: string): Promise<void> {
  const entries = await fs.readdir(dir).catch(() => null);
  if (entries === null) { await fs.rename(tmp, dir); return; }
  if (entries.length) {
    const m = await fs.readFile(path.join(dir, 'manifest.json'), 'utf8').then((t) => JSON.parse(t) as { format?: string }).catch(() => null);
    if (m?.format !== 'dcd-export') throw new Error(`${dir} exists and is not a DCD export; choose another --out.`);
  }
  const old = path.join(path.dirname(dir), `.${path.basename(dir)}.old-${randomBytes(4).toString('hex')}`);
  await fs.rename(dir, old);
  try {
    await fs.rename(tmp, dir);
  } catch (err) {
    await fs.rename(old, dir).catch(() => undefined);
    throw err;
  }
  await fs.rm(old, { recursive: true, force: true });
}

/** Line bytes per batch: two are in flight at once (half scanCorpusBatches' default, so the reader holds about as much). */
const PACK_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * Tokenizes a corpus file and writes its training export into `outDir`;
 * returns the manifest. Streamed: a checking pass (the input layer's
 * problems; any error is a CorpusLineError and nothing is written; the
 * corpus hash), then batches of samples tokenized (two at a time) and
 * appended in order to ids.npy and labels.npy, with each line's hash for the
 * lineage taken in the same pass; memory holds the batches in flight and an
 * offset, an id and a line hash per sample.
 */
export async function packCorpus(file: string, outDir: string, opts: PackOptions = {}): Promise<ExportManifest> {
  const policy = opts.policy ?? DEFAULT_POLICY;
  const maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  const preset = opts.preset ?? 'paper';
  const checked = opts.checked?.sha256 ? opts.checked : await scanCorpusInput(file, { hash: true });
  const errors = errorsOf(checked.problems);
  if (errors.length) throw new CorpusLineError(errors.map(formatProblem).join('\n'), errors[0].line ?? 0);

  const source = opts.source ?? opts.pool?.source ?? await resolveTokenizerSource({ dir: opts.tokenizerDir });
  const workers = opts.workers ?? defaultWorkerCount();
  const pool = opts.pool ?? (workers > 0 ? new TokenizerPool(source, { workers, cacheRoot: opts.cacheDir === false ? null : (opts.cacheDir ?? defaultCacheDir()) }) : null);
  const tokenOpts: CorpusTokenOptions = { ...opts, source, ...(pool ? { pool } : {}) };

  const dir = path.resolve(outDir);
  await fs.mkdir(path.dirname(dir), { recursive: true });
  const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await fs.mkdir(tmp);
  const idsFile = await NpyAppender.create(path.join(tmp, 'ids.npy'));
  const labelsFile = await NpyAppender.create(path.join(tmp, 'labels.npy'));
  try {
    const flags = maskFlagCounts();
    const dropped: ExportManifest['dropped'] = [];
    const sampleIds: Array<string | null> = [];
    const ends: number[] = [0];
    let total = 0;
    let trained = 0;
    let vocabSize: number | undefined;
    const lineHashes = new LineHashes();
    // Batches are tokenized two at a time (the pool takes batch k+1's jobs while batch k's last ones run,
    // and the reader parses on meanwhile); each is summarised and written after the one before it.
    let previous: Promise<void> = Promise.resolve();
    const onBatch = (batch: CorpusSampleRow[]): Promise<void> => {
      const traces = tracesOf(batch);
      const tokenized = tokenizeCorpus(traces.map((t) => ({ text: t.text, group: t.chain })), true, tokenOpts);
      const before = previous;
      previous = (async () => {
        const corpus = await tokenized;
        await before;
        await writeBatch(traces, corpus);
      })();
      return previous;
    };
    const writeBatch = async (traces: ReturnType<typeof tracesOf>, corpus: Awaited<ReturnType<typeof tokenizeCorpus>>): Promise<void> => {
      vocabSize ??= corpus.vocabSize;
      corpus.samples.forEach((s, i) => {
        if (!s.layout) throw new CorpusLineError(`${file}:${traces[i].line}: ${s.error ?? 'could not be tokenized'}`, traces[i].line);
      });
      const idParts: Int32Array[] = [];
      const labelParts: Int32Array[] = [];
      let batchTokens = 0;
      corpus.samples.forEach((s, i) => {
        const m = summarizeMask(s.layout!, policy, maxLength);
        const on = MASK_FLAGS.filter((f) => m.flags[f]);
        if (opts.dropFlagged && (m.flags.verdict_cut || m.flags.answer_cut || m.flags.zero_trained)) {
          dropped.push({ index: traces[i].index, line: traces[i].line, id: traces[i].id, flags: on });
          return;
        }
        for (const f of on) flags[f]++;
        const lab = labelsFor(s.ids!, s.layout!, policy, maxLength);
        idParts.push(s.ids!.subarray(0, lab.length));
        labelParts.push(lab);
        for (const l of lab) if (l !== IGNORE_INDEX) trained++;
        batchTokens += lab.length;
        total += lab.length;
        ends.push(total);
        sampleIds.push(traces[i].id);
      });
      await idsFile.append(concat(idParts, batchTokens));
      await labelsFile.append(concat(labelParts, batchTokens));
    };
    await scanCorpusBatches(file, onBatch, { batchBytes: opts.batchBytes ?? PACK_BATCH_BYTES, inFlight: 2, onRow: (row, span) => lineHashes.add(row.line, span.bytes) });

    const offsets = new BigInt64Array(ends.length);
    ends.forEach((e, k) => { offsets[k] = BigInt(e); });
    const offsetsNpy = encodeNpy(offsets);
    const kept = sampleIds.length;
    const manifest: ExportManifest = {
      format: 'dcd-export', version: 1, created_by: `dcd-studio ${version}`,
      corpus: { path: path.basename(file), sha256: checked.sha256! },
      tokenizer: { name: source.name, sha256: source.sha256, vocab_size: vocabSize ?? vocabSizeOf(source) },
      template: preset,
      policy, max_length: maxLength,
      samples: kept, tokens: total, trained_tokens: trained,
      sample_ids: sampleIds,
      files: {
        'ids.npy': await idsFile.finish(), 'labels.npy': await labelsFile.finish(), 'offsets.npy': sha256Hex(offsetsNpy),
      },
      flags, dropped,
      plan: planTraining(kept, opts.planPreset ?? 'paper', { tokens: total, trained_tokens: trained }),
      lineage: lineageRecord('export', [{ kind: 'corpus', path: path.resolve(file), sha256: checked.sha256!, line_sha256: lineHashes.finish() }]),
    };
    await writeSynced(path.join(tmp, 'offsets.npy'), offsetsNpy);
    await writeSynced(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    // The tokenizer the ids came from (its tokenizer.json hashes to manifest.tokenizer.sha256): a model
    // without one of its own (builtin:tiny) saves it into final/, so the trained model loads with transformers.
    await fs.mkdir(path.join(tmp, EXPORT_TOKENIZER_DIR));
    await writeSynced(path.join(tmp, EXPORT_TOKENIZER_DIR, 'tokenizer.json'), Buffer.from(source.tokenizerJson, 'utf8'));
    await writeSynced(path.join(tmp, EXPORT_TOKENIZER_DIR, 'tokenizer_config.json'), Buffer.from(source.configJson, 'utf8'));
    await swapInto(tmp, dir);
    return manifest;
  } catch (err) {
    await idsFile.close();
    await labelsFile.close();
    await fs.rm(tmp, { recursive: true, force: true });
    throw err;
  } finally {
    if (pool && !opts.pool) await pool.close();
  }
}

/** The parts joined into one array of `length` elements (one write per batch). */
function concat(parts: Int32Array[], length: number): Int32Array {
  if (parts.length === 1) return parts[0];
  const out = new Int32Array(length);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** Reads an export back (for tests and tools): the manifest and the three arrays, hashes checked. */
export async function readExport(dir: string): Promise<{ manifest: ExportManifest; ids: Int32Array; labels: Int32Array; offsets: BigInt64Array }> {
  const manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as ExportManifest;
  const load = async (name: keyof ExportManifest['files']): Promise<Int32Array | BigInt64Array> => {
    const bytes = await fs.readFile(path.join(dir, name));
    if (sha256Hex(bytes) !== manifest.files[name]) throw new Error(`${name}: sha256 differs from the manifest`);
    return decodeNpy(bytes).data;
  };
  const [ids, labels, offsets] = await Promise.all([load('ids.npy'), load('labels.npy'), load('offsets.npy')]);
  if (!(ids instanceof Int32Array) || !(labels instanceof Int32Array) || !(offsets instanceof BigInt64Array)) throw new Error('unexpected dtypes in the export');
  return { manifest, ids, labels, offsets };
}
