/** Messages between the local-model client (extension host) and its worker process. */
import type { GenerateParams, GenerateResult, LoadOptions, ModelInfo, PromptInput, TokenEvent } from './types';

export type ToWorker =
  | { type: 'load'; dir: string; opts: LoadOptions }
  | { type: 'generate'; id: number; prompt: PromptInput; params: GenerateParams }
  | { type: 'cancel'; id: number }
  | { type: 'dispose' };

export interface WireError { name: string; message: string; code?: string; file?: string }

export type FromWorker =
  | { type: 'loaded'; info: ModelInfo }
  | { type: 'load-error'; error: WireError }
  | { type: 'token'; id: number; ev: TokenEvent }
  | { type: 'result'; id: number; result: GenerateResult }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'disposed' };

export function toWire(err: unknown): WireError {
  const e = err as { name?: string; message?: string; code?: unknown; file?: unknown };
  return {
    name: typeof e?.name === 'string' ? e.name : 'Error',
    message: typeof e?.message === 'string' ? e.message : String(err),
    code: typeof e?.code === 'string' ? e.code : undefined,
    file: typeof e?.file === 'string' ? e.file : undefined,
  };
}

/** An error rebuilt on the host side, keeping the worker's name, code and file. */
export class LocalModelError extends Error {
  readonly code?: string;
  readonly file?: string;
  constructor(w: WireError) {
    super(w.message);
    this.name = w.name;
    this.code = w.code;
    this.file = w.file;
  }
}
