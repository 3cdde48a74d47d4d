/**
 * UI tests of the Corpus workbench: the packaged extension in
 * code-server, driven by headless Chromium like a person would: quick open,
 * the list, filters, search, keys, the side-by-side view, undo/redo and save;
 * a hostile sample must render inert. Screenshots land in
 * test-results/screenshots/ and the open-to-first-rows time in
 * test-results/workbench-timing.json.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { openWorkbench, runCommand, screenshot, SCREENSHOTS, type Workbench } from '../support/workbench';
import { renderTrace } from '../../src/core/trace/template';

const TIMING = path.join(SCREENSHOTS, '..', 'workbench-timing.json');

/** A sample whose question and draft carry HTML/script payloads and a KaTeX \href: all must show as text. */
function hostileCorpus(base: Record<string, unknown>): string {
  const question = `${String(base.question)} <img src=x onerror="document.body.dataset.pwned='img';window.top.__pwned=1"> <script>document.body.dataset.pwned='script'</script>`;
  const draft = `Draft with <b>bold</b> and $\\href{javascript:document.body.dataset.pwned='katex'}{click}$ and <svg onload="document.body.dataset.pwned='svg'"></svg>. The answer is 18.`;
  const sample = { ...base, id: 'hostile-1', question, draft, text: renderTrace({ question, draft, chain: String(base.chain), verdict: 'correct', final_answer: String(base.final_answer) }).text };
  return `${JSON.stringify(sample)}\n`;
}

/** Opens a workspace file through Quick Open (so the default editor for its name is used). */
async function quickOpen(page: Page, name: string): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(name);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ state: 'visible', timeout: 20_000 });
  await row.click();
}

/** The workbench webview frame of a file: the one whose title element names it. */
async function workbenchFrame(page: Page, fileName: string, timeoutMs = 60_000): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      try {
        if (await frame.$(`.wb-title:text-is("${fileName}")`)) return frame;
      } catch { /* navigated */ }
    }
    if (Date.now() > end) {
      await screenshot(page, `workbench-missing-${fileName}`);
      throw new Error(`No workbench webview for ${fileName}`);
    }
    await page.waitForTimeout(50);
  }
}

async function pickOption(frame: Frame, dropdownId: string, label: string): Promise<void> {
  await frame.locator(`#${dropdownId}`).click();
  await frame.locator(`#${dropdownId} vscode-option`, { hasText: label }).first().click();
}

describe('Corpus workbench (UI)', () => {
  let wb: Workbench;
  let frame: Frame;
  let demoLines: Record<string, unknown>[];
  before(async () => {
    wb = await openWorkbench();
    demoLines = fs.readFileSync(path.join(wb.folder, 'demo.dcd.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    fs.writeFileSync(path.join(wb.folder, 'hostile.dcd.jsonl'), hostileCorpus(demoLines[0]));
  });
  after(async () => { await wb?.close(); });

  it('opens demo.dcd.jsonl in the workbench and paints the first rows', async () => {
    const { page } = wb;
    // Wait until the extension is active (the Corpora view lists the demo corpus), so the timing is the editor's, not activation's.
    await page.locator('.activitybar [aria-label^="DCD Studio"]').first().click();
    await page.locator('.monaco-list-row', { hasText: 'demo.dcd.jsonl' }).first().waitFor({ state: 'visible', timeout: 90_000 });
    const t0 = Date.now();
    await quickOpen(page, 'demo.dcd.jsonl');
    frame = await workbenchFrame(page, 'demo.dcd.jsonl');
    await frame.waitForSelector('#viewport .wb-row[data-key]', { timeout: 60_000 });
    const ms = Date.now() - t0;
    await frame.waitForFunction(() => document.body.dataset.paintedMs !== undefined);
    const painted = await frame.locator('#viewport .wb-row[data-key]:not([hidden])').count();
    // The webview's own clock: from its navigation start to the first rows painted.
    const marks = await frame.evaluate(() => ({ script: Number(document.body.dataset.scriptMs), init: Number(document.body.dataset.initMs), painted: Number(document.body.dataset.paintedMs) }));
    fs.mkdirSync(path.dirname(TIMING), { recursive: true });
    fs.writeFileSync(TIMING, JSON.stringify({
      what: 'code-server: Quick Open Enter on demo.dcd.jsonl until the first list rows are in the webview DOM',
      corpus: { file: 'demo.dcd.jsonl', samples: demoLines.length }, open_to_first_rows_ms: ms, rows_painted: painted,
      webview_navigation_to_first_rows_ms: marks.painted,
      webview_navigation_to_script_start_ms: marks.script,
      webview_navigation_to_init_ms: marks.init,
      load_average: os.loadavg().map((x) => +x.toFixed(1)), cpus: os.cpus().length,
      measured_at: new Date().toISOString(),
    }, null, 2) + '\n');
    assert.ok(painted > 10, `${painted} rows painted`);
    const first = await frame.locator('#viewport .wb-row[data-pos="0"]').innerText();
    assert.ok(first.includes(String(demoLines[0].id)), first);
    await frame.waitForSelector('#stats-counts');
    assert.match(await frame.locator('#stats-counts').innerText(), new RegExp(`${demoLines.length} samples`));
    await frame.waitForSelector('body[data-tokens="done"]', { timeout: 90_000 });
    await frame.waitForSelector('#histogram .histo-bar');
    await screenshot(page, 'workbench-list-dark');
  });

  it('filters to draft-wrong samples and searches with a hit count', async () => {
    await pickOption(frame, 'filter-verdict', 'draft incorrect');
    const wrong = demoLines.filter((s) => s.verdict === 'incorrect');
    await frame.waitForSelector(`body[data-view-count="${wrong.length}"]`);
    await frame.locator('#search input').fill('ducks');
    const perSample = (s: Record<string, unknown>) => Object.entries(s).filter(([k, v]) => k !== 'text' && typeof v === 'string')
      .reduce((n, [, v]) => n + ((v as string).match(/ducks/gi)?.length ?? 0), 0);
    const hits = wrong.reduce((n, s) => n + perSample(s), 0);
    const rows = wrong.filter((s) => perSample(s) > 0).length;
    await frame.waitForSelector(`body[data-hits="${hits}"]`);
    assert.match(await frame.locator('#count').innerText(), new RegExp(`${rows} of ${demoLines.length} rows · ${hits} hits in ${rows} samples`));
    const ids = await frame.locator('#viewport .wb-row[data-key]:not([hidden])').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.id));
    assert.deepEqual(ids.sort(), wrong.filter((s) => perSample(s) > 0).map((s) => String(s.id)).sort());
    await screenshot(wb.page, 'workbench-filtered-dark');
  });

  it('opens a pair side by side and moves between questions with keys', async () => {
    await frame.locator('#viewport .wb-row[data-pos="0"]').click();
    await frame.locator('#viewport').press('c');
    await frame.waitForSelector('body[data-mode="pair"]');
    const chain = frame.locator('.pair-identical[data-stage="chain"]');
    await chain.waitFor();
    assert.equal(await frame.locator('.pair-stage-label:has(.badge.identical)').filter({ hasText: 'Chain' }).count(), 1, 'the chain is marked identical');
    assert.ok(await frame.locator('.pair-cell.left .diff-del').count() > 0, 'the draft diff marks removed words');
    assert.ok(await frame.locator('.pair-cell.right .diff-ins').count() > 0, 'and added words');
    assert.ok(await frame.locator('.pair-cell.right .answer-mark').count() > 0, 'the extracted answer is highlighted');
    const firstQuestion = await frame.evaluate(() => document.body.dataset.pair);
    await screenshot(wb.page, 'workbench-pair-dark');
    await frame.locator('body').press('n');
    await frame.waitForFunction((q) => document.body.dataset.pair !== q, firstQuestion);
    assert.match(await frame.locator('#pair h2').innerText(), /Question 2 of/);
    await frame.locator('body').press('p');
    await frame.waitForFunction((q) => document.body.dataset.pair === q, firstQuestion);
    await frame.locator('body').press('Escape');
    await frame.waitForSelector('body[data-mode="list"]');
  });

  it('accepts a sample with a key, undoes, redoes and saves it to disk', async () => {
    const { page } = wb;
    await frame.locator('#filter-reset').click();
    await frame.waitForSelector(`body[data-view-count="${demoLines.length}"]`);
    await frame.locator('#viewport .wb-row[data-pos="2"]').click();
    await frame.locator('#viewport').press('a');
    const row = frame.locator('#viewport .wb-row[data-pos="2"]');
    await frame.waitForSelector('#viewport .wb-row[data-pos="2"] .review-badge.review-accepted');
    await page.waitForSelector('.tab.active.dirty');
    await frame.locator('#viewport').press('Control+z');
    await frame.waitForSelector('#viewport .wb-row[data-pos="2"]:not(:has(.review-badge))');
    await frame.locator('#viewport').press('Control+Shift+z');
    await frame.waitForSelector('#viewport .wb-row[data-pos="2"] .review-badge.review-accepted');
    assert.match(await row.innerText(), /accepted/);
    await screenshot(page, 'workbench-accepted-dark');
    await frame.locator('#viewport').press('Control+s');
    await page.waitForSelector('.tab.active:not(.dirty)');
    const onDisk = fs.readFileSync(path.join(wb.folder, 'demo.dcd.jsonl'), 'utf8').split('\n');
    const saved = JSON.parse(onDisk[2]);
    assert.equal(saved.review.status, 'accepted');
    assert.equal(saved.id, demoLines[2].id);
    const { review: _r, ...rest } = saved;
    assert.deepEqual(rest, demoLines[2]);
    for (const i of [0, 1, 3, 4]) assert.deepEqual(JSON.parse(onDisk[i]), demoLines[i]);
    // The contributed keybinding (Alt+R) acts on the selected row too; undo brings back the saved state.
    await frame.locator('#viewport').press('Alt+r');
    await frame.waitForSelector('#viewport .wb-row[data-pos="2"] .review-badge.review-rejected');
    await page.waitForSelector('.tab.active.dirty');
    await frame.locator('#viewport').press('Control+z');
    await frame.waitForSelector('#viewport .wb-row[data-pos="2"] .review-badge.review-accepted');
    await page.waitForSelector('.tab.active:not(.dirty)');
    // A filter to find again after the editor is closed and reopened (workspaceState).
    await frame.locator('#search input').fill('Janet');
    await frame.waitForSelector('body[data-view-count="4"]');
  });

  it('renders a hostile sample inert, with its text shown literally', async () => {
    const { page } = wb;
    await quickOpen(page, 'hostile.dcd.jsonl');
    const hostile = await workbenchFrame(page, 'hostile.dcd.jsonl');
    await hostile.waitForSelector('#viewport .wb-row[data-key]');
    await hostile.locator('#viewport .wb-row[data-pos="0"]').dblclick();
    await hostile.waitForSelector('body[data-rendered="hostile-1"]');
    await hostile.waitForTimeout(500);
    const trace = await hostile.locator('#trace').innerText();
    assert.ok(trace.includes('<img src=x onerror="document.body.dataset.pwned=\'img\';window.top.__pwned=1">'), 'the img tag shows as text');
    assert.ok(trace.includes("<script>document.body.dataset.pwned='script'</script>"), 'the script tag shows as text');
    assert.ok(trace.includes('<svg onload='), 'the svg shows as text');
    assert.equal(await hostile.locator('#trace img, #trace script, #trace svg[onload], #trace b, a[href^="javascript"]').count(), 0, 'no element came from sample text');
    assert.equal(await hostile.evaluate(() => document.body.dataset.pwned ?? null), null, 'no payload ran in the webview');
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned ?? null), null, 'nor in the workbench');
    assert.ok(await hostile.locator('#trace .katex').count() > 0, 'KaTeX rendered the formula (as an error or inert text)');
    await screenshot(page, 'workbench-hostile-sample-dark');
  });

  it('shows the sample view with KaTeX and the mask overlay in the light theme', async () => {
    const { page } = wb;
    await runCommand(page, 'Preferences: Color Theme');
    await page.locator('.quick-input-widget input').fill('Light Modern');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Light Modern' }).first().waitFor();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.body.classList.contains('vs') || document.querySelector('.monaco-workbench.vs') !== null);
    // Close the demo editor: reopening it restores the filter from workspaceState.
    await page.locator('.tab', { hasText: 'demo.dcd.jsonl' }).first().hover();
    await page.locator('.tab', { hasText: 'demo.dcd.jsonl' }).first().locator('.codicon-close').click();
    await page.locator('.tab', { hasText: 'demo.dcd.jsonl' }).waitFor({ state: 'detached' });
    await quickOpen(page, 'demo.dcd.jsonl');
    const f = await workbenchFrame(page, 'demo.dcd.jsonl');
    await f.waitForSelector('#viewport .wb-row[data-key]');
    await f.waitForSelector('body[data-view-count="4"]');
    assert.equal(await f.locator('#search input').inputValue(), 'Janet', 'the search survived closing the editor');
    await f.locator('#filter-reset').click();
    await f.waitForSelector(`body[data-view-count="${demoLines.length}"]`);
    await screenshot(page, 'workbench-list-light');
    // The sample with the most inline formulas in its draft (an AIME solution).
    const dollars = (s: Record<string, unknown>) => (String(s.draft).match(/\$/g) ?? []).length;
    const aime = demoLines.reduce((best, s, i) => (dollars(s) > dollars(demoLines[best]) ? i : best), 0);
    await f.locator('#search input').fill(String(demoLines[aime].id));
    await f.waitForSelector('body[data-view-count="1"]');
    await f.locator('#viewport .wb-row[data-pos="0"]').dblclick();
    await f.waitForSelector(`body[data-rendered="${String(demoLines[aime].id)}"]`);
    await f.locator('#trace .math').first().scrollIntoViewIfNeeded();
    await f.waitForSelector('#trace .katex');
    await screenshot(page, 'workbench-sample-light');
    await f.locator('body').press('m');
    await f.waitForSelector('body[data-mask="shown"]', { timeout: 60_000 });
    assert.ok(await f.locator('#trace .tok.ignored').count() > 0, 'system and user tokens are shown masked');
    assert.ok(await f.locator('#trace .tok.trained').count() > 0, 'trained tokens are shown');
    await screenshot(page, 'workbench-mask-light');
    await f.locator('body').press('m');
    await f.locator('body').press('Escape');
    await f.locator('#filter-reset').click();
    await f.waitForSelector(`body[data-view-count="${demoLines.length}"]`);
    await f.locator('#viewport .wb-row[data-pos="1"]').click();
    await f.locator('#viewport').press('c');
    await f.waitForSelector('body[data-mode="pair"]');
    await f.waitForSelector('.pair-cell.right .diff-ins');
    await screenshot(page, 'workbench-pair-light');
  });
});
