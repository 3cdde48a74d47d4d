import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { importS1k, importDrafts, ImportError } from '../../src/core/corpus/importers';
import { assembleCorpus, sampleId } from '../../src/core/corpus/assemble';
import { buildCorpus } from '../../src/core/corpus/build';
import { parseTrace } from '../../src/core/trace/template';
import { toMessages } from '../../src/core/corpus/exports';
import { verify } from '../../src/core/answer';

const FIX = path.join(__dirname, '..', 'fixtures', 'corpus');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-corpus-'));

describe('s1K importers', () => {
  it('reads parquet, JSONL and a JSON array to the same rows', async () => {
    const jsonl = await importS1k(path.join(FIX, 's1k-mini.jsonl'));
    const parquet = await importS1k(path.join(FIX, 's1k-mini.parquet'));
    const json = await importS1k(path.join(FIX, 's1k-mini.json'));
    assert.equal(jsonl.format, 'jsonl');
    assert.equal(parquet.format, 'parquet');
    assert.equal(json.format, 'json');
    assert.equal(jsonl.rows.length, 14);
    for (const other of [parquet, json]) {
      assert.equal(other.rows.length, jsonl.rows.length);
      for (let i = 0; i < jsonl.rows.length; i++) {
        assert.equal(other.rows[i].question, jsonl.rows[i].question);
        assert.equal(other.rows[i].deepseek_thinking_trajectory, jsonl.rows[i].deepseek_thinking_trajectory);
      }
    }
  });

  it('names the missing columns', async () => {
    const dir = tmp();
    const f = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(f, JSON.stringify({ question: 'q', solution: 's' }) + '\n');
    await assert.rejects(importS1k(f), (err: Error) => err instanceof ImportError && /gemini_attempt/.test(err.message) && /deepseek_thinking_trajectory/.test(err.message));
  });

  it('reports malformed lines with file and line number and keeps the good ones', async () => {
    const dir = tmp();
    const f = path.join(dir, 's1k.jsonl');
    const lines = fs.readFileSync(path.join(FIX, 's1k-mini.jsonl'), 'utf8').split('\n').filter(Boolean);
    const partial = JSON.parse(lines[2]);
    delete partial.gemini_attempt;
    fs.writeFileSync(f, [lines[0], '{"question": "broken', lines[1], JSON.stringify(partial), '[1,2]'].join('\n') + '\n');
    const r = await importS1k(f);
    assert.equal(r.rows.length, 2);
    assert.deepEqual(r.rowNumbers, [1, 3]);
    assert.deepEqual(r.errors.map((e) => [e.file, e.line]), [[f, 2], [f, 4], [f, 5]]);
    assert.match(r.errors[1].message, /gemini_attempt/);
  });

  it('accepts draft aliases and reports drafts without a question', async () => {
    const dir = tmp();
    const f = path.join(dir, 'drafts.jsonl');
    fs.writeFileSync(f, [
      JSON.stringify({ question: 'a', response: 'r1' }),
      JSON.stringify({ index: 3, completion: 'r2', seed: 7 }),
      JSON.stringify({ draft: 'no question' }),
      'not json',
      JSON.stringify({ question: 'b', output: 'r3' }),
    ].join('\n'));
    const r = await importDrafts(f);
    assert.deepEqual(r.drafts.map((d) => d.draft), ['r1', 'r2', 'r3']);
    assert.equal(r.drafts[1].seed, 7);
    assert.deepEqual(r.errors.map((e) => e.line), [3, 4]);
    assert.match(r.errors[0].message, /question \(or index\)/);
  });
});

describe('corpus assembly (docs/SPEC.md §2)', () => {
  it('makes a draft-correct sample per row and a draft-wrong sample per non-equivalent draft', async () => {
    const { rows } = await importS1k(path.join(FIX, 's1k-mini.jsonl'));
    const { drafts } = await importDrafts(path.join(FIX, 'drafts-mini.jsonl'));
    const r = assembleCorpus(rows, drafts);
    assert.equal(r.summary.draft_correct, rows.length);
    // Recount independently with the verifier: every draft is either equivalent (no sample) or a draft-wrong sample.
    const wrong = drafts.filter((d) => verify(d.draft, rows[rows.findIndex((x) => x.question === d.question)].solution).equivalent === false);
    assert.equal(r.summary.draft_wrong, wrong.length);
    assert.equal(r.summary.skipped.draft_equivalent, drafts.length - wrong.length);
    assert.ok(r.summary.draft_wrong > 0);
    for (const s of r.samples) {
      const parsed = parseTrace(s.text);
      assert.equal(parsed.fields.verdict, s.verdict);
      assert.equal(parsed.fields.chain, s.chain);
      assert.equal(parsed.fields.draft, s.draft);
      assert.equal(s.final_answer, rows[s.s1k_index!].deepseek_attempt);
      for (const f of ['id', 'question', 'draft', 'draft_source', 'verdict', 'chain', 'final_answer', 'gold_answer', 'draft_answer', 'verifier_rule', 'cot_type', 'gemini_grade', 'deepseek_grade', 'text']) {
        assert.ok(f in s, `sample lacks ${f}`);
      }
    }
    const wrongSample = r.samples.find((s) => s.verdict === 'incorrect')!;
    assert.match(wrongSample.draft_source, /^student:/);
    assert.equal(wrongSample.gsm8k_test_index !== undefined, true, 'unknown draft fields are kept');
  });

  it('gives stable ids and counts duplicates, unknown questions and rows without gold', async () => {
    const { rows } = await importS1k(path.join(FIX, 's1k-mini.jsonl'));
    const noGold = { ...rows[0], solution: 'Proof. Suppose not. Then x > 0, which contradicts the assumption. Hence the statement holds.' };
    const r = assembleCorpus([noGold, rows[1]], [
      { question: rows[1].question, draft: 'So the answer is \\boxed{-1}.' },
      { question: rows[1].question, draft: 'So the answer is \\boxed{-1}.' },
      { question: 'never asked', draft: '42' },
      { index: 0, draft: 'The answer is 5' },
      { question: rows[1].question, draft: 'I do not know.' },
    ]);
    assert.equal(r.summary.rows_without_gold, 1);
    assert.equal(r.summary.skipped.draft_duplicate, 1);
    assert.equal(r.summary.skipped.draft_unknown_question, 1);
    assert.equal(r.summary.skipped.draft_no_gold, 1);
    assert.equal(r.summary.draft_wrong, 2);
    assert.equal(r.summary.draft_wrong_no_answer, 1);
    assert.ok(r.reported.some((x) => x.reason === 'no_gold_answer' && x.row === 0));
    assert.equal(r.samples[0].gold_answer, null, 'the draft-correct sample of a row without gold is kept, with no gold');
    const again = assembleCorpus([noGold, rows[1]], [{ question: rows[1].question, draft: 'So the answer is \\boxed{-1}.' }]);
    assert.deepEqual(again.samples.map((s) => s.id), r.samples.filter((s) => again.samples.some((a) => a.id === s.id)).map((s) => s.id));
    assert.equal(sampleId(3, 'student:Qwen2.5-1.5B-Instruct', 'x'), sampleId(3, 'student:Qwen2.5-1.5B-Instruct', 'x'));
    assert.notEqual(sampleId(3, 'gemini', 'x'), sampleId(4, 'gemini', 'x'));
  });

  it('skips drafts without an answer when asked to', async () => {
    const { rows } = await importS1k(path.join(FIX, 's1k-mini.jsonl'));
    const r = assembleCorpus([rows[0]], [{ index: 0, draft: 'I am not sure how to do this.' }], { noAnswer: 'skip' });
    assert.equal(r.summary.draft_wrong, 0);
    assert.equal(r.summary.skipped.draft_no_answer, 1);
  });
});

describe('buildCorpus and exports', () => {
  it('writes the corpus and both exports atomically, leaving no temp files', async () => {
    const dir = tmp();
    const out = path.join(dir, 'corpus.dcd.jsonl');
    const res = await buildCorpus({
      s1k: path.join(FIX, 's1k-mini.parquet'), drafts: path.join(FIX, 'drafts-mini.jsonl'), out,
      exports: { messages: path.join(dir, 'messages.jsonl'), text: path.join(dir, 'text.jsonl') },
    });
    assert.deepEqual(fs.readdirSync(dir).sort(), ['corpus.dcd.jsonl', 'messages.jsonl', 'text.jsonl']);
    const samples = fs.readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(samples.length, res.summary.samples);
    const texts = fs.readFileSync(path.join(dir, 'text.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(texts.map((t) => t.text), samples.map((s) => s.text));
    const msgs = fs.readFileSync(path.join(dir, 'messages.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const m = msgs[0].messages;
    assert.deepEqual(m.map((x: { role: string }) => x.role), ['system', 'user', 'assistant']);
    // The chat template of the messages reproduces the trace exactly.
    const rebuilt = `<|im_start|>system\n${m[0].content}<|im_end|>\n<|im_start|>user\n${m[1].content}<|im_end|>\n<|im_start|>assistant\n${m[2].content}<|im_end|>`;
    assert.equal(rebuilt, samples[0].text);
    assert.ok(m[2].content.startsWith('<|im_start|>think\n'));
    assert.deepEqual(toMessages(samples[1]).messages[1].content, samples[1].question);
  });
});

describe('sample line encoding', () => {
  it('writes exactly JSON.stringify(sample) + newline, sharing the escaped chain', async () => {
    const { SampleLineEncoder } = await import('../../src/core/io/sampleJson');
    const { rows } = await importS1k(path.join(FIX, 's1k-mini.jsonl'));
    const { drafts } = await importDrafts(path.join(FIX, 'drafts-mini.jsonl'));
    const samples = assembleCorpus(rows, drafts).samples;
    // Long chains with escapes, non-ASCII, a chain that also occurs in the draft, and emoji at the edges.
    const long = 'Let x = \\frac{1}{2}.\n\t"quoted" — ü ✓ 😀 </script> \u0001 '.repeat(60);
    samples.push({ ...samples[0], chain: long, draft: long, text: `${long}<|im_start|>${long}😀` });
    const enc = new SampleLineEncoder();
    let shared = 0;
    for (const s of samples) {
      assert.equal(enc.encode(s).toString('utf8'), JSON.stringify(s) + '\n');
      if (String(s.chain).length >= 1024) shared++;
    }
    assert.ok(shared >= 3, 'the long-chain path is exercised');
  });

  it('uses the parts recorded at assembly only while text and chain are unchanged', async () => {
    const { SampleLineEncoder } = await import('../../src/core/io/sampleJson');
    const { TEXT_PARTS } = await import('../../src/core/corpus/assemble');
    const { rows } = await importS1k(path.join(FIX, 's1k-mini.jsonl'));
    const samples = assembleCorpus(rows, []).samples.filter((s) => s.chain.length >= 1024);
    assert.ok(samples.length >= 2);
    const [a, b] = samples;
    assert.ok((a as unknown as Record<symbol, unknown>)[TEXT_PARTS], 'assembled samples carry their text parts');
    assert.equal(JSON.stringify(a).includes('dcd.textParts'), false);
    assert.equal(TEXT_PARTS in { ...a }, false, 'a spread copy does not carry stale parts');
    // Edited in place: the text keeps its length but changes, then the chain changes.
    a.text = a.text.replace('<|im_start|>think', '<|im_start|>THINK');
    b.chain = `${b.chain} (edited)`;
    const enc = new SampleLineEncoder();
    for (const s of [a, b]) assert.equal(enc.encode(s).toString('utf8'), JSON.stringify(s) + '\n');
  });
});
