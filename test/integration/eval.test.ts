/**
 * The evaluation feature inside VS Code: the Results view on real lm-eval
 * results copied into the workspace, CSV export, the samples drill-down with
 * the demo corpus's similar questions, Check Contamination on fixtures with
 * known overlaps, and Evaluate Model against a host without lm_eval.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { JobEngine } from '../../src/core/jobs/engine';
import { JobStore } from '../../src/core/jobs/store';
import { createConnector, type LocalProfile } from '../../src/core/remote/profiles';
import { benchmarkColumnId } from '../../src/eval/resultsModel';
import type { ResultsPanel } from '../../src/eval/resultsPanel';
import type { EvalSamplesPanel } from '../../src/eval/samplesPanel';
import { activateExtension, EXTENSION_ID, workspaceRoot } from './util';

const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

function fixture(...parts: string[]): vscode.Uri {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  return vscode.Uri.joinPath(ext.extensionUri, 'test', 'fixtures', 'lmeval', ...parts);
}

async function readJson(uri: vscode.Uri): Promise<Record<string, unknown>> {
  return JSON.parse(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri))) as Record<string, unknown>;
}

async function readLines(uri: vscode.Uri): Promise<Array<Record<string, unknown>>> {
  return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)).split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('Eval results, drill-down and contamination', () => {
  let dir: vscode.Uri;

  before(async () => {
    await activateExtension();
    dir = vscode.Uri.joinPath(workspaceRoot(), 'eval-test');
    for (const run of ['gemma3-12b-it-q4_K_M_base_gsm8k5shot', 'gemma3-12b-u1_tuned_gsm8k5shot', 'simplescaling__s1.1-1.5B']) {
      await vscode.workspace.fs.copy(fixture(run), vscode.Uri.joinPath(dir, 'out', run), { overwrite: true });
    }
    await vscode.workspace.fs.copy(fixture('contamination'), vscode.Uri.joinPath(dir, 'contamination'), { overwrite: true });
  });

  after(async () => {
    const api = await activateExtension();
    api.eval.resultsPanel()?.panel.dispose();
    api.eval.samplesPanel()?.panel.dispose();
    await vscode.workspace.fs.delete(dir, { recursive: true, useTrash: false });
  });

  it('opens an output folder as runs × benchmarks with stderr, deltas and sample logs, and exports the CSV', async () => {
    await activateExtension();
    const panel = await vscode.commands.executeCommand<ResultsPanel>('dcd.openEvalResults', [vscode.Uri.joinPath(dir, 'out')]);
    await panel.whenReady();
    const state = panel.state();
    const gemma = state.runs.find((r) => r.model === 'gemma3:12b-it-q4_K_M');
    assert.ok(gemma, `runs: ${state.runs.map((r) => r.label).join(', ')}`);
    assert.ok(state.runs.some((r) => r.model === 'simplescaling/s1.1-1.5B'));
    const src = (await readJson(fixture('gemma3-12b-it-q4_K_M_base_gsm8k5shot', 'results_2025-09-09T13-42-42.857006.json'))).results as Record<string, Record<string, number>>;
    const row = state.rows.find((r) => r.id === gemma.id)!;
    const cell = row.cells[benchmarkColumnId('gsm8k')]!;
    assert.equal(cell.value, src.gsm8k['exact_match,strict-match']);
    assert.equal(cell.stderr, src.gsm8k['exact_match_stderr,strict-match']);
    assert.equal(gemma.samples.length, 1);
    assert.equal(gemma.samples[0].task, 'gsm8k');
    assert.ok(state.rows.some((r) => r.id === 'paper:dcd'), 'the paper\'s Table 1 is shown beside the runs');

    const tuned = state.runs.find((r) => r.model === 'gemma3:12b-u1')!;
    const vs = panel.setBaseline(gemma.id);
    const tunedVal = vs.rows.find((r) => r.id === tuned.id)!.cells[benchmarkColumnId('gsm8k')]!.value;
    assert.ok(Math.abs(vs.deltas[tuned.id][benchmarkColumnId('gsm8k')]! - (tunedVal - cell.value)) < 1e-12);

    const csvUri = vscode.Uri.joinPath(dir, 'export', 'results.csv');
    const csv = await panel.exportCsv(csvUri);
    const written = new TextDecoder().decode(await vscode.workspace.fs.readFile(csvUri));
    assert.equal(written, csv);
    assert.ok(written.split('\r\n')[0].includes(`pp vs ${gemma.id}`));
    assert.ok(written.includes(`${(cell.value * 100).toFixed(2)}`));
    const left = (await vscode.workspace.fs.readDirectory(vscode.Uri.joinPath(dir, 'export'))).map(([n]) => n);
    assert.deepEqual(left, ['results.csv'], 'the atomic write leaves no temp file');
  });

  it('opens only the files the Results view was sent, whatever its webview asks for', async () => {
    await activateExtension();
    const panel = await vscode.commands.executeCommand<ResultsPanel>('dcd.openEvalResults', [vscode.Uri.joinPath(dir, 'out')]);
    await panel.whenReady();
    // The request goes in where the webview's messages arrive, as a hostile page would send it.
    const endpoint = (panel as unknown as { channel: { endpoint: { receive(m: unknown): Promise<void> } } }).channel.endpoint;
    const ask = (type: string, uri: string) => endpoint.receive({ kind: 'request', id: 1, type, payload: { uri } });
    const isOpen = (uri: vscode.Uri) => vscode.window.visibleTextEditors.some((e) => e.document.uri.toString() === uri.toString());

    const offered = panel.state().runs[0].files[0].uri;
    await ask('openFile', offered);
    assert.ok(isOpen(vscode.Uri.parse(offered)), 'a results file the table links to opens');

    const other = vscode.Uri.joinPath(dir, 'contamination', 'gsm8k_test_first20.jsonl');
    await ask('openFile', other.toString());
    await ask('openFile', `${offered}/../../../contamination/gsm8k_test_first20.jsonl`);
    assert.ok(!isOpen(other), 'a file the view was never sent stays closed');
    const samplesBefore = (await activateExtension()).eval.samplesPanel();
    await ask('openSamples', other.toString());
    assert.equal((await activateExtension()).eval.samplesPanel(), samplesBefore, 'no drill-down opens on an unoffered file');
  });

  it('drills into a sample log: rows, stages, and the demo corpus question an eval question came from', async () => {
    await activateExtension();
    const file = vscode.Uri.joinPath(dir, 'out', 'gemma3-12b-it-q4_K_M_base_gsm8k5shot', 'samples_gsm8k_2025-09-09T13-42-42.857006.jsonl');
    const panel = await vscode.commands.executeCommand<EvalSamplesPanel>('dcd.openEvalSamples', file);
    await panel.whenReady();
    const raw = await readLines(file);
    assert.equal(panel.rows.length, raw.length);
    const init = await panel.init();
    assert.equal(init.task, 'gsm8k');
    assert.equal(init.benchmark, 'GSM8K');
    assert.deepEqual(init.items.map((i) => i.correct), raw.map((r) => r.exact_match === 1));

    const demo = await readLines(vscode.Uri.joinPath(workspaceRoot(), 'demo.dcd.jsonl'));
    const demoQuestions = demo.map((d) => norm(String(d.question)));
    for (const r of panel.rows) {
      const detail = panel.detail(r.line);
      assert.equal(detail.output, r.output);
      assert.equal(detail.segments.reduce((n, s) => n + (s.end - s.start), 0), r.output.length, 'the stages cover the output');
      const sim = await panel.similar(r.line, 'workspace');
      const inDemo = demoQuestions.indexOf(norm(r.question!));
      if (inDemo >= 0) {
        // A GSM8K test question the demo corpus was built from: it is the top match, fully contained.
        const top = sim.matches[0];
        assert.ok(top, `doc ${r.docId}: no match`);
        assert.equal(top.containment, 1);
        assert.equal(top.file, 'demo.dcd.jsonl');
        assert.equal(norm(String(demo[top.index].question)), norm(r.question!));
        assert.equal(top.copies, demoQuestions.filter((q) => q === norm(r.question!)).length);
      } else {
        assert.ok(sim.matches.every((m) => m.containment < 0.5), `doc ${r.docId}: unexpected near-duplicate ${JSON.stringify(sim.matches[0])}`);
      }
    }
    assert.ok(panel.rows.some((r) => demoQuestions.includes(norm(r.question!))), 'the fixture has a question the demo corpus holds');
    assert.ok(panel.rows.some((r) => !demoQuestions.includes(norm(r.question!))), 'and one it does not');
  });

  it('Check Contamination flags exactly the GSM8K test questions the demo corpus holds', async () => {
    await activateExtension();
    const bench = vscode.Uri.joinPath(dir, 'contamination', 'gsm8k_test_first20.jsonl');
    const result = await vscode.commands.executeCommand<{ report: { flagged: number; benchmarkCount: number; rows: Array<{ index: number; flagged: boolean; score: number }> }; uri: vscode.Uri; markdown: string }>(
      'dcd.checkContamination', { benchmark: bench },
    );
    const questions = (await readLines(bench)).map((r) => norm(String(r.question)));
    const demo = new Set((await readLines(vscode.Uri.joinPath(workspaceRoot(), 'demo.dcd.jsonl'))).map((d) => norm(String(d.question))));
    const expected = questions.map((q, i) => (demo.has(q) ? i : -1)).filter((i) => i >= 0);
    assert.ok(expected.length > 0 && expected.length < questions.length);
    assert.equal(result.report.benchmarkCount, questions.length);
    assert.deepEqual(result.report.rows.filter((r) => r.flagged).map((r) => r.index).sort((a, b) => a - b), expected);
    assert.ok(result.report.rows.filter((r) => r.flagged).every((r) => r.score === 1));
    // The report document is open and says the same.
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === result.uri.toString());
    assert.ok(doc, 'the report document is open');
    assert.equal(doc.getText(), result.markdown);
    assert.match(doc.getText(), new RegExp(`\\*\\*Flagged: ${expected.length} of ${questions.length}\\*\\*`));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('Check Contamination finds the four human-confirmed s1K / MATH-500 overlaps in a picked corpus', async () => {
    const api = await activateExtension();
    const overlap = await readLines(vscode.Uri.joinPath(dir, 'contamination', 's1k_math500_overlap_c_lex.jsonl'));
    const clean = await readLines(vscode.Uri.joinPath(dir, 'contamination', 'math500_clean.jsonl'));
    const bench = new Map<string, { id: string; problem: string }>();
    for (const r of overlap) bench.set(String(r.math500_id), { id: String(r.math500_id), problem: String(r.math500_problem) });
    for (const r of clean) bench.set(String(r.unique_id), { id: String(r.unique_id), problem: String(r.problem) });
    const corpus = new Map<string, { id: string; question: string }>();
    for (const r of overlap) corpus.set(String(r.train_id), { id: String(r.train_id), question: String(r.train_problem) });
    const benchUri = vscode.Uri.joinPath(dir, 'contamination', 'math500-questions.jsonl');
    const corpusUri = vscode.Uri.joinPath(dir, 'contamination', 's1k-questions.jsonl');
    const enc = new TextEncoder();
    await vscode.workspace.fs.writeFile(benchUri, enc.encode([...bench.values()].map((x) => JSON.stringify(x)).join('\n') + '\n'));
    await vscode.workspace.fs.writeFile(corpusUri, enc.encode([...corpus.values()].map((x) => JSON.stringify(x)).join('\n') + '\n'));
    const result = await api.eval.checkContamination({ benchmark: benchUri, corpus: corpusUri });
    assert.ok(result);
    const flagged = result.report.rows.filter((r) => r.flagged).map((r) => [r.id, r.matches[0].id]).sort();
    assert.deepEqual(flagged, [['math500_0080', 's1k_0081'], ['math500_0103', 's1k_0181'], ['math500_0126', 's1k_0498'], ['math500_0285', 's1k_0124']]);
    assert.match(result.markdown, /`[^`]*s1k-questions\.jsonl` #\d+/, 'matches name their corpus file and line');
  });

  it('Evaluate Model on a host without lm_eval: a clear error, the job failed, nothing hangs', async () => {
    const api = await activateExtension();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-eval-it-'));
    try {
      const python = path.join(tmp, 'python-no-lmeval');
      fs.writeFileSync(python, '#!/bin/sh\nexec /usr/bin/python3 -I -S "$@"\n', { mode: 0o755 });
      const store = new JobStore(path.join(tmp, 'jobs.json'));
      const engine = new JobEngine({ store, connectorFor: (p) => createConnector(p, { hostKeyPolicy: async () => 'reject', trustStoreFile: path.join(tmp, 'trust') }) });
      const host: LocalProfile = { name: 'local', kind: 'local', python, root: path.join(tmp, 'root') };
      const t0 = Date.now();
      const outcome = await api.eval.evaluate({ host, model: 'Qwen/Qwen2.5-1.5B-Instruct', benchmarks: ['gsm8k'], wait: true }, engine);
      assert.ok(Date.now() - t0 < 60_000);
      assert.ok(outcome?.error, JSON.stringify(outcome));
      assert.match(outcome.error, /lm-eval is not installed on local/);
      assert.match(outcome.error, /Set Up Host/);
      const jobs = await store.list();
      assert.equal(jobs.length, 1);
      assert.equal(jobs[0].status, 'failed');
      assert.match(jobs[0].error ?? '', /not installed/);
      await engine.close();
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
