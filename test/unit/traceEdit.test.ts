import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  applyTraceFields, checkVerdict, findSampleLine, lineBytes, replaceLineBytes, saveTraceToCorpus, spliceLine, traceFieldsOf, TraceLineChangedError,
} from '../../src/core/trace/traceEdit';
import { parseTrace, renderTrace, TraceStructureError } from '../../src/core/trace/template';

const FIXTURE = join(__dirname, '..', 'fixtures', 'traces', 'corpus.dcd.jsonl');
const fileBytes = (): Uint8Array => new Uint8Array(readFileSync(FIXTURE));
const lines = (): string[] => readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l);
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(b);

/** The raw bytes of each line (terminators excluded). */
function byteLines(b: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = b.indexOf(0x0a, start);
    if (nl < 0) { if (start < b.length) out.push(Buffer.from(b.subarray(start))); return out; }
    out.push(Buffer.from(b.subarray(start, nl)));
    start = nl + 1;
  }
}

/** Python-style ensure_ascii JSON of an object. */
function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

describe('lineBytes / replaceLineBytes', () => {
  it('locates lines with \\n, \\r\\n and no final terminator', () => {
    const b = enc('a\r\nbb\ncc');
    assert.deepEqual(lineBytes(b, 0), { start: 0, end: 1, next: 3 });
    assert.deepEqual(lineBytes(b, 1), { start: 3, end: 5, next: 6 });
    assert.deepEqual(lineBytes(b, 2), { start: 6, end: 8, next: 8 });
    assert.equal(lineBytes(b, 3), null);
    assert.equal(lineBytes(enc('a\n'), 1), null);
  });

  it('replaces one line and keeps every other byte, the terminator and a BOM', () => {
    const body = enc('\ufeff{"a":1}\r\n{"b":"é"}\n{"c":3}');
    const out = replaceLineBytes(body, 1, '{"b":"ü"}');
    assert.equal(dec(out), '\ufeff{"a":1}\r\n{"b":"ü"}\n{"c":3}');
    const first = replaceLineBytes(body, 0, '{"a":2}');
    assert.deepEqual([...first.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    assert.equal(dec(first), '\ufeff{"a":2}\r\n{"b":"é"}\n{"c":3}');
    assert.throws(() => replaceLineBytes(body, 5, '{}'), /no line 6/);
    assert.throws(() => replaceLineBytes(body, 0, '{}\n{}'), /line break/);
  });

  it('leaves bytes that are not valid UTF-8 on other lines untouched', () => {
    const bad = new Uint8Array([...enc('{"x":"'), 0xff, 0xfe, ...enc('"}\n{"y":1}\n')]);
    const out = replaceLineBytes(bad, 1, '{"y":2}');
    assert.deepEqual([...out.subarray(0, 10)], [...bad.subarray(0, 10)]);
    assert.equal(dec(out.subarray(11)), '{"y":2}\n');
  });
});

describe('findSampleLine', () => {
  it('finds a sample by id, skipping malformed lines, with the byte line number', () => {
    const ls = lines();
    const id = JSON.parse(ls[2]).id as string;
    const text = `${ls[0]}\n{"id": oops\n\n${ls[2]}\n`;
    const found = findSampleLine(text, id);
    assert.ok(found);
    assert.equal(found.line, 3);
    assert.equal(found.raw, ls[2]);
    assert.equal(findSampleLine(text, 'no-such-id'), null);
  });

  it('finds ids written with \\u escapes and on a BOM line', () => {
    const s = { id: 'sample-ü', question: 'q' };
    const found = findSampleLine(`\ufeff${asciiJson(s)}\r\n`, 'sample-ü');
    assert.ok(found);
    assert.equal(found.line, 0);
    assert.equal(found.raw, asciiJson(s));
  });
});

describe('spliceLine', () => {
  it('re-encodes only the values that changed, in place', () => {
    const raw = '{"id": "a",  "n": 1, "draft": "old", "keep": {"x": [1, 2]}}';
    const r = spliceLine(raw, { id: 'a', n: 1, draft: 'new\n"q"', keep: { x: [1, 2] } });
    assert.equal(r.line, '{"id": "a",  "n": 1, "draft": "new\\n\\"q\\"", "keep": {"x": [1, 2]}}');
    assert.deepEqual(r.changed, ['draft']);
  });

  it('appends keys the line lacks and keeps ensure_ascii escaping', () => {
    const raw = asciiJson({ id: 'a', question: 'Janet’s ducks' });
    const r = spliceLine(raw, { id: 'a', question: 'Janet’s geese', draft_answer: 'é' });
    assert.equal(r.line, '{"id":"a","question":"Janet\\u2019s geese","draft_answer":"\\u00e9"}');
    assert.deepEqual(JSON.parse(r.line), { id: 'a', question: 'Janet’s geese', draft_answer: 'é' });
    assert.equal(spliceLine('{}', { a: 1 }).line, '{"a":1}');
  });

  it('treats differently escaped equal values as unchanged', () => {
    const raw = '{"q":"caf\\u00e9"}';
    assert.deepEqual(spliceLine(raw, { q: 'café' }), { line: raw, changed: [] });
  });
});

describe('applyTraceFields', () => {
  it('sets the fields, re-renders text and keeps key order and unknown fields', () => {
    const sample = JSON.parse(lines()[1]) as Record<string, unknown>;
    const fields = traceFieldsOf(sample);
    assert.ok(fields);
    const out = applyTraceFields(sample, { ...fields, draft: 'A new draft. #### 18' }, 'paper', { draft_answer: '18' });
    assert.deepEqual(Object.keys(out), Object.keys(sample));
    assert.equal(out.model, sample.model);
    assert.equal(out.gsm8k_test_index, sample.gsm8k_test_index);
    assert.equal(out.draft, 'A new draft. #### 18');
    assert.equal(out.draft_answer, '18');
    assert.equal(out.text, renderTrace({ ...fields, draft: 'A new draft. #### 18' }).text);
    assert.equal(traceFieldsOf({ ...sample, verdict: 'maybe' }), null);
    assert.equal(traceFieldsOf({ ...sample, chain: 3 }), null);
  });
});

describe('checkVerdict', () => {
  it('reports a verdict the verifier contradicts, and agrees otherwise', () => {
    const wrongNowRight = checkVerdict('So she makes $18.\n#### 18', '18', 'incorrect');
    assert.equal(wrongNowRight.verifierVerdict, 'correct');
    assert.equal(wrongNowRight.disagrees, true);
    assert.equal(wrongNowRight.draftAnswer, '18');
    const stillWrong = checkVerdict('#### 26', '18', 'incorrect');
    assert.equal(stillWrong.verifierVerdict, 'incorrect');
    assert.equal(stillWrong.disagrees, false);
    const noGold = checkVerdict('#### 26', null, 'correct');
    assert.equal(noGold.verifierVerdict, null);
    assert.equal(noGold.disagrees, false);
  });
});

describe('saveTraceToCorpus', () => {
  it('rewrites only the edited line: other lines byte-identical, unknown fields kept, text re-rendered', () => {
    const file = fileBytes();
    const before = byteLines(file);
    const sample = JSON.parse(lines()[1]) as Record<string, unknown>;
    const { fields } = parseTrace(sample.text as string);
    const newDraft = `${fields.draft}\nOn second thought: 16 - 3 - 4 = 9 eggs, 9 * 2 = 18.\n#### 18`;
    const edited = renderTrace({ ...fields, draft: newDraft }).text;
    const r = saveTraceToCorpus(file, sample.id as string, edited);
    const after = byteLines(r.bytes);
    assert.equal(after.length, before.length);
    assert.ok(after[0].equals(before[0]));
    assert.ok(after[2].equals(before[2]));
    assert.equal(r.bytes[r.bytes.length - 1], 0x0a, 'the final newline is kept');
    const written = JSON.parse(after[1].toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(written), Object.keys(sample));
    assert.equal(written.draft, newDraft);
    assert.equal(written.text, edited);
    assert.equal(written.model, sample.model);
    assert.equal(written.verdict, 'incorrect', 'the verdict is never changed by the verifier');
    assert.equal(written.draft_answer, '18');
    assert.deepEqual(r.changed.sort(), ['draft', 'draft_answer', 'text']);
    assert.ok(r.check?.disagrees, 'the verifier now finds the draft correct');
    assert.equal(r.check?.verifierVerdict, 'correct');
    // Every field but those three is unchanged.
    for (const k of Object.keys(sample)) if (!r.changed.includes(k)) assert.deepEqual(written[k], sample[k], k);
  });

  it('keeps \\r\\n line endings and ASCII escaping of an edited line', () => {
    const samples = lines().map((l) => JSON.parse(l) as Record<string, unknown>);
    const file = enc(samples.map(asciiJson).join('\r\n') + '\r\n');
    const { fields } = parseTrace(samples[0].text as string);
    const edited = renderTrace({ ...fields, chain: `${fields.chain}\nChecked: 18 — yes.` }).text;
    const r = saveTraceToCorpus(file, samples[0].id as string, edited);
    const text = dec(r.bytes);
    assert.equal(text.split('\r\n').length, samples.length + 1);
    const [first, second] = text.split('\r\n');
    assert.ok(!/[^\x00-\x7f]/.test(first), 'the edited line stays ASCII');
    assert.equal((JSON.parse(first) as { chain: string }).chain, `${fields.chain}\nChecked: 18 — yes.`);
    assert.equal(second, asciiJson(samples[1]));
    assert.equal(r.check, undefined, 'the verifier only re-runs when the draft or verdict changes');
  });

  it('writes nothing new when the text is unchanged', () => {
    const file = fileBytes();
    const sample = JSON.parse(lines()[0]) as Record<string, unknown>;
    const r = saveTraceToCorpus(file, sample.id as string, sample.text as string);
    assert.deepEqual(r.changed, []);
    assert.equal(r.bytes, file);
  });

  it('refuses to write over a change made to the sample\'s line since the trace was read', () => {
    const original = lines();
    const sample = JSON.parse(original[1]) as Record<string, unknown>;
    const { fields } = parseTrace(sample.text as string);
    const edited = renderTrace({ ...fields, chain: `${fields.chain}\nChecked again.` }).text;
    // Meanwhile the workbench saved a review of that very sample.
    const reviewed = JSON.stringify({ ...sample, review: { status: 'accepted' } });
    const changed = enc([original[0], reviewed, ...original.slice(2)].join('\n') + '\n');
    assert.throws(() => saveTraceToCorpus(changed, sample.id as string, edited, 'paper', original[1]), (err: unknown) => {
      assert.ok(err instanceof TraceLineChangedError);
      assert.match(err.message, /changed in the corpus file since this trace was opened/);
      return true;
    });
    // A change to another line does not concern this trace: the edit applies and the other change stays.
    const other = JSON.parse(original[0]) as Record<string, unknown>;
    const elsewhere = enc([JSON.stringify({ ...other, review: { status: 'rejected' } }), ...original.slice(1)].join('\n') + '\n');
    const r = saveTraceToCorpus(elsewhere, sample.id as string, edited, 'paper', original[1]);
    const out = dec(r.bytes).split('\n');
    assert.equal(JSON.parse(out[0]).review.status, 'rejected');
    assert.equal(JSON.parse(out[1]).chain, `${fields.chain}\nChecked again.`);
  });

  it('refuses a text whose structure is broken', () => {
    const file = fileBytes();
    const sample = JSON.parse(lines()[2]) as Record<string, unknown>;
    const text = sample.text as string;
    assert.throws(() => saveTraceToCorpus(file, sample.id as string, text.replace('<|im_start|>answer\n', '')), TraceStructureError);
    const bridge = "Now I'll generate detailed reasoning steps and verify whether the draft solution is correct.\n";
    const { fields } = parseTrace(text);
    const moved = text.replace(bridge, '').replace(`${fields.chain}\n`, `${fields.chain}\n${bridge}`);
    assert.notEqual(moved, text);
    assert.throws(() => saveTraceToCorpus(file, sample.id as string, moved), TraceStructureError);
    assert.throws(() => saveTraceToCorpus(file, 'gone', text), /no longer in the corpus/);
  });

  it('writes an edited verdict and reports when the verifier disagrees', () => {
    const file = fileBytes();
    const sample = JSON.parse(lines()[0]) as Record<string, unknown>;
    const text = (sample.text as string).replace(
      "The draft solution is correct. I'll now generate the final answer.",
      "The draft solution is incorrect. I'll revise it and provide the correct answer.");
    const r = saveTraceToCorpus(file, sample.id as string, text);
    assert.equal(r.sample.verdict, 'incorrect');
    assert.deepEqual(r.changed.sort(), ['text', 'verdict']);
    assert.equal(r.check?.verifierVerdict, 'correct');
    assert.equal(r.check?.disagrees, true);
  });
});
