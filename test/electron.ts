/**
 * `npm run test:electron`: the same in-VS Code suite (out/test/integration/index.js)
 * under @vscode/test-electron, for machines that can download VS Code. CI runs the
 * suite in code-server instead (scripts/vscode-tests.mjs), since this machine cannot.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..', '..');
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-electron-'));
  fs.cpSync(path.join(root, 'media', 'demo'), workspace, { recursive: true });
  await runTests({
    version: process.env.DCD_VSCODE_VERSION ?? '1.100.3',
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(root, 'out', 'test', 'integration', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--skip-welcome', '--skip-release-notes'],
  });
}

main().catch((err) => { console.error(err); process.exit(1); });
