import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function dcd(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: ROOT, encoding: 'utf8', input, timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('dcd verify --pred --gold --json prints one verification object', () => {
  const r = dcd(['verify', '--pred', 'So we get \\boxed{\\dfrac{1}{2}}.', '--gold', '0.5', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]), { equivalent: true, pred_answer: '\\dfrac{1}{2}', gold_answer: '0.5', rule: 'numeric' });
});

test('dcd verify without --json prints a short human line', () => {
  const r = dcd(['verify', '--pred', '(3,4)', '--gold', '(3,4]']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^not equivalent \(mismatch\): pred "\(3,4\)" vs gold "\(3,4\]"\n$/);
});

test('dcd verify --pairs: one object per line in order, errors with their line, exit 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcd-verify-'));
  try {
    const file = join(dir, 'pairs.jsonl');
    writeFileSync(file, [
      JSON.stringify({ draft: 'The answer is 18.', sol: 'She makes 9 * 2 = $<<9*2=18>>18.\n#### 18' }),
      '{"draft": "broken',
      JSON.stringify({ draft: '\\boxed{-4}', sol: '4' }),
      JSON.stringify({ draft: 'no gold field' }),
      '',
      JSON.stringify({ draft: 'I am not sure.', sol: '\\boxed{7}' }),
    ].join('\n') + '\n');
    const r = dcd(['verify', '--pairs', file, '--pred-field', 'draft', '--gold-field', 'sol', '--json']);
    assert.equal(r.code, 1, r.stderr);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(out.length, 5);
    assert.deepEqual(out[0], { equivalent: true, pred_answer: '18', gold_answer: '18', rule: 'exact' });
    assert.equal(out[1].line, 2);
    assert.equal(typeof out[1].error, 'string');
    assert.deepEqual(out[2], { equivalent: false, pred_answer: '-4', gold_answer: '4', rule: 'mismatch' });
    assert.equal(out[3].line, 4);
    assert.match(String(out[3].error), /sol/);
    assert.deepEqual(out[4], { equivalent: false, pred_answer: null, gold_answer: '7', rule: 'no-pred-answer' });

    const ok = join(dir, 'ok.jsonl');
    writeFileSync(ok, JSON.stringify({ pred: '\\boxed{B}', gold: 'Answer: (B)' }) + '\n');
    const r2 = dcd(['verify', '--pairs', ok]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stdout, /^line 1: equivalent \(choice\)/);
    assert.match(r2.stdout, /1 lines: 1 equivalent, 0 not, 0 undecidable, 0 malformed/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dcd verify with neither --pairs nor both --pred/--gold fails', () => {
  const r = dcd(['verify', '--pred', '1']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /--pred and --gold/);
});

test('dcd verify --pairs: a line may say which sides are bare answers; a null verdict carries its reason (added fields)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcd-verify-'));
  try {
    const file = join(dir, 'pairs.jsonl');
    writeFileSync(file, [
      JSON.stringify({ pred: 'x = 5', gold: '5', pred_is_answer: true, gold_is_answer: true }),
      JSON.stringify({ pred: 'So the answer is \\boxed{7}.', gold: 'A proof.\nIt ends here.\n\\blacksquare' }),
    ].join('\n') + '\n');
    const r = dcd(['verify', '--pairs', file, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(out[0], { equivalent: true, pred_answer: 'x = 5', gold_answer: '5', rule: 'normalized-string' });
    assert.equal(out[1].equivalent, null);
    assert.equal(out[1].rule, 'no-gold-answer');
    assert.match(String(out[1].reason), /proof/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
