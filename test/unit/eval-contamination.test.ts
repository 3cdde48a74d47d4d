/** Contamination check and question similarity, on real known s1K / MATH-500 overlaps. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { NgramIndex, ngramSet, tokenize } from '../../src/core/eval/similarity';
import {
  checkContamination,
  DRILLDOWN_NGRAM,
  getField,
  parseRecords,
  recordsToItems,
  similarQuestions,
  type TextItem,
} from '../../src/core/eval/contamination';
import { main } from '../../src/cli/main';

const DIR = path.join(__dirname, '../fixtures/lmeval/contamination');
const OVERLAP = path.join(DIR, 's1k_math500_overlap_c_lex.jsonl');
const overlap = parseRecords(readFileSync(OVERLAP, 'utf8'));
const clean = parseRecords(readFileSync(path.join(DIR, 'math500_clean.jsonl'), 'utf8'));
const gsm = parseRecords(readFileSync(path.join(DIR, 'gsm8k_test_first20.jsonl'), 'utf8'));

/** Human-confirmed pairs (see the fixture PROVENANCE.md). */
const CONFIRMED: Record<string, string> = {
  math500_0103: 's1k_0181',
  math500_0285: 's1k_0124',
  math500_0080: 's1k_0081',
  math500_0126: 's1k_0498',
};

function benchmarkItems(): TextItem[] {
  return [
    ...overlap.map((r) => ({ id: String(r.math500_id), text: String(r.math500_problem) })),
    ...recordsToItems(clean, 'problem'),
  ];
}
function corpusItems(): TextItem[] {
  const seen = new Set<string>();
  const s1k: TextItem[] = [];
  for (const r of overlap) {
    if (seen.has(String(r.train_id))) continue;
    seen.add(String(r.train_id));
    s1k.push({ id: String(r.train_id), text: String(r.train_problem) });
  }
  return [...s1k, ...recordsToItems(gsm, 'question')];
}

test('tokens and n-grams', () => {
  assert.deepEqual(tokenize('Let $a,$ $b,$ be REAL numbers: \\frac{1}{2}'), ['let', 'a', 'b', 'be', 'real', 'numbers', 'frac', '1', '2']);
  assert.deepEqual(tokenize('Ｆｕｌｌwidth ½'), ['fullwidth', '1', '2']);
  assert.equal(ngramSet('a b c d e', 3).size, 3);
  assert.equal(ngramSet('a b', 3).size, 1); // shorter than n: one gram of all tokens
  assert.equal(ngramSet('$$ ,, ', 3).size, 0);
  assert.throws(() => ngramSet('a', 0), /positive integer/);
});

test('index: containment, Jaccard, ordering, repeated corpus questions counted once', () => {
  const corpus = [
    'the quick brown fox jumps over the lazy dog',
    'a quick brown fox jumps over a sleeping cat',
    'The quick  brown fox, jumps over the lazy dog!', // same as #0 after normalisation
    'completely unrelated sentence about prime numbers',
  ];
  const idx = new NgramIndex(corpus, 3);
  assert.equal(idx.size, 4);
  assert.equal(idx.uniqueSize, 3);
  const m = idx.query('the quick brown fox jumps over the lazy dog', 5);
  assert.deepEqual(m.map((x) => x.index), [0, 1]);
  assert.equal(m[0].containment, 1);
  assert.equal(m[0].jaccard, 1);
  assert.equal(m[0].copies, 2);
  // shared 3-grams with #1: "quick brown fox", "brown fox jumps", "fox jumps over" = 3 of 7
  assert.equal(m[1].shared, 3);
  assert.equal(m[1].containment, 3 / 7);
  assert.equal(m[1].jaccard, 3 / 11);
  assert.deepEqual(idx.query('nothing in common here at all', 5), []);
  assert.deepEqual(idx.query('', 5), []);
  // the index is reusable: counts are reset between queries
  assert.deepEqual(idx.query('the quick brown fox jumps over the lazy dog', 1).map((x) => x.shared), [7]);
});

test('contamination: the four human-confirmed s1K/MATH-500 overlaps are flagged, nothing else', () => {
  const bench = benchmarkItems();
  const corpus = corpusItems();
  assert.equal(bench.length, 46);
  assert.equal(corpus.length, 41);
  const r = checkContamination(bench, corpus);
  assert.equal(r.n, 8);
  assert.equal(r.threshold, 0.5);
  assert.equal(r.benchmarkCount, 46);
  assert.equal(r.corpusUnique, 41);
  assert.equal(r.flagged, 4);
  const flagged = r.rows.filter((x) => x.flagged);
  assert.deepEqual(
    Object.fromEntries(flagged.map((x) => [x.id, x.matches[0].id])),
    CONFIRMED,
  );
  // the three identical pairs score 1; the "same setup" one above 0.9
  const score = (id: string) => r.rows.find((x) => x.id === id)!.score;
  assert.equal(score('math500_0103'), 1);
  assert.equal(score('math500_0285'), 1);
  assert.equal(score('math500_0080'), 1);
  assert.ok(score('math500_0126') > 0.9 && score('math500_0126') < 1);
  // boilerplate-only candidates of the source's filter stay far below
  const rest = r.rows.filter((x) => !x.flagged);
  assert.ok(rest.every((x) => x.score < 0.3), `max unflagged score ${Math.max(...rest.map((x) => x.score))}`);
  // sorted by score; counts by threshold agree with the rows
  for (let i = 1; i < r.rows.length; i++) assert.ok(r.rows[i - 1].score >= r.rows[i].score);
  for (const c of r.countsByThreshold) assert.equal(c.count, r.rows.filter((x) => x.score >= c.threshold).length);
  assert.deepEqual(r.countsByThreshold.map((c) => c.threshold), [0.2, 0.4, 0.5, 0.6, 0.8, 1.0]);
  assert.equal(r.countsByThreshold.find((c) => c.threshold === 1.0)!.count, 3);
  // GSM8K questions never match MATH-500 problems at n = 8
  for (const row of r.rows) for (const m of row.matches) assert.ok(m.id !== null, 'a GSM8K distractor matched');
});

test('drill-down: most similar corpus questions with a short n', () => {
  const corpus = corpusItems();
  const idx = new NgramIndex(corpus.map((c) => c.text), DRILLDOWN_NGRAM);
  const q = String(overlap.find((r) => r.math500_id === 'math500_0230')!.math500_problem);
  const top = similarQuestions(idx, corpus, q, 3);
  assert.ok(top.length > 0);
  // the source lists s1k_0969 as this problem's lexical neighbour
  assert.equal(top[0].id, 's1k_0969');
  assert.ok(top[0].containment > 0 && top[0].containment < 1);
});

test('record reading: JSONL and JSON arrays, dotted fields, ids, errors', () => {
  assert.deepEqual(parseRecords('[{"a": 1}, {"a": 2}, 3]'), [{ a: 1 }, { a: 2 }]);
  assert.deepEqual(parseRecords('{"data": [{"a": 1}]}'), [{ a: 1 }]);
  assert.deepEqual(parseRecords('{"a": 1}\n{"a": 2}\n'), [{ a: 1 }, { a: 2 }]);
  assert.throws(() => parseRecords('{"a": 1}\n{oops\n', 'f.jsonl'), /f\.jsonl:2/);
  assert.equal(getField({ doc: { question: 'x' } }, 'doc.question'), 'x');
  assert.deepEqual(recordsToItems([{ unique_id: 'u1', q: 'text' }], 'q'), [{ id: 'u1', text: 'text' }]);
  assert.throws(() => recordsToItems([{ q: 'a' }, { q: 5 }], 'q', 'b.jsonl'), /b\.jsonl: record 2 has no string field "q"/);
});

async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array, ...rest: never[]) => (typeof s === 'string' ? ((out += s), true) : ow(s, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array, ...rest: never[]) => (typeof s === 'string' ? ((err += s), true) : ew(s, ...rest))) as typeof process.stderr.write;
  const saved = process.exitCode;
  try {
    return { code: await main(args), out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = saved;
  }
}

test('dcd contamination --json on the overlap file', async () => {
  const args = ['contamination', '--benchmark', OVERLAP, '--benchmark-field', 'math500_problem', '--corpus', OVERLAP, '--corpus-field', 'train_problem', '--corpus-id-field', 'train_id', '--json'];
  const { code, out } = await runCli(args);
  assert.equal(code, 0);
  const r = JSON.parse(out);
  assert.equal(r.benchmarkCount, 36);
  assert.equal(r.corpusCount, 36);
  assert.equal(r.corpusUnique, 21);
  assert.equal(r.flagged, 4);
  assert.deepEqual(
    r.rows.filter((x: { flagged: boolean }) => x.flagged).map((x: { id: string; matches: Array<{ id: string }> }) => [x.id, x.matches[0].id]).sort(),
    Object.entries(CONFIRMED).sort(),
  );
  const low = JSON.parse((await runCli([...args, '--threshold', '0.2', '--ngram', '5', '--top', '1'])).out);
  assert.equal(low.n, 5);
  assert.equal(low.threshold, 0.2);
  assert.ok(low.flagged > 4);
  assert.ok(low.rows.every((x: { matches: unknown[] }) => x.matches.length <= 1));
  const human = await runCli(args.slice(0, -1));
  assert.match(human.out, /flagged \(score ≥ 0\.5\): 4/);
  const bad = await runCli([...args, '--threshold', '2']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.err, /threshold/);
  const noField = await runCli(['contamination', '--benchmark', OVERLAP, '--benchmark-field', 'nope', '--corpus', OVERLAP, '--json']);
  assert.notEqual(noField.code, 0);
  assert.match(noField.err, /no string field "nope"/);
});
