/**
 * UI test of the Remote Hosts & Jobs view and the loss chart in the packaged
 * extension: a finished run (the real events of a builtin:tiny job, see
 * test/fixtures/jobsui/PROVENANCE.md) in the job history shows in the tree
 * with its status and progress; clicking it opens the chart with every step;
 * smoothing redraws; dark and light themes are screenshotted.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { findWebviewFrame, openWorkbench, pickQuickItem, runCommand, screenshot, type Workbench } from '../support/workbench';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'jobsui', 'events.jsonl');
const JOB_ID = '20261127-174615-4b07c9';

describe('Jobs view and loss chart in the workbench', () => {
  let wb: Workbench;
  let chart: Frame;
  let steps: Array<{ step: number; loss: number }>;

  before(async () => {
    wb = await openWorkbench();
    const lines = fs.readFileSync(FIXTURE, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
    steps = lines.filter((e) => e.event === 'step') as unknown as Array<{ step: number; loss: number }>;
    const plan = lines.find((e) => e.event === 'plan') as { total_steps: number };
    // A finished job in the extension's job history (globalStorage), its job folder beside the workspace.
    const jobDir = path.join(path.dirname(wb.folder), 'jobs', JOB_ID);
    fs.mkdirSync(jobDir, { recursive: true });
    fs.copyFileSync(FIXTURE, path.join(jobDir, 'events.jsonl'));
    fs.writeFileSync(path.join(jobDir, 'status'), 'succeeded\n');
    const t = '2026-11-27T17:46:15.022Z';
    const store = path.join(path.dirname(wb.folder), 'user-data', 'User', 'globalStorage', 'dcd-studio.dcd-studio', 'jobs.json');
    fs.mkdirSync(path.dirname(store), { recursive: true });
    fs.writeFileSync(store, JSON.stringify({
      version: 1,
      jobs: [{
        id: JOB_ID, host: { name: 'local', kind: 'local', python: '/usr/bin/python3' }, status: 'succeeded',
        history: ['preparing', 'uploading', 'queued', 'running', 'succeeded'].map((status) => ({ status, time: t })),
        createdAt: t, updatedAt: t, spec: { data: jobDir, model: 'builtin:tiny', preset: 'smoke', maxSteps: plan.total_steps },
        remote: { jobDir, backendDir: jobDir, exportDir: jobDir, python: '/usr/bin/python3' },
        lastStep: steps[steps.length - 1].step, totalSteps: plan.total_steps, lastLoss: steps[steps.length - 1].loss,
      }],
    }));
    await wb.page.locator('.activitybar [aria-label^="DCD Studio"]').first().click();
    await wb.page.locator('.monaco-list-row', { hasText: 'demo.dcd.jsonl' }).first().waitFor({ state: 'visible', timeout: 120_000 });
  });
  after(async () => { await wb?.close(); });

  it('lists the finished job with status and progress, and opens its loss chart with every step', async () => {
    const { page } = wb;
    await runCommand(page, 'DCD: Refresh Jobs');
    const last = steps[steps.length - 1];
    const row = page.locator('.monaco-list-row', { hasText: `succeeded · step ${last.step}/${last.step}` }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    await row.click();
    chart = await findWebviewFrame(page, '.charts canvas', 60_000);
    await chart.waitForSelector(`body[data-points="${steps.length}"]`, { timeout: 30_000 });
    assert.equal(await chart.locator('.chart').count(), 4, 'loss, lr, grad norm, tokens/s');
    const legend = await chart.locator(`.run[data-run="${JOB_ID}"]`).innerText();
    assert.match(legend, new RegExp(`step ${last.step}/${last.step}`));
    assert.match(legend, /succeeded/);
    assert.match(legend, new RegExp(last.loss.toFixed(4)));
    await screenshot(page, 'jobs-loss-chart-dark');
  });

  it('smooths with the EMA slider and follows a switch to the light theme', async () => {
    const { page } = wb;
    await chart.locator('#ema').fill('0.8');
    assert.equal(await chart.locator('.ema-value').innerText(), '0.80');
    await runCommand(page, 'Preferences: Color Theme');
    await pickQuickItem(page, 'Light Modern');
    await chart.waitForSelector('body.vscode-light', { timeout: 30_000 });
    await page.waitForTimeout(500);
    await screenshot(page, 'jobs-loss-chart-light');
  });
});
