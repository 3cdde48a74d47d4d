// Runs the in-VS Code integration suite (out/test/integration/index.js) inside
// a real extension host: code-server 4.100.3 driven by headless Chromium.
// Exits with the suite's exit code (non-zero on any failing test, or on timeout).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './env.mjs';
import { makeProfile, startCodeServer, launchChromium, testWorkbenchUrl, tmpRoot } from './codeserver.mjs';
import { prepareDemoWorkspace } from './demo.mjs';

const TIMEOUT_MS = Number(process.env.DCD_VSCODE_TEST_TIMEOUT_MS || 10 * 60_000);

export async function runVsCodeTests({ extensionDevelopmentPath = ROOT, extraEnv = {} } = {}) {
  const root = tmpRoot('dcd-vscode-tests-');
  const profile = makeProfile(root);
  const folder = prepareDemoWorkspace(path.join(root, 'workspace'));
  const report = path.join(ROOT, 'test-results', 'vscode-tests.json');
  fs.mkdirSync(path.dirname(report), { recursive: true });
  fs.rmSync(report, { force: true });
  const server = await startCodeServer({
    profile, folder,
    env: { DCD_TEST_REPORT: report, ...extraEnv },
    log: (line) => { if (!/^\[.*\] (info|debug)/.test(line)) process.stdout.write(`${line}\n`); },
  });
  const browser = await launchChromium();
  let exitCode = 1;
  try {
    const page = await browser.newPage();
    const done = new Promise((resolve) => {
      page.exposeFunction('codeAutomationExit', (code) => resolve(Number(code)));
    });
    await page.exposeFunction('codeAutomationLog', (_level, msg) => process.stdout.write(`${msg}\n`));
    page.on('pageerror', (err) => process.stderr.write(`[page error] ${err.message}\n`));
    const url = testWorkbenchUrl(server.url, {
      folder,
      extensionDevelopmentPath,
      extensionTestsPath: path.join(ROOT, 'out', 'test', 'integration', 'index.js'),
    });
    await page.goto(url);
    const timeout = new Promise((resolve) => setTimeout(() => { process.stderr.write(`in-VS Code tests timed out after ${TIMEOUT_MS} ms\n`); resolve(124); }, TIMEOUT_MS).unref());
    exitCode = await Promise.race([done, timeout]);
  } finally {
    await browser.close().catch(() => {});
    await server.stop();
  }
  if (fs.existsSync(report)) {
    const r = JSON.parse(fs.readFileSync(report, 'utf8'));
    const passed = r.tests.filter((t) => t.state === 'passed').length;
    const failed = r.tests.filter((t) => t.state === 'failed').length;
    process.stdout.write(`in-VS Code tests: ${passed} passed, ${failed} failed\n`);
    if (failed && exitCode === 0) exitCode = 1;
  } else if (exitCode === 0) {
    process.stderr.write('in-VS Code tests wrote no report: treating as a failure\n');
    exitCode = 1;
  }
  return exitCode;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runVsCodeTests().then((code) => process.exit(code), (err) => { console.error(err); process.exit(1); });
}
