import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PLAN_PRESETS, getPlanPreset, planTraining } from '../../src/core/training/plan';

test('paper preset on the paper corpus (1,675 samples): 520 optimizer steps, 26 warmup (docs/SPEC.md §5)', () => {
  const p = planTraining(1675, 'paper', { tokens: 18_265_875, trained_tokens: 17_000_000 });
  assert.equal(p.steps_per_epoch, 104);
  assert.equal(p.optimizer_steps, 520);
  assert.equal(p.warmup_steps, 26);
  assert.equal(p.epochs, 5);
  assert.equal(p.grad_accum, 16);
  assert.equal(p.micro_batch, 1);
  assert.equal(p.lr, 1e-5);
  assert.equal(p.samples, 1675);
  assert.equal(p.tokens, 18_265_875);
  assert.equal(p.trained_tokens, 17_000_000);
  assert.equal(p.model, 'Qwen/Qwen2.5-1.5B-Instruct');
});

test('steps per epoch drop the remainder; warmup is the ceiling of 5%', () => {
  assert.equal(planTraining(1676, 'paper').optimizer_steps, 520);
  assert.equal(planTraining(1680, 'paper').optimizer_steps, 525);
  assert.equal(planTraining(1680, 'paper').warmup_steps, 27); // ceil(26.25)
  assert.equal(planTraining(320, 'paper').warmup_steps, 5); // 100 steps: exactly 5
  assert.equal(planTraining(15, 'paper').optimizer_steps, 0);
  assert.equal(planTraining(15, 'paper').warmup_steps, 0);
  assert.equal(planTraining(0, 'paper').tokens, null);
});

test('smoke preset: one epoch, no accumulation, capped at 8 steps', () => {
  assert.equal(planTraining(3, 'smoke').optimizer_steps, 3);
  assert.equal(planTraining(3, 'smoke').warmup_steps, 1);
  assert.equal(planTraining(1675, 'smoke').optimizer_steps, 8);
  assert.equal(getPlanPreset('smoke').max_length, 4096);
});

test('presets are data; unknown presets and bad counts are errors', () => {
  assert.deepEqual(Object.keys(PLAN_PRESETS).sort(), ['paper', 'smoke']);
  assert.throws(() => planTraining(10, 'nope'), /Unknown plan preset "nope"/);
  assert.throws(() => planTraining(-1), /non-negative integer/);
  assert.throws(() => planTraining(1.5), /non-negative integer/);
  assert.ok(Object.isFrozen(PLAN_PRESETS.paper));
});
