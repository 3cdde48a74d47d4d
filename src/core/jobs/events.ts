/**
 * Training events (docs/FORMATS.md §2) as the TypeScript side reads them, and
 * the byte-offset line splitter that makes tailing resumable: an offset only
 * ever advances past complete lines, so reading again from it after a
 * reconnect neither skips nor repeats a line.
 *
 * Every line is checked against the trainer's own schema
 * (python-backend/dcd_backend/events_schema.json, which the Python tests use
 * too) before it is typed: the views format these values, and one bad line
 * must not reach them as the wrong type.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import eventsSchema from '../../../python-backend/dcd_backend/events_schema.json';
import { jsonlErrors, parseJsonl, type JsonlError } from '../io/jsonl';
import type { Measured } from './measured';

interface EventBase { event: string; time: string }

export interface PlanEvent extends EventBase {
  event: 'plan';
  total_steps: number; warmup_steps: number; samples: number; tokens: number; trained_tokens: number;
  epochs: number; grad_accum: number; lr: number; preset: string; model: string;
}
export interface StepEvent extends EventBase {
  event: 'step';
  step: number; loss: Measured; lr: number; grad_norm: Measured; tokens: number; tokens_per_s: number; elapsed_s: number;
}
export interface CheckpointEvent extends EventBase { event: 'checkpoint'; step: number; path: string; reason: 'interval' | 'signal' | 'final' }
export interface DoneEvent extends EventBase { event: 'done'; step: number; final_loss: Measured; model_dir: string | null; elapsed_s: number }
export interface ErrorEvent extends EventBase { event: 'error'; message: string; traceback_file: string | null }
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

let validator: ValidateFunction<TrainingEvent> | undefined;

/** Whether `value` is a training event by the schema; the reason when it is not. */
export function checkEvent(value: unknown): { ok: true; event: TrainingEvent } | { ok: false; message: string } {
  validator ??= new Ajv({ allErrors: false }).compile<TrainingEvent>(eventsSchema);
  if (validator(value)) return { ok: true, event: value };
  const ajvErrors = validator.errors ?? [];
  const kind = value && typeof value === 'object' ? (value as { event?: unknown }).event : undefined;
  // oneOf reports a failure for every kind of event; only the branch of this line's kind says what is wrong.
  const branch = eventsSchema.oneOf.findIndex((b) => b.properties.event.const === kind);
  if (typeof kind === 'string' && branch < 0) return { ok: false, message: `unknown event ${JSON.stringify(kind)}` };
  const shown = ajvErrors.find((e) => !e.schemaPath.startsWith('#/oneOf'))
    ?? ajvErrors.find((e) => e.schemaPath.startsWith(`#/oneOf/${branch}/`))
    ?? ajvErrors[0];
  const where = shown?.instancePath ? `${shown.instancePath.slice(1)} ` : '';
  return { ok: false, message: `not a valid ${typeof kind === 'string' ? `${kind} ` : ''}event: ${shown ? `${where}${shown.message ?? shown.keyword}` : 'schema mismatch'}` };
}

/** Parses complete JSONL lines into events; lines that do not match the events schema count as malformed. */
export function parseEvents(complete: Buffer): ParsedEvents {
  const rows = parseJsonl<unknown>(complete.toString('utf8'));
  const events: TrainingEvent[] = [];
  const malformed = jsonlErrors(rows);
  for (const row of rows) {
    if (row.kind !== 'value') continue;
    const checked = checkEvent(row.value);
    if (checked.ok) events.push(checked.event);
    else malformed.push({ line: row.line, message: checked.message, raw: row.raw });
  }
  return { events, malformed };
}
