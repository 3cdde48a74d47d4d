/**
 * Evaluate Model with offline benchmark data inside VS Code: a data folder that lacks what the chosen
 * benchmarks need is refused with the missing files named, before any job exists or anything runs.
 * (The real lm-eval runs, offline, are in test/sshd/eval-real.test.ts.)
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JobEngine } from '../../src/core/jobs/engine';
import { JobStore } from '../../src/core/jobs/store';
import { createConnector, type LocalProfile } from '../../src/core/remote/profiles';
import { activateExtension } from './util';

describe('Evaluate Model with offline benchmark data', () => {
  it('a benchmark data folder without gsm8k/ is refused, naming the files it needs; no job is created', async () => {
    const api = await activateExtension();
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-eval-offline-it-'));
    try {
      const data = path.join(tmp, 'data');
      fs.mkdirSync(path.join(data, 'aime24'), { recursive: true });
      fs.writeFileSync(path.join(data, 'aime24', 'train.jsonl'), '{"ID": "2024-I-1", "Problem": "p", "Answer": 1}\n');
      const store = new JobStore(path.join(tmp, 'jobs.json'));
      const engine = new JobEngine({ store, connectorFor: (p) => createConnector(p, { hostKeyPolicy: async () => 'reject', trustStoreFile: path.join(tmp, 'trust') }) });
      const host: LocalProfile = { name: 'local', kind: 'local', python: '/usr/bin/python3', root: path.join(tmp, 'root') };
      const outcome = await api.eval.evaluate({ host, model: tmp, benchmarks: ['aime24', 'gsm8k'], dataDir: data, wait: true }, engine);
      assert.ok(outcome?.error, JSON.stringify(outcome));
      assert.match(outcome.error, /benchmark data dir .*data:/);
      assert.match(outcome.error, /gsm8k\/: missing: GSM8K needs gsm8k\/test\.jsonl and gsm8k\/train\.jsonl/);
      assert.deepEqual(await store.list(), []);
      assert.ok(!fs.existsSync(path.join(tmp, 'root')), 'nothing was written on the host');
      await engine.close();
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
