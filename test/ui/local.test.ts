/**
 * UI test of local ONNX drafting in the PACKAGED extension (the VSIX in
 * code-server): "DCD: Generate Student Drafts…" from the palette on the tiny
 * random-weight model writes verified drafts — which needs onnxruntime-node's
 * native binary to load from the installed VSIX — and "DCD: Generate Draft for
 * Question…" streams a draft into an untitled editor.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureTestModel } from '../support/testModel';
import { openWorkbench, pickQuickItem, runCommand, screenshot, type Workbench } from '../support/workbench';

const MAX_NEW_TOKENS = 6;

async function waitFor<T>(probe: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Local model drafting in the packaged extension', () => {
  let wb: Workbench;
  before(async () => {
    const model = await ensureTestModel();
    wb = await openWorkbench({
      settings: {
        'dcd.local.modelPath': model, 'dcd.local.dtype': 'fp32', 'dcd.local.maxNewTokens': MAX_NEW_TOKENS,
        'dcd.local.seed': 3, 'files.simpleDialog.enable': true,
      },
    });
    // Wait until the extension is active (its Corpora view lists the demo corpus) before driving its commands.
    await wb.page.locator('.activitybar [aria-label^="DCD Studio"]').first().click();
    await wb.page.locator('.monaco-list-row', { hasText: 'demo.dcd.jsonl' }).first().waitFor({ state: 'visible', timeout: 120_000 });
  });
  after(async () => { await wb?.close(); });

  it('generates verified student drafts for an s1K file from the palette', async () => {
    const { page, folder } = wb;
    const questions = fs.readFileSync(path.join(folder, 's1k-demo.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).length;
    const out = path.join(folder, 's1k-demo.local-drafts.jsonl');
    assert.equal(fs.existsSync(out), false);

    await runCommand(page, 'DCD: Generate Student Drafts…');
    await pickQuickItem(page, 's1k-demo.jsonl');
    // Drafts per question: keep the default 1.
    const input = page.locator('.quick-input-widget input');
    await page.locator('.quick-input-widget', { hasText: 'drafts per question' }).waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await input.inputValue(), '1');
    await input.press('Enter');
    // The save dialog (simple dialog) proposes the drafts file beside the questions: accept it.
    await page.waitForFunction(() => {
      const el = document.querySelector('.quick-input-widget input') as HTMLInputElement | null;
      return !!el && el.value.endsWith('s1k-demo.local-drafts.jsonl');
    }, undefined, { timeout: 20_000 });
    await input.press('Enter');

    await page.locator('.notifications-toasts', { hasText: 'Student drafts' }).first().waitFor({ state: 'visible', timeout: 60_000 }).catch(() => {});
    await screenshot(page, 'local-drafts-progress');
    const done = page.locator('.notification-toast', { hasText: 'Wrote' }).first();
    await done.waitFor({ state: 'visible', timeout: 180_000 });
    const message = await done.innerText();
    assert.match(message, new RegExp(`Wrote ${questions} draft\\(s\\)`));
    assert.match(message, /Build Corpus/);
    await screenshot(page, 'local-drafts-done');

    const lines = await waitFor(() => {
      if (!fs.existsSync(out)) return undefined;
      const l = fs.readFileSync(out, 'utf8').split('\n').filter((x) => x.trim());
      return l.length === questions ? l : undefined;
    }, 'the drafts file', 30_000);
    for (const line of lines) {
      const d = JSON.parse(line);
      assert.equal(typeof d.draft, 'string');
      assert.ok(d.tokens > 0 && d.tokens <= MAX_NEW_TOKENS, `tokens ${d.tokens}`);
      assert.ok(d.verified && typeof d.verified.rule === 'string', 'each draft is verified and tagged');
      assert.ok(['fp32'].includes(d.dtype));
    }
  });

  it('streams a draft for a question into an untitled editor', async () => {
    const { page } = wb;
    await runCommand(page, 'DCD: Generate Draft for Question…');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 20_000 });
    await input.fill('What is 7 times 6?');
    await input.press('Enter');
    const tab = page.locator('.tabs-container .tab.active', { hasText: 'Untitled' });
    await tab.waitFor({ state: 'visible', timeout: 60_000 });
    await page.waitForFunction(() => {
      const lines = document.querySelector('.editor-instance .view-lines');
      return !!lines && (lines.textContent ?? '').trim().length > 0;
    }, undefined, { timeout: 60_000 });
    await screenshot(page, 'local-draft-editor');
  });
});
