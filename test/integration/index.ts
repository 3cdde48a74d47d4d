/**
 * The in-VS Code test suite's entry: the @vscode/test-electron contract
 * (`run(): Promise<void>`), used both by code-server (scripts/vscode-tests.mjs)
 * and by @vscode/test-electron (npm run test:electron). Mocha's output goes to
 * process.stdout and a JSON report to $DCD_TEST_REPORT.
 */
import Mocha from 'mocha';
import * as fs from 'node:fs';
import { format } from 'node:util';

export async function run(): Promise<void> {
  // Reporter lines go to the extension host's stdout (the driver prints them), formatted here.
  Mocha.reporters.Base.consoleLog = (...args: unknown[]) => { process.stdout.write(format(...args) + '\n'); };
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000, reporter: 'spec' });
  const grep = process.env.DCD_TEST_GREP;
  if (grep) mocha.grep(grep);
  mocha.suite.emit('pre-require', globalThis, 'integration', mocha);
  // Test modules register their suites when loaded; esbuild bundles them into this file.
  await import('./activation.test');
  await import('./corpora.test');
  await import('./traces.test');
  await import('./failing.test');
  await import('./workbench.test');
  await import('./saveConflicts.test');
  await import('./eval.test');
  await import('./evalOffline.test');
  await import('./jobs.test');
  await import('./local.test');
  await import('./lineage.test');

  const results: { title: string; state: string; error?: string; duration?: number }[] = [];
  await new Promise<void>((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const report = process.env.DCD_TEST_REPORT;
      if (report) fs.writeFileSync(report, JSON.stringify({ failures, tests: results }, null, 2));
      if (failures > 0) reject(new Error(`${failures} in-VS Code test(s) failed`));
      else resolve();
    });
    runner.on('pass', (t) => results.push({ title: t.fullTitle(), state: 'passed', duration: t.duration }));
    runner.on('fail', (t, err) => results.push({ title: t.fullTitle(), state: 'failed', error: String(err?.message ?? err) }));
  });
}
