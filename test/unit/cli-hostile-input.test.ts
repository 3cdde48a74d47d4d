/**
 * Bad input, one behaviour everywhere: every corpus-reading command over every
 * hostile input must land in the same outcome class (src/core/io/corpusInput.ts):
 * ok (exit 0, quiet), warning (exit 0, a warning on stderr and in the JSON
 * `warnings`), error (exit 2, the message names the line, and the field or
 * byte where there is one). The inputs are generated here (the 25 MB line is
 * never committed); all runs share one process (dcdMany) to stay fast.
 */
import { describe, it, before } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dcdMany, REPO, type CliRun } from '../support/cli';

const DEMO = path.join(REPO, 'media', 'demo', 'demo.dcd.jsonl');
const [A, B] = fs.readFileSync(DEMO, 'utf8').split('\n').slice(0, 2);
const sample = (line: string) => JSON.parse(line) as Record<string, unknown>;
const line = (v: Record<string, unknown>) => JSON.stringify(v);

type Outcome = 'ok' | 'warning' | 'error';
interface Hostile {
  name: string;
  bytes: () => Buffer;
  outcome: Outcome;
  /** What an error or warning message must say (the line, and the field or byte). */
  says?: RegExp;
}

const INPUTS: Hostile[] = [
  { name: 'bom', outcome: 'ok', bytes: () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${A}\n${B}\n`)]) },
  { name: 'crlf', outcome: 'ok', bytes: () => Buffer.from(`${A}\r\n${B}\r\n`) },
  { name: 'no-final-newline', outcome: 'ok', bytes: () => Buffer.from(`${A}\n${B}`) },
  {
    name: 'invalid-utf8', outcome: 'error', says: /:2: invalid UTF-8 at byte \d+/,
    bytes: () => {
      const [head, tail] = B.split('"question":"');
      return Buffer.concat([Buffer.from(`${A}\n${head}"question":"`), Buffer.from([0xc3, 0x28]), Buffer.from(`${tail}\n`)]);
    },
  },
  { name: 'empty', outcome: 'error', says: /empty/, bytes: () => Buffer.alloc(0) },
  {
    name: 'wrong-types', outcome: 'error', says: /:2: .*"question"/,
    bytes: () => Buffer.from(`${A}\n${line({ ...sample(B), question: 42, text: 42 })}\n`),
  },
  {
    name: 'missing-text', outcome: 'error', says: /:1: missing required field "text"/,
    bytes: () => { const { text: _t, ...rest } = sample(A); return Buffer.from(`${line(rest)}\n${B}\n`); },
  },
  {
    name: 'duplicate-ids', outcome: 'warning', says: /:2: duplicate id "[^"]+" \(also on line 1\)/,
    bytes: () => Buffer.from(`${A}\n${line({ ...sample(B), id: sample(A).id })}\n`),
  },
  {
    name: 'huge-line', outcome: 'error', says: /:2: line is \d+ bytes, over the/,
    bytes: () => Buffer.from(`${A}\n${line({ ...sample(B), text: 'a'.repeat(25_000_000) })}\n`),
  },
  {
    name: 'deeply-nested', outcome: 'error', says: /:2: JSON nested deeper than/,
    bytes: () => Buffer.from(`${A}\n${line({ ...sample(B), meta: 0 }).replace('"meta":0', `"meta":${'['.repeat(100_000)}${']'.repeat(100_000)}`)}\n`),
  },
];

/** Every corpus-reading command, as argv for a corpus file (`out`: a fresh output path). */
const COMMANDS: Record<string, (file: string, out: string) => string[]> = {
  stats: (f) => ['stats', f, '--json', '--no-tokens'],
  render: (f) => ['render', f, '--index', '0'],
  export: (f, out) => ['export', f, '--format', 'text', '--out', out, '--json'],
  tokens: (f) => ['tokens', f, '--index', '0', '--max-length', '64', '--json'],
  plan: (f) => ['plan', f, '--preset', 'smoke', '--max-length', '64', '--workers', '0', '--no-cache', '--json'],
  pack: (f, out) => ['pack', f, '--out', out, '--max-length', '64', '--workers', '0', '--no-cache', '--json'],
  contamination: (f) => ['contamination', '--benchmark', DEMO, '--benchmark-field', 'question', '--corpus', f, '--json'],
};

function outcomeOf(r: CliRun): Outcome {
  if (r.status === 2) return 'error';
  if (r.status === 0) return /warning/.test(r.stderr) ? 'warning' : 'ok';
  return `crash (exit ${r.status}): ${r.stderr.slice(0, 300)}` as Outcome;
}

describe('hostile corpus input: one outcome per input across every command', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-hostile-'));
  const cases: Array<{ input: Hostile; command: string; file: string; out: string }> = [];
  let results: CliRun[] = [];

  before(() => {
    for (const input of INPUTS) {
      const file = path.join(dir, `${input.name}.dcd.jsonl`);
      fs.writeFileSync(file, input.bytes());
      for (const command of Object.keys(COMMANDS)) cases.push({ input, command, file, out: path.join(dir, `${input.name}-${command}.out`) });
    }
    results = dcdMany(cases.map((c) => COMMANDS[c.command](c.file, c.out)));
  });

  for (const input of INPUTS) {
    it(`${input.name}: ${input.outcome} in every command`, () => {
      const got: Record<string, string> = {};
      cases.forEach((c, i) => { if (c.input === input) got[c.command] = outcomeOf(results[i]); });
      assert.deepEqual(got, Object.fromEntries(Object.keys(COMMANDS).map((c) => [c, input.outcome])));
      cases.forEach((c, i) => {
        if (c.input !== input) return;
        const r = results[i];
        assert.doesNotMatch(r.stderr, /Maximum call stack|uncaught|\uFFFD/, `${c.command}: ${r.stderr.slice(0, 300)}`);
        if (input.says) assert.match(r.stderr, input.says, `${c.command} names the problem: ${r.stderr.slice(0, 300)}`);
        const json = c.command !== 'render' && r.stdout.trim() ? JSON.parse(r.stdout) as { warnings?: unknown[]; errors?: unknown[] } : null;
        if (input.outcome === 'error') {
          if (c.command !== 'render') assert.ok(json?.errors?.length, `${c.command} --json lists the errors`);
          assert.ok(!fs.existsSync(c.out), `${c.command} writes nothing on an error`);
        } else if (json) {
          assert.equal(json.warnings?.length, input.outcome === 'warning' ? 1 : 0, `${c.command} --json warnings`);
        }
      });
    });
  }

  it('a BOM shifts nothing: render prints the first sample exactly', () => {
    const i = cases.findIndex((c) => c.input.name === 'bom' && c.command === 'render');
    assert.equal(results[i].stdout, sample(A).text);
  });
});
