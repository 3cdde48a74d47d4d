/**
 * Real lm-evaluation-harness on CPU, as the tests run it: the tiny random Qwen2 (hf backend, float32),
 * the offline benchmark data of test/fixtures/lmeval-data (Hub off), `--limit 2`, max_gen_toks 16, through
 * the jobs engine on the `local` host. Reports the wall time of each lm_eval call (one per benchmark, the
 * stock task and its dcd_ variant together) and of a bare `import lm_eval` (the fixed start-up cost).
 * Needs the project venv (.venv) with lm-eval.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JobEngine } from '../src/core/jobs/engine';
import { dispatchEval, followEval } from '../src/core/jobs/evalDispatch';
import { JobStore } from '../src/core/jobs/store';
import { createConnector } from '../src/core/remote/profiles';

const ROOT = path.resolve(__dirname, '..');
const PY = path.join(ROOT, '.venv', 'bin', 'python');
const BACKEND = path.join(ROOT, 'python-backend');

export async function run(): Promise<Record<string, unknown>> {
  if (!existsSync(PY)) return { skipped: 'no .venv' };
  const made = spawnSync(PY, ['-c', 'from tests.helpers import tiny_hf_model\nprint(tiny_hf_model())'], { cwd: BACKEND, encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  const model = made.stdout.trim().split('\n').at(-1)!;
  const t0 = Date.now();
  spawnSync(PY, ['-c', 'import lm_eval.evaluator, lm_eval.models.huggingface'], { encoding: 'utf8' });
  const importSeconds = (Date.now() - t0) / 1000;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-bench-lmeval-'));
  const engine = new JobEngine({
    store: new JobStore(path.join(tmp, 'jobs.json')), backendDir: BACKEND,
    connectorFor: (p) => createConnector(p, { hostKeyPolicy: async () => 'reject', trustStoreFile: path.join(tmp, 'trust') }),
  });
  try {
    const d = await dispatchEval(engine, { name: 'local', kind: 'local', python: PY, root: path.join(tmp, 'root') }, {
      model, benchmarks: ['aime24', 'gsm8k', 'gpqa_diamond_zeroshot'], dcd: true, backendDir: BACKEND,
      dataDir: path.join(ROOT, 'test', 'fixtures', 'lmeval-data'),
      settings: { limit: 2, maxGenToks: 16, batchSize: 1, backend: 'hf', dtype: 'float32' },
    });
    const calls: Record<string, number> = {};
    let last = Date.now();
    const done = await followEval(engine, d, [], {
      followOptions: { intervalMs: 250 },
      onDone: (job) => { calls[job.benchmark] = (Date.now() - last) / 1000; last = Date.now(); },
    });
    if (done.some((x) => x.status !== 'succeeded')) throw new Error(`lm_eval failed: ${JSON.stringify(done)}`);
    return {
      what: 'real lm_eval 0.4.13 calls on CPU (tiny Qwen2, hf, float32, --limit 2, max_gen_toks 16, offline data), seconds each incl. start-up',
      import_lm_eval_s: importSeconds,
      call_s: calls,
      total_s: (Date.now() - t0) / 1000,
    };
  } finally {
    await engine.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
