/**
 * UI tests: the packaged extension in a real VS Code (code-server), driven like
 * a person would: the activity bar, the command palette, a webview.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findWebviewFrame, openWorkbench, pickQuickItem, runCommand, screenshot, type Workbench } from '../support/workbench';

describe('DCD Studio in the workbench', () => {
  let wb: Workbench;
  before(async () => { wb = await openWorkbench(); });
  after(async () => { await wb?.close(); });

  it('shows the demo corpus in the Corpora view with its counts', async () => {
    const { page } = wb;
    await page.locator('.activitybar [aria-label^="DCD Studio"]').first().click();
    // The Corpora view's row (the Lineage view lists the same file, by its hash, without counts).
    const row = page.locator('.monaco-list-row', { hasText: 'demo.dcd.jsonl' }).filter({ hasText: /\d+ samples/ }).first();
    await row.waitFor({ state: 'visible', timeout: 60_000 });
    const text = await row.innerText();
    const lines = fs.readFileSync(path.join(wb.folder, 'demo.dcd.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
    assert.match(text, new RegExp(`${lines.length} samples`));
    await screenshot(page, 'corpora-view');
  });

  it('runs "DCD: Show Corpus Sample" from the palette and renders the sample text literally', async () => {
    const { page } = wb;
    await runCommand(page, 'DCD: Show Corpus Sample');
    await pickQuickItem(page, 'demo.dcd.jsonl');
    const frame = await findWebviewFrame(page, '#trace');
    await frame.waitForSelector('body[data-rendered]');
    const first = JSON.parse(fs.readFileSync(path.join(wb.folder, 'demo.dcd.jsonl'), 'utf8').split('\n')[0]);
    const trace = await frame.locator('#trace').innerText();
    assert.ok(trace.includes('<|im_start|>think'), 'stage tags are shown as text');
    assert.ok(trace.includes(first.chain.slice(0, 40)), 'the chain is shown');
    await frame.locator('#next').click();
    await frame.waitForSelector(`body:not([data-rendered="${first.id}"])`);
    assert.match(await frame.locator('h2').innerText(), /Sample 2 of/);
    await screenshot(page, 'sample-webview');
  });
});
