/** Messages between the tokenizer pool (pool.ts) and its worker threads (worker.ts). */
import type { TraceTokenOptions } from './trace';
import type { MaskFlags, MaskPolicy } from '../trace/mask';
import type { RenderedTrace } from '../trace/template';

/** What a worker is started with. */
export interface WorkerInit {
  tokenizerJson: string;
  configJson: string;
  sha256: string;
  /** Root of the disk cache; null: no disk cache. */
  cacheRoot: string | null;
  /** Nice value for the worker's own thread (Linux; elsewhere ignored): 0 or absent leaves it as is. */
  niceness?: number;
}

/** One trace to tokenize for an audit or an export. */
export interface WorkItem {
  key: string;
  text: string;
  preset: string;
  /** Send the ids back (an export needs them; an audit only the layout). */
  wantIds: boolean;
}

export interface WorkResult {
  key: string;
  /** Packed layout (mask.ts packLayout), absent on error. */
  layout?: Int32Array;
  ids?: Int32Array;
  /** Why the text could not be tokenized (e.g. it does not parse as a trace). */
  error?: string;
}

/**
 * One row of the workbench's token columns: the bytes of its line (the worker
 * decodes and parses them) or, for an edited line, its text.
 */
export interface ColumnItem {
  key: number;
  bytes?: Uint8Array;
  line?: string;
}

/** A row's token column, counted in the worker: only numbers and flags come back. */
export interface ColumnResult {
  key: number;
  tokens: number;
  trained: number;
  flags: MaskFlags | null;
  /** Why the row has no counts (not a sample, no text, not a trace). */
  error?: string;
}

export type ToWorker =
  | { type: 'batch'; id: number; items: WorkItem[] }
  | { type: 'columns'; id: number; items: ColumnItem[]; preset: string; policy: MaskPolicy; maxLength: number }
  | { type: 'trace'; id: number; text: string; opts: TraceTokenOptions };

/** A tokenized trace as it crosses the thread boundary (typed arrays are transferred). */
export interface TraceReply {
  ids: Int32Array;
  offsets: Int32Array;
  labels: Int32Array;
  layout: Int32Array;
  totalTokens: number;
  trainedTokens: number;
  flags: MaskFlags;
  rendered: RenderedTrace;
}

export type FromWorker =
  | { type: 'ready'; vocabSize: number }
  | { type: 'batch'; id: number; results: WorkResult[]; chunkHits: number; chunkMisses: number }
  | { type: 'columns'; id: number; results: ColumnResult[] }
  | { type: 'trace'; id: number; result: TraceReply }
  | { type: 'error'; id: number | null; message: string; name?: string };
