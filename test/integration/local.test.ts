/**
 * Local ONNX drafting in the dev extension host, on the tiny random-weight
 * test model (built and cached by test/support/testModel.ts).
 */
import * as assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LocalModelClient, workerEntry } from '../../src/core/drafting/client';
import { studentPrompt } from '../../src/core/drafting/prompts';
import { ensureTestModel } from '../support/testModel';
import type { BatchSummary } from '../../src/core/drafting/batch';
import type { GenerateDraftResult } from '../../src/drafting';
import type { DcdStudioApi } from '../../src/extension';
import { activateExtension, EXTENSION_ID, workspaceRoot } from './util';

const QUESTION = 'What is 7 times 6?';
const PARAMS = { maxNewTokens: 24, temperature: 0.8, topP: 0.95, seed: 7 };

describe('Local model drafting', function () {
  this.timeout(240_000);
  let api: DcdStudioApi;
  let model: string;
  const config = () => vscode.workspace.getConfiguration('dcd');
  const set = (key: string, value: unknown) => config().update(key, value, vscode.ConfigurationTarget.Global);

  before(async () => {
    api = await activateExtension();
    model = await ensureTestModel();
    await set('local.modelPath', model);
    await set('local.dtype', 'fp32');
    await set('local.maxNewTokens', PARAMS.maxNewTokens);
    await set('local.temperature', PARAMS.temperature);
    await set('local.topP', PARAMS.topP);
    await set('local.seed', PARAMS.seed);
  });

  after(async () => {
    for (const k of ['modelPath', 'dtype', 'maxNewTokens', 'temperature', 'topP', 'seed']) await set(`local.${k}`, undefined);
    await api.local.models.disposeAll();
  });

  it('streams a draft into an untitled editor that equals the core client output for the same seed', async () => {
    const r = await vscode.commands.executeCommand<GenerateDraftResult>('dcd.local.generateDraft', { question: QUESTION });
    assert.ok(r, 'the command returned a result');
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === r.uri.toString());
    assert.ok(doc, 'the draft document is open');
    assert.equal(doc.isUntitled, true);
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), doc.uri.toString());
    assert.ok(r.tokens > 0);

    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const client = await LocalModelClient.start(model, { dtype: 'fp32', worker: workerEntry(path.join(ext.extensionPath, 'out', 'local-worker.js')) });
    try {
      const expected = await client.generate(studentPrompt(QUESTION), PARAMS);
      assert.ok(expected.text.length > 0, 'the tiny model produced text');
      assert.equal(doc.getText(), expected.text);
      assert.equal(r.text, expected.text);
    } finally {
      await client.dispose();
    }

    // One session per model folder, reused: a second draft starts no second worker.
    assert.equal(api.local.models.size, 1);
    const again = await vscode.commands.executeCommand<GenerateDraftResult>('dcd.local.generateDraft', { question: QUESTION });
    assert.equal(again.text, r.text, 'same seed, same draft');
    assert.equal(api.local.models.size, 1);
  });

  it('drafts every question of an s1K file, verified at once, and resumes', async () => {
    await set('local.maxNewTokens', 6);
    const questions = vscode.Uri.joinPath(workspaceRoot(), 's1k-demo.jsonl');
    const out = vscode.Uri.joinPath(workspaceRoot(), 'local-test.drafts.jsonl');
    await fs.rm(out.fsPath, { force: true });
    try {
      const s = await vscode.commands.executeCommand<BatchSummary>('dcd.local.generateDrafts', { questions, n: 2, out });
      const rows = (await fs.readFile(questions.fsPath, 'utf8')).split('\n').filter((l) => l.trim()).length;
      assert.equal(s.total, rows * 2);
      assert.equal(s.written, rows * 2);
      assert.equal(s.cancelled, false);
      const lines = (await fs.readFile(out.fsPath, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines.length, rows * 2);
      for (const d of lines) {
        assert.equal(typeof d.question, 'string');
        assert.equal(typeof d.draft, 'string');
        assert.ok(d.verified && typeof d.verified.rule === 'string', `draft of row ${d.row} is verified`);
        assert.ok(d.tokens <= 6);
      }
      assert.equal(s.verified.correct + s.verified.wrong + s.verified.undecided, rows * 2);

      const again = await vscode.commands.executeCommand<BatchSummary>('dcd.local.generateDrafts', { questions, n: 2, out });
      assert.equal(again.written, 0);
      assert.equal(again.skipped, rows * 2);
      assert.equal((await fs.readFile(out.fsPath, 'utf8')).trim().split('\n').length, rows * 2);
    } finally {
      await fs.rm(out.fsPath, { force: true });
      await set('local.maxNewTokens', PARAMS.maxNewTokens);
    }
  });

  it('names what a bad model folder lacks, and a setting change disposes the session', async () => {
    assert.ok(api.local.models.size >= 1);
    const bad = await fs.mkdtemp(path.join(os.tmpdir(), 'dcd-bad-model-'));
    try {
      await set('local.modelPath', bad);
      await waitUntil(() => api.local.models.size === 0, 'the old session to be disposed');
      await assert.rejects(
        Promise.resolve(vscode.commands.executeCommand('dcd.local.generateDraft', { question: QUESTION })),
        /config\.json/,
      );
    } finally {
      await set('local.modelPath', model);
      await fs.rm(bad, { recursive: true, force: true });
    }
  });

  it('fails a download cleanly when the Hub is unreachable, leaving no folder', async () => {
    await assert.rejects(
      Promise.resolve(vscode.commands.executeCommand('dcd.local.downloadModel', { id: 'onnx-community/dcd-test-absent', dtype: 'q4', endpoint: 'http://127.0.0.1:9' })),
      (err: Error) => /unreachable|offline|connect|network/i.test(err.message),
    );
    const root = api.local.storageRoot();
    assert.equal(existsSync(path.join(root, 'onnx-community', 'dcd-test-absent')), false);
    const leftovers = existsSync(path.join(root, 'onnx-community')) ? await fs.readdir(path.join(root, 'onnx-community')) : [];
    assert.deepEqual(leftovers.filter((n) => n.includes('dcd-test-absent')), []);
  });
});

async function waitUntil(probe: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
