/**
 * The Lineage view inside VS Code: the walkthrough's export button packs the
 * demo corpus into the workspace, a real job on the `local` host trains on it,
 * real lm-eval output gets its dcd_lineage.json; "Show Lineage" on the results
 * file resolves to demo.dcd.jsonl at its hash; editing one sample marks the
 * export, run, model and evaluation stale in the tree (warning icon, "stale",
 * a file decoration with the reason).
 */
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { JobRecord } from '../../src/core/jobs/store';
import { ancestorsOf, writeEvalLineage, type JsonNode } from '../../src/core/lineage';
import { activateExtension, EXTENSION_ID, waitFor, workspaceRoot } from './util';

const MODEL = 'builtin:tiny?hidden=16&layers=1&heads=2&kv=1&ffn=32';
const RESULTS = 'gemma3-12b-u1_tuned_gsm8k5shot';

describe('Lineage', function () {
  this.timeout(600_000);
  const config = () => vscode.workspace.getConfiguration('dcd');
  let previousPython: string | undefined;
  let corpus: string;
  let original: string;

  before(async () => {
    await activateExtension();
    previousPython = config().inspect<string>('pythonPath')?.globalValue;
    await config().update('pythonPath', '/usr/bin/python3', vscode.ConfigurationTarget.Global);
    corpus = path.join(workspaceRoot().fsPath, 'demo.dcd.jsonl');
    original = fs.readFileSync(corpus, 'utf8');
  });

  after(async () => {
    fs.writeFileSync(corpus, original);
    await config().update('pythonPath', previousPython, vscode.ConfigurationTarget.Global);
  });

  it('export → local run → evaluation: Show Lineage on a results file walks up to demo.dcd.jsonl at its hash; an edit marks them stale', async () => {
    const api = await activateExtension();
    const exportDir = await vscode.commands.executeCommand<string>('dcd.walkthrough.export');
    assert.equal(exportDir, path.join(workspaceRoot().fsPath, 'dcd-exports', 'demo-smoke'));
    const manifest = JSON.parse(fs.readFileSync(path.join(exportDir, 'manifest.json'), 'utf8')) as { lineage: { parents: Array<{ path: string; sha256: string }> } };
    assert.equal(manifest.lineage.parents[0].path, corpus);

    const rec = await vscode.commands.executeCommand<JobRecord | undefined>('dcd.trainOnHost', { exportDir, host: 'local', preset: 'smoke', model: MODEL, maxSteps: 2, showChart: false });
    assert.ok(rec?.remote);
    await api.remote.model.settled(rec.id);
    const done = (await api.remote.model.reload()).find((j) => j.id === rec.id)!;
    assert.equal(done.status, 'succeeded', done.error);
    const modelDir = path.join(rec.remote.jobDir, 'run', 'final');

    const evalDir = path.join(workspaceRoot().fsPath, 'dcd-evals', 'demo-gsm8k');
    fs.cpSync(vscode.Uri.joinPath(vscode.extensions.getExtension(EXTENSION_ID)!.extensionUri, 'test', 'fixtures', 'lmeval', RESULTS).fsPath, path.join(evalDir, RESULTS), { recursive: true });
    await writeEvalLineage(evalDir, { model: modelDir, tasks: ['gsm8k'], limit: 5, job: rec.id, host: 'local' });
    const resultsFile = path.join(evalDir, RESULTS, 'results_2025-09-09T13-31-53.431753.json');

    const shown = await vscode.commands.executeCommand<JsonNode>('dcd.lineage.reveal', resultsFile);
    assert.equal(shown.kind, 'eval');
    assert.equal(shown.stale, false);
    assert.equal(api.lineage.treeView.selection[0]?.id, evalDir, 'the tree selects the evaluation');
    const g = api.lineage.view.current()!;
    const chain = ancestorsOf(g, evalDir);
    assert.deepEqual(chain.map((n) => [n.kind, n.id]), [['model', modelDir], ['run', path.dirname(modelDir)], ['export', exportDir], ['corpus', corpus]]);
    assert.equal(chain[3].sha256, createHash('sha256').update(fs.readFileSync(corpus)).digest('hex'));
    // The tree: the corpus is a root, the chain hangs below it.
    const roots = await api.lineage.view.getChildren();
    const corpusNode = roots.find((n) => n.id === corpus)!;
    assert.ok(corpusNode);
    assert.ok((await api.lineage.view.getChildren(corpusNode)).some((n) => n.id === exportDir));
    assert.match(String(api.lineage.view.getTreeItem(corpusNode).description), /^corpus · [0-9a-f]{12}$/);

    // One sample edited after training.
    const lines = original.split('\n');
    const s = JSON.parse(lines[3]) as { text: string };
    s.text = s.text.replace('<|im_start|>think', '<|im_start|>think\nLet me check the units first.');
    lines[3] = JSON.stringify(s);
    fs.writeFileSync(corpus, lines.join('\n'));
    await vscode.commands.executeCommand('dcd.lineage.refresh');
    const after = api.lineage.view.current()!;
    for (const id of [exportDir, path.dirname(modelDir), modelDir, evalDir]) {
      const n = after.nodes.get(id)!;
      assert.equal(n.stale, true, `${n.kind} ${id} stale`);
      const item = api.lineage.view.getTreeItem(n);
      assert.match(String(item.description), / · stale$/);
      assert.equal((item.iconPath as vscode.ThemeIcon).id, 'warning');
      const deco = api.lineage.view.provideFileDecoration(vscode.Uri.file(id));
      assert.match(deco?.tooltip ?? '', /corpus demo\.dcd\.jsonl changed since .*1 sample edited \(line 4\)/);
    }
    assert.equal(after.nodes.get(corpus)!.stale, false);
    const again = await vscode.commands.executeCommand<JsonNode>('dcd.lineage.reveal', resultsFile);
    assert.match(again.reasons[0], /^upstream: corpus demo\.dcd\.jsonl changed since the export demo-smoke was made/);
    await waitFor(() => /stale/.test(api.lineage.treeView.message ?? ''), 'the view message to say stale');
  });
});
