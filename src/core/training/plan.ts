/**
 * The training plan (docs/SPEC.md §5): optimizer and warmup steps from the sample
 * count and a preset. Presets are data: the table below is the only place
 * their numbers live; the Python trainer reads the resulting plan from the
 * export manifest (docs/FORMATS.md §1).
 *
 * steps per epoch = floor(samples / (micro_batch × grad_accum)) (the rest of
 * each epoch's shuffled order is not used); optimizer steps = epochs × that
 * (capped by max_steps when the preset has one); warmup = ceil(warmup_ratio ×
 * steps). Paper on 1,675 samples: 5 × 104 = 520 steps, 26 warmup.
 */

export interface PlanPreset {
  name: string;
  description: string;
  model: string;
  epochs: number;
  micro_batch: number;
  grad_accum: number;
  lr: number;
  warmup_ratio: number;
  schedule: 'cosine';
  adam_beta1: number;
  adam_beta2: number;
  weight_decay: number;
  max_length: number;
  /** Stop after this many optimizer steps (smoke runs). */
  max_steps?: number;
}

export const PLAN_PRESETS: Readonly<Record<string, Readonly<PlanPreset>>> = Object.freeze({
  paper: Object.freeze({
    name: 'paper',
    description: 'The paper\'s run (§4.2): Qwen2.5-1.5B-Instruct, 5 epochs, micro-batch 1, gradient accumulation 16, lr 1e-5, 5% warmup then cosine.',
    model: 'Qwen/Qwen2.5-1.5B-Instruct',
    epochs: 5, micro_batch: 1, grad_accum: 16, lr: 1e-5, warmup_ratio: 0.05, schedule: 'cosine',
    adam_beta1: 0.9, adam_beta2: 0.95, weight_decay: 1e-4, max_length: 32768,
  }),
  smoke: Object.freeze({
    name: 'smoke',
    description: 'A few steps to check the pipeline end to end: 1 epoch, no accumulation, at most 8 optimizer steps.',
    model: 'Qwen/Qwen2.5-1.5B-Instruct',
    epochs: 1, micro_batch: 1, grad_accum: 1, lr: 1e-5, warmup_ratio: 0.05, schedule: 'cosine',
    adam_beta1: 0.9, adam_beta2: 0.95, weight_decay: 1e-4, max_length: 4096, max_steps: 8,
  }),
});

export function getPlanPreset(name = 'paper'): Readonly<PlanPreset> {
  const p = PLAN_PRESETS[name];
  if (!p) throw new Error(`Unknown plan preset "${name}". Known presets: ${Object.keys(PLAN_PRESETS).join(', ')}.`);
  return p;
}

export interface TrainingPlan {
  preset: string;
  model: string;
  samples: number;
  epochs: number;
  micro_batch: number;
  grad_accum: number;
  steps_per_epoch: number;
  optimizer_steps: number;
  warmup_steps: number;
  /** Recorded so that a trainer told to run another step count recomputes the warmup the same way. */
  warmup_ratio: number;
  lr: number;
  schedule: 'cosine';
  adam_beta1: number;
  adam_beta2: number;
  weight_decay: number;
  /** Corpus tokens after truncation (one pass over every sample), when known. */
  tokens: number | null;
  /** Trained tokens of the corpus (one pass), when known. */
  trained_tokens: number | null;
}

/** ceil(ratio × steps), robust to 0.05 × 520 = 26.000000000000004. */
function warmupSteps(steps: number, ratio: number): number {
  return Math.ceil(Math.round(steps * ratio * 1e9) / 1e9);
}

export function planTraining(samples: number, presetName = 'paper', counts: { tokens?: number; trained_tokens?: number } = {}): TrainingPlan {
  if (!Number.isInteger(samples) || samples < 0) throw new Error(`samples must be a non-negative integer, got ${samples}`);
  const p = getPlanPreset(presetName);
  const stepsPerEpoch = Math.floor(samples / (p.micro_batch * p.grad_accum));
  let steps = p.epochs * stepsPerEpoch;
  if (p.max_steps !== undefined) steps = Math.min(steps, p.max_steps);
  return {
    preset: p.name, model: p.model, samples,
    epochs: p.epochs, micro_batch: p.micro_batch, grad_accum: p.grad_accum,
    steps_per_epoch: stepsPerEpoch,
    optimizer_steps: steps,
    warmup_steps: warmupSteps(steps, p.warmup_ratio),
    warmup_ratio: p.warmup_ratio,
    lr: p.lr, schedule: p.schedule, adam_beta1: p.adam_beta1, adam_beta2: p.adam_beta2, weight_decay: p.weight_decay,
    tokens: counts.tokens ?? null,
    trained_tokens: counts.trained_tokens ?? null,
  };
}
