import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { argmax, deriveSeed, sampleToken, seededRandom } from '../../src/core/drafting/sampling';
import { DEFAULT_STUDENT_PROMPT, parseYesNo, studentPrompt, studentPromptProblem, verifyPrompt } from '../../src/core/drafting/prompts';
import { parseQuestions } from '../../src/core/drafting/questions';
import { checkModelFolder } from '../../src/core/drafting/modelFolder';
import { FIXTURES } from './localHelpers';

/** Brute-force reference: sort everything, apply top-k then top-p as Hugging Face does. */
function referenceSupport(logits: number[], temperature: number, topK: number, topP: number): Map<number, number> {
  const max = logits.reduce((a, b) => (b > a ? b : a), -Infinity);
  const e = logits.map((l) => Math.exp((l - max) / temperature));
  const s = e.reduce((a, b) => a + b, 0);
  const probs = e.map((x) => x / s);
  let order = probs.map((p, i) => i).sort((a, b) => probs[b] - probs[a] || a - b);
  if (topK > 0) order = order.slice(0, topK);
  const kept = order.reduce((a, i) => a + probs[i], 0);
  let keep = order.length;
  if (topP < 1) {
    let acc = 0;
    for (let j = 0; j < order.length; j++) {
      acc += probs[order[j]] / kept;
      if (acc >= topP) { keep = j + 1; break; }
    }
  }
  const support = order.slice(0, keep);
  const mass = support.reduce((a, i) => a + probs[i], 0);
  return new Map(support.map((i) => [i, probs[i] / mass]));
}

test('sampleToken: temperature 0 is argmax', () => {
  const logits = [0.1, 2.5, -1, 2.4, 0];
  assert.equal(sampleToken(logits, { temperature: 0, topP: 0.5, topK: 2 }, seededRandom(1)), 1);
  assert.equal(argmax(logits), 1);
  assert.equal(argmax(Float32Array.from([9, 1, 2, 7]), 1, 3), 2);
});

test('sampleToken: support and frequencies match a brute-force top-k/top-p reference', () => {
  const rand = seededRandom(7);
  const V = 40;
  const logits = Array.from({ length: V }, () => (rand() - 0.5) * 6);
  for (const [temperature, topK, topP] of [[1, 0, 0.8], [0.7, 5, 1], [1.3, 10, 0.6], [1, 0, 1], [0.5, 0, 0.95]] as const) {
    const ref = referenceSupport(logits, temperature, topK, topP);
    const counts = new Map<number, number>();
    const r = seededRandom(123);
    const N = 20000;
    for (let i = 0; i < N; i++) {
      const id = sampleToken(logits, { temperature, topK, topP }, r);
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    for (const id of counts.keys()) assert.ok(ref.has(id), `id ${id} sampled outside the nucleus (T=${temperature} k=${topK} p=${topP})`);
    for (const [id, p] of ref) {
      const f = (counts.get(id) ?? 0) / N;
      assert.ok(Math.abs(f - p) < 0.02, `id ${id}: frequency ${f.toFixed(3)} vs probability ${p.toFixed(3)}`);
    }
  }
});

test('sampleToken: exact nucleus on a full-size vocabulary (peaked and flat tails)', () => {
  const V = 151936;
  const peaked = new Float32Array(V).fill(-30);
  peaked[10] = 8; peaked[20] = 7.5; peaked[30] = 7; peaked[40] = 1;
  const seen = new Set<number>();
  const r = seededRandom(5);
  for (let i = 0; i < 100; i++) seen.add(sampleToken(peaked, { temperature: 1, topP: 0.9, topK: 0 }, r));
  assert.deepEqual([...seen].sort((a, b) => a - b), [10, 20, 30]);

  // A flat tail holding a third of the mass: the nucleus reaches into it, taking
  // tied tail ids lowest first (the order of a stable descending sort).
  const flat = new Float32Array(V).fill(-5);
  flat[10] = 8; flat[20] = 7.5; flat[30] = 7;
  const w = [8, 7.5, 7].map((l) => Math.exp(l - 8));
  const wTail = Math.exp(-5 - 8);
  const Z = w[0] + w[1] + w[2] + (V - 3) * wTail;
  const tailNeeded = Math.ceil((0.9 - (w[0] + w[1] + w[2]) / Z) / (wTail / Z));
  assert.ok(tailNeeded > 1000 && tailNeeded < V - 3);
  const lastTailId = tailNeeded - 1 + [10, 20, 30].filter((t) => t <= tailNeeded + 2).length; // skip the three peaks
  let tailDraws = 0;
  for (let i = 0; i < 100; i++) {
    const id = sampleToken(flat, { temperature: 1, topP: 0.9, topK: 0 }, r);
    if (id === 10 || id === 20 || id === 30) continue;
    tailDraws++;
    assert.ok(id <= lastTailId, `tail id ${id} beyond the nucleus (last ${lastTailId})`);
  }
  assert.ok(tailDraws > 0, 'the tail share of the nucleus (about 5%) is drawn');
});

test('seeds: same seed same stream, derived seeds differ per draft', () => {
  const a = seededRandom(42); const b = seededRandom(42); const c = seededRandom(43);
  const sa = [a(), a(), a()]; const sb = [b(), b(), b()]; const sc = [c(), c(), c()];
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  for (const x of sa) assert.ok(x >= 0 && x < 1);
  assert.equal(deriveSeed(0, 3, 1), deriveSeed(0, 3, 1));
  const seeds = new Set([deriveSeed(0, 0, 0), deriveSeed(0, 0, 1), deriveSeed(0, 1, 0), deriveSeed(1, 0, 0)]);
  assert.equal(seeds.size, 4);
});

test('parseYesNo is strict: exactly yes/no after trimming', () => {
  assert.equal(parseYesNo('yes'), true);
  assert.equal(parseYesNo('  No\n'), false);
  assert.equal(parseYesNo('YES'), true);
  for (const bad of ['Yes.', 'yes, they are', 'y', 'no!', '', 'maybe', 'yes no']) assert.equal(parseYesNo(bad), null, bad);
});

test('prompts: default student prompt holds the question and asks for \\boxed{}; verify prompt holds both answers', () => {
  const p = studentPrompt('What is 1+1?');
  assert.ok('messages' in p);
  assert.equal(p.messages.length, 1);
  assert.equal(p.messages[0].role, 'user');
  assert.ok(p.messages[0].content.startsWith('What is 1+1?'));
  assert.ok(p.messages[0].content.includes('\\boxed{}'));
  const raw = studentPrompt('Q?', { user: 'Question: {question}\nAnswer:', raw: true });
  assert.deepEqual(raw, { text: 'Question: Q?\nAnswer:' });
  const sys = studentPrompt('Q?', { system: 'Be brief.', user: '{question}' });
  assert.ok('messages' in sys && sys.messages[0].role === 'system' && sys.messages[1].content === 'Q?');
  assert.equal(studentPromptProblem(DEFAULT_STUDENT_PROMPT), null);
  assert.match(studentPromptProblem({ user: 'no placeholder' }) ?? '', /\{question\}/);
  const v = verifyPrompt('\\frac{1}{2}', '0.5');
  assert.ok('messages' in v);
  const user = v.messages.find((m) => m.role === 'user')!.content;
  assert.ok(user.includes('\\frac{1}{2}') && user.includes('0.5') && /yes or no/.test(user));
});

test('parseQuestions: s1K JSON array (problem/solution), GSM8K JSONL, strings; bad rows reported', () => {
  const s1k = parseQuestions(readFileSync(path.join(FIXTURES, 's1k-4.json'), 'utf8'));
  assert.equal(s1k.problems.length, 0);
  assert.equal(s1k.questions.length, 4);
  assert.equal(s1k.questions[0].solution, '128');
  assert.equal(s1k.questions[2].index, undefined, 'a position in a list is not an s1K row');
  const gsm = parseQuestions(readFileSync(path.join(FIXTURES, 'gsm8k-2.jsonl'), 'utf8'));
  assert.equal(gsm.questions.length, 2);
  assert.match(gsm.questions[0].solution!, /#### 18$/);
  const strs = parseQuestions('["a?", "b?"]');
  assert.deepEqual(strs.questions, [{ question: 'a?' }, { question: 'b?' }]);
  const bad = parseQuestions('{"question":"ok","index":7,"gold":"3"}\n{"nope":1}\nnot json\n');
  assert.deepEqual(bad.questions, [{ question: 'ok', index: 7, gold: '3' }]);
  assert.deepEqual(bad.problems.map((p) => p.where), ['line 2', 'line 3']);
});

test('checkModelFolder: a missing folder is named', async () => {
  await assert.rejects(checkModelFolder('/nonexistent/dcd-model'), (e: Error & { code?: string }) => e.code === 'not-found' && /nonexistent/.test(e.message));
});
