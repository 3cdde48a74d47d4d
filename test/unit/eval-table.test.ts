/** The results table: the paper's Table 1, rows from real results files, deltas, CSV. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PAPER_TABLE, csvField, deltasAgainst, rowFromResults, tableToCsv, type TableRow } from '../../src/core/eval/paperTable';
import { parseResultsJson, type EvalResultSummary } from '../../src/core/eval/results';

const FIX = path.join(__dirname, '../fixtures/lmeval');
const read = (rel: string) => parseResultsJson(readFileSync(path.join(FIX, rel), 'utf8'), rel);

test('Table 1 of the paper, as data', () => {
  assert.deepEqual(PAPER_TABLE.map((r) => r.id), ['paper:base', 'paper:cot', 'paper:sft-s1k', 'paper:dcd']);
  const byId = Object.fromEntries(PAPER_TABLE.map((r) => [r.id, r]));
  assert.deepEqual(byId['paper:base'].scores.aime24, { value: 0, correct: 0, total: 30 });
  assert.equal(byId['paper:base'].scores.gsm8k?.value, 0.5466);
  assert.equal(byId['paper:base'].scores.gpqa_diamond_zeroshot?.value, 0.2373);
  assert.equal(byId['paper:cot'].scores.gsm8k?.value, 0.6346);
  assert.equal(byId['paper:cot'].scores.gpqa_diamond_zeroshot, null);
  assert.equal(byId['paper:sft-s1k'].scores.gsm8k?.value, 0.6595);
  assert.equal(byId['paper:sft-s1k'].scores.gpqa_diamond_zeroshot?.value, 0.2424);
  assert.deepEqual(byId['paper:dcd'].scores.aime24, { value: 2 / 30, correct: 2, total: 30 });
  assert.equal(byId['paper:dcd'].scores.gsm8k?.value, 0.6702);
  assert.equal(byId['paper:dcd'].scores.gpqa_diamond_zeroshot?.value, 0.2525);
});

test('deltas against the base row (percentage points as fractions)', () => {
  const d = deltasAgainst(PAPER_TABLE, 'paper:base');
  const dcd = d.find((x) => x.id === 'paper:dcd')!;
  assert.ok(Math.abs(dcd.deltas.gsm8k! - 0.1236) < 1e-12);
  assert.ok(Math.abs(dcd.deltas.gpqa_diamond_zeroshot! - 0.0152) < 1e-12);
  assert.ok(Math.abs(dcd.deltas.aime24! - 2 / 30) < 1e-12);
  assert.equal(d.find((x) => x.id === 'paper:cot')!.deltas.gpqa_diamond_zeroshot, null);
  assert.deepEqual(d.find((x) => x.id === 'paper:base')!.deltas, { aime24: 0, gsm8k: 0, gpqa_diamond_zeroshot: 0 });
  assert.throws(() => deltasAgainst(PAPER_TABLE, 'nope'), /no row/);
});

test('a run row from real results files: stock metric key, AIME as solved/total', () => {
  const gemma = read('gemma3-12b-it-q4_K_M_base_gsm8k5shot/results_2025-09-09T13-42-42.857006.json');
  const row = rowFromResults([gemma], { id: 'run:gemma', label: 'gemma3 12b base' });
  assert.deepEqual(row.scores.gsm8k, { value: 0.77, source: { task: 'gsm8k', metric: 'exact_match,strict-match' } });
  assert.equal(row.scores.aime24, null);
  assert.equal(row.scores.gpqa_diamond_zeroshot, null);

  // an aime24 run, as lm-eval writes it for the stock task (the s1 file renamed its task; map it the way the harness names it)
  const s1 = read('simplescaling__s1.1-1.5B/results_2025-05-19T00-02-54.892679.json');
  const asAime24: EvalResultSummary = { ...s1, tasks: { aime24: s1.tasks.aime24_nofigures }, n_samples: { aime24: s1.n_samples.aime24_nofigures } };
  const r2 = rowFromResults([asAime24, s1], { id: 'run:s1', label: 's1.1-1.5B' });
  assert.deepEqual(r2.scores.aime24, { value: 0.03333333333333333, correct: 1, total: 30, source: { task: 'aime24', metric: 'exact_match,none' } });
  assert.equal(r2.scores.gsm8k?.value, 0.003032600454890068);
});

test('DCD grading takes the dcd_ metric where present, else says it fell back', () => {
  const gemma = read('gemma3-12b-u1_tuned_gsm8k5shot/results_2025-09-09T13-31-53.431753.json');
  // the same results as a DCD run would write them: stock task plus dcd_gsm8k with its dcd- filters
  const dcdRun: EvalResultSummary = {
    ...gemma,
    tasks: { ...gemma.tasks, dcd_gsm8k: { 'exact_match,strict-match': 0.75, 'exact_match,dcd-strict-match': 0.81 } },
  };
  const stock = rowFromResults([dcdRun], { id: 'stock', label: 'run', grading: 'stock' });
  const dcd = rowFromResults([dcdRun], { id: 'dcd', label: 'run', grading: 'dcd' });
  assert.equal(stock.scores.gsm8k?.value, 0.75);
  assert.equal(dcd.scores.gsm8k?.value, 0.81);
  assert.deepEqual(dcd.scores.gsm8k?.source, { task: 'dcd_gsm8k', metric: 'exact_match,dcd-strict-match' });
  assert.equal(dcd.note, undefined);
  const fallback = rowFromResults([gemma], { id: 'dcd2', label: 'run', grading: 'dcd' });
  assert.equal(fallback.scores.gsm8k?.value, 0.75);
  assert.match(fallback.note ?? '', /no dcd_gsm8k results/);
});

test('CSV export: header, percentages, AIME solved, deltas, quoting', () => {
  const rows: TableRow[] = [...PAPER_TABLE];
  const csv = tableToCsv(rows, { baselineId: 'paper:base' });
  const lines = csv.split('\r\n');
  assert.equal(lines.at(-1), '');
  assert.equal(lines.length, 6);
  assert.equal(
    lines[0],
    'id,label,origin,grading,AIME 2024 (%),AIME 2024 solved,GSM8K (%),GPQA Diamond (%),Δ AIME 2024 (pp vs paper:base),Δ GSM8K (pp vs paper:base),Δ GPQA Diamond (pp vs paper:base)',
  );
  assert.equal(lines[1], 'paper:base,Qwen2.5-1.5B-Instruct,paper,,0.00,0/30,54.66,23.73,+0.00,+0.00,+0.00');
  assert.equal(lines[2], 'paper:cot,+ Chain-of-Thought prompting,paper,,0.00,0/30,63.46,,+0.00,+8.80,');
  assert.equal(lines[4], 'paper:dcd,Qwen2.5-1.5B-Instruct + DCD (ours),paper,,6.67,2/30,67.02,25.25,+6.67,+12.36,+1.52');
  const plain = tableToCsv([PAPER_TABLE[0]]).split('\r\n');
  assert.equal(plain[0].split(',').length, 8);
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('line\nbreak'), '"line\nbreak"');
  assert.equal(csvField(null), '');
  assert.equal(csvField(0.5), '0.5');
});
