/** End-to-end tests of the corpus CLI contract on a fixture made from real public data. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dcd } from '../support/cli';

const FIX = path.join(__dirname, '..', 'fixtures', 'corpus');

describe('dcd build / render / stats / export', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-cli-'));
  const out = path.join(dir, 'corpus.dcd.jsonl');

  it('dcd build --json prints one summary and writes the corpus', () => {
    const r = dcd(['build', '--s1k', path.join(FIX, 's1k-mini.parquet'), '--drafts', path.join(FIX, 'drafts-mini.jsonl'), '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, 'exactly one JSON document on stdout');
    const s = JSON.parse(lines[0]);
    const written = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(s.samples, written.length);
    assert.equal(s.draft_correct, written.filter((x) => x.verdict === 'correct').length);
    assert.equal(s.draft_wrong, written.filter((x) => x.verdict === 'incorrect').length);
    assert.equal(s.draft_correct, 14);
    assert.equal(typeof s.skipped.draft_equivalent, 'number');
    assert.deepEqual(s.bad_lines, []);
  });

  it('reports bad draft lines with their line numbers and still builds', () => {
    const drafts = fs.readFileSync(path.join(FIX, 'drafts-mini.jsonl'), 'utf8').split('\n').filter(Boolean);
    const bad = path.join(dir, 'bad-drafts.jsonl');
    fs.writeFileSync(bad, [drafts[0], '{oops', drafts[1], '{"question": "x"}'].join('\n') + '\n');
    const r = dcd(['build', '--s1k', path.join(FIX, 's1k-mini.jsonl'), '--drafts', bad, '--out', path.join(dir, 'c2.jsonl'), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.deepEqual(s.bad_lines.map((b: { line: number }) => b.line), [2, 4]);
    assert.match(r.stderr, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: `));
  });

  it('dcd render prints the training text exactly and nothing else', () => {
    const samples = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    for (const i of [0, samples.length - 1]) {
      const r = dcd(['render', out, '--index', String(i)]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, samples[i].text);
    }
    const missing = dcd(['render', out, '--index', '9999']);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stderr, /no sample 9999/);
  });

  it('dcd stats --json counts by verdict, source and cot_type with length statistics', () => {
    const r = dcd(['stats', out, '--json', '--no-tokens']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    const samples = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(s.samples, samples.length);
    assert.equal(s.by_verdict.correct + s.by_verdict.incorrect, samples.length);
    assert.equal(s.by_source.gemini, 14);
    assert.equal(s.by_cot_type.math, samples.length);
    assert.equal(s.text_chars.max, Math.max(...samples.map((x) => x.text.length)));
    assert.ok(s.questions_with_both > 0);
  });

  it('dcd export writes TRL messages and plain text', () => {
    const m = path.join(dir, 'm.jsonl');
    const r = dcd(['export', out, '--format', 'messages', '--out', m, '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).samples, fs.readFileSync(m, 'utf8').trim().split('\n').length);
    assert.notEqual(dcd(['export', out, '--format', 'xml', '--out', m]).status, 0);
  });

  it('dcd --version and --help work', () => {
    const v = dcd(['--version']);
    assert.equal(v.status, 0);
    assert.equal(v.stdout.trim(), JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version);
    const h = dcd(['--help']);
    assert.equal(h.status, 0);
    for (const c of ['build', 'render', 'stats']) assert.match(h.stdout, new RegExp(`\\b${c}\\b`));
  });
});

describe('dcd stats token audit', () => {
  it('adds token statistics and the audit flags under "tokens"', () => {
    const corpus = path.join(__dirname, '..', '..', 'media', 'demo', 'demo.dcd.jsonl');
    const r = dcd(['stats', corpus, '--json', '--max-length', '400']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.tokens.samples, s.samples);
    assert.equal(s.tokens.max_length, 400);
    assert.ok(s.tokens.trained_tokens > 0 && s.tokens.trained_tokens < s.tokens.tokens);
    assert.ok(s.tokens.flags.truncated > 0);
    assert.equal(s.tokens.histogram.counts.reduce((a: number, b: number) => a + b, 0), s.samples);
  });
});
