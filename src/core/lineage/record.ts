/**
 * The lineage record (docs/FORMATS.md §6): what an artifact was made from,
 * each parent named by kind, path and content hash. One small shape, kept
 * where each artifact already keeps its metadata: the `lineage` member of an
 * export's manifest.json (written by `dcd pack`) and of a run's
 * final/dcd_training.json (written by train.py), and the `dcd_lineage.json`
 * sidecar of an evaluation's results folder (written by `writeEvalLineage`).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../io/atomicWrite';
import { forEachJsonlRow, forEachJsonlRowInBuffer } from '../io/jsonlFile';
import { HashCache, LINEAGE_FILE, listFiles } from './hash';

export const LINEAGE_KINDS = ['corpus', 'export', 'run', 'model', 'eval'] as const;
export type LineageKind = typeof LINEAGE_KINDS[number];

export interface ParentRef {
  kind: LineageKind;
  /** Where the parent was when the record was written (absolute; on the host that made it). */
  path: string;
  /** Its content hash then (docs/FORMATS.md §6: which hash each kind uses). */
  sha256: string;
  /** Exports: the trainer's older export fingerprint (sha256 of the three array hashes). */
  fingerprint?: string;
  /** Corpora: the first 16 hex digits of each line's sha256 (index = line - 1; blank lines ""), to say which samples changed. */
  line_sha256?: string[];
}

export interface LineageRecord {
  format: 'dcd-lineage';
  version: 1;
  kind: LineageKind;
  parents: ParentRef[];
  [more: string]: unknown;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** A lineage record from untrusted JSON, or an error message saying what is wrong. */
export function parseLineageRecord(value: unknown, where: string): LineageRecord {
  const fail = (msg: string): never => { throw new Error(`${where}: ${msg}`); };
  if (!value || typeof value !== 'object' || Array.isArray(value)) fail('lineage record is not a JSON object');
  const r = value as Record<string, unknown>;
  if (r.format !== 'dcd-lineage') fail(`format is ${JSON.stringify(r.format)}, expected "dcd-lineage"`);
  if (r.version !== 1) fail(`unsupported lineage version ${JSON.stringify(r.version)}`);
  if (!LINEAGE_KINDS.includes(r.kind as LineageKind)) fail(`unknown kind ${JSON.stringify(r.kind)}`);
  if (!Array.isArray(r.parents)) fail('parents is not an array');
  (r.parents as unknown[]).forEach((p, i) => {
    const q = p as Record<string, unknown> | null;
    if (!q || typeof q !== 'object') fail(`parents[${i}] is not an object`);
    if (!LINEAGE_KINDS.includes(q!.kind as LineageKind)) fail(`parents[${i}].kind ${JSON.stringify(q!.kind)} is unknown`);
    if (typeof q!.path !== 'string' || !q!.path) fail(`parents[${i}].path is missing`);
    if (typeof q!.sha256 !== 'string' || !HEX64.test(q!.sha256)) fail(`parents[${i}].sha256 is not 64 hex digits`);
  });
  return r as unknown as LineageRecord;
}

export function lineageRecord(kind: LineageKind, parents: ParentRef[], extra: Record<string, unknown> = {}): LineageRecord {
  return { format: 'dcd-lineage', version: 1, kind, parents, ...extra };
}

export interface EvalLineageOptions {
  /** The evaluated model folder on this machine (hashed here), or its path and hash as recorded elsewhere. */
  model: string | { path: string; sha256: string };
  tasks?: string[];
  limit?: number | null;
  /** The job that ran it, when there was one. */
  job?: string;
  host?: string;
  createdBy?: string;
  cache?: HashCache;
  time?: string;
}

/**
 * Writes `DIR/dcd_lineage.json` beside fetched lm-eval output: the model
 * folder's hash as the parent, and the sha256 of every results/samples file
 * under DIR. Evaluation code calls this once the results are on this machine.
 */
export async function writeEvalLineage(dir: string, opts: EvalLineageOptions): Promise<LineageRecord> {
  const cache = opts.cache ?? new HashCache();
  const model = typeof opts.model === 'string'
    ? { path: path.resolve(opts.model), sha256: await cache.folderHash(opts.model) }
    : opts.model;
  const files: Record<string, string> = {};
  for (const rel of await listFiles(dir)) {
    if (/(^|\/)(results|samples)_[^/]*\.jsonl?$/.test(rel)) files[rel] = await cache.fileHash(path.join(dir, rel));
  }
  const rec = lineageRecord('eval', [{ kind: 'model', path: model.path, sha256: model.sha256 }], {
    created_by: opts.createdBy ?? 'dcd-studio', time: opts.time ?? new Date().toISOString(),
    ...(opts.tasks ? { tasks: opts.tasks } : {}), ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
    ...(opts.job ? { job: opts.job } : {}), ...(opts.host ? { host: opts.host } : {}),
    files,
  });
  await fs.mkdir(dir, { recursive: true });
  await writeFileAtomic(path.join(dir, LINEAGE_FILE), JSON.stringify(rec, null, 2) + '\n');
  return rec;
}

/**
 * The first 16 hex digits of the sha256 of each line of a corpus (index =
 * line - 1; "" for a blank line; a line-1 byte-order mark and the line ends
 * are not hashed), read by the one JSONL reader, so the in-memory and the
 * streamed forms agree by construction. A line over the reader's limit is
 * hashed as "" (the file's own sha256 still changes with it).
 */
export function lineHashes(bytes: Uint8Array): string[] {
  const h = new LineHashes();
  forEachJsonlRowInBuffer(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), (row, span) => h.add(row.line, span.bytes));
  return h.finish();
}

/** `lineHashes` built row by row from a reader of the one JSONL reader (e.g. a command's own streaming pass). */
export class LineHashes {
  private readonly sparse: string[] = [];
  add(line: number, bytes: Buffer): void { this.sparse[line - 1] = lineHash(bytes); }
  finish(): string[] { return denseHashes(this.sparse); }
}

/** `lineHashes` of a file, streamed: memory is the longest line and the list, never the file. */
export async function lineHashesOfFile(file: string): Promise<string[]> {
  const h = new LineHashes();
  await forEachJsonlRow(file, (row, span) => h.add(row.line, span.bytes));
  return h.finish();
}

function lineHash(line: Buffer): string {
  return line.length ? createHash('sha256').update(line).digest('hex').slice(0, 16) : '';
}

/** Blank lines (holes) as "", trailing blanks dropped. */
function denseHashes(sparse: string[]): string[] {
  const out = Array.from(sparse, (h) => h ?? '');
  while (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

/** Which lines differ between two `lineHashes` lists: edited (same position), added and removed. */
export function diffLines(before: string[], after: string[]): { edited: number[]; added: number[]; removed: number[] } {
  if (before.length === after.length) {
    return { edited: after.flatMap((h, i) => (h !== before[i] ? [i + 1] : [])), added: [], removed: [] };
  }
  const was = new Set(before);
  const now = new Set(after);
  return { edited: [], added: after.flatMap((h, i) => (h && !was.has(h) ? [i + 1] : [])), removed: before.flatMap((h, i) => (h && !now.has(h) ? [i + 1] : [])) };
}
