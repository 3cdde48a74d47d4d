/**
 * UI test of the evaluation views in the packaged extension: "DCD: Open Eval
 * Results…" from the palette on real lm-eval results copied into the
 * workspace (dark and light themes), a baseline change, the drill-down
 * into a sample log from the Results view, and its comparison with another
 * run's log (flipped questions side by side).
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { findWebviewFrame, openWorkbench, pickQuickItem, runCommand, screenshot, type Workbench } from '../support/workbench';

const LMEVAL = path.resolve(__dirname, '..', 'fixtures', 'lmeval');
const RUNS = ['gemma3-12b-it-q4_K_M_base_gsm8k5shot', 'gemma3-12b-u1_tuned_gsm8k5shot', 'simplescaling__s1.1-1.5B'];

const pct = (x: number) => (x * 100).toFixed(2);

describe('Eval results and drill-down in the workbench', () => {
  let wb: Workbench;
  let results: Frame;
  before(async () => {
    wb = await openWorkbench();
    for (const run of RUNS) fs.cpSync(path.join(LMEVAL, run), path.join(wb.folder, 'eval-out', run), { recursive: true });
    // Wait until the extension is active (its Corpora view lists the demo corpus) before driving its commands.
    await wb.page.locator('.activitybar [aria-label^="DCD Studio"]').first().click();
    await wb.page.locator('.monaco-list-row', { hasText: 'demo.dcd.jsonl' }).first().waitFor({ state: 'visible', timeout: 120_000 });
  });
  after(async () => { await wb?.close(); });

  it('opens the workspace results as a table beside the paper\'s Table 1, with stderr and deltas', async () => {
    const { page } = wb;
    await runCommand(page, 'DCD: Open Eval Results…');
    await pickQuickItem(page, 'Workspace Results Only');
    results = await findWebviewFrame(page, '#results-table', 60_000);
    await results.waitForSelector(`body[data-rendered="${RUNS.length}"]`, { timeout: 30_000 });

    const src = JSON.parse(fs.readFileSync(path.join(wb.folder, 'eval-out', RUNS[0], 'results_2025-09-09T13-42-42.857006.json'), 'utf8'));
    const gsm = src.results.gsm8k;
    const row = results.locator('tr[data-row-id$="gemma3-12b-it-q4_K_M_base_gsm8k5shot"]');
    const cell = row.locator('td[data-col="bench:gsm8k"]');
    const text = await cell.innerText();
    assert.ok(text.includes(pct(gsm['exact_match,strict-match'])), text);
    assert.ok(text.includes(`± ${pct(gsm['exact_match_stderr,strict-match'])}`), text);
    assert.ok(text.includes('n = 100/1319'), 'a limited run says so');
    // Paper rows for reference, the base model the default baseline.
    assert.match(await results.locator('tr[data-row-id="paper:dcd"] td[data-col="bench:gsm8k"]').innerText(), /67\.02/);
    assert.equal(await results.locator('body').getAttribute('data-baseline'), 'paper:base');
    const delta = (gsm['exact_match,strict-match'] - 0.5466) * 100;
    assert.ok(text.includes(`+${delta.toFixed(2)} pp`), text);
    await screenshot(page, 'eval-results-dark');
  });

  it('changes the baseline to a run: deltas follow', async () => {
    const { page } = wb;
    const gemmaRowId = await results.locator('tr[data-row-id$="gemma3-12b-it-q4_K_M_base_gsm8k5shot"]').getAttribute('data-row-id');
    await results.locator('#baseline').click();
    await results.locator('#baseline vscode-option', { hasText: 'gemma3:12b-it-q4_K_M' }).first().click();
    await results.waitForSelector(`body[data-baseline="${gemmaRowId}"]`, { timeout: 20_000 });
    const base = JSON.parse(fs.readFileSync(path.join(wb.folder, 'eval-out', RUNS[0], 'results_2025-09-09T13-42-42.857006.json'), 'utf8')).results.gsm8k['exact_match,strict-match'];
    const tuned = JSON.parse(fs.readFileSync(path.join(wb.folder, 'eval-out', RUNS[1], 'results_2025-09-09T13-31-53.431753.json'), 'utf8')).results.gsm8k['exact_match,strict-match'];
    const d = (tuned - base) * 100;
    const text = await results.locator('tr[data-row-id$="gemma3-12b-u1_tuned_gsm8k5shot"] td[data-col="bench:gsm8k"]').innerText();
    assert.ok(text.includes(`${d > 0 ? '+' : d < 0 ? '−' : '±'}${Math.abs(d).toFixed(2)} pp`), text);
    assert.ok(await results.locator(`tr[data-row-id="${gemmaRowId}"].baseline`).count() === 1);
    await screenshot(page, 'eval-results-baseline');
  });

  it('drills into the run\'s sample log from the Results view', async () => {
    const { page } = wb;
    const section = results.locator('section.run', { hasText: 'gemma3:12b-it-q4_K_M' }).first();
    await section.locator('vscode-button', { hasText: 'gsm8k' }).click();
    const samples = await findWebviewFrame(page, '#sample-list', 60_000);
    await samples.waitForSelector('body[data-selected]', { timeout: 30_000 });
    const rows = fs.readFileSync(path.join(wb.folder, 'eval-out', RUNS[0], 'samples_gsm8k_2025-09-09T13-42-42.857006.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    assert.equal(await samples.locator('#sample-list li.item').count(), rows.length);
    assert.equal(await samples.locator('#sample-list li.item.wrong').count(), rows.filter((r) => r.exact_match !== 1).length);
    const output = await samples.locator('#output').innerText();
    assert.ok(output.includes(rows[0].resps[0][0].slice(0, 40)), 'the output is shown as text');
    // The wrong answer: its question is in the demo corpus, so the top similar question is fully contained.
    const wrong = rows.find((r) => r.exact_match !== 1);
    await samples.locator(`#sample-list li.item[data-line="${rows.indexOf(wrong) + 1}"]`).click();
    await samples.waitForSelector(`body[data-selected="${rows.indexOf(wrong) + 1}"]`);
    await samples.waitForSelector('#matches li', { timeout: 30_000 });
    assert.match(await samples.locator('#matches li').first().innerText(), /^100%/);
    await screenshot(page, 'eval-samples-dark');
  });

  it('compares the log with another run\'s: the question that flipped, both generations side by side', async () => {
    const { page } = wb;
    const samples = await findWebviewFrame(page, '#compare', 30_000);
    await samples.locator('#compare-open').click();
    await samples.locator('#compare-with').waitFor({ state: 'visible', timeout: 30_000 });
    await samples.locator('#compare-go').click();
    // gemma base → tuned on the same three GSM8K questions: doc 18 went from right to wrong
    await samples.waitForSelector('body[data-flips="1"]', { timeout: 30_000 });
    assert.match(await samples.locator('#compare').innerText(), /3 questions in both/);
    await samples.locator('li.flip[data-doc-id="18"]').click();
    await samples.waitForSelector('body[data-pair="18"]', { timeout: 30_000 });
    const read = (run: string) => fs.readFileSync(path.join(wb.folder, 'eval-out', run, fs.readdirSync(path.join(wb.folder, 'eval-out', run)).find((f) => f.startsWith('samples_gsm8k_'))!), 'utf8')
      .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)).find((r) => r.doc_id === 18);
    const a = await samples.locator('#output-a').innerText();
    const b = await samples.locator('#output-b').innerText();
    assert.ok(a.includes(read(RUNS[0]).resps[0][0].slice(-60).trim()), 'this run\'s generation');
    assert.ok(b.includes(read(RUNS[1]).resps[0][0].slice(-60).trim()), 'the other run\'s generation');
    await screenshot(page, 'eval-samples-compare');
  });

  it('reads well in the light theme; an s1-style trace is coloured by stage', async () => {
    const { page } = wb;
    await runCommand(page, 'Preferences: Color Theme');
    await pickQuickItem(page, 'Light Modern');
    await page.waitForTimeout(1000);
    await screenshot(page, 'eval-samples-light');
    // Back to the Results view (its tab), then the s1.1 model's AIME log: think / answer stages.
    await page.locator('.tab', { hasText: 'DCD Eval Results' }).first().click();
    results = await findWebviewFrame(page, '#results-table', 30_000);
    await results.waitForSelector(`body[data-rendered="${RUNS.length}"]`, { timeout: 30_000 });
    await screenshot(page, 'eval-results-light');
    const section = results.locator('section.run', { hasText: 'simplescaling/s1.1-1.5B' }).first();
    await section.locator('vscode-button', { hasText: 'aime24_nofigures' }).click();
    const samples = await findWebviewFrame(page, '#output .region-final_answer', 60_000);
    const chain = await samples.locator('#output .region-chain').first().innerText();
    const rows = fs.readFileSync(path.join(wb.folder, 'eval-out', RUNS[2], 'samples_aime24_nofigures_2025-05-19T00-02-54.892679.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    const out: string = rows[0].resps[0][0];
    assert.ok(out.startsWith('<|im_start|>think'));
    assert.ok(out.includes(chain.slice(0, 60)), 'the think stage is shown as the chain');
    await screenshot(page, 'eval-samples-trace-light');
  });
});
