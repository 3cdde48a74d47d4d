/**
 * Comparing runs per sample (core/eval/compareRuns.ts), seed spread (core/eval/seeds.ts) and the
 * max_gen_toks check (core/eval/genBudget.ts), on real lm-eval output: test/fixtures/lmeval
 * (published gemma3 GSM8K runs) and test/fixtures/lmeval-dcd (the dcd_* tasks in lm-eval 0.4.13).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, mkdirSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { compareRuns, compareTaskLogs, pairTasks, readRunSamples, resolveGrading } from '../../src/core/eval/compareRuns';
import { gradeResultsFile } from '../../src/core/eval/grading';
import { findResultsFiles } from '../../src/core/eval/results';
import { seedGroups, spreadOf } from '../../src/core/eval/seeds';
import {
  DCD_DEFAULT_TRACE_TOKENS, DCD_MIN_TRACE_TOKENS, genBudgetWarnings, metadataFromTrainingRecord, readModelMetadata,
} from '../../src/core/eval/genBudget';
import { buildLmEvalCommand } from '../../src/core/eval/lmevalCommand';
import { BENCHMARKS } from '../../src/core/eval/benchmarks';
import { dcd } from '../support/cli';

const FIX = path.join(__dirname, '../fixtures/lmeval');
const DCD_FIX = path.join(__dirname, '../fixtures/lmeval-dcd');
const GEMMA_BASE = path.join(FIX, 'gemma3-12b-it-q4_K_M_base_gsm8k5shot');
const GEMMA_TUNED = path.join(FIX, 'gemma3-12b-u1_tuned_gsm8k5shot');
const BASE = path.join(DCD_FIX, 'base_seed1');
const SEED1 = path.join(DCD_FIX, 'dcd_seed1');

test('gemma base vs tuned on GSM8K: the one question that flipped, matched by doc_id and doc_hash', async () => {
  const [c] = compareRuns(await readRunSamples(GEMMA_BASE), await readRunSamples(GEMMA_TUNED));
  assert.equal(c.task, 'gsm8k');
  assert.deepEqual([c.gradingA, c.gradingB, c.filterA, c.filterB], ['logged', 'logged', 'strict-match', 'strict-match']);
  assert.deepEqual([c.matched, c.onlyA, c.onlyB, c.bothRight, c.bothWrong], [3, 0, 0, 1, 1]);
  assert.deepEqual(c.wrongToRight, []);
  assert.equal(c.rightToWrong.length, 1);
  const q = c.rightToWrong[0];
  assert.equal(q.docId, 18);
  assert.equal(q.gold, '7');
  assert.deepEqual([q.a.answer, q.a.correct, q.b.answer, q.b.correct], ['7', true, '3.5', false]);
  assert.ok(q.docHash?.startsWith('be370d8d'));
  assert.equal(q.a.output, undefined, 'generations only when asked');
  assert.equal(c.accuracyA! - c.accuracyB!, 1 / 3);
});

test('a document id with another doc_hash is counted, never compared', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-cmp-'));
  try {
    const name = readdirSync(GEMMA_TUNED).find((f) => f.startsWith('samples_'))!;
    const lines = readFileSync(path.join(GEMMA_TUNED, name), 'utf8').split('\n').filter(Boolean);
    const changed = lines.map((l) => {
      const v = JSON.parse(l);
      if (v.doc_id === 18) v.doc_hash = '0'.repeat(64);
      return JSON.stringify(v);
    });
    mkdirSync(path.join(tmp, 'b'));
    writeFileSync(path.join(tmp, 'b', name), changed.join('\n') + '\n');
    const [c] = compareRuns(await readRunSamples(GEMMA_BASE), await readRunSamples(path.join(tmp, 'b')));
    assert.deepEqual(c.hashMismatch, [18]);
    assert.equal(c.matched, 2);
    assert.equal(c.rightToWrong.length, 0);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('base vs DCD checkpoint: the base graded as logged, the DCD run by the verifier; flips agree with each side\'s grade', async () => {
  const a = await readRunSamples(BASE);
  const b = await readRunSamples(SEED1);
  assert.deepEqual(b.map((l) => l.task), ['dcd_aime24', 'dcd_gsm8k', 'gsm8k']);
  assert.equal(resolveGrading('gsm8k', a[0].parse, 'auto'), 'logged', 'the base model writes no answer tag');
  assert.equal(resolveGrading('dcd_gsm8k', b[1].parse, 'auto'), 'dcd-verify');
  // pair the base gsm8k with the DCD run's dcd_gsm8k
  const c = compareTaskLogs(a[0], b[1], { withOutputs: true });
  assert.equal(c.task, 'gsm8k ↔ dcd_gsm8k');
  assert.equal(c.matched, 6);
  assert.equal(c.matched, c.bothRight + c.bothWrong + c.wrongToRight.length + c.rightToWrong.length);
  const { grades } = await gradeResultsFile(
    (await findResultsFiles(SEED1))[0], path.join(SEED1, (await findResultsFiles(SEED1))[0].file!));
  const dcdGrades = grades.get('dcd_gsm8k')!;
  for (const q of [...c.wrongToRight, ...c.rightToWrong]) {
    assert.equal(q.b.correct, dcdGrades.grades.find((g) => g.docId === q.docId)!.correct);
    assert.equal(q.a.correct, !q.b.correct);
    assert.ok(q.a.output && q.b.output?.includes('<|im_start|>think'), 'both generations kept for the side-by-side');
  }
  assert.equal(c.accuracyB, dcdGrades.accuracy);
  assert.deepEqual(pairTasks(['gsm8k'], ['dcd_aime24', 'dcd_gsm8k']), [['gsm8k', 'dcd_gsm8k']]);
  assert.deepEqual(pairTasks(['gsm8k', 'x'], ['gsm8k', 'dcd_gsm8k']), [['gsm8k', 'gsm8k']]);
  // asking for a filter the log lacks is an error that names the filters it has
  assert.throws(() => compareTaskLogs(a[0], b[1], { gradingA: 'logged', gradingB: 'logged', filter: 'nope' }), /logged: strict-match, flexible-extract/);
});

test('dcd results compare A B --json', () => {
  const r = dcd(['results', 'compare', GEMMA_BASE, GEMMA_TUNED, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const v = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(v), ['a', 'b', 'tasks']);
  assert.equal(v.tasks[0].rightToWrong[0].docId, 18);
  const human = dcd(['results', 'compare', BASE, SEED1, '--grading-b', 'dcd-verify']);
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /^gsm8k: 6 questions in both; A 50\.0% \(logged strict-match\), B [\d.]+% \(dcd-verify\)/);
  const bad = dcd(['results', 'compare', GEMMA_BASE, path.join(FIX, 'nope')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /no such file or folder/);
  const badGrading = dcd(['results', 'compare', GEMMA_BASE, GEMMA_TUNED, '--grading', 'lenient']);
  assert.match(badGrading.stderr, /--grading must be one of auto, logged, dcd-verify/);
  // the plain `dcd results PATH` form still works beside the subcommand
  assert.equal(dcd(['results', GEMMA_BASE, '--json']).status, 0);
});

test('seeds: two runs of one DCD checkpoint give mean ± spread per metric; other runs are not grouped', async () => {
  const files = await findResultsFiles(DCD_FIX);
  assert.deepEqual(files.map((f) => f.seed), [1, 1, 2]);
  const graded = await Promise.all(files.map(async (f) => (await gradeResultsFile(f, path.join(DCD_FIX, f.file!))).result));
  const groups = seedGroups(graded);
  assert.deepEqual(groups.map((g) => [g.model, g.task, g.seeds]), [
    ['runs/dcd-1/final', 'dcd_aime24', [1, 2]],
    ['runs/dcd-1/final', 'dcd_gsm8k', [1, 2]],
    ['runs/dcd-1/final', 'gsm8k', [1, 2]],
  ]);
  const byFile = (seed: number) => graded.find((f) => f.seed === seed && f.model === 'runs/dcd-1/final')!;
  for (const g of groups) {
    for (const [k, m] of Object.entries(g.metrics)) {
      const x = byFile(1).tasks[g.task][k] as number;
      const y = byFile(2).tasks[g.task][k] as number;
      assert.deepEqual(m.values, [x, y]);
      assert.ok(Math.abs(m.mean - (x + y) / 2) < 1e-12);
      assert.ok(Math.abs((m.sd as number) - Math.abs(x - y) / Math.SQRT2) < 1e-12);
      assert.deepEqual([m.min, m.max, m.n], [Math.min(x, y), Math.max(x, y), 2]);
    }
    assert.ok('exact_match,dcd-verify' in g.metrics);
    assert.ok(!Object.keys(g.metrics).some((k) => k.includes('_stderr')));
  }
  // the published runs all use seed 0: no group
  assert.deepEqual(seedGroups(await findResultsFiles(FIX)), []);
  assert.deepEqual(spreadOf([0.5]), { mean: 0.5, sd: null, min: 0.5, max: 0.5, n: 1 });

  const cli = dcd(['results', DCD_FIX, '--seeds', '--json']);
  assert.equal(cli.status, 0, cli.stderr);
  const v = JSON.parse(cli.stdout);
  assert.deepEqual(Object.keys(v[0]), ['model', 'task', 'seeds', 'files', 'n_shot', 'n_samples', 'metrics']);
  assert.equal(v[1].metrics['exact_match,dcd-verify'].mean, groups[1].metrics['exact_match,dcd-verify'].mean);
});

test('max_gen_toks check: a DCD checkpoint on every generative task; a setting below the task\'s need for any model', async () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-budget-'));
  try {
    // the record train.py writes into final/ (keys as written there)
    mkdirSync(path.join(tmp, 'run', 'final'), { recursive: true });
    writeFileSync(path.join(tmp, 'run', 'final', 'dcd_training.json'), JSON.stringify({
      config: { model: 'Qwen/Qwen2.5-1.5B-Instruct', max_length: 16384 }, plan: { total_steps: 520 }, final_loss: 0.4, precision: 'mixed',
    }));
    const fromFinal = await readModelMetadata(path.join(tmp, 'run', 'final'));
    const fromRun = await readModelMetadata(path.join(tmp, 'run'));
    assert.deepEqual([fromFinal.dcd, fromFinal.maxLength, fromRun.dcd, fromRun.maxLength], [true, 16384, true, 16384]);
    assert.deepEqual(await readModelMetadata(tmp), { dcd: false });
    writeFileSync(path.join(tmp, 'dcd_training.json'), '{ damaged');
    assert.deepEqual((await readModelMetadata(tmp)).dcd, true, 'a damaged record still marks a DCD checkpoint');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const ckpt = metadataFromTrainingRecord({ config: { max_length: 16384 } }, '/runs/dcd-1/final/dcd_training.json');
  const tasks = ['gsm8k', 'dcd_gsm8k', 'aime24', 'gpqa_diamond_zeroshot'];
  // stock-only GSM8K of a DCD checkpoint with no budget: warned (was silent before)
  const w = genBudgetWarnings(ckpt, ['gsm8k'], undefined);
  assert.equal(w.length, 1);
  assert.match(w[0], /gsm8k generates at most 256 tokens \(harness default/);
  assert.match(w[0], /up to 16384 tokens as trained/);
  assert.equal(genBudgetWarnings(ckpt, tasks, 8192).length, 3, 'every generative task, GPQA generates nothing');
  assert.deepEqual(genBudgetWarnings(ckpt, tasks, 16384), []);
  assert.equal(genBudgetWarnings({ dcd: true }, ['aime24'], 16384).length, 1, `no recorded length: ${DCD_DEFAULT_TRACE_TOKENS}`);
  // any model: below the task's need
  assert.deepEqual(genBudgetWarnings({ dcd: false }, tasks, undefined), []);
  assert.match(genBudgetWarnings({ dcd: false }, ['gsm8k'], 128)[0], /max_gen_toks=128 is below the 256 tokens gsm8k needs/);
  assert.equal(genBudgetWarnings({ dcd: false }, ['aime24'], 2048).length, 1);
  assert.deepEqual(genBudgetWarnings({ dcd: false }, ['aime24'], BENCHMARKS.aime24.minGenToks), []);
  // DCD grading asked, no record: only the floor
  assert.equal(genBudgetWarnings({ dcd: true, assumed: true }, ['gsm8k'], DCD_MIN_TRACE_TOKENS).length, 0);
  assert.equal(genBudgetWarnings({ dcd: true, assumed: true }, ['gsm8k'], undefined).length, 1);

  // the command builder's call site
  const c = buildLmEvalCommand({ benchmark: 'gsm8k', model: '/runs/dcd-1/final', outputPath: '/o', modelMetadata: ckpt, maxGenToks: 4096 });
  assert.ok(c.warnings.some((x) => x.includes('16384')), 'stock grading of a DCD checkpoint is checked too');
  const plain = buildLmEvalCommand({ benchmark: 'gsm8k', model: 'Qwen/Qwen2.5-1.5B-Instruct', outputPath: '/o' });
  assert.deepEqual(plain.warnings, []);
});

test('Results view: the DCD row shows the verifier\'s grade with the stock filter beside it; seed rows show mean ± spread', async () => {
  const { buildResultsView, groupRuns, resultsCsv, benchmarkColumnId } = await import('../../src/eval/resultsModel');
  const loaded = [];
  for (const f of await findResultsFiles(DCD_FIX)) {
    const file = path.join(DCD_FIX, f.file!);
    const { result } = await gradeResultsFile(f, file);
    const folder = path.dirname(file);
    loaded.push({ result, uri: `file://${file}`, label: f.file!, folder: `file://${folder}`, folderLabel: path.relative(DCD_FIX, folder) });
  }
  const view = buildResultsView(groupRuns(loaded));
  const gsm = benchmarkColumnId('gsm8k');
  const aime = benchmarkColumnId('aime24');
  const dcdRow = view.rows.find((r) => r.id.endsWith(':dcd') && r.label.includes('dcd_seed1'))!;
  assert.deepEqual(dcdRow.cells[gsm]!.source, { task: 'dcd_gsm8k', metric: 'exact_match,dcd-verify' });
  assert.equal(typeof dcdRow.cells[gsm]!.stderr, 'number');
  assert.equal(typeof dcdRow.cells[gsm]!.stockOnSameOutputs, 'number');
  const seedRow = view.rows.find((r) => r.id.startsWith('seeds:') && r.grading === 'dcd')!;
  assert.deepEqual(seedRow.seeds, [1, 2]);
  assert.equal(seedRow.runId, undefined);
  const run = (n: number) => view.rows.find((r) => r.id.endsWith(':dcd') && r.label.includes(`dcd_seed${n}`))!;
  for (const col of [gsm, aime]) {
    const cell = seedRow.cells[col]!;
    const [x, y] = [run(1).cells[col]!.value, run(2).cells[col]!.value];
    assert.ok(Math.abs(cell.value - (x + y) / 2) < 1e-12);
    assert.deepEqual([cell.spread!.n, cell.spread!.min, cell.spread!.max, cell.spread!.seeds], [2, Math.min(x, y), Math.max(x, y), [1, 2]]);
    assert.equal(cell.correct, undefined, 'a mean is no count of solved problems');
  }
  assert.ok(typeof view.deltas[seedRow.id][gsm] === 'number', 'seed rows get deltas like any row');
  assert.match(resultsCsv(groupRuns(loaded)), /runs\/dcd-1\/final · mean of 2 seeds · DCD-aware/);
});

test('a stock-only run of a DCD checkpoint (tagged generations) gets a DCD-aware row graded by the verifier', async () => {
  const { buildResultsView, groupRuns, benchmarkColumnId } = await import('../../src/eval/resultsModel');
  const [f] = await findResultsFiles(SEED1);
  const file = path.join(SEED1, f.file!);
  const { result, grades } = await gradeResultsFile(f, file);
  const stockOnly = { ...result, tasks: { gsm8k: result.tasks.gsm8k } };
  const g = grades.get('gsm8k')!;
  assert.ok(g.tagged * 2 >= g.total, 'the DCD checkpoint writes answer tags on the stock task too');
  const folder = path.dirname(file);
  const base = { result: stockOnly, uri: `file://${file}`, label: f.file!, folder: `file://${folder}`, folderLabel: 'dcd' };
  assert.equal(buildResultsView(groupRuns([base])).rows.filter((r) => r.origin === 'run').length, 1, 'not known as DCD: stock row only');
  const view = buildResultsView(groupRuns([{ ...base, dcdTagged: true }]));
  const dcdRow = view.rows.find((r) => r.grading === 'dcd' && r.origin === 'run')!;
  assert.deepEqual(dcdRow.cells[benchmarkColumnId('gsm8k')]!.source, { task: 'gsm8k', metric: 'exact_match,dcd-verify' });
  const cli = dcd(['results', 'compare', BASE, SEED1, '--task', 'gsm8k', '--task-b', 'dcd_gsm8k', '--json']);
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal(JSON.parse(cli.stdout).tasks[0].task, 'gsm8k ↔ dcd_gsm8k');
});
