/**
 * The shared formats against their JSON Schemas (python-backend/dcd_backend/*_schema.json): the
 * committed export fixtures, and job records as the store writes them. `dcd pack`'s own manifests
 * are checked where pack.test.ts writes them; the Python tests check the same manifests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyStatus, JobStore, type JobRecord } from '../../src/core/jobs/store';
import { readExport } from '../../src/core/training/pack';
import { planTraining } from '../../src/core/training/plan';
import { assertMatchesSchema, schemaErrors } from '../support/schemas';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');
const manifestOf = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;

test('the fixture exports match the manifest schema', () => {
  for (const dir of ['formats/ts-export', 'jobs/export']) assertMatchesSchema('manifest', manifestOf(path.join(FIXTURES, dir)), dir);
});

test('the TypeScript-packed fixture reads back, and its plan is what core/training/plan.ts computes today', async () => {
  const { manifest, offsets } = await readExport(path.join(FIXTURES, 'formats', 'ts-export'));
  assert.equal(offsets.length, manifest.samples + 1);
  assert.deepEqual(manifest.plan, planTraining(manifest.samples, 'smoke', { tokens: manifest.tokens, trained_tokens: manifest.trained_tokens }));
});

test('the manifest schema refuses what the trainer cannot follow', () => {
  const m = manifestOf(path.join(FIXTURES, 'formats', 'ts-export'));
  const plan = { ...(m.plan as Record<string, unknown>) };
  delete plan.optimizer_steps;
  assert.ok(schemaErrors('manifest', { ...m, plan }).some((e) => e.includes('optimizer_steps')));
  assert.ok(schemaErrors('manifest', { ...m, version: 2 }).some((e) => e.startsWith('/version')));
});

function record(id: string, extra: Partial<JobRecord> = {}): JobRecord {
  const time = '2026-01-01T00:00:00.000Z';
  return {
    id, host: { name: 'local', kind: 'local' }, status: 'preparing', history: [{ status: 'preparing', time }], createdAt: time, updatedAt: time,
    spec: { data: '/x', model: 'builtin:tiny', preset: 'smoke' }, ...extra,
  };
}

test('job records written by the store match the job-record schema', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'dcd-schema-')), 'jobs.json');
  const store = new JobStore(file);
  await store.put(record('a'));
  await store.put(record('b', {
    host: { name: 'gpu', kind: 'ssh', host: 'gpu.example', port: 2222, user: 'me', identityFiles: ['/k'], launcher: 'tmux' },
    spec: { data: '/exp', model: 'Qwen/Qwen2.5-1.5B-Instruct', preset: 'paper', maxSteps: 40 },
    remote: { jobDir: '/h/jobs/b', backendDir: '/h/backend', exportDir: '/h/exports/x', python: 'python3', launcher: 'tmux' },
  }));
  await store.update('b', (r) => ({ ...applyStatus(r, 'running'), lastStep: 3, totalSteps: 40, lastLoss: 2.5 }));
  await store.update('a', (r) => ({ ...applyStatus(r, 'failed'), error: 'no route to host' }));
  const jobs = (JSON.parse(readFileSync(file, 'utf8')) as { jobs: unknown[] }).jobs;
  assert.equal(jobs.length, 2);
  for (const j of jobs) assertMatchesSchema('job_record', j);
  // A field the type does not have (a secret, say) is refused.
  assert.ok(schemaErrors('job_record', { ...record('c'), token: 'hf_x' }).some((e) => e.includes('additional properties')));
});
