/**
 * UI test of the trace editor: the packaged extension in code-server, driven
 * from the palette like a person would. Opens a demo sample as a trace,
 * turns the token-mask overlay on and keeps screenshots in a dark and a light
 * theme (test-results/screenshots/trace-overlay-{dark,light}.png: a draft-wrong
 * and a draft-correct sample side by side), plus one of a token hover.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openWorkbench, pickQuickItem, runCommand, screenshot, type Workbench } from '../support/workbench';
import { tokenizeTrace } from '../../src/core/tokenizer';

describe('Trace editor in the workbench', () => {
  let wb: Workbench;
  before(async () => { wb = await openWorkbench({ theme: 'Default Dark Modern' }); });
  after(async () => { await wb?.close(); });

  it('opens a sample as a trace, overlays the token mask and shows it in dark and light themes', async () => {
    const { page } = wb;
    const sample = JSON.parse(fs.readFileSync(path.join(wb.folder, 'demo.dcd.jsonl'), 'utf8').split('\n')[1]) as { id: string; text: string; question: string };
    await runCommand(page, 'DCD: Open Sample as Trace');
    await pickQuickItem(page, `2. ${sample.question.slice(0, 30)}`);
    const tab = page.locator('.tabs-container .tab', { hasText: `${sample.id}.dcdtrace` }).first();
    await tab.waitFor({ state: 'visible', timeout: 60_000 });

    // The CodeLens on the first line: the verdict and the trained/total count, computed in the worker.
    const lens = page.locator('.contentWidgets .codelens-decoration').first();
    await page.waitForFunction(() => /Trained [\d,]+ \/ [\d,]+ tokens/.test(document.querySelector('.codelens-decoration')?.textContent ?? ''), undefined, { timeout: 90_000 });
    const lensText = await lens.innerText();
    assert.match(lensText, /Verdict: incorrect/);
    const core = await tokenizeTrace(sample.text);
    const n = (x: number) => x.toLocaleString('en-US');
    assert.ok(lensText.includes(`Trained ${n(core.trainedTokens)} / ${n(core.totalTokens)} tokens (paper)`), lensText);

    await runCommand(page, 'DCD: Toggle Token Mask');
    const status = page.locator('.statusbar-item', { hasText: 'trained' }).first();
    await status.waitFor({ state: 'visible', timeout: 60_000 });
    assert.match(await status.innerText(), new RegExp(`${n(core.trainedTokens)}/${n(core.labels.length)} trained`));
    await page.locator('.statusbar-item', { hasText: 'paper' }).first().waitFor({ state: 'visible' });
    // A draft-correct sample beside it: the two verdict colours side by side.
    const correct = JSON.parse(fs.readFileSync(path.join(wb.folder, 'demo.dcd.jsonl'), 'utf8').split('\n')[0]) as { id: string; question: string; verdict: string };
    assert.equal(correct.verdict, 'correct');
    await runCommand(page, 'View: Split Editor Right');
    await runCommand(page, 'DCD: Open Sample as Trace');
    await pickQuickItem(page, `1. ${correct.question.slice(0, 30)}`);
    await page.locator('.tabs-container .tab', { hasText: `${correct.id}.dcdtrace` }).first().waitFor({ state: 'visible', timeout: 60_000 });
    await page.waitForFunction(() => [...document.querySelectorAll('.codelens-decoration')].some((e) => /Verdict: correct/.test(e.textContent ?? '')), undefined, { timeout: 60_000 });
    // The verdict line carries the contributed colour; the overlay paints the lines behind the text.
    await page.keyboard.press('Escape');
    await page.waitForTimeout(1500);
    await screenshot(page, 'trace-overlay-dark');

    await runCommand(page, 'Preferences: Color Theme');
    await pickQuickItem(page, 'Light Modern');
    await page.waitForFunction(() => document.querySelector('.monaco-workbench')?.classList.contains('vs') ?? false, undefined, { timeout: 20_000 });
    await page.waitForTimeout(1500);
    await screenshot(page, 'trace-overlay-light');

    // A hover on the <|im_start|> that opens the think stage names the token.
    const think = page.locator('.view-line', { hasText: '<|im_start|>think' }).first();
    const box = await think.boundingBox();
    assert.ok(box, 'the think line is visible');
    await page.mouse.move(box.x + 12, box.y + box.height / 2);
    const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'Token' }).first();
    await hover.waitFor({ state: 'visible', timeout: 20_000 });
    const hoverText = await hover.innerText();
    assert.match(hoverText, /id 151644/);
    assert.match(hoverText, /trained/);
    await screenshot(page, 'trace-hover-light');
  });
});
