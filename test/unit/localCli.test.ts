/**
 * `dcd draft`, run as a real child process (the CLI entry under tsx), on the
 * tiny model: the JSON summary, named errors, and resume after a SIGKILL.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { FIXTURES, REPO, tempDir, tinyModel } from './localHelpers';

let model: string;
const tmp = tempDir('dcd-cli-draft-');
before(async () => { model = await tinyModel(); });
after(() => tmp.cleanup());

function dcd(args: string[]): { child: ChildProcess; done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'cli', 'index.ts'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => { stdout += d; });
  child.stderr!.on('data', (d) => { stderr += d; });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

async function completeLines(file: string): Promise<{ lines: string[]; torn: boolean }> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const parts = text.split('\n');
  const torn = parts[parts.length - 1] !== '';
  return { lines: parts.slice(0, -1).filter(Boolean), torn };
}

test('dcd draft --json: drafts written and verified correct/wrong/undecided', async () => {
  const out = path.join(tmp.dir, 's1k.jsonl');
  const r = await dcd(['draft', '--model', model, '--questions', path.join(FIXTURES, 's1k-4.json'), '--out', out,
    '--n', '1', '--max-new-tokens', '6', '--seed', '9', '--dtype', 'fp32', '--threads', '1', '--json']).done;
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.written, 4);
  assert.equal(s.skipped, 0);
  assert.equal(s.total, 4);
  assert.equal(s.dtype, 'fp32');
  assert.equal(s.model, path.basename(model));
  const v = s.verified;
  assert.equal(v.correct + v.wrong + v.undecided + v.unverified, 4);
  assert.equal(v.unverified, 1, 'the proof row has no gold answer');
  const { lines, torn } = await completeLines(out);
  assert.equal(torn, false);
  assert.equal(lines.length, 4);
  const first = JSON.parse(lines[0]);
  assert.equal(first.row, 0);
  assert.equal(first.index, undefined);
  assert.equal(first.question, JSON.parse(await fs.readFile(path.join(FIXTURES, 's1k-4.json'), 'utf8'))[0].problem);
  assert.ok(first.tokens <= 6);
});

test('dcd draft names a bad model folder and bad question rows', async () => {
  const noModel = await dcd(['draft', '--model', path.join(tmp.dir, 'nowhere'), '--questions', path.join(FIXTURES, 'gsm8k-2.jsonl'), '--out', path.join(tmp.dir, 'x.jsonl'), '--json']).done;
  assert.notEqual(noModel.code, 0);
  assert.match(noModel.stderr, /nowhere.*does not exist/);
  const badRows = path.join(tmp.dir, 'bad.jsonl');
  await fs.writeFile(badRows, '{"question":"ok"}\n{"text":"no question"}\n');
  const bad = await dcd(['draft', '--model', model, '--questions', badRows, '--out', path.join(tmp.dir, 'y.jsonl')]).done;
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /line 2: no "question" field/);
});

test('SIGKILL mid-run, then resume: finished drafts are skipped, nothing is lost or doubled', async () => {
  const out = path.join(tmp.dir, 'killed.jsonl');
  const args = ['draft', '--model', model, '--questions', path.join(FIXTURES, 'gsm8k-2.jsonl'), '--out', out,
    '--n', '8', '--max-new-tokens', '16', '--dtype', 'fp32', '--threads', '1', '--json'];
  const run = dcd(args);
  const deadline = Date.now() + 120_000;
  while ((await completeLines(out)).lines.length < 3) {
    assert.ok(Date.now() < deadline, 'the first run never wrote 3 drafts');
    await new Promise((r) => setTimeout(r, 25));
  }
  run.child.kill('SIGKILL');
  const killed = await run.done;
  assert.equal(killed.signal, 'SIGKILL');
  const before = await completeLines(out);
  assert.ok(before.lines.length >= 3 && before.lines.length < 16, `${before.lines.length} drafts before the kill`);
  for (const l of before.lines) JSON.parse(l);

  const resumed = await dcd(args).done;
  assert.equal(resumed.code, 0, resumed.stderr);
  const s = JSON.parse(resumed.stdout);
  assert.equal(s.skipped, before.lines.length);
  assert.equal(s.written, 16 - before.lines.length);
  assert.equal(s.repaired_torn_line, before.torn);
  const after = await completeLines(out);
  assert.equal(after.torn, false);
  assert.equal(after.lines.length, 16);
  const keys = after.lines.map((l) => { const r = JSON.parse(l); return `${r.row}/${r.sample}`; });
  assert.equal(new Set(keys).size, 16);
  // The drafts written before the kill are untouched.
  assert.deepEqual(after.lines.slice(0, before.lines.length), before.lines);
});
