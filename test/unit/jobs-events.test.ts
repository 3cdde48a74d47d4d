/**
 * Training events as the TypeScript side reads them: every line is checked
 * against the trainer's schema (python-backend/dcd_backend/events_schema.json,
 * the same file the Python tests validate with), non-finite floats arrive
 * spelled out, and nothing a diverged run writes can make a view throw.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Ajv from 'ajv';
import schema from '../../python-backend/dcd_backend/events_schema.json';
import { checkEvent, parseEvents, type StepEvent } from '../../src/core/jobs/events';
import { formatMeasured, measuredNumber } from '../../src/core/jobs/measured';
import { jobDescription } from '../../src/core/jobs/describe';
import type { JobRecord } from '../../src/core/jobs/store';

const ROOT = path.resolve(__dirname, '..', '..');
/** Every events file the tests share: the trainer's own runs (incl. a diverged one) and the UI test's run. */
const FIXTURES = ['test/fixtures/formats/events.jsonl', 'test/fixtures/jobsui/events.jsonl'].map((f) => path.join(ROOT, f));
const TIME = '2026-11-27T16:46:42.635Z';
const STEP = { event: 'step', step: 1, loss: 2.5, lr: 1e-5, grad_norm: 0.5, tokens: 10, tokens_per_s: 100, elapsed_s: 0.1, time: TIME };

function lines(file: string): unknown[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown);
}

test('the shared fixture events validate against the one schema, with a plain Ajv as well as through the reader', () => {
  const validate = new Ajv().compile(schema);
  for (const file of FIXTURES) {
    lines(file).forEach((e, i) => assert.ok(validate(e), `${path.basename(path.dirname(file))} line ${i + 1}: ${JSON.stringify(validate.errors)}`));
    const parsed = parseEvents(readFileSync(file));
    assert.deepEqual(parsed.malformed, [], file);
    assert.equal(parsed.events.length, lines(file).length);
  }
  const events = parseEvents(readFileSync(FIXTURES[0])).events;
  assert.deepEqual(new Set(events.map((e) => e.event)), new Set(['plan', 'step', 'lr', 'checkpoint', 'done', 'error']));
  const diverged = events.filter((e): e is StepEvent => e.event === 'step' && typeof e.loss === 'string');
  assert.ok(diverged.length > 0, 'the fixture holds a diverged run');
  assert.equal(diverged[0].loss, 'NaN');
});

test("the jobs tests' stand-in trainer writes events the reader accepts", () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-standin-'));
  try {
    const run = spawnSync('/usr/bin/python3', [path.join(ROOT, 'test/fixtures/jobs/backend/train.py'), '--data', path.join(ROOT, 'test/fixtures/jobs/export'),
      '--model', 'builtin:tiny', '--preset', 'smoke', '--out', tmp, '--max-steps', '4'], { env: { ...process.env, DCD_FAKE_STEP_S: '0.001' }, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const parsed = parseEvents(readFileSync(path.join(tmp, 'events.jsonl')));
    assert.deepEqual(parsed.malformed, []);
    assert.deepEqual(parsed.events.map((e) => e.event), ['plan', 'step', 'step', 'step', 'step', 'checkpoint', 'done']);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('lines that do not match the schema are reported as malformed, with the reason, and never typed as events', () => {
  const bad: Array<[unknown, RegExp]> = [
    [{ ...STEP, loss: { toFixed: 1 } }, /step event: loss/],
    [{ ...STEP, loss: 'nan' }, /step event: loss/],
    [{ ...STEP, step: '1' }, /step event: step must be integer/],
    [{ ...STEP, lr: undefined }, /step event: must have required property 'lr'/],
    [{ ...STEP, event: 'steps' }, /unknown event "steps"/],
    [{ ...STEP, time: '2026-11-27 16:46:42' }, /time must match pattern/],
    [{ event: 'checkpoint', step: 3, path: '/x', reason: 'manual', time: TIME }, /checkpoint event: reason/],
    [{ event: 'done', step: 3, final_loss: 1, model_dir: 7, elapsed_s: 0, time: TIME }, /done event: model_dir/],
  ];
  for (const [value, reason] of bad) {
    const r = checkEvent(value);
    assert.equal(r.ok, false, JSON.stringify(value));
    if (!r.ok) assert.match(r.message, reason);
  }
  const text = [STEP, { ...STEP, step: 2, loss: null }, { ...STEP, step: 3, loss: 'Infinity' }, { ...STEP, step: 4, loss: {} }].map((e) => JSON.stringify(e)).join('\n') + '\n';
  const parsed = parseEvents(Buffer.from(text));
  assert.deepEqual(parsed.events.map((e) => (e as StepEvent).loss), [2.5, null, 'Infinity']);
  assert.deepEqual(parsed.malformed.map((m) => m.line), [4]);
});

test('measured values format without throwing, whatever a trainer or an old jobs.json holds', () => {
  assert.equal(formatMeasured(4.123456), '4.1235');
  assert.equal(formatMeasured('NaN'), 'NaN');
  assert.equal(formatMeasured('Infinity'), '+Inf');
  assert.equal(formatMeasured('-Infinity'), '-Inf');
  assert.equal(formatMeasured(Number.NaN), 'NaN');
  for (const v of [null, undefined, 'x', {}, []]) assert.equal(formatMeasured(v), 'n/a');
  assert.equal(measuredNumber(3), 3);
  for (const v of ['NaN', 'Infinity', null, Number.POSITIVE_INFINITY]) assert.ok(Number.isNaN(measuredNumber(v)));
});

test('the Jobs tree shows a diverged run as "loss NaN", and a jobs.json from before the fix (lastLoss null) does not throw', () => {
  const rec = (lastLoss: unknown): JobRecord => ({
    id: 'j1', host: { name: 'local', kind: 'local' }, status: 'running', history: [], createdAt: TIME, updatedAt: TIME,
    spec: { data: '/d', model: 'builtin:tiny', preset: 'smoke' }, lastStep: 3, totalSteps: 6, lastLoss,
  } as JobRecord);
  assert.equal(jobDescription(rec('NaN')), 'running · step 3/6 · loss NaN · local');
  assert.equal(jobDescription(rec(null)), 'running · step 3/6 · loss n/a · local');
  assert.equal(jobDescription(rec(4.2)), 'running · step 3/6 · loss 4.2000 · local');
});
