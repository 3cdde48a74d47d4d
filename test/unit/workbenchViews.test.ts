import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CorpusDocument, EditHistory } from '../../src/core/workbench';
import { facets, findPair, rowWindow, sampleDetail } from '../../src/workbench/views';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'workbench', 'pairs.dcd.jsonl');
const bytes = fs.readFileSync(FIXTURE);
const samples = bytes.toString('utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

describe('workbench views (what the webview is sent)', () => {
  it('serves row windows with short columns only, following edited rows', () => {
    const d = new CorpusDocument(bytes);
    const view = [...d.rows()];
    const rows = rowWindow(d, view, 1, 3);
    assert.deepEqual(rows.map((r) => r.id), samples.slice(1, 4).map((s) => s.id));
    assert.deepEqual(Object.keys(rows[0]).sort(), ['cotType', 'flags', 'id', 'key', 'kind', 'line', 'note', 'question', 'review', 'source', 'tokens', 'trained', 'verdict', 'error'].sort());
    assert.ok(JSON.stringify(rows).length < 2000, 'no sample text travels with the rows');
    new EditHistory(d).push(d.reviewEdit([view[2].key], { status: 'rejected', at: 'x' }));
    assert.equal(rowWindow(d, view, 2, 1)[0].review, 'rejected', 'a stale view shows the edited row');
    assert.deepEqual(rowWindow(d, view, 6, 10).map((r) => r.id), [samples[6].id], 'windows stop at the end');
  });

  it('pairs a question, moves between questions and picks a draft-wrong sample', () => {
    const d = new CorpusDocument(bytes);
    const wrongKey = d.keyOfId(samples[2].id)!;
    const pair = findPair(d, { key: wrongKey })!;
    assert.equal(pair.position, 0);
    assert.equal(pair.pairs, 2);
    assert.equal(pair.left.id, samples[0].id);
    assert.equal(pair.right.id, samples[2].id, 'the row asked for is on the right');
    assert.equal(pair.wrongChoices.length, 3);
    assert.equal(pair.stages.find((s) => s.name === 'chain')!.right, '', 'an identical stage is sent once');
    const next = findPair(d, { from: pair.questionKey, delta: 1 })!;
    assert.equal(next.position, 1);
    assert.equal(next.left.id, samples[4].id);
    assert.equal(findPair(d, { from: next.questionKey, delta: 1 })!.position, 1, 'the last question stays the last');
    const other = findPair(d, { from: pair.questionKey, delta: 0, wrongKey: d.keyOfId(samples[3].id)! })!;
    assert.equal(other.right.id, samples[3].id);
    assert.equal(findPair(new CorpusDocument(Buffer.from(`${JSON.stringify(samples[0])}\n`)), {}), null);
  });

  it('details one sample, and lists facets for the filter menus', () => {
    const d = new CorpusDocument(Buffer.concat([bytes, Buffer.from('{"broken\n')]));
    const s = sampleDetail(d, d.rows()[1].key);
    assert.equal(s.text, samples[1].text);
    assert.ok(s.regions.chain && s.text.slice(s.regions.chain.start, s.regions.chain.end) === samples[1].chain);
    assert.equal(s.sampleIndex, 1);
    assert.equal(s.hasPair, true);
    assert.ok(s.extra.some((x) => x.name === 's1k_index' && x.value === String(samples[1].s1k_index)));
    assert.throws(() => sampleDetail(d, d.rows()[7].key), /malformed/);
    const f = facets(d);
    assert.deepEqual(f.sources, [...new Set(samples.map((x) => x.draft_source))].sort());
    assert.ok(f.fields.includes('verifier_rule'));
  });
});
