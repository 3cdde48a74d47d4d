import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { shellExports, shellJoin, shellQuote } from '../../src/core/remote/shellQuote';

/** Strings that break naive quoting: spaces, both quotes, `$()`, backticks, `;`, newlines, globs, a leading dash. */
const HOSTILE = [
  'plain',
  '',
  'with space',
  "it's",
  "''",
  '"double" quotes',
  '$(touch /tmp/dcd-pwned)',
  '`touch /tmp/dcd-pwned`',
  'a; rm -rf /tmp/dcd-nothing',
  'line1\nline2',
  '\n',
  'tab\there',
  '*.py ?',
  '-n',
  '$HOME ${HOME} ~',
  'back\\slash\\',
  'ünïcødé — ✓',
  "mixed 'single' \"double\" $(x) `y` ; \n z",
];

test('shellQuote makes /bin/sh see every hostile string as exactly one argument', () => {
  for (const sh of ['/bin/sh', '/bin/bash']) {
    const script = `for a in ${HOSTILE.map(shellQuote).join(' ')}; do printf '%s\\0' "$a"; done`;
    const out = execFileSync(sh, ['-c', script], { encoding: 'utf8' });
    assert.deepEqual(out.split('\0').slice(0, -1), HOSTILE, sh);
  }
});

test('shellJoin builds a command line whose argv is the input, unchanged', () => {
  const out = execFileSync('/bin/sh', ['-c', `${shellJoin(['printf', '%s|', ...HOSTILE])}`], { encoding: 'utf8' });
  assert.equal(out, HOSTILE.map((h) => `${h}|`).join(''));
});

test('safe words stay bare; anything else is single-quoted', () => {
  assert.equal(shellQuote('/usr/bin/python3'), '/usr/bin/python3');
  assert.equal(shellQuote('--max-steps=3'), '--max-steps=3');
  assert.equal(shellQuote(''), "''");
  assert.equal(shellQuote("a'b"), "'a'\\''b'");
  assert.equal(shellQuote('$x'), "'$x'");
  assert.throws(() => shellQuote('nul\0byte'), /NUL/);
});

test('shellExports quotes values and rejects names that are not identifiers', () => {
  const env = { HF_TOKEN: "hf_$(id)'x\"\n;", OTHER: '' };
  const out = execFileSync('/bin/sh', ['-c', `eval "$(cat)"; printf '%s\\0%s' "$HF_TOKEN" "$OTHER"`], { input: shellExports(env), encoding: 'utf8' });
  assert.deepEqual(out.split('\0'), [env.HF_TOKEN, '']);
  assert.throws(() => shellExports({ 'BAD NAME': 'x' }), /invalid environment variable name/);
  assert.throws(() => shellExports({ 'X;rm': 'x' }), /invalid environment variable name/);
});

test('there is one shell-quoting function in the project: src/core/remote/shellQuote.ts', () => {
  const src = path.resolve(__dirname, '..', '..', 'src');
  const defining = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => /\bfunction\s+shell(Quote|Join)\b|\b(const|let)\s+shell(Quote|Join)\s*=/.test(readFileSync(path.join(src, f), 'utf8')));
  assert.deepEqual(defining, [path.join('core', 'remote', 'shellQuote.ts')]);
});
