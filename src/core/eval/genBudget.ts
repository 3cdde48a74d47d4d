/**
 * Is the generation budget (`max_gen_toks`) enough for the model to reach
 * its answer? A DCD checkpoint writes draft, reasoning chain and verdict
 * before `<|im_start|>answer`: cut anywhere before the tag, the generation
 * has no answer, on every generative task and with any grading (stock or
 * DCD-aware). So the check applies whenever the model is a DCD checkpoint
 * (its training record says so), not only when DCD grading is on; and for
 * any model when the setting is below what the task itself generates.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BENCHMARKS, benchmarkOfTask, isBenchmarkId, type BenchmarkInfo } from './benchmarks';

/** The harness's `max_gen_toks` when neither the task nor the call sets one. */
export const HARNESS_DEFAULT_MAX_GEN_TOKS = 256;
/** A DCD trace's budget when the training record names no max_length: the paper's (s1's) block size (docs/SPEC.md §4). */
export const DCD_DEFAULT_TRACE_TOKENS = 32768;
/**
 * The budget floor for a model only assumed to be a DCD checkpoint (DCD
 * grading asked, no training record read): a draft, a reasoning chain and a
 * verdict do not fit in fewer tokens. With a record, the need is the length
 * the checkpoint was trained at.
 */
export const DCD_MIN_TRACE_TOKENS = 1024;
/** The training record `train.py` writes beside the final model (docs/FORMATS.md). */
export const DCD_TRAINING_RECORD = 'dcd_training.json';

export interface ModelMetadata {
  /** The model is a DCD checkpoint (trained on DCD traces). */
  dcd: boolean;
  /** What said so (the training record's path), for the warning text. */
  source?: string;
  /** The sequence length the checkpoint was trained at (`max_length`), where recorded. */
  maxLength?: number;
  /** DCD only by the user's word (DCD grading asked), no training record read: only the floor `DCD_MIN_TRACE_TOKENS` is checked. */
  assumed?: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Metadata from the content of a `dcd_training.json`. */
export function metadataFromTrainingRecord(record: unknown, source?: string): ModelMetadata {
  const meta: ModelMetadata = { dcd: true, ...(source ? { source } : {}) };
  if (!isObject(record)) return meta;
  for (const holder of [record.config, isObject(record.config) ? record.config.hp : undefined, record.plan]) {
    if (isObject(holder) && typeof holder.max_length === 'number' && Number.isInteger(holder.max_length) && holder.max_length > 0) {
      meta.maxLength = holder.max_length;
      break;
    }
  }
  return meta;
}

/**
 * Reads a local model folder's training record: `<dir>/dcd_training.json`
 * (the `final/` folder itself) or `<dir>/final/dcd_training.json` (a run
 * folder). No record: not known to be a DCD checkpoint.
 */
export async function readModelMetadata(modelDir: string): Promise<ModelMetadata> {
  for (const p of [path.join(modelDir, DCD_TRAINING_RECORD), path.join(modelDir, 'final', DCD_TRAINING_RECORD)]) {
    let text: string;
    try {
      text = await fs.readFile(p, 'utf8');
    } catch {
      continue;
    }
    let record: unknown = null;
    try {
      record = JSON.parse(text);
    } catch {
      // a damaged record still marks a DCD checkpoint
    }
    return metadataFromTrainingRecord(record, p);
  }
  return { dcd: false };
}

/** A generative task's budget facts: what it generates by default. */
function taskBudget(task: string | BenchmarkInfo): { name: string; generative: boolean; taskMax: number; taskMin: number } | null {
  const b = typeof task === 'string' ? (isBenchmarkId(task) ? BENCHMARKS[task] : benchmarkOfTask(task)) : task;
  if (!b) return null;
  const name = typeof task === 'string' ? task : b.task;
  const taskMax = b.taskMaxGenToks ?? HARNESS_DEFAULT_MAX_GEN_TOKS;
  return { name, generative: b.outputType === 'generate_until', taskMax, taskMin: Math.min(b.minGenToks ?? taskMax, taskMax) };
}

/**
 * Warnings about the generation budget of an evaluation call: one per task
 * whose effective `max_gen_toks` (the call's, else the task's) is below
 *  - what the task's answers need (`minGenToks`; any model), or
 *  - for a DCD checkpoint, the trace length it was trained for
 *    (`maxLength`, else 32,768).
 * Tasks that are not the paper's benchmarks are judged by the harness
 * default; multiple-choice tasks generate nothing and get no warning.
 */
export function genBudgetWarnings(model: ModelMetadata, tasks: ReadonlyArray<string | BenchmarkInfo>, maxGenToks?: number): string[] {
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const t of tasks) {
    const budget = taskBudget(t);
    if (!budget || !budget.generative || seen.has(budget.name)) continue;
    seen.add(budget.name);
    const effective = maxGenToks ?? budget.taskMax;
    const how = maxGenToks === undefined
      ? `${budget.name} generates at most ${effective} tokens (${budget.taskMax === HARNESS_DEFAULT_MAX_GEN_TOKS ? 'harness default' : 'the task\'s setting'}, no max_gen_toks set)`
      : `max_gen_toks=${effective}`;
    if (model.dcd) {
      const need = model.assumed ? DCD_MIN_TRACE_TOKENS : model.maxLength ?? DCD_DEFAULT_TRACE_TOKENS;
      const length = model.assumed ? 'hundreds to thousands of tokens' : `up to ${need} tokens ${model.maxLength ? 'as trained' : '(the paper\'s trace length)'}`;
      if (effective < need) {
        warnings.push(`${how}: ${model.assumed ? 'a DCD model' : `this DCD checkpoint${model.source ? ` (${model.source})` : ''}`} writes draft, reasoning and verdict before its answer tag, in ${length}; a trace cut before "<|im_start|>answer" is graded wrong by every filter, stock or DCD-aware. Set max_gen_toks to at least ${need} (and the context length above it).`);
        continue;
      }
    }
    if (maxGenToks !== undefined && maxGenToks < budget.taskMin) {
      warnings.push(`max_gen_toks=${maxGenToks} is below the ${budget.taskMin} tokens ${budget.name} needs (it generates up to ${budget.taskMax} itself): answers after token ${maxGenToks} are cut and graded wrong.`);
    }
  }
  return warnings;
}
