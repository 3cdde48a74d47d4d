/**
 * Playwright helpers for the UI tests: a code-server with the packaged VSIX
 * installed and the demo workspace open, driven by headless Debian Chromium.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
// @ts-expect-error plain ESM scripts without type declarations
import { makeProfile, startCodeServer, launchChromium, installVsix, waitForWorkbench, tmpRoot } from '../../scripts/codeserver.mjs';
// @ts-expect-error plain ESM scripts without type declarations
import { prepareDemoWorkspace } from '../../scripts/demo.mjs';
// @ts-expect-error plain ESM scripts without type declarations
import { ROOT } from '../../scripts/env.mjs';

export const SCREENSHOTS = path.join(ROOT as string, 'test-results', 'screenshots');

export interface Workbench {
  page: Page;
  browser: Browser;
  folder: string;
  url: string;
  close(): Promise<void>;
}

/** The VSIX under test: $DCD_VSIX (set by scripts/test.mjs after `npm run package`). */
export function vsixUnderTest(): string {
  const vsix = process.env.DCD_VSIX;
  if (!vsix || !fs.existsSync(vsix)) throw new Error('Set DCD_VSIX to a packaged VSIX (scripts/test.mjs does this).');
  return vsix;
}

export async function openWorkbench(opts: { theme?: 'Default Dark Modern' | 'Default Light Modern'; settings?: Record<string, unknown> } = {}): Promise<Workbench> {
  const root: string = tmpRoot('dcd-ui-');
  const profile = makeProfile(root, { 'workbench.colorTheme': opts.theme ?? 'Default Dark Modern', ...opts.settings });
  await installVsix(profile, vsixUnderTest());
  const folder: string = prepareDemoWorkspace(path.join(root, 'workspace'));
  const server = await startCodeServer({ profile, folder });
  const browser: Browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${server.url}?folder=${encodeURIComponent(folder)}`);
  await waitForWorkbench(page);
  return {
    page, browser, folder, url: server.url,
    close: async () => { await browser.close().catch(() => {}); await server.stop(); fs.rmSync(root, { recursive: true, force: true }); },
  };
}

/** Runs a command from the palette by its title, retrying until the extension host has registered it. */
export async function runCommand(page: Page, title: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 3_000 });
      await row.click();
      return;
    } catch (err) {
      if (Date.now() > end) throw new Error(`Command "${title}" never appeared in the palette: ${(err as Error).message}`);
      await page.waitForTimeout(1000);
    }
  }
}

/** Picks an item of an open quick pick by its label text. */
export async function pickQuickItem(page: Page, label: string): Promise<void> {
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ state: 'visible', timeout: 20_000 });
  await row.click();
}

/** The webview frame (nested iframes) that holds `selector`. */
export async function findWebviewFrame(page: Page, selector: string, timeoutMs = 30_000): Promise<Frame> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      try {
        if (await frame.$(selector)) return frame;
      } catch { /* frame navigated away */ }
    }
    if (Date.now() > end) throw new Error(`No webview frame holds ${selector}`);
    await page.waitForTimeout(250);
  }
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
