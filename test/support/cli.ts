/** Runs the `dcd` CLI from its TypeScript sources (the same code esbuild bundles into out/cli.js). */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';

export const REPO = path.join(__dirname, '..', '..');

export function dcd(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'cli', 'index.ts'), ...args], {
    cwd: REPO, encoding: 'utf8', input: opts.input, env: { ...process.env, ...opts.env }, maxBuffer: 256 * 1024 * 1024,
  });
}
