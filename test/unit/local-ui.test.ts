import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import {
  batchProgressMessage, batchSummaryMessage, defaultDraftsPath, downloadProgressMessage, formatBytes, formatDuration, resolveModelPath,
} from '../../src/drafting/format';
import { DEFAULT_STUDENT_PROMPT } from '../../src/core/drafting/prompts';
import { DEFAULT_GENERATE_PARAMS } from '../../src/core/drafting/types';

test('durations and sizes read naturally', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(42_400), '42s');
  assert.equal(formatDuration(185_000), '3m 05s');
  assert.equal(formatDuration(3_720_000), '1h 02m');
  assert.equal(formatBytes(512), '512 B');
  assert.equal(formatBytes(1536), '1.5 KiB');
  assert.equal(formatBytes(300 * 1024 * 1024), '300.0 MiB');
});

test('batch progress message shows done/total, speed and ETA', () => {
  const base = { written: 2, skipped: 1, elapsedMs: 1000 };
  assert.equal(batchProgressMessage({ ...base, done: 3, total: 28, etaMs: 65_000, tokensPerSecond: 41.23 }),
    '3/28 drafts · 1 already done · 41.2 tok/s · ETA 1m 05s');
  assert.equal(batchProgressMessage({ ...base, skipped: 0, done: 0, total: 4, etaMs: null, tokensPerSecond: 0 }), '0/4 drafts · ETA …');
});

test('batch summary message counts verdicts and says how to resume', () => {
  const s = {
    out: '/x/s1k.local-drafts.jsonl', model: 'm', total: 10, written: 4, skipped: 3, cancelled: false, repaired_torn_line: false,
    malformed_lines: 0, verified: { correct: 1, wrong: 2, undecided: 1, unverified: 0, model_decided: 1 }, tokens: 9, ms: 1, tokens_per_second: 1,
  };
  const done = batchSummaryMessage(s);
  assert.match(done, /^Wrote 4 draft\(s\) \(3 already there\) to s1k\.local-drafts\.jsonl\./);
  assert.match(done, /1 correct, 2 wrong, 1 undecided, 0 without gold \(1 decided by the model\)/);
  assert.match(batchSummaryMessage({ ...s, cancelled: true }), /^Drafting cancelled: 4 draft\(s\) written, 7\/10 done \(run it again to resume\)/);
});

test('download progress message names the file and the bytes', () => {
  const p = { phase: 'downloading' as const, file: 'onnx/model_q4.onnx', fileLoaded: 0, fileTotal: null, loaded: 2048, total: 4 * 1024 * 1024, filesDone: 2, filesTotal: 5, bytesPerSecond: 1024 };
  assert.equal(downloadProgressMessage(p), 'onnx/model_q4.onnx (3/5) · 2.0 KiB / 4.0 MiB · 1.0 KiB/s');
  assert.equal(downloadProgressMessage({ ...p, phase: 'listing' }), 'listing files…');
});

test('model path: empty is unset, ~ and relative paths resolve', () => {
  assert.equal(resolveModelPath('', '/ws'), undefined);
  assert.equal(resolveModelPath('   ', '/ws'), undefined);
  assert.equal(resolveModelPath('models/qwen', '/ws'), path.join('/ws', 'models', 'qwen'));
  assert.equal(resolveModelPath('/abs/m/', '/ws'), '/abs/m/');
  assert.equal(resolveModelPath('~/m', '/ws'), path.join(os.homedir(), 'm'));
});

test('default drafts file sits beside the questions', () => {
  assert.equal(defaultDraftsPath('/d/s1k-demo.jsonl'), '/d/s1k-demo.local-drafts.jsonl');
  assert.equal(defaultDraftsPath('/d/s1K-1.1.parquet'), '/d/s1K-1.1.local-drafts.jsonl');
});

test('package.json setting defaults equal the core defaults', () => {
  const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const props = pkg.contributes.configuration.properties;
  assert.deepEqual(props['dcd.local.studentPrompt'].default, { ...DEFAULT_STUDENT_PROMPT });
  assert.equal(props['dcd.local.maxNewTokens'].default, DEFAULT_GENERATE_PARAMS.maxNewTokens);
  assert.equal(props['dcd.local.temperature'].default, DEFAULT_GENERATE_PARAMS.temperature);
  assert.equal(props['dcd.local.topP'].default, DEFAULT_GENERATE_PARAMS.topP);
  assert.equal(props['dcd.local.seed'].default, DEFAULT_GENERATE_PARAMS.seed);
  assert.equal(props['dcd.local.verifyUndecided'].default, false);
  for (const id of ['dcd.local.downloadModel', 'dcd.local.generateDraft', 'dcd.local.generateDrafts']) {
    assert.ok(pkg.contributes.commands.some((c: { command: string }) => c.command === id), id);
  }
});
