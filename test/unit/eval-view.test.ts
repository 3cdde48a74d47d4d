/**
 * The eval views' pure models (src/eval/*, no vscode): results grouped into
 * runs with stderr and deltas, the output stage segmentation of the
 * drill-down, and the contamination report document — on the real lm-eval
 * fixtures of test/fixtures/lmeval and the real demo corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { parseResultsJson } from '../../src/core/eval/results';
import { parseSamplesJsonl } from '../../src/core/eval/samples';
import { checkContamination, parseRecords, recordsToItems } from '../../src/core/eval/contamination';
import { PAPER_TABLE } from '../../src/core/eval/paperTable';
import { parseTrace, renderTrace, type RegionName } from '../../src/core/trace/template';
import {
  benchmarkColumnId, buildResultsView, groupRuns, resultsCsv, stderrKey, type LoadedResultFile,
} from '../../src/eval/resultsModel';
import { segmentOutput } from '../../src/eval/outputRegions';
import {
  contaminationMarkdown, detectQuestionField, mdCell, questionOfSample, samplesQuestionItems,
} from '../../src/eval/contaminationReport';
import { getField } from '../../src/core/eval/contamination';

const ROOT = path.resolve(__dirname, '..', '..');
const LMEVAL = path.join(ROOT, 'test', 'fixtures', 'lmeval');
const DEMO = path.join(ROOT, 'media', 'demo', 'demo.dcd.jsonl');

function load(file: string, raw?: unknown): LoadedResultFile {
  const data = raw ?? JSON.parse(readFileSync(file, 'utf8'));
  const result = parseResultsJson(data, file);
  const folder = path.dirname(file);
  return { result, uri: `file://${file}`, label: path.relative(LMEVAL, file), folder: `file://${folder}`, folderLabel: path.relative(LMEVAL, folder) };
}

function allFixtureResults(): LoadedResultFile[] {
  const out: LoadedResultFile[] = [];
  for (const d of readdirSync(LMEVAL, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of readdirSync(path.join(LMEVAL, d.name))) if (/^results_.*\.json$/.test(f)) out.push(load(path.join(LMEVAL, d.name, f)));
  }
  return out;
}

const raw = (rel: string) => JSON.parse(readFileSync(path.join(LMEVAL, rel), 'utf8')) as { results: Record<string, Record<string, unknown>> };

test('stderr keys sit beside their metric, filter kept', () => {
  assert.equal(stderrKey('exact_match,strict-match'), 'exact_match_stderr,strict-match');
  assert.equal(stderrKey('acc,none'), 'acc_stderr,none');
  assert.equal(stderrKey('acc'), 'acc_stderr');
});

test('results files group into runs by folder; runs of one model are told apart by folder', () => {
  const files = allFixtureResults();
  const runs = groupRuns(files);
  const folders = new Set(files.map((f) => f.folder));
  assert.equal(runs.length, folders.size);
  const qwen = runs.filter((r) => r.model === 'Qwen/Qwen2.5-3B-Instruct');
  assert.equal(qwen.length, 2);
  assert.notEqual(qwen[0].label, qwen[1].label);
  assert.ok(qwen.every((r) => r.label.includes(r.folderLabel)));
  const s1 = runs.find((r) => r.model === 'simplescaling/s1.1-1.5B')!;
  assert.equal(s1.files.length, 3);
  assert.equal(s1.label, 'simplescaling/s1.1-1.5B', 'a model with one run keeps its plain name');
  // oldest first, so the newest file wins per task
  const dates = s1.files.map((f) => f.result.date ?? '');
  assert.deepEqual(dates, [...dates].sort());
});

test('the table: paper rows, then runs with value, stderr and n from the newest file reporting the task', () => {
  const runs = groupRuns(allFixtureResults());
  const view = buildResultsView(runs);
  assert.deepEqual(view.rows.slice(0, PAPER_TABLE.length).map((r) => r.id), PAPER_TABLE.map((r) => r.id));
  assert.equal(view.baselineId, 'paper:base');
  const gsm = benchmarkColumnId('gsm8k');

  const gemmaRun = runs.find((r) => r.model === 'gemma3:12b-it-q4_K_M')!;
  const gemma = view.rows.find((r) => r.id === gemmaRun.id)!;
  const src = raw('gemma3-12b-it-q4_K_M_base_gsm8k5shot/results_2025-09-09T13-42-42.857006.json').results.gsm8k;
  const cell = gemma.cells[gsm]!;
  assert.equal(cell.value, src['exact_match,strict-match']);
  assert.equal(cell.stderr, src['exact_match_stderr,strict-match']);
  assert.equal(cell.n, 100);
  assert.equal(cell.nOriginal, 1319);
  assert.deepEqual(cell.source, { task: 'gsm8k', metric: 'exact_match,strict-match' });
  assert.equal(gemma.cells[benchmarkColumnId('gpqa_diamond_zeroshot')], null);

  // "N/A" stderr (older layout) is no stderr, not zero.
  const s1 = view.rows.find((r) => r.id === runs.find((x) => x.model === 'simplescaling/s1.1-1.5B')!.id)!;
  const s1src = raw('simplescaling__s1.1-1.5B/results_2025-05-19T00-02-54.892679.json').results.gsm8k;
  assert.equal(s1.cells[gsm]!.value, s1src['exact_match,strict-match']);
  assert.equal(s1src['exact_match_stderr,strict-match'], 'N/A');
  assert.equal(s1.cells[gsm]!.stderr, null);

  // Tasks that are not the paper's benchmarks get their own columns; the newest file wins.
  const om = view.columns.find((c) => c.id === 'task:openai_math:exact_match,none');
  assert.ok(om, `columns: ${view.columns.map((c) => c.id).join(', ')}`);
  assert.equal(s1.cells[om.id]!.value, raw('simplescaling__s1.1-1.5B/results_2025-05-27T18-21-06.794292.json').results.openai_math['exact_match,none']);
  assert.equal(s1.cells[om.id]!.n, 3);
  assert.ok(!view.columns.some((c) => c.metric.startsWith('extracted_answers')), 'the s1 fork\'s -1 placeholders are not columns');
  assert.ok(!view.columns.some((c) => c.metric.includes('_stderr')));
  // The run details list every metric with its stderr.
  const detail = view.runs.find((r) => r.model === 'gemma3:12b-it-q4_K_M')!.metrics.find((m) => m.metric === 'exact_match,flexible-extract')!;
  assert.equal(detail.value, src['exact_match,flexible-extract']);
  assert.equal(detail.stderr, src['exact_match_stderr,flexible-extract']);
  assert.equal(detail.nShot, 5);
});

test('deltas against any baseline row; the CSV carries them in points', () => {
  const runs = groupRuns(allFixtureResults());
  const gsm = benchmarkColumnId('gsm8k');
  const base = buildResultsView(runs);
  const gemmaId = runs.find((r) => r.model === 'gemma3:12b-it-q4_K_M')!.id;
  const tunedId = runs.find((r) => r.model === 'gemma3:12b-u1')!.id;
  const paperBase = PAPER_TABLE[0].scores.gsm8k!.value;
  const gemmaVal = base.rows.find((r) => r.id === gemmaId)!.cells[gsm]!.value;
  const tunedVal = base.rows.find((r) => r.id === tunedId)!.cells[gsm]!.value;
  assert.ok(Math.abs(base.deltas[gemmaId][gsm]! - (gemmaVal - paperBase)) < 1e-12);
  assert.equal(base.deltas['paper:base'][gsm], 0);

  const vsRun = buildResultsView(runs, gemmaId);
  assert.equal(vsRun.baselineId, gemmaId);
  assert.ok(Math.abs(vsRun.deltas[tunedId][gsm]! - (tunedVal - gemmaVal)) < 1e-12);
  assert.equal(vsRun.deltas[tunedId][benchmarkColumnId('gpqa_diamond_zeroshot')], null);
  assert.equal(buildResultsView(runs, 'no-such-row').baselineId, 'paper:base');

  const csv = resultsCsv(runs, gemmaId).split('\r\n');
  const header = csv[0].split(',');
  const row = csv.find((l) => l.startsWith(`${tunedId},`))!.split(',');
  const col = header.findIndex((h) => h.startsWith('Δ GSM8K'));
  assert.ok(col > 0);
  assert.equal(row[col], `${tunedVal - gemmaVal >= 0 ? '+' : ''}${(Math.round((tunedVal - gemmaVal) * 10000) / 100).toFixed(2)}`);
  assert.equal(csv.filter((l) => l.startsWith('paper:')).length, PAPER_TABLE.length);
});

test('a run graded DCD-aware gets a second row: DCD metric, and the stock filter on the same generations beside it', () => {
  const file = path.join(LMEVAL, 'gemma3-12b-u1_tuned_gsm8k5shot', 'results_2025-09-09T13-31-53.431753.json');
  const data = JSON.parse(readFileSync(file, 'utf8'));
  const stock = data.results.gsm8k;
  // The same file as a DCD run would write it: the dcd_gsm8k variant beside the stock task.
  data.results.dcd_gsm8k = {
    alias: 'dcd_gsm8k', 'exact_match,strict-match': 0.41, 'exact_match_stderr,strict-match': 0.05,
    'exact_match,dcd-strict-match': 0.83, 'exact_match_stderr,dcd-strict-match': 0.04,
  };
  data['n-samples'].dcd_gsm8k = { original: 1319, effective: 100 };
  const runs = groupRuns([load(file, data)]);
  const view = buildResultsView(runs);
  const rows = view.rows.filter((r) => r.origin === 'run');
  assert.deepEqual(rows.map((r) => r.grading), ['stock', 'dcd']);
  const gsm = benchmarkColumnId('gsm8k');
  assert.equal(rows[0].cells[gsm]!.value, stock['exact_match,strict-match']);
  assert.equal(rows[1].cells[gsm]!.value, 0.83);
  assert.equal(rows[1].cells[gsm]!.stderr, 0.04);
  assert.equal(rows[1].cells[gsm]!.stockOnSameOutputs, 0.41);
  assert.ok(view.runs[0].hasDcd);
  // DCD rows have no other-task cells (those tasks are not graded twice).
  assert.ok(Object.entries(rows[1].cells).every(([k, v]) => !k.startsWith('task:') || v === null));
});

// ---------------------------------------------------------------------------
// Output stages

const demoSamples = readFileSync(DEMO, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { text: string; verdict: string });

function checkCover(text: string, segs: ReturnType<typeof segmentOutput>): void {
  let pos = 0;
  for (const s of segs) {
    assert.equal(s.start, pos, 'segments are contiguous');
    assert.ok(s.end > s.start);
    pos = s.end;
  }
  assert.equal(pos, text.length, 'segments cover the output');
}

test('a DCD generation is cut into the trace\'s stages exactly where the template puts them', () => {
  for (const sample of [demoSamples.find((s) => s.verdict === 'correct')!, demoSamples.find((s) => s.verdict === 'incorrect')!]) {
    const { rendered } = parseTrace(sample.text);
    // The model generates what follows "<|im_start|>assistant\n".
    const out = sample.text.slice(rendered.thinkStart);
    const segs = segmentOutput(out);
    checkCover(out, segs);
    for (const region of ['draft', 'bridge', 'chain', 'verdict', 'final_answer'] as RegionName[]) {
      const want = rendered.regions[region];
      const got = segs.filter((s) => s.region === region);
      assert.ok(got.length >= 1, `${region} found`);
      assert.equal(got[0].start + rendered.thinkStart, want.start, `${region} start`);
      assert.equal(got[got.length - 1].end + rendered.thinkStart, want.end, `${region} end`);
    }
    assert.equal(segs.find((s) => s.region === 'verdict')!.verdict, sample.verdict);
  }
});

test('s1-style think/answer output, truncated generations and the hf backend\'s bare tag lines', () => {
  const aime = parseSamplesJsonl(
    readFileSync(path.join(LMEVAL, 'simplescaling__s1.1-1.5B', 'samples_aime24_nofigures_2025-05-19T00-02-54.892679.jsonl'), 'utf8'),
    'samples_aime24_nofigures_2025-05-19T00-02-54.892679.jsonl',
  );
  const withAnswer = aime.rows.find((r) => r.answerSection !== null)!;
  const segs = segmentOutput(withAnswer.output);
  checkCover(withAnswer.output, segs);
  assert.ok(!segs.some((s) => s.region === 'draft' || s.region === 'bridge'), 'no draft without the bridge sentence');
  const final = segs.filter((s) => s.region === 'final_answer').map((s) => withAnswer.output.slice(s.start, s.end)).join('');
  assert.equal(final.trim(), withAnswer.answerSection, 'the answer stage is what the DCD filter grades');
  assert.ok(segs.some((s) => s.region === 'chain'));

  // A generation cut inside the chain: draft, bridge, chain; no verdict, no answer.
  const { rendered } = parseTrace(demoSamples[0].text);
  const full = demoSamples[0].text.slice(rendered.thinkStart);
  const cut = full.slice(0, rendered.regions.chain.start - rendered.thinkStart + 40);
  const cs = segmentOutput(cut);
  checkCover(cut, cs);
  assert.deepEqual([...new Set(cs.map((s) => s.region))], ['tag', 'draft', 'text', 'bridge', 'chain']);

  // hf backend: special tokens decoded away, tags left as bare lines.
  const bare = 'think\nthe draft\nNow I\'ll generate detailed reasoning steps and verify whether the draft solution is correct.\nsteps\nThe draft solution is incorrect. I\'ll revise it and provide the correct answer.\nanswer\n42';
  const bs = segmentOutput(bare);
  checkCover(bare, bs);
  assert.deepEqual(bs.map((s) => s.region), ['tag', 'draft', 'text', 'bridge', 'text', 'chain', 'text', 'verdict', 'text', 'tag', 'final_answer']);
  assert.equal(bs[bs.length - 1].end - bs[bs.length - 1].start, 2);
  // No tags at all: plain text.
  assert.deepEqual(segmentOutput('The answer is 4.').map((s) => s.region), ['text']);
  assert.deepEqual(segmentOutput(''), []);
});

// ---------------------------------------------------------------------------
// Contamination report

test('Markdown cells are one inert line: a code span, pipes escaped, fenced past any backticks', () => {
  assert.equal(mdCell('a | b\nc'), '`a \\| b c`');
  assert.equal(mdCell('$x$ <b>*y*</b> \\frac{1}{2}'), '`$x$ <b>*y*</b> \\frac{1}{2}`');
  assert.equal(mdCell('use `code` here'), '``use `code` here``');
  assert.equal(mdCell('`x'), '`` `x ``');
  assert.equal(mdCell('abcdef', 4), '`abc…`');
  assert.equal(mdCell('  '), '');
});

test('the report lists flagged and sharing questions with their corpus match, and counts the rest', () => {
  const dir = path.join(LMEVAL, 'contamination');
  const overlap = parseRecords(readFileSync(path.join(dir, 's1k_math500_overlap_c_lex.jsonl'), 'utf8'));
  const clean = parseRecords(readFileSync(path.join(dir, 'math500_clean.jsonl'), 'utf8'));
  const bench = [...new Map(overlap.map((r) => [String(r.math500_id), { id: String(r.math500_id), text: String(r.math500_problem) }])).values(), ...recordsToItems(clean, 'problem')];
  const corpus = [...new Map(overlap.map((r) => [String(r.train_id), { id: String(r.train_id), text: String(r.train_problem) }])).values()];
  const report = checkContamination(bench, corpus);
  const origins = corpus.map((_, i) => ({ file: 'corpus.dcd.jsonl', index: i }));
  const md = contaminationMarkdown(report, { benchmarkLabel: 'math500.jsonl', corpusLabel: 'corpus.dcd.jsonl', origins });
  const tableRows = md.split('\n').filter((l) => /^\| (⚠)? +\| \d\.\d{3} \|/.test(l));
  const sharing = report.rows.filter((r) => r.score > 0);
  assert.equal(tableRows.length, sharing.length);
  assert.equal(tableRows.filter((l) => l.startsWith('| ⚠')).length, report.flagged);
  assert.ok(report.flagged > 0);
  assert.match(md, new RegExp(`\\*\\*Flagged: ${report.flagged} of ${report.benchmarkCount}\\*\\*`));
  const top = report.rows[0];
  assert.ok(tableRows[0].includes(`\`corpus.dcd.jsonl\` #${top.matches[0].index + 1}`), tableRows[0]);
  assert.ok(md.includes(`${report.rows.length - sharing.length} benchmark questions share no`));
  for (const c of report.countsByThreshold) assert.ok(md.includes(`| ${c.threshold}${c.threshold === report.threshold ? ' (chosen)' : ''} | ${c.count} |`));
  // Every table line has the same number of cells (nothing in a question broke the table).
  const cells = tableRows.map((l) => l.split(/(?<!\\)\|/).length);
  assert.ok(cells.every((n) => n === cells[0]));
});

test('questions of a sample log: one per document, from the doc or the last user message', () => {
  const file = 'samples_gsm8k_2025-09-09T13-42-42.857006.jsonl';
  const parsed = parseSamplesJsonl(readFileSync(path.join(LMEVAL, 'gemma3-12b-it-q4_K_M_base_gsm8k5shot', file), 'utf8'), file);
  const items = samplesQuestionItems([...parsed.rows, ...parsed.rows]);
  assert.equal(items.length, new Set(parsed.rows.map((r) => r.docId)).size);
  assert.equal(items[0].text, parsed.rows[0].question);
  const chat = { question: null, prompt: 'x', messages: [{ role: 'user', content: 'shot' }, { role: 'assistant', content: 'a' }, { role: 'user', content: 'real question' }] };
  assert.equal(questionOfSample(chat), 'real question');
  assert.equal(questionOfSample({ question: null, prompt: 'plain prompt', messages: null }), 'plain prompt');
  assert.equal(detectQuestionField([{ problem: 'p', question: 3 }], getField), 'problem');
  assert.equal(detectQuestionField([{ doc: { question: 'q' } }], getField), 'doc.question');
  assert.equal(detectQuestionField([{ x: 1 }], getField), undefined);
});

test('renderTrace and segmentOutput agree on a freshly rendered trace too', () => {
  const r = renderTrace({ question: 'Q?', draft: 'D', chain: 'C1\nC2', verdict: 'incorrect', final_answer: '\\boxed{7}' });
  const out = r.text.slice(r.thinkStart);
  const segs = segmentOutput(out);
  const text = (region: string) => segs.filter((s) => s.region === region).map((s) => out.slice(s.start, s.end)).join('');
  assert.equal(text('draft'), 'D');
  assert.equal(text('chain'), 'C1\nC2');
  assert.equal(text('final_answer'), '\\boxed{7}');
});
