/** Runs the `dcd` CLI from its TypeScript sources (the same code esbuild bundles into out/cli.js). */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as path from 'node:path';

export const REPO = path.join(__dirname, '..', '..');

export function dcd(args: string[], opts: { input?: string; env?: Record<string, string> } = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'cli', 'index.ts'), ...args], {
    cwd: REPO, encoding: 'utf8', input: opts.input, env: { ...process.env, ...opts.env }, maxBuffer: 256 * 1024 * 1024,
  });
}

export interface CliRun { status: number; stdout: string; stderr: string }

/**
 * Runs many `dcd` invocations in one process (the same `main` the binary
 * calls), capturing each one's output and exit code: a table of a hundred
 * runs then costs one start of the TypeScript loader instead of a hundred.
 */
export function dcdMany(runs: string[][]): CliRun[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'test', 'support', 'cliBatch.ts')], {
    cwd: REPO, encoding: 'utf8', input: JSON.stringify(runs), maxBuffer: 256 * 1024 * 1024,
  });
  if (r.status !== 0) throw new Error(`cli batch failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as CliRun[];
}
