/**
 * Batch drafting: format, N per question, grading with the real verifier,
 * the model verification assistant, resume, torn lines, cancel, progress.
 * A scripted stand-in model drives the logic; the last test uses the real
 * tiny model through transformers.js.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { verify } from '../../src/core/answer';
import { runDraftBatch, scanDraftsFile, type BatchProgress, type DraftRecord } from '../../src/core/drafting/batch';
import { LocalEngine } from '../../src/core/drafting/engine';
import { VERIFY_SYSTEM } from '../../src/core/drafting/prompts';
import { parseQuestions, type DraftQuestion } from '../../src/core/drafting/questions';
import { deriveSeed } from '../../src/core/drafting/sampling';
import type { DraftModel, GenerateHooks, GenerateParams, GenerateResult, ModelInfo, PromptInput } from '../../src/core/drafting/types';
import { FIXTURES, tempDir, tinyModel } from './localHelpers';

const tmp = tempDir('dcd-batch-');
after(() => tmp.cleanup());

/** A scripted model: drafts come from `draftFor(question, seed)`, the assistant says `verifyReply`. */
class ScriptedModel implements DraftModel {
  readonly info: ModelInfo = { dir: '/scripted', name: 'scripted-student', dtype: 'fp32', onnxFile: 'onnx/model.onnx', modelType: 'qwen2', loadMs: 0, stopTokenIds: [] };
  drafts = 0;
  verifyCalls: string[] = [];
  constructor(private readonly draftFor: (q: string, seed: number) => string, private readonly verifyReply = 'no') {}
  async generate(prompt: PromptInput, params: GenerateParams, hooks: GenerateHooks = {}): Promise<GenerateResult> {
    assert.ok('messages' in prompt);
    const isVerify = prompt.messages[0].role === 'system' && prompt.messages[0].content === VERIFY_SYSTEM;
    const user = prompt.messages[prompt.messages.length - 1].content;
    let text: string;
    if (isVerify) { this.verifyCalls.push(user); text = this.verifyReply; } else { this.drafts++; text = this.draftFor(user.split('\n\n')[0], params.seed); }
    const pieces = text.match(/.{1,4}/gs) ?? [];
    const ids: number[] = [];
    let out = '';
    for (const [i, piece] of pieces.entries()) {
      await new Promise((r) => setImmediate(r));
      if (hooks.signal?.aborted) return { text: out, tokenIds: ids, promptTokens: 1, finishReason: 'cancelled', ms: 1, firstTokenMs: 1, decodeTokensPerSecond: 1 };
      ids.push(i);
      out += piece;
      hooks.onToken?.({ id: i, text: piece, index: i });
    }
    return { text: out, tokenIds: ids, promptTokens: 1, finishReason: 'stop', ms: 1, firstTokenMs: 1, decodeTokensPerSecond: 1 };
  }
  async dispose(): Promise<void> { /* nothing */ }
}

const GSM = parseQuestions(readFileSync(path.join(FIXTURES, 'gsm8k-2.jsonl'), 'utf8')).questions;
const S1K = parseQuestions(readFileSync(path.join(FIXTURES, 's1k-4.json'), 'utf8')).questions;
const params: GenerateParams = { maxNewTokens: 64, temperature: 0.7, topP: 0.8, seed: 3 };

async function lines(file: string): Promise<DraftRecord[]> {
  const text = await fs.readFile(file, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'));
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as DraftRecord);
}

test('N drafts per question in the docs/SPEC.md §1 format, graded at once against the gold answer', async () => {
  const out = path.join(tmp.dir, 'graded.jsonl');
  // Janet's ducks: gold 18. Second GSM8K question (robe): gold 3. s1K rows: 128, a proof, 109, 167.0.
  const answers: Record<string, string> = { Janet: 'So she makes \\boxed{18} dollars.', robe: 'It takes \\boxed{4} bolts.', 'Given a rational': 'The answer is \\boxed{128}.' };
  const model = new ScriptedModel((q) => Object.entries(answers).find(([k]) => q.includes(k))?.[1] ?? 'I am not sure.');
  const questions: DraftQuestion[] = [...GSM, S1K[0], S1K[1]];
  const s = await runDraftBatch({ questions, n: 2, out, model, params });
  assert.equal(s.total, 8);
  assert.equal(s.written, 8);
  assert.equal(s.skipped, 0);
  assert.equal(s.cancelled, false);
  assert.deepEqual(s.verified, { correct: 4, wrong: 2, undecided: 0, unverified: 2, model_decided: 0 });
  const recs = await lines(out);
  assert.equal(recs.length, 8);
  for (const r of recs) {
    assert.equal(typeof r.question, 'string');
    assert.equal(typeof r.draft, 'string');
    assert.equal(r.model, 'scripted-student');
    assert.equal(r.seed, deriveSeed(3, r.row, r.sample));
    assert.equal(r.index, undefined, 'no s1K row given: no index written');
    assert.deepEqual(r.params, { temperature: 0.7, top_p: 0.8, max_new_tokens: 64 });
  }
  assert.deepEqual(recs.map((r) => [r.row, r.sample]), [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1], [3, 0], [3, 1]]);
  assert.equal(new Set(recs.map((r) => r.seed)).size, 8, 'one seed per (row, draft)');
  assert.deepEqual(recs[0].verified, { equivalent: true, rule: 'exact', pred_answer: '18', gold_answer: '18' });
  assert.equal(recs[2].verified!.equivalent, false);
  assert.equal(recs[2].verified!.gold_answer, '3');
  assert.equal(recs[4].verified!.equivalent, true);
  // The proof row has no gold answer: reported, never graded.
  assert.equal(recs[6].verified, undefined);
  assert.match(recs[6].unverified_reason!, /no gold answer/);
});

test('the verification assistant decides only undecided pairs, parses strictly, never overrides the rules', async () => {
  // Precondition on the real rule-based verifier: 0/0 against 1 is left undecided.
  assert.equal(verify('\\boxed{0/0}', '1', { goldIsAnswer: true }).equivalent, null);
  const qs: DraftQuestion[] = [
    { question: 'Undecided one?', index: 0, gold: '1' },
    { question: 'Decided one?', index: 1, gold: '7' },
  ];
  const draftFor = (q: string) => (q.startsWith('Undecided') ? '\\boxed{0/0}' : '\\boxed{8}');
  for (const [reply, equivalent, rule] of [['yes', true, 'model'], [' No\n', false, 'model'], ['Yes.', null, 'undecidable'], ['maybe', null, 'undecidable']] as const) {
    const out = path.join(tmp.dir, `assist-${reply.trim()}.jsonl`);
    const model = new ScriptedModel(draftFor, reply);
    const s = await runDraftBatch({ questions: qs, n: 1, out, model, params, verifyWithModel: true });
    const [undecided, decided] = await lines(out);
    assert.deepEqual([undecided.index, decided.index], [0, 1], 'explicit s1K rows are written as index');
    assert.equal(undecided.verified!.equivalent, equivalent, `reply ${JSON.stringify(reply)}`);
    assert.equal(undecided.verified!.rule, rule);
    assert.equal(undecided.verified!.model_reply, reply);
    if (rule === 'model') assert.equal(undecided.verified!.rule_based, 'undecidable');
    // The rule-based "wrong" stands; the assistant was asked once, about the undecided pair only.
    assert.deepEqual(decided.verified, { equivalent: false, rule: 'mismatch', pred_answer: '8', gold_answer: '7' });
    assert.equal(model.verifyCalls.length, 1);
    assert.ok(model.verifyCalls[0].includes('0/0') && model.verifyCalls[0].includes('1'));
    assert.equal(s.verified.model_decided, rule === 'model' ? 1 : 0);
  }
  // Without the option, nobody is asked.
  const model = new ScriptedModel(draftFor, 'yes');
  const s = await runDraftBatch({ questions: qs, n: 1, out: path.join(tmp.dir, 'assist-off.jsonl'), model, params });
  assert.equal(model.verifyCalls.length, 0);
  assert.equal(s.verified.undecided, 1);
});

test('cancel mid-draft writes only finished drafts; resume skips them and completes the rest', async () => {
  const out = path.join(tmp.dir, 'resume.jsonl');
  const questions = [...GSM, S1K[2]];
  const ac = new AbortController();
  const progress: BatchProgress[] = [];
  const first = new ScriptedModel((q, seed) => `Draft for ${q.slice(0, 10)} with seed ${seed}: \\boxed{3}`);
  const s1 = await runDraftBatch({
    questions, n: 2, out, model: first, params, signal: ac.signal,
    onProgress: (p) => progress.push(p),
    onToken: (ev, at) => { if (at.row === 1 && at.sample === 1 && ev.index === 2) ac.abort(); },
  });
  assert.equal(s1.cancelled, true);
  assert.equal(s1.written, 3);
  assert.equal((await lines(out)).length, 3);
  const timed = progress.filter((p) => p.written > 0);
  assert.ok(timed.length > 0 && timed.every((p) => p.etaMs !== null && p.etaMs >= 0), 'ETA once a draft is timed');
  assert.equal(progress[0].done, 0);
  assert.equal(progress[0].total, 6);

  const second = new ScriptedModel((q, seed) => `Draft for ${q.slice(0, 10)} with seed ${seed}: \\boxed{3}`);
  const s2 = await runDraftBatch({ questions, n: 2, out, model: second, params });
  assert.equal(s2.skipped, 3);
  assert.equal(s2.written, 3);
  assert.equal(second.drafts, 3);
  const recs = await lines(out);
  assert.equal(recs.length, 6);
  assert.equal(new Set(recs.map((r) => `${r.row}/${r.sample}`)).size, 6);
  const third = await runDraftBatch({ questions, n: 2, out, model: second, params });
  assert.equal(third.written, 0);
  assert.equal(third.skipped, 6);
});

test('a torn last line (a kill during its write) is cut off and its draft redone', async () => {
  const out = path.join(tmp.dir, 'torn.jsonl');
  const model = new ScriptedModel(() => '\\boxed{18}');
  await runDraftBatch({ questions: GSM, n: 1, out, model, params });
  const whole = await fs.readFile(out, 'utf8');
  const [l1, l2] = whole.split('\n');
  await fs.writeFile(out, `${l1}\n${l2.slice(0, 40)}`);
  const scan = await scanDraftsFile(out);
  assert.equal(scan.repairedTornLine, true);
  assert.equal(scan.done.size, 1);
  assert.equal(await fs.readFile(out, 'utf8'), `${l1}\n`);
  const again = new ScriptedModel(() => '\\boxed{18}');
  const s = await runDraftBatch({ questions: GSM, n: 1, out, model: again, params });
  assert.equal(s.skipped, 1);
  assert.equal(s.written, 1);
  assert.equal(again.drafts, 1);
  const recs = await lines(out);
  assert.deepEqual(recs.map((r) => r.row), [0, 1]);
});

test('with the real tiny model: drafts stream, are reproducible from their seeds, and are tagged', async () => {
  const engine = await LocalEngine.load(await tinyModel(), { dtype: 'fp32', threads: 1 });
  try {
    const p: GenerateParams = { maxNewTokens: 8, temperature: 0.8, topP: 0.9, seed: 5 };
    const a = path.join(tmp.dir, 'real-a.jsonl');
    const b = path.join(tmp.dir, 'real-b.jsonl');
    let streamed = 0;
    const sa = await runDraftBatch({ questions: GSM, n: 2, out: a, model: engine, params: p, onToken: () => { streamed++; } });
    await runDraftBatch({ questions: GSM, n: 2, out: b, model: engine, params: p });
    const ra = await lines(a);
    const rb = await lines(b);
    assert.equal(sa.written, 4);
    assert.equal(streamed, sa.tokens);
    assert.deepEqual(ra.map((r) => r.draft), rb.map((r) => r.draft));
    assert.notEqual(ra[0].draft, ra[1].draft, 'two drafts of one question differ (different seeds)');
    for (const r of ra) {
      assert.equal(r.model, path.basename(engine.info.dir));
      assert.equal(r.dtype, 'fp32');
      assert.ok(r.verified, 'GSM8K gold is known');
      assert.equal(r.verified!.gold_answer, r.row === 0 ? '18' : '3');
    }
  } finally {
    await engine.dispose();
  }
});
