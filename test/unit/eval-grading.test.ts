/**
 * DCD grading of lm-eval generations with the project's verifier (core/eval/grading.ts), on real
 * harness output: test/fixtures/lmeval-dcd (lm-eval 0.4.13 running the dcd_* tasks, scripted model)
 * and test/fixtures/lmeval (published runs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, copyFileSync, mkdirSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DCD_VERIFY_METRIC, DCD_VERIFY_STDERR, answerAfterLastTag, gradeDcdOutput, gradeResultsFile, gradeSamplesDcd, meanStderr, samplesBeside,
} from '../../src/core/eval/grading';
import { parseResultsJson } from '../../src/core/eval/results';
import { parseSampleRow, parseSamplesJsonl } from '../../src/core/eval/samples';
import { rowFromResults } from '../../src/core/eval/paperTable';
import { verify } from '../../src/core/answer';
import { dcd } from '../support/cli';

const DCD_FIX = path.join(__dirname, '../fixtures/lmeval-dcd');
const FIX = path.join(__dirname, '../fixtures/lmeval');
const runDir = (run: string) => {
  const d = path.join(DCD_FIX, run);
  const sub = readdirSync(d)[0];
  return path.join(d, sub);
};
const fileIn = (dir: string, prefix: string) => path.join(dir, readdirSync(dir).find((f) => f.startsWith(prefix))!);
const SEED1 = runDir('dcd_seed1');

// What a DCD model writes (docs/SPEC.md §3): draft, chain, verdict in the think section, then the answer.
const trace = (answer: string, thinkAnswer = '16') =>
  `<|im_start|>think\nMy draft: ${thinkAnswer}.\nNow I'll generate detailed reasoning steps and verify whether the draft solution is correct.\n` +
  `16 - 3 - 4 = 9 eggs, 9 * 2 = 18.\nThe draft solution is incorrect. I'll revise it and provide the correct answer.\n<|im_start|>answer\n${answer}`;

test('headline rule: \\boxed{18} after the answer tag is right on GSM8K and AIME; an answer only in the think section is not', () => {
  // GSM8K: the gold is the `#### N` of the solution, as the sample row gives it
  const gsmRow = parseSamplesJsonl(readFileSync(fileIn(SEED1, 'samples_dcd_gsm8k_'), 'utf8')).rows.find((r) => r.docId === 0)!;
  assert.equal(gsmRow.gold, '18', 'doc 0 is "Janet\'s ducks"');
  assert.equal(gradeDcdOutput(trace('The answer is $\\boxed{18}$.'), gsmRow.gold).correct, true);
  assert.equal(gradeDcdOutput(trace('\\boxed{18}').replace(/<\|im_start\|>/g, ''), gsmRow.gold).correct, true, 'hf backend: bare "answer" line');
  const thinkOnly = '<|im_start|>think\nShe makes \\boxed{18} dollars.\n#### 18';
  const g = gradeDcdOutput(thinkOnly, gsmRow.gold);
  assert.deepEqual([g.correct, g.tagged, g.rule], [false, false, 'no-answer-tag']);
  // the harness's own strict-match would have taken it
  assert.match(thinkOnly, /#### (\-?[0-9.,]+)/);
  // AIME: the gold is the answer
  const aimeRow = parseSamplesJsonl(readFileSync(fileIn(SEED1, 'samples_dcd_aime24_'), 'utf8')).rows.find((r) => r.docId === 0)!;
  assert.equal(aimeRow.gold, '204');
  assert.equal(gradeDcdOutput(trace('\\boxed{204}', '18'), aimeRow.gold).correct, true);
  assert.equal(gradeDcdOutput(trace('\\boxed{18}', '204'), aimeRow.gold).correct, false, 'gold in the think section, wrong after the tag');
  assert.equal(gradeDcdOutput(`<|im_start|>think\n\\boxed{204}`, aimeRow.gold).correct, false);
  // a whole sample row, as the headline metric reads it
  const row = parseSampleRow({ ...JSON.parse(readFileSync(fileIn(SEED1, 'samples_dcd_gsm8k_'), 'utf8').split('\n')[0]), resps: [[trace('$\\boxed{18}$')]] }, 1);
  const graded = gradeSamplesDcd({ task: 'dcd_gsm8k', rows: [row], errors: [] });
  assert.equal(graded.correct, 1);
});

test('the verifier\'s equivalences and the last tag', () => {
  assert.equal(gradeDcdOutput(trace('So she makes 18 dollars.\n#### 18'), '18').correct, true);
  assert.equal(gradeDcdOutput(trace('\\boxed{18.0}'), '18').rule, 'numeric');
  assert.equal(gradeDcdOutput(trace('$\\boxed{18.00}$'), '18').correct, true);
  assert.equal(gradeDcdOutput(trace('The answer is 18.'), '18').correct, true);
  assert.equal(gradeDcdOutput(trace('\\boxed{\\frac{36}{2}}'), '18').correct, true, 'same rules as dcd verify');
  const twice = `<|im_start|>answer\n\\boxed{16}\n<|im_start|>think\nwait\n<|im_start|>answer\n\\boxed{18}`;
  assert.equal(answerAfterLastTag(twice), '\\boxed{18}');
  assert.equal(gradeDcdOutput(twice, '18').correct, true);
  assert.equal(gradeDcdOutput(trace(''), '18').rule, 'no-pred-answer');
  // same decision as `dcd verify --pred SECTION --gold G --gold-is-answer`
  for (const s of ['\\boxed{18}', '#### 18', 'The answer is 17.']) {
    assert.equal(gradeDcdOutput(trace(s), '18').correct, verify(s, '18', { goldIsAnswer: true }).equivalent === true);
  }
});

test('re-grading the real dcd_* logs agrees with the on-host dcd-extract filter row by row', () => {
  for (const run of ['dcd_seed1', 'dcd_seed2']) {
    const dir = runDir(run);
    for (const task of ['dcd_gsm8k', 'dcd_aime24']) {
      const parse = parseSamplesJsonl(readFileSync(fileIn(dir, `samples_${task}_`), 'utf8'), `samples_${task}_x.jsonl`);
      assert.deepEqual(parse.errors, []);
      const grades = gradeSamplesDcd(parse);
      const docs = new Set(parse.rows.map((r) => r.docId));
      assert.equal(grades.total, docs.size, 'one grade per document, not per filter row');
      for (const g of grades.grades) {
        const host = parse.rows.find((r) => r.docId === g.docId && r.filter === 'dcd-extract')!;
        assert.equal(g.correct, host.correct, `${run} ${task} doc ${g.docId}: verifier and dcd-extract agree`);
        if (!g.tagged) assert.equal(host.extracted, '[no-answer-tag]');
      }
    }
  }
});

test('gradeResultsFile adds exact_match,dcd-verify with lm-eval\'s stderr; a trimmed log adds nothing', async () => {
  const file = fileIn(SEED1, 'results_');
  const r = parseResultsJson(readFileSync(file, 'utf8'), file);
  assert.equal([...(await samplesBeside(file)).keys()].sort().join(','), 'dcd_aime24,dcd_gsm8k,gsm8k');
  const { result, grades, warnings } = await gradeResultsFile(r, file);
  assert.deepEqual(warnings, []);
  for (const task of ['gsm8k', 'dcd_gsm8k', 'dcd_aime24']) {
    const g = grades.get(task)!;
    assert.equal(result.tasks[task][DCD_VERIFY_METRIC], g.correct / g.total);
    assert.equal(g.total, r.n_samples[task].effective);
  }
  // where the verifier and dcd-extract agree, value and stderr equal the harness's own
  for (const task of ['dcd_gsm8k', 'dcd_aime24']) {
    assert.equal(result.tasks[task][DCD_VERIFY_METRIC], r.tasks[task]['exact_match,dcd-extract']);
    assert.ok(Math.abs((result.tasks[task][DCD_VERIFY_STDERR] as number) - (r.tasks[task]['exact_match_stderr,dcd-extract'] as number)) < 1e-12);
  }
  // the harness's keys are untouched
  for (const [k, v] of Object.entries(r.tasks.dcd_gsm8k)) assert.equal(result.tasks.dcd_gsm8k[k], v);
  assert.equal(meanStderr([1]), null);

  const gemma = path.join(FIX, 'gemma3-12b-u1_tuned_gsm8k5shot/results_2025-09-09T13-31-53.431753.json');
  const trimmed = await gradeResultsFile(parseResultsJson(readFileSync(gemma, 'utf8'), gemma), gemma);
  assert.equal(trimmed.result.tasks.gsm8k[DCD_VERIFY_METRIC], undefined);
  assert.match(trimmed.warnings.join('\n'), /holds 3 of the 100 documents/);
});

test('the DCD row of the table takes the verifier\'s grade; a stock-only run of a DCD checkpoint too', async () => {
  const file = fileIn(SEED1, 'results_');
  const { result } = await gradeResultsFile(parseResultsJson(readFileSync(file, 'utf8'), file), file);
  const row = rowFromResults([result], { id: 'd', label: 'dcd', grading: 'dcd' });
  assert.deepEqual(row.scores.gsm8k?.source, { task: 'dcd_gsm8k', metric: DCD_VERIFY_METRIC });
  assert.deepEqual(row.scores.aime24?.source, { task: 'dcd_aime24', metric: DCD_VERIFY_METRIC });
  assert.equal(row.scores.aime24?.total, 4);
  const stock = rowFromResults([result], { id: 's', label: 'stock', grading: 'stock' });
  assert.deepEqual(stock.scores.gsm8k?.source, { task: 'gsm8k', metric: 'exact_match,strict-match' });
  // only the stock gsm8k task (no dcd_ variant): graded from its own log
  const stockOnly = { ...result, tasks: { gsm8k: result.tasks.gsm8k } };
  const r2 = rowFromResults([stockOnly], { id: 'd2', label: 'dcd', grading: 'dcd' });
  assert.deepEqual(r2.scores.gsm8k?.source, { task: 'gsm8k', metric: DCD_VERIFY_METRIC });
  assert.equal(r2.note, undefined);
  // without logs: the on-host dcd-extract, before the older dcd- filters
  const noLogs = parseResultsJson(readFileSync(file, 'utf8'), file);
  assert.deepEqual(rowFromResults([noLogs], { id: 'd3', label: 'dcd', grading: 'dcd' }).scores.gsm8k?.source, { task: 'dcd_gsm8k', metric: 'exact_match,dcd-extract' });
});

test('dcd results FILE --json reports exact_match,dcd-verify beside the harness keys', () => {
  const file = fileIn(SEED1, 'results_');
  const r = dcd(['results', file, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const v = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(v), ['model', 'tasks', 'n_shot', 'n_samples', 'versions']);
  assert.equal(v.model, 'runs/dcd-1/final');
  assert.equal(typeof v.tasks.dcd_gsm8k[DCD_VERIFY_METRIC], 'number');
  assert.equal(typeof v.tasks.dcd_gsm8k['exact_match,strict-match'], 'number');

  // a log cut short: a note on stderr, no metric
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-grade-'));
  try {
    const dir = path.join(tmp, 'run');
    mkdirSync(dir);
    copyFileSync(file, path.join(dir, path.basename(file)));
    const log = fileIn(SEED1, 'samples_dcd_aime24_');
    writeFileSync(path.join(dir, path.basename(log)), readFileSync(log, 'utf8').split('\n').slice(0, 2).join('\n') + '\n{"doc_id": 3, "broken\n');
    const cut = dcd(['results', path.join(dir, path.basename(file)), '--json']);
    assert.equal(cut.status, 0);
    assert.equal(JSON.parse(cut.stdout).tasks.dcd_aime24[DCD_VERIFY_METRIC], undefined);
    assert.match(cut.stderr, /:3: /, 'the malformed line is named');
    assert.match(cut.stderr, /holds 2 of the 4 documents/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
