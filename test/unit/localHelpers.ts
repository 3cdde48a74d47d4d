/** Shared helpers of the local-model tests (not a test file itself). */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureTestModel } from '../support/testModel';

export const REPO = path.resolve(__dirname, '..', '..');
export const FIXTURES = path.join(REPO, 'test', 'fixtures', 'local');

/** The cached tiny random-weight Qwen2 model (fp32 + q8), built on first use (~10 s). */
export function tinyModel(): Promise<string> {
  return ensureTestModel({ shape: 'tiny', dtypes: ['q8'], repoRoot: REPO });
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'dcd-local-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Greedy, no repetition penalty: deterministic output for comparisons. */
export const GREEDY = { maxNewTokens: 16, temperature: 0, topP: 1, seed: 0, repetitionPenalty: 1 } as const;
