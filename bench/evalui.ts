/**
 * The eval views' own work (the pure models behind the webviews; the core's
 * parsing, contamination and drill-down queries are measured by bench/eval.ts):
 *  1. the Results view state and CSV for 50 runs (the shared lm-eval results
 *     folders, each copied 10 times as separate runs);
 *  2. stage segmentation of real long eval outputs (s1.1-1.5B's 30 AIME 2024
 *     traces, full file) and of one 32k-token-sized DCD trace built from a
 *     real demo trace;
 *  3. the contamination report document for the 500 MATH-500 test problems
 *     against s1K's 1,000 questions (which share n-grams, unlike GSM8K).
 * Reads the shared data folder (env DCD_SHARED, default ../shared); skips when absent.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseResultsJson } from '../src/core/eval/results';
import { parseSamplesJsonl } from '../src/core/eval/samples';
import { checkContamination, type TextItem } from '../src/core/eval/contamination';
import { parseTrace } from '../src/core/trace/template';
import { buildResultsView, groupRuns, resultsCsv, type LoadedResultFile } from '../src/eval/resultsModel';
import { segmentOutput } from '../src/eval/outputRegions';
import { contaminationMarkdown } from '../src/eval/contaminationReport';

const ROOT = path.resolve(__dirname, '..');

function time<T>(fn: () => T, reps: number): { ms: number; value: T } {
  const all: number[] = [];
  let value!: T;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    value = fn();
    all.push(performance.now() - t0);
  }
  all.sort((a, b) => a - b);
  return { ms: Math.round(all[Math.floor(all.length / 2)] * 100) / 100, value };
}

export async function run(): Promise<Record<string, unknown>> {
  const shared = path.resolve(ROOT, process.env.DCD_SHARED ?? '../shared');
  const lmeval = path.join(shared, 'data/lmeval');
  const aime = path.join(lmeval, 'simplescaling__s1.1-1.5B/samples_aime24_nofigures_2025-05-19T00-02-54.892679.jsonl');
  const mathFile = path.join(shared, 'data/math500/math500_test.jsonl');
  const s1kFile = path.join(shared, 'data/s1k/s1K_question_solution_1000.json');
  const missing = [lmeval, aime, mathFile, s1kFile].filter((f) => !existsSync(f));
  if (missing.length) return { skipped: `shared data not found: ${missing.join(', ')}` };

  // 1. Results view: 50 runs.
  const files: LoadedResultFile[] = [];
  const dirs = readdirSync(lmeval, { withFileTypes: true }).filter((d) => d.isDirectory());
  for (let copy = 0; copy < 10; copy++) {
    for (const d of dirs) {
      for (const f of readdirSync(path.join(lmeval, d.name)).filter((n) => /^results_.*\.json$/.test(n))) {
        const p = path.join(lmeval, d.name, f);
        const folder = `copy${copy}/${d.name}`;
        files.push({ result: parseResultsJson(readFileSync(p, 'utf8'), p), uri: `${folder}/${f}`, label: `${folder}/${f}`, folder, folderLabel: folder });
      }
    }
  }
  const view = time(() => buildResultsView(groupRuns(files)), 5);
  const csv = time(() => resultsCsv(groupRuns(files)), 5);

  // 2. Output stages.
  const parsed = parseSamplesJsonl(readFileSync(aime, 'utf8'), path.basename(aime));
  const outputs = parsed.rows.map((r) => r.output);
  const chars = outputs.reduce((n, o) => n + o.length, 0);
  const seg = time(() => outputs.map((o) => segmentOutput(o).length), 5);
  const demo = readFileSync(path.join(ROOT, 'media/demo/demo.dcd.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { text: string });
  const { rendered } = parseTrace(demo[demo.length - 1].text);
  const base = demo[demo.length - 1].text;
  const chain = base.slice(rendered.regions.chain.start, rendered.regions.chain.end);
  let longChain = chain;
  while (longChain.length < 128_000) longChain += '\n' + chain;
  const long = base.slice(rendered.thinkStart, rendered.regions.chain.start) + longChain + base.slice(rendered.regions.chain.end);
  const segLong = time(() => segmentOutput(long), 5);

  // 3. Contamination report document.
  const math = readFileSync(mathFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { problem: string });
  const s1k = JSON.parse(readFileSync(s1kFile, 'utf8')) as Array<{ id: number; problem: string }>;
  const bench: TextItem[] = math.map((r, i) => ({ id: String(i), text: r.problem }));
  const corpus: TextItem[] = s1k.map((r) => ({ id: String(r.id), text: r.problem }));
  const report = checkContamination(bench, corpus);
  const md = time(() => contaminationMarkdown(report, { benchmarkLabel: 'math500_test.jsonl', corpusLabel: 's1K', origins: corpus.map((_, i) => ({ file: 's1k.json', index: i })) }), 5);

  return {
    results_files: files.length,
    results_runs: view.value.runs.length,
    results_columns: view.value.columns.length,
    results_view_ms: view.ms,
    results_csv_ms: csv.ms,
    segment_outputs: outputs.length,
    segment_chars: chars,
    segment_ms_all_outputs: seg.ms,
    segment_long_trace_chars: long.length,
    segment_long_trace_ms: segLong.ms,
    segment_long_trace_segments: segLong.value.length,
    contamination_flagged: report.flagged,
    contamination_doc_rows: report.rows.filter((r) => r.score > 0).length,
    contamination_doc_bytes: Buffer.byteLength(md.value),
    contamination_doc_ms: md.ms,
  };
}
