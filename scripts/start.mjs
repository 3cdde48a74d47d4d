// `npm start`: on a fresh machine, installs what is missing (the project venv too), builds,
// packages the VSIX, installs it into code-server with the demo workspace, and prints the URL.
// Runs until interrupted. DCD_PORT (default 8080) picks the port; DCD_START_CHECK=1
// starts, checks that the workbench answers, and exits (used by the tests of this script).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, CACHE } from './env.mjs';
import { bootstrap } from './bootstrap.mjs';
import { ensurePythonEnv } from './python-env.mjs';
import { packageVsix } from './package.mjs';
import { makeProfile, installVsix, startCodeServer } from './codeserver.mjs';
import { prepareDemoWorkspace } from './demo.mjs';

const log = (m) => process.stderr.write(`[start] ${m}\n`);

async function main() {
  const t0 = Date.now();
  bootstrap();
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--production'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) process.exit(1);
  const vsix = packageVsix({ skipBuild: true });
  log(`packaged ${path.relative(ROOT, vsix)}`);
  const profileRoot = path.join(CACHE, 'start-profile');
  // Train on Host with the `local` profile runs the backend with the project venv's real torch and transformers.
  const profile = makeProfile(profileRoot, { 'dcd.pythonPath': ensurePythonEnv() });
  await installVsix(profile, vsix);
  const workspace = path.join(CACHE, 'demo-workspace');
  if (!fs.existsSync(path.join(workspace, 'demo.dcd.jsonl'))) prepareDemoWorkspace(workspace);
  const port = Number(process.env.DCD_PORT || 8080);
  const server = await startCodeServer({ profile, folder: workspace, port, log: (l) => { if (/error/i.test(l)) log(l); } });
  const url = `${server.url}?folder=${encodeURIComponent(workspace)}`;
  log(`ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  process.stdout.write(`\nDCD Studio is running in VS Code (code-server) with the demo corpus:\n\n  ${url}\n\nPress Ctrl+C to stop.\n`);
  if (process.env.DCD_START_CHECK === '1') {
    const res = await fetch(url);
    const ok = res.ok && (await res.text()).includes('workbench');
    await server.stop();
    process.exit(ok ? 0 : 1);
  }
  const stop = async () => { await server.stop(); process.exit(0); };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err) => { console.error(err); process.exit(1); });
