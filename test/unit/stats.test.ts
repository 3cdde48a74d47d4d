import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseJsonl } from '../../src/core/io/jsonl';
import { corpusStats } from '../../src/core/corpus/stats';
import { summarizeCorpus } from '../../src/core/corpus/summary';
import { CorpusDocument } from '../../src/core/workbench';
import type { DcdSample } from '../../src/core/trace/model';

const sample = (id: string, question: string, verdict: string, extra: Record<string, unknown> = {}) => JSON.stringify({
  id, question, draft: 'd', draft_source: 'gemini', verdict, chain: 'c', final_answer: 'a', text: 't', cot_type: 'math', ...extra,
});

describe('corpus counts', () => {
  it('dcd stats, the Corpora view and the workbench count the same corpus alike', async () => {
    const text = [
      sample('a1', 'What is 1+1?', 'correct'),
      sample('a2', 'What  is\n1+1? ', 'incorrect'), // the same question, written with other whitespace
      sample('b1', 'Another question', 'correct', { draft_source: 'student', cot_type: 'proof' }),
      sample('c1', 'Indexed one way', 'correct', { s1k_index: 7 }),
      sample('c2', 'Indexed another way', 'incorrect', { s1k_index: 7 }),
      sample('d1', 'Odd verdict', 'maybe', { cot_type: undefined }),
      JSON.stringify({ id: 'e1', question: 'Incomplete', verdict: 'incorrect' }),
      '{"broken": ',
      '',
    ].join('\n');
    const cli = corpusStats(parseJsonl<DcdSample>(text));
    const view = summarizeCorpus(parseJsonl<DcdSample>(text));
    const doc = new CorpusDocument(Buffer.from(text));
    await doc.summarizeAll();
    const wb = doc.stats();

    assert.equal(cli.questions_with_both, 2, 'whitespace-differing questions and one s1k_index group are one question each');
    assert.equal(wb.questionsWithBoth, cli.questions_with_both);
    assert.equal(wb.questions, cli.questions);
    assert.equal(wb.samples, cli.samples);
    assert.equal(view.samples, cli.samples);
    assert.deepEqual(wb.bySource, cli.by_source);
    assert.deepEqual(view.by_source, cli.by_source);
    assert.deepEqual(wb.byCotType, cli.by_cot_type);
    assert.deepEqual(view.by_cot_type, cli.by_cot_type);
    assert.deepEqual([wb.verdicts.correct, wb.verdicts.incorrect, wb.verdicts.other], [cli.by_verdict.correct, cli.by_verdict.incorrect, cli.by_verdict.maybe]);
    assert.deepEqual([view.draft_correct, view.draft_wrong], [cli.by_verdict.correct, cli.by_verdict.incorrect]);
    assert.equal(wb.malformed, cli.malformed_lines.length);
    assert.equal(view.malformed, cli.malformed_lines.length);
    assert.equal(wb.incomplete, view.incomplete);
    assert.equal(wb.incomplete, 1);
  });
});
