/**
 * UI test of the "From corpus to Table 1" walkthrough in the packaged extension:
 * each step's button is clicked in the walkthrough page, what it does is checked
 * in the workbench (the corpus editor, the pair, the trace with the token mask,
 * the audit, the export in the Lineage view, a real training run on the `local`
 * host with its loss chart, a real offline lm-eval run on 5 bundled GSM8K
 * questions, the results table), its step is ticked, and the Lineage view then
 * shows the chain from a results-table row (its Show Lineage) up to demo.dcd.jsonl
 * at its hash. Editing a sample then turns export, run, model and evaluation
 * stale. The durations of the steps are printed (measurements, not assertions). Screenshots:
 * test-results/screenshots/walkthrough-*.png.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { findWebviewFrame, openWorkbench, runCommand, screenshot, type Workbench } from '../support/workbench';

const ROOT = path.resolve(__dirname, '..', '..');
const PYTHON = process.env.DCD_VENV_PYTHON ?? path.join(ROOT, '.venv', 'bin', 'python');
const times: Array<[string, number]> = [];

/** Expands a walkthrough step by its title, clicks its button, waits for `done`, and checks the step is ticked. */
async function step(page: Page, title: string, button: string, done: () => Promise<unknown>): Promise<void> {
  const t0 = Date.now();
  const header = page.locator('.getting-started-step', { hasText: title }).first();
  await header.waitFor({ state: 'visible', timeout: 60_000 });
  await header.click();
  await page.getByRole('button', { name: button, exact: true }).first().click();
  await done();
  times.push([title, (Date.now() - t0) / 1000]);
  await backToWalkthrough(page);
  // The step is ticked: its checkbox codicon gets `complete` (aria-checked on the step, in newer builds).
  await page.locator('.getting-started-step:has(.codicon.complete), .getting-started-step[aria-checked="true"]', { hasText: title }).first().waitFor({ state: 'attached', timeout: 30_000 });
}

async function backToWalkthrough(page: Page): Promise<void> {
  // An editor that is not the active tab has no DOM: the walkthrough page is brought back before its ticks are read.
  await page.locator('.tabs-container .tab', { hasText: /Walkthrough|Welcome|Table 1/ }).first().click();
  await page.locator('.getting-started-step').first().waitFor({ state: 'visible', timeout: 30_000 });
}

describe('The walkthrough, button by button', () => {
  let wb: Workbench;
  const t0 = Date.now();

  before(async () => {
    wb = await openWorkbench({ settings: { 'dcd.pythonPath': PYTHON } });
    await runCommand(wb.page, 'DCD: Open Walkthrough');
    await wb.page.locator('.getting-started-step', { hasText: 'Open the demo corpus in the workbench' }).first().waitFor({ state: 'visible', timeout: 60_000 });
    await screenshot(wb.page, 'walkthrough-steps');
  });
  after(async () => {
    const total = (Date.now() - t0) / 1000;
    for (const [title, s] of times) process.stdout.write(`walkthrough step ${s.toFixed(1).padStart(6)} s  ${title}\n`);
    process.stdout.write(`walkthrough total ${total.toFixed(1)} s (including starting the workbench)\n`);
    await wb?.close();
  });

  it('curates: opens the demo corpus, compares a pair, reads a trace with the token mask, audits tokens', async () => {
    const { page } = wb;
    await step(page, 'Open the demo corpus in the workbench', 'Open Demo Corpus', () => findWebviewFrame(page, '#viewport .wb-row[data-key]', 90_000));
    await step(page, 'Compare a draft-correct and a draft-wrong sample', 'Compare Drafts', () => findWebviewFrame(page, 'body[data-mode="pair"]', 60_000));
    await screenshot(page, 'walkthrough-pair');
    await step(page, 'Read a trace with the token-mask overlay', 'Open Trace with Token Mask', async () => {
      await page.locator('.tabs-container .tab', { hasText: '.dcdtrace' }).first().waitFor({ state: 'visible', timeout: 60_000 });
      await page.locator('.statusbar-item', { hasText: 'trained' }).first().waitFor({ state: 'visible', timeout: 60_000 });
      await screenshot(page, 'walkthrough-trace-mask');
    });
    await step(page, 'Audit the corpus\'s tokens', 'Audit Tokens', async () => {
      await page.locator('.activitybar [aria-label^="DCD Studio"]').first().click();
      await page.locator('.monaco-list-row', { hasText: '% trained' }).first().waitFor({ state: 'visible', timeout: 120_000 });
    });
  });

  it('exports and trains on the local host with the loss chart; the Lineage view leads from the model to demo.dcd.jsonl at its hash', async () => {
    const { page } = wb;
    await step(page, 'Build the training export', 'Build Training Export', () =>
      page.locator('.monaco-list-row', { hasText: 'demo-smoke' }).first().waitFor({ state: 'visible', timeout: 120_000 }));
    await step(page, 'Train on this machine and watch the loss', 'Train Locally', async () => {
      const chart = await findWebviewFrame(page, '.charts canvas', 120_000);
      await chart.waitForSelector('body[data-points="8"]', { timeout: 600_000 });
    });
    await screenshot(page, 'walkthrough-loss-chart');
    // When the job has finished, the walkthrough shows its model in the Lineage view (selected, with its chain above it).
    for (const other of ['Corpora', 'Remote Hosts & Jobs']) {
      const header = page.locator('.pane-header[aria-expanded="true"]', { hasText: other }).first();
      if (await header.count()) await header.click();
    }
    const view = page.locator('.pane', { hasText: 'Lineage' });
    await view.locator('.monaco-list-row.selected', { hasText: 'final' }).first().waitFor({ state: 'visible', timeout: 300_000 });
    const hash = createHash('sha256').update(fs.readFileSync(path.join(wb.folder, 'demo.dcd.jsonl'))).digest('hex').slice(0, 12);
    await view.locator('.monaco-list-row', { hasText: 'demo.dcd.jsonl' }).filter({ hasText: `corpus · ${hash}` }).first().waitFor({ state: 'visible', timeout: 60_000 });
    for (const [label, kind] of [['demo-smoke', 'export'], ['run', 'run'], ['final', 'model']]) {
      const row = view.locator('.monaco-list-row', { hasText: label }).filter({ hasText: new RegExp(`${kind} · [0-9a-f]{12}`) }).first();
      await row.waitFor({ state: 'visible', timeout: 60_000 });
    }
    assert.equal(await view.locator('.monaco-list-row', { hasText: 'stale' }).count(), 0);
    await screenshot(page, 'walkthrough-lineage');
  });

  it('evaluates the trained model offline, opens the results table and drills in; a row\'s Show Lineage resolves to demo.dcd.jsonl at its hash', async () => {
    const { page } = wb;
    const view = page.locator('.pane', { hasText: 'Lineage' });
    let results: Awaited<ReturnType<typeof findWebviewFrame>> | undefined;
    await step(page, 'Evaluate the trained model', 'Evaluate', async () => {
      results = await findWebviewFrame(page, 'tr.row.run', 600_000);
    });
    await screenshot(page, 'walkthrough-results');
    await step(page, 'Open the results table, drill into a sample, walk up the lineage', 'Open Results and Lineage', async () => {
      await findWebviewFrame(page, '.controls .counts', 120_000);
      await view.locator('.monaco-list-row.selected').filter({ hasText: /eval · [0-9a-f]{12}/ }).first().waitFor({ state: 'visible', timeout: 120_000 });
    });
    // Back to the results table: the run's row, its Show Lineage.
    await page.locator('.tabs-container .tab', { hasText: 'DCD Eval Results' }).first().click();
    results = await findWebviewFrame(page, 'tr.row.run', 60_000);
    const row = results.locator('tr.row.run').first();
    await runCommand(page, 'DCD: Refresh Lineage');
    await row.locator('vscode-button', { hasText: 'Show Lineage' }).click();
    const evalRow = view.locator('.monaco-list-row.selected').filter({ hasText: /eval · [0-9a-f]{12}/ }).first();
    await evalRow.waitFor({ state: 'visible', timeout: 60_000 });
    // The chain above it: the model it evaluated, the run, the export, demo.dcd.jsonl at its sha256 — none stale.
    const hash = createHash('sha256').update(fs.readFileSync(path.join(wb.folder, 'demo.dcd.jsonl'))).digest('hex');
    await view.getByText(new RegExp(`· eval · sha256 [0-9a-f]{12}`)).first().waitFor({ state: 'visible', timeout: 30_000 });
    await view.locator('.monaco-list-row', { hasText: 'demo.dcd.jsonl' }).filter({ hasText: `corpus · ${hash.slice(0, 12)}` }).first().waitFor({ state: 'visible', timeout: 60_000 });
    for (const [label, kind] of [['demo-smoke', 'export'], ['run', 'run'], ['final', 'model']]) {
      await view.locator('.monaco-list-row', { hasText: label }).filter({ hasText: new RegExp(`${kind} · [0-9a-f]{12}`) }).first().waitFor({ state: 'visible', timeout: 60_000 });
    }
    assert.equal(await view.locator('.monaco-list-row', { hasText: 'stale' }).count(), 0);
    // The sidecar the results came with names the model folder the walkthrough trained, by its hash.
    const evalDir = fs.readdirSync(path.join(wb.folder, 'eval-results')).map((d) => path.join(wb.folder, 'eval-results', d));
    const sidecars = evalDir.flatMap((d) => fs.readdirSync(d).map((f) => path.join(d, f, 'dcd_lineage.json'))).filter((f) => fs.existsSync(f));
    assert.equal(sidecars.length, 1, sidecars.join(', '));
    const rec = JSON.parse(fs.readFileSync(sidecars[0], 'utf8')) as { kind: string; parents: Array<{ kind: string; path: string }>; limit: number; files: Record<string, string> };
    assert.equal(rec.kind, 'eval');
    assert.equal(rec.parents[0].kind, 'model');
    assert.match(rec.parents[0].path, /[/\\]run[/\\]final$/);
    assert.equal(rec.limit, 5);
    assert.ok(Object.keys(rec.files).some((f) => /^results_.*\.json$/.test(f)) && Object.keys(rec.files).some((f) => /^samples_gsm8k_.*\.jsonl$/.test(f)), Object.keys(rec.files).join(', '));
    await screenshot(page, 'walkthrough-results-lineage');
  });

  it('editing one sample after the evaluation marks the export, run, model and evaluation stale', async () => {
    const { page } = wb;
    const view = page.locator('.pane', { hasText: 'Lineage' });

    // One sample edited after training: the export, the run and the model turn stale.
    const file = path.join(wb.folder, 'demo.dcd.jsonl');
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    const sample = JSON.parse(lines[4]) as { text: string };
    sample.text = sample.text.replace('<|im_start|>think', '<|im_start|>think\nFirst, restate the problem.');
    lines[4] = JSON.stringify(sample);
    fs.writeFileSync(file, lines.join('\n'));
    await runCommand(page, 'DCD: Refresh Lineage');
    for (const [label, kind] of [['demo-smoke', 'export'], ['run', 'run'], ['final', 'model'], ['final', 'eval']]) {
      await view.locator('.monaco-list-row', { hasText: label }).filter({ hasText: new RegExp(`${kind} · [0-9a-f]{12} · stale`) }).first().waitFor({ state: 'visible', timeout: 60_000 });
    }
    // The view's message names the change: the corpus, its hashes, the line.
    await view.getByText(/^4 stale — corpus demo\.dcd\.jsonl changed since this export was made: sha256 [0-9a-f]{12} → [0-9a-f]{12}; 1 sample edited \(line 5\)/).first().waitFor({ state: 'visible', timeout: 30_000 });
    await screenshot(page, 'walkthrough-lineage-stale');
  });
});
