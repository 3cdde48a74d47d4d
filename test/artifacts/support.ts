/** Helpers of the artifact tests: run a shipped program as a user would, read what it wrote. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TERMINAL_STATUSES, type JobStatus } from '../../src/core/jobs/status';

export const REPO = path.resolve(__dirname, '..', '..');

/** Runs an executable artifact (no tsx, no sources) and returns its output. */
export function runArtifact(file: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): SpawnSyncReturns<string> {
  return spawnSync(file, args, {
    cwd: opts.cwd ?? path.dirname(file), encoding: 'utf8', maxBuffer: 256 << 20, timeout: 300_000,
    env: { ...process.env, ...opts.env },
  });
}

export function readJsonLines(file: string): Record<string, unknown>[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** The project venv's interpreter (scripts/python-env.mjs), which `npm test` creates before this layer. */
export function venvPython(): string {
  const py = process.env.DCD_VENV_PYTHON ?? path.join(REPO, '.venv', 'bin', 'python');
  if (!fs.existsSync(py)) throw new Error(`${py} is missing: run the tests through npm test (it creates the venv)`);
  return py;
}

/** Polls a job's status until it is terminal. */
export async function waitForJob(status: () => { status: JobStatus }, timeoutMs: number): Promise<Record<string, unknown> & { status: JobStatus }> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = status();
    if (TERMINAL_STATUSES.includes(s.status)) return s;
    if (Date.now() > end) throw new Error(`job still ${s.status} after ${timeoutMs} ms`);
    await sleep(500);
  }
}
