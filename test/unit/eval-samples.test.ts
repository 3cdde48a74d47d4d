/** Drill-down parsing of every real lm-eval samples file in the fixtures, and the DCD answer extraction on real think/answer traces. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { accuracy, parseSampleRow, parseSamplesJsonl, rowsForFilter, taskFromSamplesFileName } from '../../src/core/eval/samples';
import { DCD_ANSWER_TAG, DCD_NO_ANSWER_FALLBACK, dcdAnswerText } from '../../src/core/eval/benchmarks';

const FIX = path.join(__dirname, '../fixtures/lmeval');
const load = (rel: string) => parseSamplesJsonl(readFileSync(path.join(FIX, rel), 'utf8'), rel);

test('gsm8k 5-shot samples (chat-completions prompt as a message list)', () => {
  const base = load('gemma3-12b-it-q4_K_M_base_gsm8k5shot/samples_gsm8k_2025-09-09T13-42-42.857006.jsonl');
  assert.equal(base.task, 'gsm8k');
  assert.deepEqual(base.errors, []);
  assert.deepEqual(base.rows.map((r) => r.docId), [16, 17, 18]);
  assert.deepEqual(base.rows.map((r) => r.filter), ['strict-match', 'strict-match', 'strict-match']);
  assert.deepEqual(base.rows.map((r) => r.extracted), ['230', '59800', '7']);
  assert.deepEqual(base.rows.map((r) => r.gold), ['230', '57500', '7']);
  assert.deepEqual(base.rows.map((r) => r.correct), [true, false, true]);
  assert.deepEqual(base.rows.map((r) => r.metric), ['exact_match', 'exact_match', 'exact_match']);
  const r0 = base.rows[0];
  assert.ok(r0.question?.startsWith('Two trains leave San Rafael at the same time.'));
  assert.ok(r0.output.endsWith('#### 230'));
  assert.ok(r0.target.endsWith('#### 230'));
  assert.equal(r0.answerSection, null);
  // the prompt is the JSON message list sent to the chat endpoint: five exemplars, then the question
  assert.ok(r0.messages);
  assert.equal(r0.messages!.length, 1);
  assert.equal(r0.messages![0].role, 'user');
  assert.equal((r0.messages![0].content.match(/Question: /g) ?? []).length, 6);
  assert.ok(r0.messages![0].content.endsWith(`${r0.question}\nAnswer:`));
  assert.deepEqual(accuracy(base.rows), { correct: 2, graded: 3, accuracy: 2 / 3 });
  assert.equal(rowsForFilter(base.rows, 'strict-match').length, 3);
  assert.equal(rowsForFilter(base.rows, 'flexible-extract').length, 0);

  const tuned = load('gemma3-12b-u1_tuned_gsm8k5shot/samples_gsm8k_2025-09-09T13-31-53.431753.jsonl');
  assert.deepEqual(tuned.rows.map((r) => r.extracted), ['230', '59800', '3.5']);
  assert.deepEqual(tuned.rows.map((r) => r.correct), [true, false, false]);
});

test('s1 fork AIME samples: extracted answers, plain-text prompts, think/answer traces', () => {
  const s = load('simplescaling__s1.1-1.5B/samples_aime24_nofigures_2025-05-19T00-02-54.892679.jsonl');
  assert.equal(s.task, 'aime24_nofigures');
  assert.deepEqual(s.rows.map((r) => r.docId), [0, 1, 14, 28]);
  assert.deepEqual(s.rows.map((r) => r.gold), ['204', '113', '480', '127']);
  assert.deepEqual(s.rows.map((r) => r.correct), [false, false, true, false]);
  assert.deepEqual(s.rows.map((r) => r.filter), [null, null, null, null]);
  assert.equal(s.rows[1].extracted, '\\dfrac{81}{200}');
  assert.equal(s.rows[2].extracted, '480');
  for (const r of s.rows) {
    assert.equal(r.messages, null);
    assert.equal(r.prompt, r.question);
    assert.ok(r.output.startsWith('<|im_start|>think'));
    assert.ok(r.answerSection?.startsWith('Final Answer:'));
  }
  assert.deepEqual(accuracy(s.rows), { correct: 1, graded: 4, accuracy: 0.25 });
});

test('openai_math samples (s1 fork)', () => {
  const s = load('simplescaling__s1.1-1.5B/samples_openai_math_2025-05-27T18-21-06.794292.jsonl');
  assert.equal(s.task, 'openai_math');
  assert.deepEqual(s.rows.map((r) => r.correct), [true, false, true]);
  assert.deepEqual(s.rows.map((r) => r.extracted), ['\\left( 3, \\frac{\\pi}{2} \\right)', 'q - p', '\\frac{14}{3}']);
  assert.deepEqual(s.rows.map((r) => r.gold), ['\\left( 3, \\frac{\\pi}{2} \\right)', 'p - q', '\\frac{14}{3}']);
  assert.ok(s.rows[0].question?.startsWith('Convert the point $(0,3)$'));
});

test('DCD answer extraction equals "text after the last answer tag" on every real trace, with or without the special token', () => {
  const rows = [
    ...load('simplescaling__s1.1-1.5B/samples_aime24_nofigures_2025-05-19T00-02-54.892679.jsonl').rows,
    ...load('simplescaling__s1.1-1.5B/samples_openai_math_2025-05-27T18-21-06.794292.jsonl').rows,
  ];
  let tagged = 0;
  let bareLine = 0;
  for (const r of rows) {
    const i = r.output.lastIndexOf(DCD_ANSWER_TAG);
    if (i < 0) {
      assert.equal(dcdAnswerText(r.output), DCD_NO_ANSWER_FALLBACK);
      continue;
    }
    tagged++;
    const expected = r.output.slice(i + DCD_ANSWER_TAG.length).trim();
    assert.equal(dcdAnswerText(r.output), expected);
    // what the hf backend (skip_special_tokens=True) leaves: the tag as a bare "answer" line
    // (only where the tag ends its line: the s1 fork also wrote "<|im_start|>answer: …" and a literal "\\n")
    const stripped = r.output.split('<|im_start|>').join('');
    if (r.output[i + DCD_ANSWER_TAG.length] === '\n') {
      bareLine++;
      assert.equal(dcdAnswerText(stripped), expected);
    } else {
      assert.equal(dcdAnswerText(stripped), DCD_NO_ANSWER_FALLBACK);
    }
  }
  assert.equal(tagged, 7);
  assert.equal(bareLine, 4);
  assert.equal(dcdAnswerText('The answer is 12.\n#### 12'), DCD_NO_ANSWER_FALLBACK);
  assert.equal(dcdAnswerText('<|im_start|>think\n#### 3\n<|im_start|>answer\nfirst\n<|im_start|>answer\n#### 5'), '#### 5');
});

test('multiple-choice rows: the chosen option is the highest log-likelihood', () => {
  // shape of a loglikelihood row as lm-eval logs it (gen_args_i = [context, continuation]; resps = [[logprob, is_greedy]] per option)
  const row = parseSampleRow({
    doc_id: 3,
    doc: { Question: 'Which particle mediates the electromagnetic force?' },
    target: 2,
    arguments: {
      gen_args_0: { arg_0: 'What is the correct answer…\nAnswer:', arg_1: ' (A)' },
      gen_args_1: { arg_0: 'What is the correct answer…\nAnswer:', arg_1: ' (B)' },
      gen_args_2: { arg_0: 'What is the correct answer…\nAnswer:', arg_1: ' (C)' },
      gen_args_3: { arg_0: 'What is the correct answer…\nAnswer:', arg_1: ' (D)' },
    },
    resps: [[[-4.1, false]], [[-2.0, false]], [[-0.7, true]], [[-3.3, false]]],
    filtered_resps: [[-4.1, false], [-2.0, false], [-0.7, true], [-3.3, false]],
    filter: 'none',
    metrics: ['acc', 'acc_norm'],
    acc: 1.0,
    acc_norm: 0.0,
  }, 1);
  assert.equal(row.extracted, '(C)');
  assert.equal(row.gold, '(C)');
  assert.equal(row.metric, 'acc');
  assert.equal(row.correct, true);
  assert.deepEqual(row.metrics, { acc: 1, acc_norm: 0 });
  assert.equal(row.question, 'Which particle mediates the electromagnetic force?');
});

test('older argument layout and malformed lines are kept', () => {
  const text = [
    JSON.stringify({ doc_id: 0, doc: { question: 'q?' }, target: 'x\n#### 4', arguments: [['Question: q?\nAnswer:', { until: ['Question:'] }]], resps: [['so 4\n#### 4']], filtered_resps: ['4'], exact_match: 1 }),
    '{"doc_id": 1, "broken',
    '',
  ].join('\n');
  const s = parseSamplesJsonl(text, 'out/pretrained__x_gsm8k.jsonl');
  assert.equal(s.task, null);
  assert.equal(s.rows.length, 1);
  assert.equal(s.rows[0].prompt, 'Question: q?\nAnswer:');
  assert.equal(s.rows[0].gold, '4');
  assert.equal(s.rows[0].correct, true);
  assert.equal(s.errors.length, 1);
  assert.equal(s.errors[0].line, 2);
  assert.equal(taskFromSamplesFileName('samples_dcd_gsm8k_2026-01-02T03-04-05.678901.jsonl'), 'dcd_gsm8k');
});
