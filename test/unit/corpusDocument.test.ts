import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorpusDocument, EditHistory, checkConsistency, compileSearch, setTopLevelField } from '../../src/core/workbench';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'workbench', 'pairs.dcd.jsonl');
const fixtureLines = fs.readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l.trim());
const samples = fixtureLines.map((l) => JSON.parse(l) as Record<string, unknown>);

/** A file with a malformed line, a blank line, a CRLF line, odd spacing and escapes in an unknown field, and no final newline. */
function messyFile(): Buffer {
  const odd = fixtureLines[2].replace(/}$/, ', "extra":  {"n": 1.50, "s": "caf\\u00e9 } \\" {"}}');
  return Buffer.from([
    fixtureLines[0], '\n',
    '{"id": "broken", oops\n',
    '\n',
    fixtureLines[1], '\r\n',
    odd, '\n',
    fixtureLines[3], '\n',
    fixtureLines[4],
  ].join(''), 'utf8');
}

const doc = (b: Buffer | string) => new CorpusDocument(typeof b === 'string' ? Buffer.from(b, 'utf8') : b);

describe('CorpusDocument: lines and rows', () => {
  it('indexes lines without parsing and keeps malformed lines as error rows', () => {
    const d = doc(messyFile());
    assert.equal(d.lines().length, 7);
    assert.equal(d.rows().length, 6, 'the blank line is not a row');
    assert.equal(d.rows().filter((e) => d.isSummarized(e)).length, 0, 'nothing is parsed before it is asked for');
    const kinds = d.rows().map((e) => d.summary(e).kind);
    assert.deepEqual(kinds, ['sample', 'error', 'sample', 'sample', 'sample', 'sample']);
    assert.match(d.summary(d.rows()[1]).error ?? '', /JSON/);
    assert.equal(d.summary(d.rows()[2]).id, samples[1].id, 'the CRLF line parses');
    assert.equal(d.lineNumber(d.rows()[2].key), 4);
    assert.equal(d.sampleIndexOf(d.rows()[2].key), 1, 'sample indices skip error rows');
    assert.equal(d.keyOfSampleIndex(1), d.rows()[2].key);
    assert.equal(d.keyOfId(String(samples[3].id)), d.rows()[4].key);
  });

  it('summarises the short columns of a sample', () => {
    const d = doc(fixtureLines.join('\n') + '\n');
    const s = d.summary(d.rows()[1]);
    assert.equal(s.id, samples[1].id);
    assert.equal(s.verdict, 'incorrect');
    assert.equal(s.source, samples[1].draft_source);
    assert.equal(s.cotType, samples[1].cot_type);
    assert.equal(s.questionKey, `s1k:${samples[1].s1k_index}`);
    const q = String(samples[1].question).split('\n')[0].trim();
    assert.equal(s.question, q.length > 200 ? `${q.slice(0, 199)}…` : q);
    assert.equal(s.review, 'unreviewed');
    assert.deepEqual(s.missing, []);
  });

  it('writes an unedited file back byte for byte (CRLF, blank line, malformed line, BOM, no final newline)', () => {
    const bytes = messyFile();
    assert.ok(doc(bytes).serialize().equals(bytes));
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes]);
    const d = doc(withBom);
    assert.equal(d.summary(d.rows()[0]).kind, 'sample', 'the BOM is not part of the first line');
    assert.ok(d.serialize().equals(withBom));
  });
});

describe('CorpusDocument: edits', () => {
  it('a review edit changes only that line, and only its review field', () => {
    const bytes = messyFile();
    const d = doc(bytes);
    const target = d.rows()[3]; // the line with the odd unknown field
    const before = d.lineText(target);
    const h = new EditHistory(d);
    h.push(d.reviewEdit([target.key], { status: 'accepted', at: '2025-01-02T03:04:05.000Z' }));
    const out = d.serialize().toString('utf8').split('\n');
    const orig = bytes.toString('utf8').split('\n');
    assert.equal(out.length, orig.length);
    for (let i = 0; i < orig.length; i++) if (i !== 4) assert.equal(out[i], orig[i], `line ${i + 1} is untouched`);
    assert.ok(out[4].startsWith(before.slice(0, -1)), 'the edit appends to the object; every earlier byte is kept');
    assert.ok(out[4].includes('"extra":  {"n": 1.50, "s": "caf\\u00e9 } \\" {"}'), 'odd spacing, number spelling and escapes survive');
    const parsed = JSON.parse(out[4]);
    assert.deepEqual(parsed.review, { status: 'accepted', at: '2025-01-02T03:04:05.000Z' });
    const { review: _r, ...rest } = parsed;
    assert.deepEqual(rest, JSON.parse(before));
    assert.equal(d.summary(d.entryByKey(target.key)!).review, 'accepted');
    assert.equal(d.entryByKey(target.key)!.key, target.key, 'the row keeps its key');
  });

  it('undo restores the exact bytes; redo re-applies; dirty follows the saved point', () => {
    const bytes = messyFile();
    const d = doc(bytes);
    const h = new EditHistory(d);
    assert.equal(h.dirty, false);
    const keys = [d.rows()[0].key, d.rows()[2].key];
    h.push(d.reviewEdit(keys, { status: 'rejected', note: 'answer <b>wrong</b>', at: 'now' }));
    const edited = d.serialize();
    assert.equal(h.dirty, true);
    assert.ok(!edited.equals(bytes));
    h.undo();
    assert.ok(d.serialize().equals(bytes), 'undo gives back the original bytes');
    assert.equal(h.dirty, false);
    h.redo();
    assert.ok(d.serialize().equals(edited));
    h.markSaved();
    assert.equal(h.dirty, false);
    h.push(d.reviewEdit(keys, null));
    assert.ok(d.serialize().equals(bytes), 'clearing the review removes the field again');
    assert.equal(h.dirty, true);
  });

  it('review edits skip error rows and no-op changes', () => {
    const d = doc(messyFile());
    const edit = d.reviewEdit([d.rows()[1].key], { status: 'accepted', at: 'x' });
    assert.equal(edit.changes.length, 0);
    const h = new EditHistory(d);
    h.push(d.reviewEdit([d.rows()[0].key], { status: 'accepted', at: 'x' }));
    assert.equal(d.reviewEdit([d.rows()[0].key], { status: 'accepted', at: 'x' }).changes.length, 0);
  });

  it('deletes and duplicates rows, with undo, unique ids and the last line without a newline', () => {
    const bytes = messyFile();
    const d = doc(bytes);
    const h = new EditHistory(d);
    const last = d.rows()[5];
    h.push(d.duplicateEdit([last.key]));
    assert.equal(d.rows().length, 7);
    const copy = d.summary(d.rows()[6]);
    assert.equal(copy.id, `${samples[4].id}-copy`);
    h.push(d.duplicateEdit([last.key]));
    assert.equal(d.summary(d.rows()[6]).id, `${samples[4].id}-copy2`, 'a second copy gets a new id');
    const text = d.serialize().toString('utf8');
    assert.ok(!text.endsWith('\n'), 'the file still ends without a newline');
    const lines = text.split('\n');
    assert.equal(lines.length, 9);
    const { id: _a, ...copyRest } = JSON.parse(lines[8]);
    const { id: _b, ...origRest } = samples[4];
    assert.deepEqual(copyRest, origRest);
    h.push(d.deleteEdit([d.rows()[1].key, d.rows()[0].key]));
    assert.equal(d.rows().length, 6);
    assert.equal(d.summary(d.rows()[0]).id, samples[1].id);
    h.undo(); h.undo(); h.undo();
    assert.ok(d.serialize().equals(bytes));
    h.redo();
    assert.equal(d.rows().length, 7);
  });

  it('deleting the last line keeps the rest byte-identical', () => {
    const bytes = Buffer.from(`${fixtureLines[0]}\n${fixtureLines[1]}`);
    const d = doc(bytes);
    const h = new EditHistory(d);
    h.push(d.deleteEdit([d.rows()[1].key]));
    assert.equal(d.serialize().toString('utf8'), `${fixtureLines[0]}\n`);
    h.undo();
    assert.ok(d.serialize().equals(bytes));
  });
});

describe('setTopLevelField', () => {
  it('replaces, appends and removes members without touching other bytes', () => {
    const line = '{"a": 1.0, "b": "x\\"}", "c": {"d": [1, "}"]}}';
    assert.equal(setTopLevelField(line, 'b', 'y'), '{"a": 1.0, "b": "y", "c": {"d": [1, "}"]}}');
    assert.equal(setTopLevelField(line, 'e', { s: 1 }), '{"a": 1.0, "b": "x\\"}", "c": {"d": [1, "}"]}, "e": {"s":1}}');
    assert.equal(setTopLevelField(line, 'b', undefined), '{"a": 1.0, "c": {"d": [1, "}"]}}');
    assert.equal(setTopLevelField(line, 'a', undefined), '{"b": "x\\"}", "c": {"d": [1, "}"]}}');
    assert.equal(setTopLevelField('{"a":1,"b":2}', 'c', 3), '{"a":1,"b":2,"c":3}', 'compact lines stay compact');
    assert.equal(setTopLevelField('{}', 'c', 3), '{"c":3}');
    assert.equal(setTopLevelField('{"only":1}', 'only', undefined), '{}');
    assert.equal(setTopLevelField(line, 'zzz', undefined), line);
  });

  it('edits the last of duplicate keys, as JSON.parse reads it', () => {
    const out = setTopLevelField('{"a":1,"a":2}', 'a', 5);
    assert.equal(out, '{"a":1,"a":5}');
    assert.equal(JSON.parse(out).a, 5);
  });
});

describe('CorpusDocument: filter, sort, search', () => {
  const base = () => {
    const d = doc(messyFile());
    const rows = d.rows();
    d.setTokens(rows[0].key, { tokens: 300, trained: 250, flags: [] });
    d.setTokens(rows[2].key, { tokens: 40000, trained: 32000, flags: ['truncated', 'answer_cut'] });
    d.setTokens(rows[3].key, { tokens: 500, trained: 400, flags: [] });
    return d;
  };
  const ids = (d: CorpusDocument, entries: readonly { key: number }[]) => entries.map((e) => d.summary(d.entryByKey(e.key)!).id || 'ERR');

  it('filters by verdict, source, review, flags and token range', async () => {
    const d = base();
    const correct = (await d.view({ verdict: 'correct' })).entries;
    assert.deepEqual(ids(d, correct), samples.filter((s, i) => [0, 1, 2, 3, 4].includes(i) && s.verdict === 'correct').map((s) => s.id));
    const wrong = (await d.view({ verdict: 'incorrect' })).entries;
    assert.equal(wrong.length, 3);
    const src = String(samples[1].draft_source);
    assert.deepEqual(ids(d, (await d.view({ sources: [src] })).entries), [samples[1].id]);
    assert.deepEqual(ids(d, (await d.view({ flags: ['malformed'] })).entries), ['ERR']);
    assert.deepEqual(ids(d, (await d.view({ flags: ['truncated'] })).entries), [samples[1].id]);
    assert.deepEqual(ids(d, (await d.view({ tokenMin: 301, tokenMax: 1000 })).entries), [samples[2].id]);
    const h = new EditHistory(d);
    h.push(d.reviewEdit([d.rows()[0].key], { status: 'accepted', at: 'x' }));
    assert.deepEqual(ids(d, (await d.view({ review: ['accepted'] })).entries), [samples[0].id]);
    assert.equal((await d.view({ review: ['unreviewed'] })).entries.length, 4);
  });

  it('sorts by a column and keeps file order among equals', async () => {
    const d = base();
    const byTokens = (await d.view({}, { column: 'tokens', descending: true })).entries;
    assert.deepEqual(ids(d, byTokens.slice(0, 3)), [samples[1].id, samples[2].id, samples[0].id]);
    const byId = (await d.view({ verdict: 'incorrect' }, { column: 'id' })).entries;
    const expected = ids(d, byId).slice().sort();
    assert.deepEqual(ids(d, byId), expected);
  });

  it('searches any field or one field, plain or regex, and counts hits', async () => {
    const d = base();
    const q = String(samples[0].question);
    const word = 'ducks';
    const perSample = (s: Record<string, unknown>) => Object.entries(s).filter(([k, v]) => k !== 'text' && typeof v === 'string')
      .reduce((n, [, v]) => n + ((v as string).match(/ducks/gi)?.length ?? 0), 0);
    const expected = [0, 1, 2, 3, 4].map((i) => perSample(samples[i])).reduce((a, b) => a + b, 0);
    assert.ok(q.includes(word));
    const r = await d.view({ search: { text: 'DUCKS' } });
    assert.equal(r.search?.occurrences, expected);
    assert.equal(r.entries.length, [0, 1, 2, 3, 4].filter((i) => perSample(samples[i]) > 0).length);
    const wrongOnly = await d.view({ verdict: 'incorrect', search: { text: 'ducks' } });
    const wrongIdx = [0, 1, 2, 3, 4].filter((i) => samples[i].verdict === 'incorrect');
    assert.equal(wrongOnly.search?.occurrences, wrongIdx.map((i) => perSample(samples[i])).reduce((a, b) => a + b, 0), 'hits count the rows the other filters let through');
    assert.equal(wrongOnly.search?.samples, wrongOnly.entries.length);
    const cs = await d.view({ search: { text: 'DUCKS', caseSensitive: true } });
    assert.equal(cs.entries.length, 0);
    const field = await d.view({ search: { text: String(samples[1].draft_answer), field: 'draft_answer' } });
    assert.ok(field.entries.some((e) => d.summary(e).id === samples[1].id));
    const re = await d.view({ search: { text: 'oops', regex: true } });
    assert.deepEqual(ids(d, re.entries), ['ERR'], 'malformed lines are searched as raw text');
    const bad = await d.view({ search: { text: '(', regex: true } });
    assert.match(bad.search?.error ?? '', /Invalid regular expression/);
    assert.ok('error' in compileSearch({ text: 'a*', regex: true }), 'an expression that matches nothing-length is refused');
  });

  it('finds text that JSON escapes in the raw line (non-ASCII, quotes) through the parsed values', async () => {
    const d = doc(messyFile());
    const r = await d.view({ search: { text: 'café } " {' } });
    assert.equal(r.entries.length, 1);
    assert.equal(r.search?.occurrences, 1);
  });

  it('re-searches only edited lines, and finds review notes', async () => {
    const d = base();
    const h = new EditHistory(d);
    assert.equal((await d.view({ search: { text: 'zebra-note' } })).entries.length, 0);
    h.push(d.reviewEdit([d.rows()[3].key], { status: 'flagged', note: 'Zebra-note here', at: 'x' }));
    const r = await d.view({ search: { text: 'zebra-note' } });
    assert.deepEqual(ids(d, r.entries), [samples[2].id]);
    assert.deepEqual(ids(d, (await d.view({ flags: ['noted'] })).entries), [samples[2].id]);
  });
});

describe('CorpusDocument: stats, consistency, pairs', () => {
  it('counts verdicts, balance, reviews, questions and a token histogram', async () => {
    const d = doc(messyFile());
    await d.summarizeAll();
    d.setTokens(d.rows()[0].key, { tokens: 300, trained: 250, flags: [] });
    d.setTokens(d.rows()[2].key, { tokens: 1300, trained: 1000, flags: ['truncated'] });
    const st = d.stats();
    assert.equal(st.rows, 6);
    assert.equal(st.samples, 5);
    assert.equal(st.malformed, 1);
    const used = [0, 1, 2, 3, 4].map((i) => samples[i]);
    assert.equal(st.verdicts.correct, used.filter((s) => s.verdict === 'correct').length);
    assert.equal(st.verdicts.incorrect, used.filter((s) => s.verdict === 'incorrect').length);
    assert.equal(st.balance, st.verdicts.correct / 5);
    assert.equal(st.questions, new Set(used.map((s) => s.s1k_index)).size);
    assert.equal(st.questionsWithBoth, 1, 'row 1 has only its draft-correct sample here');
    assert.equal(st.tokens.done, 2);
    assert.equal(st.tokens.total, 5);
    assert.equal(st.tokens.sum, 1600);
    assert.equal(st.tokens.flags.truncated, 1);
    assert.deepEqual(st.tokens.histogram?.counts.reduce((a, b) => a + b, 0), 2);
    assert.equal(st.review.unreviewed, 5);
  });

  it('checks the draft tag against gemini_grade and the verifier', () => {
    const ok = checkConsistency(samples[0]);
    assert.equal(ok.verifier, 'correct');
    assert.deepEqual(ok.reasons, []);
    const wrongTag = checkConsistency({ ...samples[1], verdict: 'correct' });
    assert.equal(wrongTag.verifier, 'incorrect');
    assert.match(wrongTag.reasons.join(), /verifier says incorrect/);
    const grade = checkConsistency({ ...samples[0], gemini_grade: 'No' });
    assert.equal(grade.grade, 'incorrect');
    assert.match(grade.reasons.join(), /gemini_grade says incorrect/);
    const student = checkConsistency({ ...samples[1], gemini_grade: 'Yes' });
    assert.equal(student.grade, null, 'the grade column grades the Gemini attempt, not a student draft');
    assert.deepEqual(student.reasons, []);
    const noGold = checkConsistency({ ...samples[1], gold_answer: null });
    assert.equal(noGold.verifier, null);
  });

  it('lists disagreements in the stats with their line numbers', async () => {
    const bad = JSON.stringify({ ...samples[1], verdict: 'correct', id: 'mislabelled' });
    const d = doc(`${fixtureLines[0]}\n${bad}\n`);
    await d.summarizeAll();
    const st = d.stats();
    assert.equal(st.consistency.checked, 2);
    assert.equal(st.consistency.consistent, 1);
    assert.equal(st.consistency.disagreements.length, 1);
    assert.equal(st.consistency.disagreements[0].id, 'mislabelled');
    assert.equal(st.consistency.disagreements[0].line, 2);
    assert.deepEqual((await d.view({ flags: ['disagreement'] })).entries.map((e) => d.summary(e).id), ['mislabelled']);
  });

  it('groups the questions that have both kinds of draft', () => {
    const d = doc(fixtureLines.join('\n'));
    const groups = d.pairGroups();
    assert.equal(groups.length, 2);
    assert.equal(groups[0].questionKey, `s1k:${samples[0].s1k_index}`);
    assert.deepEqual(groups[0].correct.map((k) => d.summary(d.entryByKey(k)!).id), samples.filter((s) => s.s1k_index === samples[0].s1k_index && s.verdict === 'correct').map((s) => s.id));
    assert.equal(groups[0].wrong.length, samples.filter((s) => s.s1k_index === samples[0].s1k_index && s.verdict === 'incorrect').length);
    const onlyCorrect = doc(fixtureLines[0]);
    assert.equal(onlyCorrect.pairGroups().length, 0);
  });
});
