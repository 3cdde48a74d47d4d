/**
 * The streamed contamination check (benchmark index, corpus read once) gives
 * the report of checkContamination over the whole corpus: on the real
 * s1K / MATH-500 fixtures and on generated corpora (duplicates, short
 * questions, no shared n-grams, ties, missing fields, malformed lines, CRLF).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { checkContamination, parseRecords, readTextItems, recordsToItems, type ContaminationOptions, type TextItem } from '../../src/core/eval/contamination';
import { checkContaminationFile, ContaminationScanner } from '../../src/core/eval/contaminationStream';
import { seededRandom } from '../../src/core/random';
import { dcdMany } from '../support/cli';

const DIR = path.join(__dirname, '../fixtures/lmeval/contamination');
const OVERLAP = path.join(DIR, 's1k_math500_overlap_c_lex.jsonl');
const CLEAN = path.join(DIR, 'math500_clean.jsonl');
const GSM = path.join(DIR, 'gsm8k_test_first20.jsonl');
const TMP = mkdtempSync(path.join(tmpdir(), 'dcd-contam-stream-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** The streamed check and the in-memory one (readTextItems, then checkContamination) agree: problems, report, or the error. */
async function assertSame(benchmark: TextItem[], file: string, field: string, options: ContaminationOptions = {}, idField?: string) {
  const streamed = await checkContaminationFile(benchmark, file, field, options, idField);
  const read = await readTextItems(file, field, idField);
  assert.deepEqual(streamed.problems, read.problems);
  let expected: unknown;
  try { expected = checkContamination(benchmark, read.items, options); } catch (err) {
    assert.throws(() => streamed.report(), { message: (err as Error).message });
    return null;
  }
  const got = streamed.report();
  assert.deepEqual(got, expected);
  assert.equal(JSON.stringify(got), JSON.stringify(expected)); // same key order: the --json contract
  return { report: got, problems: read.problems };
}

function write(name: string, text: string): string {
  const f = path.join(TMP, name);
  writeFileSync(f, text);
  return f;
}

const VOCAB = ['the', 'sum', 'of', 'x', 'and', 'y', 'is', '12', 'find', '$x^2$', 'Janet', 'eggs', 'per', 'day', 'how', 'many', '\\frac{1}{2}', 'Ä', 'ﬁve'];

function question(r: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(VOCAB[Math.floor(r() * VOCAB.length)]);
  return out.join(r() < 0.2 ? '  ' : ' ');
}

/** Benchmark questions and corpus questions drawn from one small vocabulary (so n-grams are shared), with copies, short ones and unrelated ones. */
function generated(seed: number): { bench: TextItem[]; corpus: string[] } {
  const r = seededRandom(seed);
  const bench: TextItem[] = [];
  for (let i = 0; i < 12; i++) bench.push({ id: i % 3 ? `b${i}` : null, text: question(r, 1 + Math.floor(r() * 14)) });
  bench.push({ id: 'empty', text: '' }, { id: 'punct', text: '?!' }, { id: 'copy', text: bench[0].text });
  const corpus: string[] = [];
  for (let i = 0; i < 60; i++) {
    const roll = r();
    if (roll < 0.2 && corpus.length) corpus.push(corpus[Math.floor(r() * corpus.length)]); // an exact copy
    else if (roll < 0.3 && corpus.length) corpus.push(corpus[Math.floor(r() * corpus.length)].toUpperCase() + ' !'); // the same after normalisation
    else if (roll < 0.45) corpus.push(bench[Math.floor(r() * bench.length)].text + ' ' + question(r, 2)); // contains a benchmark question
    else if (roll < 0.5) corpus.push('zzz unrelated words only'); // shares nothing
    else corpus.push(question(r, 1 + Math.floor(r() * 20)));
  }
  return { bench, corpus };
}

function sampleLine(id: string, q: string): string {
  return JSON.stringify({ id, question: q, draft: 'd', draft_source: 'human', verdict: 'correct', chain: 'c', final_answer: '1', text: 't', meta: { q } });
}

test('streamed check = in-memory check on the real s1K / MATH-500 fixtures', async () => {
  const overlap = parseRecords(readFileSync(OVERLAP, 'utf8'));
  const bench: TextItem[] = [
    ...overlap.map((r) => ({ id: String(r.math500_id), text: String(r.math500_problem) })),
    ...recordsToItems(parseRecords(readFileSync(CLEAN, 'utf8')), 'problem'),
  ];
  const r = await assertSame(bench, OVERLAP, 'train_problem', {}, 'train_id');
  assert.equal(r!.report.flagged, 4);
  assert.equal(r!.report.corpusUnique, 21);
  assert.ok(r!.report.rows.some((x) => x.matches.some((m) => m.copies > 1)));
  await assertSame(bench, GSM, 'question');
  await assertSame(bench, CLEAN, 'problem', { n: 3, threshold: 0.2, topK: 5 });
  for (const o of [{ n: 5, threshold: 0.2, topK: 1 }, { n: 1, topK: 10 }, { n: 30 }]) await assertSame(bench, OVERLAP, 'train_problem', o, 'train_id');
});

test('streamed check = in-memory check on generated corpora, every reader path', async () => {
  for (let seed = 1; seed <= 6; seed++) {
    const { bench, corpus } = generated(seed);
    const eol = seed % 2 ? '\r\n' : '\n';
    const dcd = write(`g${seed}.dcd.jsonl`, corpus.map((q, i) => sampleLine(`s${i}`, q)).join(eol) + eol);
    const jsonl = write(`g${seed}.jsonl`, '\ufeff' + corpus.map((q, i) => JSON.stringify({ doc: { q }, unique_id: i % 7 ? `u${i}` : 7 })).join(eol) + (seed % 3 ? eol : ''));
    const array = write(`g${seed}.json`, JSON.stringify(corpus.map((q, i) => ({ q, id: i })), null, 2));
    for (const o of [{}, { n: 2, topK: 2 }, { n: 3, threshold: 0.3, topK: 4 }, { n: 1, topK: 1 }]) {
      const a = await assertSame(bench, dcd, 'question', o);
      assert.equal(a!.report.corpusCount, corpus.length);
      assert.ok(a!.report.corpusUnique < corpus.length, 'the generated corpus repeats questions');
      await assertSame(bench, dcd, 'meta.q', o, 'id');
      await assertSame(bench, jsonl, 'doc.q', o);
      await assertSame(bench, array, 'q', o);
    }
    const some = await assertSame(bench, dcd, 'question', { n: 2 });
    assert.ok(some!.report.rows.some((x) => x.score === 1) && some!.report.rows.some((x) => x.score === 0));
  }
});

test('streamed check: problems and errors as readTextItems reports them', async () => {
  const { bench, corpus } = generated(7);
  const lines = corpus.slice(0, 10).map((q, i) => sampleLine(`s${i}`, q));
  const cases: Array<[string, string, string?]> = [
    ['malformed.dcd.jsonl', [...lines.slice(0, 3), '{oops', ...lines.slice(3)].join('\r\n'), 'question'],
    ['missing.dcd.jsonl', [...lines.slice(0, 4), JSON.stringify({ ...JSON.parse(lines[4]), question: 5 }), ...lines.slice(5)].join('\n')],
    ['nofield.dcd.jsonl', lines.join('\n'), 'nope'],
    ['dupid.dcd.jsonl', [...lines, lines[2]].join('\n')],
    ['empty.dcd.jsonl', '\n\n'],
    ['malformed.jsonl', '{"q": "a b c"}\n{"q": "a b c d"\n{"q": 3}\n'],
    ['missing.jsonl', '{"q": "a b c"}\n\n{"x": "a b c d"}\n'],
    ['dupid.jsonl', '{"q": "a b c", "id": 1}\r\n{"q": "a b d", "id": 1}\r\n'],
    ['notobject.jsonl', '"a b c"\n{"q": "x"}\n'],
    ['badutf8.jsonl', '{"q": "a b c"}\n{"q": "\xff"}\n'],
    ['oneline.jsonl', '{"data": [{"q": "the sum of x and y"}, {"q": "find x"}]}'],
    ['onewithdata.jsonl', '\n {"q": "the sum of x", "data": [{"q": "the sum of x and y"}, {"q": "find x"}]}\n'],
    ['oneobject.jsonl', '{"q": "the sum of x and y is 12"}\n'],
    ['pretty.jsonl', JSON.stringify({ rows: corpus.map((q) => ({ q })) }, null, 2)],
    ['array-missing.json', JSON.stringify([{ q: 'a' }, { r: 'b' }])],
    ['array-empty.json', '[]'],
    ['blank.jsonl', '   \n'],
  ];
  for (const [name, text, field] of cases) {
    const f = path.join(TMP, name);
    writeFileSync(f, name.startsWith('badutf8') ? Buffer.from(text, 'latin1') : text);
    await assertSame(bench, f, field ?? (name.endsWith('.dcd.jsonl') ? 'question' : 'q'));
  }
  const bad = await checkContaminationFile(bench, path.join(TMP, 'malformed.dcd.jsonl'), 'question');
  assert.deepEqual(bad.problems.filter((p) => p.severity === 'error').map((p) => [p.code, p.line]), [['malformed-json', 4]]);
  const noField = await checkContaminationFile(bench, path.join(TMP, 'missing.jsonl'), 'q');
  assert.deepEqual(noField.problems.map((p) => [p.code, p.line]), [['invalid-field', 3]]);
  const opts = await checkContaminationFile(bench, path.join(TMP, 'dupid.jsonl'), 'q', { threshold: 2 });
  assert.deepEqual(opts.problems.map((p) => p.code), ['duplicate-id']);
  assert.throws(() => opts.report(), /threshold must be in \(0, 1\], got 2/);
  await assert.rejects(checkContaminationFile(bench, path.join(TMP, 'absent.jsonl'), 'q'), { code: 'ENOENT' });
});

test('top-k: containment, then Jaccard, then the first corpus index; copies counted to the end', () => {
  const bench: TextItem[] = [{ id: 'b', text: 'a b c d e f' }];
  const corpus = [
    'a b c d e f x', // 0: containment 1, jaccard 4/5
    'a b c zz yy', // 1: containment 1/4
    'a b c d e f y', // 2: ties 0
    'A  b c, d e f x', // 3: a copy of 0
    'a b c d e f', // 4: jaccard 1
    'a b c d e f z', // 5: ties 0 and 2
    'a b c d e f', // 6: a copy of 4
    'q r s', // 7: shares nothing
  ];
  const s = new ContaminationScanner(bench, { n: 3, topK: 3 });
  corpus.forEach((q, i) => s.add(q, `c${i}`));
  const r = s.report();
  assert.deepEqual(r.rows[0].matches.map((m) => [m.index, m.copies, m.shared, m.containment, m.jaccard, m.id]), [
    [4, 2, 4, 1, 1, 'c4'],
    [0, 2, 4, 1, 0.8, 'c0'],
    [2, 1, 4, 1, 0.8, 'c2'],
  ]);
  assert.equal(r.corpusCount, 8);
  assert.equal(r.corpusUnique, 6);
  assert.deepEqual(r, checkContamination(bench, corpus.map((text, i) => ({ id: `c${i}`, text })), { n: 3, topK: 3 }));
  const one = new ContaminationScanner(bench, { n: 3, topK: 1 });
  corpus.forEach((q, i) => one.add(q, `c${i}`));
  assert.deepEqual(one.report().rows[0].matches.map((m) => m.index), [4]);
  const low = new ContaminationScanner(bench, { n: 3, topK: 8 });
  corpus.forEach((q) => low.add(q, null));
  assert.deepEqual(low.report().rows[0].matches.map((m) => m.index), [4, 0, 2, 5, 1]);
});

test('dcd contamination streams a DCD corpus: the in-memory report plus warnings; bad lines named', async () => {
  const { bench, corpus } = generated(8);
  const benchFile = write('bench.jsonl', bench.map((b) => JSON.stringify({ question: b.text })).join('\n'));
  const lines = corpus.map((q, i) => sampleLine(`s${i % 50}`, q));
  const dcd = write('cli.dcd.jsonl', lines.join('\r\n'));
  const broken = write('broken.dcd.jsonl', [...lines.slice(0, 5), '{"id": ', ...lines.slice(5)].join('\n'));
  const [ok, bad] = dcdMany([
    ['contamination', '--benchmark', benchFile, '--benchmark-field', 'question', '--corpus', dcd, '--ngram', '2', '--json'],
    ['contamination', '--benchmark', benchFile, '--benchmark-field', 'question', '--corpus', broken],
  ]);
  assert.equal(ok.status, 0, ok.stderr);
  const json = JSON.parse(ok.stdout);
  const items = (await readTextItems(benchFile, 'question')).items;
  const expected = checkContamination(items, corpus.map((text, i) => ({ id: `s${i % 50}`, text })), { n: 2 });
  assert.deepEqual({ ...json, warnings: undefined }, { ...expected, warnings: undefined });
  assert.equal(json.warnings.length, 10);
  assert.match(json.warnings[0].message, /duplicate id "s0" \(also on line 1\)/);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /broken\.dcd\.jsonl:6:/);
});
