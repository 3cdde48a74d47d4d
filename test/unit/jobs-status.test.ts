import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  canTransition, IllegalTransitionError, isTerminal, JOB_STATUSES, transitionPath, type JobStatus,
} from '../../src/core/jobs/status';
import { applyStatus, JobStore, type JobRecord } from '../../src/core/jobs/store';
import { checkJobId, newJobId } from '../../src/core/jobs/engine';

test('the main line preparing → uploading → queued → running → succeeded is legal, step by step', () => {
  const line: JobStatus[] = ['preparing', 'uploading', 'queued', 'running', 'succeeded'];
  for (let i = 0; i + 1 < line.length; i++) assert.ok(canTransition(line[i], line[i + 1]), `${line[i]} → ${line[i + 1]}`);
});

test('every live status may fail or be cancelled; terminal statuses never move', () => {
  for (const s of JOB_STATUSES) {
    if (isTerminal(s)) {
      for (const t of JOB_STATUSES) assert.ok(!canTransition(s, t), `${s} → ${t}`);
    } else {
      assert.ok(canTransition(s, 'failed') && canTransition(s, 'cancelled'), s);
    }
  }
});

test('no skipping, no going back', () => {
  assert.ok(!canTransition('preparing', 'running'));
  assert.ok(!canTransition('running', 'queued'));
  assert.ok(!canTransition('uploading', 'preparing'));
  assert.ok(!canTransition('queued', 'succeeded'));
});

test('transitionPath catches up through the legal steps, and refuses the impossible', () => {
  assert.deepEqual(transitionPath('queued', 'succeeded'), ['running', 'succeeded']);
  assert.deepEqual(transitionPath('preparing', 'running'), ['uploading', 'queued', 'running']);
  assert.deepEqual(transitionPath('running', 'running'), []);
  assert.deepEqual(transitionPath('queued', 'cancelled'), ['cancelled']);
  assert.throws(() => transitionPath('running', 'queued'), IllegalTransitionError);
  assert.throws(() => transitionPath('succeeded', 'failed'), IllegalTransitionError);
});

function record(id: string, status: JobStatus = 'preparing'): JobRecord {
  const time = '2026-01-01T00:00:00.000Z';
  return {
    id, host: { name: 'local', kind: 'local' }, status, history: [{ status, time }], createdAt: time, updatedAt: time,
    spec: { data: '/x', model: 'builtin:tiny', preset: 'smoke' },
  };
}

test('applyStatus records each step in the history', () => {
  const r = applyStatus(record('a', 'queued'), 'succeeded', 't1');
  assert.equal(r.status, 'succeeded');
  assert.deepEqual(r.history.map((h) => h.status), ['queued', 'running', 'succeeded']);
  assert.throws(() => applyStatus(r, 'running'), IllegalTransitionError);
});

test('the job store persists records, and keeps terminal ones terminal', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'dcd-store-')), 'nested', 'jobs.json');
  const store = new JobStore(file);
  assert.deepEqual(await store.list(), []);
  await store.put(record('a'));
  await store.put(record('b'));
  await store.update('a', (r) => applyStatus(r, 'cancelled'));
  const again = new JobStore(file);
  assert.deepEqual((await again.list()).map((r) => [r.id, r.status]), [['a', 'cancelled'], ['b', 'preparing']]);
  const kept = await again.update('a', (r) => ({ ...r, status: 'running' }));
  assert.equal(kept.status, 'cancelled');
  await assert.rejects(again.update('zzz', (r) => r), /no job zzz/);
  assert.ok(JSON.parse(readFileSync(file, 'utf8')).jobs.length === 2);
});

test('concurrent updates under the lock lose nothing', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'dcd-store-')), 'jobs.json');
  const store = new JobStore(file);
  await store.put({ ...record('c'), lastStep: 0 });
  await Promise.all(Array.from({ length: 20 }, () => new JobStore(file).update('c', (r) => ({ ...r, lastStep: (r.lastStep ?? 0) + 1 }))));
  assert.equal((await store.get('c'))!.lastStep, 20);
});

test('job ids are safe path components and sort by time', () => {
  const a = newJobId(new Date('2026-03-04T05:06:07Z'));
  assert.match(a, /^20260304-050607-[0-9a-f]{6}$/);
  assert.ok(newJobId(new Date('2026-03-04T05:06:08Z')) > a);
  assert.equal(checkJobId(a), a);
  for (const bad of ['../x', 'a/b', '', '.hidden', 'x y', 'a;b']) assert.throws(() => checkJobId(bad), /invalid job id/);
});
