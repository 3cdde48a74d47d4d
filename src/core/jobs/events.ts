/**
 * Training events (docs/FORMATS.md §2) as the TypeScript side reads them, and
 * the byte-offset line splitter that makes tailing resumable: an offset only
 * ever advances past complete lines, so reading again from it after a
 * reconnect neither skips nor repeats a line.
 */
import { jsonlErrors, parseJsonl, type JsonlError } from '../jsonl';

interface EventBase { event: string; time: string }

export interface PlanEvent extends EventBase {
  event: 'plan';
  total_steps: number; warmup_steps: number; samples: number; tokens: number; trained_tokens: number;
  epochs: number; grad_accum: number; lr: number; preset: string; model: string;
}
export interface StepEvent extends EventBase {
  event: 'step';
  step: number; loss: number; lr: number; grad_norm: number; tokens: number; tokens_per_s: number; elapsed_s: number;
}
export interface CheckpointEvent extends EventBase { event: 'checkpoint'; step: number; path: string; reason: 'interval' | 'signal' | 'final' }
export interface DoneEvent extends EventBase { event: 'done'; step: number; final_loss: number; model_dir: string; elapsed_s: number }
export interface ErrorEvent extends EventBase { event: 'error'; message: string; traceback_file: string }
export interface LrEvent extends EventBase { event: 'lr'; step: number; lr: number }

export type TrainingEvent = PlanEvent | StepEvent | CheckpointEvent | DoneEvent | ErrorEvent | LrEvent;

export interface LineChunk {
  /** The complete lines of the chunk (up to and including the last newline). */
  complete: Buffer;
  /** Bytes consumed: the offset advances by this much. */
  consumed: number;
}

/** Cuts a chunk read from an offset at its last newline; a partial last line waits for the next read. */
export function completeLines(chunk: Buffer): LineChunk {
  const last = chunk.lastIndexOf(0x0a);
  if (last < 0) return { complete: chunk.subarray(0, 0), consumed: 0 };
  return { complete: chunk.subarray(0, last + 1), consumed: last + 1 };
}

export interface ParsedEvents {
  events: TrainingEvent[];
  malformed: JsonlError[];
}

/** Parses complete JSONL lines into events; lines without an `"event"` string count as malformed. */
export function parseEvents(complete: Buffer): ParsedEvents {
  const rows = parseJsonl<Record<string, unknown>>(complete.toString('utf8'));
  const events: TrainingEvent[] = [];
  const malformed = jsonlErrors(rows);
  for (const row of rows) {
    if (row.kind !== 'value') continue;
    if (typeof row.value.event === 'string') events.push(row.value as unknown as TrainingEvent);
    else malformed.push({ line: row.line, message: 'no "event" field', raw: row.raw });
  }
  return { events, malformed };
}
