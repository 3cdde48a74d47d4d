import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderTrace, parseTrace, TraceStructureError, PRESETS, getPreset, type TraceFields } from '../../src/core/trace/template';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'template');

// A real GSM8K test question (openai/grade-school-math test.jsonl, row 0) with a wrong draft.
const fields: TraceFields = {
  question: "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?",
  draft: 'She has 16 - 3 = 13 eggs left.\nSo she makes 13 * 2 = $26.\nThe answer is \\boxed{26}.',
  chain: 'Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day at the farmer’s market.',
  verdict: 'incorrect',
  final_answer: 'She makes $\\boxed{18}$ dollars every day.',
};

describe('the paper template (docs/SPEC.md §3)', () => {
  it('renders a draft-wrong sample byte for byte', () => {
    const expected = '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n'
      + `<|im_start|>user\n${fields.question}<|im_end|>\n`
      + `<|im_start|>assistant\n<|im_start|>think\n${fields.draft}\n`
      + 'Now I\'ll generate detailed reasoning steps and verify whether the draft solution is correct.\n'
      + `${fields.chain}\n`
      + 'The draft solution is incorrect. I\'ll revise it and provide the correct answer.\n'
      + `<|im_start|>answer\n${fields.final_answer}<|im_end|>`;
    assert.equal(renderTrace(fields).text, expected);
    assert.equal(renderTrace(fields).text, fs.readFileSync(path.join(FIXTURES, 'golden-incorrect.txt'), 'utf8'));
  });

  it('renders a draft-correct sample byte for byte', () => {
    const text = renderTrace({ ...fields, verdict: 'correct' }).text;
    assert.equal(text, fs.readFileSync(path.join(FIXTURES, 'golden-correct.txt'), 'utf8'));
    assert.ok(text.includes('\nThe draft solution is correct. I\'ll now generate the final answer.\n<|im_start|>answer\n'));
    assert.ok(!text.endsWith('\n'), 'no trailing newline');
    assert.ok(text.endsWith('<|im_end|>'));
  });

  it('locates every region and the first trained character', () => {
    const r = renderTrace(fields);
    for (const [name, span] of Object.entries(r.regions)) {
      const value = name === 'verdict' ? PRESETS.paper.verdicts.incorrect : name === 'system' ? PRESETS.paper.system
        : name === 'bridge' ? PRESETS.paper.bridge : fields[name as keyof TraceFields];
      assert.equal(r.text.slice(span.start, span.end), value, name);
    }
    assert.equal(r.text.slice(r.thinkStart, r.thinkStart + 17), '<|im_start|>think');
    assert.equal(r.text.slice(r.answerTagStart, r.answerTagStart + 18), '<|im_start|>answer');
    assert.ok(r.thinkStart < r.regions.draft.start && r.regions.verdict.end < r.answerTagStart);
  });

  it('parses a rendered trace back into the same fields', () => {
    for (const verdict of ['correct', 'incorrect'] as const) {
      const text = renderTrace({ ...fields, verdict }).text;
      const parsed = parseTrace(text);
      assert.deepEqual(parsed.fields, { ...fields, verdict });
      assert.equal(parsed.rendered.text, text);
    }
  });

  it('parses a chain that itself quotes a verdict sentence', () => {
    const tricky = { ...fields, chain: `Maybe "The draft solution is correct." Let me check.\n${fields.chain}` };
    assert.deepEqual(parseTrace(renderTrace(tricky).text).fields, tricky);
  });

  it('refuses a trace whose stage tag was removed or moved', () => {
    const text = renderTrace(fields).text;
    assert.throws(() => parseTrace(text.replace('<|im_start|>think\n', '')), TraceStructureError);
    assert.throws(() => parseTrace(text.replace('<|im_start|>answer\n', '')), /verdict|answer|end of the chain/);
    assert.throws(() => parseTrace(`${text}\n`), TraceStructureError);
    assert.throws(() => parseTrace(text.replace(PRESETS.paper.bridge, 'Let me think.')), /bridge/);
  });

  it('offers the paper\'s printed variants as presets, not as the default', () => {
    assert.equal(getPreset().bridge.startsWith("Now I'll"), true);
    assert.equal(renderTrace(fields, 'paper-now-i-will').text.includes('Now I will generate detailed reasoning steps'), true);
    assert.equal(renderTrace(fields, 'paper-bold-incorrect').text.includes('The draft solution is **incorrect**.'), true);
    assert.throws(() => getPreset('nope'), /Unknown template preset "nope"/);
  });
});
