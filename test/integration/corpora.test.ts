import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import * as path from 'node:path';
import { activateExtension, waitFor, workspaceRoot } from './util';

describe('Corpora view', () => {
  it('lists the demo corpus with its counts', async () => {
    const api = await activateExtension();
    const list = await api.corpora.list();
    const demo = list.find((c) => path.basename(c.uri.fsPath) === 'demo.dcd.jsonl');
    assert.ok(demo, `demo.dcd.jsonl not listed; got ${list.map((c) => c.uri.fsPath).join(', ')}`);
    // Counts come from the file on disk: recount independently.
    const lines = (await vscode.workspace.fs.readFile(demo.uri)).toString().split('\n').filter((l) => l.trim());
    const verdicts = lines.map((l) => JSON.parse(l).verdict as string);
    assert.equal(demo.summary.samples, lines.length);
    assert.equal(demo.summary.draft_correct, verdicts.filter((v) => v === 'correct').length);
    assert.equal(demo.summary.draft_wrong, verdicts.filter((v) => v === 'incorrect').length);
    assert.ok(demo.summary.draft_correct > 0 && demo.summary.draft_wrong > 0);
    const children = await api.corpora.getChildren({ kind: 'file', corpus: demo });
    assert.equal(children.length, Math.min(lines.length, 200) + (lines.length > 200 ? 1 : 0));
    const item = api.corpora.getTreeItem({ kind: 'file', corpus: demo });
    assert.match(String(item.description), new RegExp(`${demo.summary.samples} samples`));
  });

  it('keeps malformed lines as error rows', async () => {
    const api = await activateExtension();
    const file = vscode.Uri.joinPath(workspaceRoot(), 'malformed-test.dcd.jsonl');
    const good = { id: 'x1', question: 'q', draft: 'd', draft_source: 'gemini', verdict: 'correct', chain: 'c', final_answer: 'a', text: 't' };
    await vscode.workspace.fs.writeFile(file, Buffer.from(`${JSON.stringify(good)}\n{"id": oops\n${JSON.stringify({ ...good, id: 'x2', verdict: 'incorrect' })}\n`));
    try {
      api.corpora.refresh();
      const corpus = await waitFor(async () => (await api.corpora.list()).find((c) => c.uri.fsPath === file.fsPath), 'the new corpus');
      assert.equal(corpus.summary.samples, 2);
      assert.equal(corpus.summary.malformed, 1);
      const rows = await api.corpora.getChildren({ kind: 'file', corpus });
      assert.deepEqual(rows.map((r) => r.kind), ['sample', 'malformed', 'sample']);
      const bad = api.corpora.getTreeItem(rows[1]);
      assert.match(String(bad.label), /line 2/);
    } finally {
      await vscode.workspace.fs.delete(file);
      api.corpora.refresh();
    }
  });

  it('shows a sample in a webview that answers the typed protocol', async () => {
    const api = await activateExtension();
    const demo = (await api.corpora.list()).find((c) => path.basename(c.uri.fsPath) === 'demo.dcd.jsonl')!;
    await vscode.commands.executeCommand('dcd.openCorpusSample', demo.uri, 1);
    const panel = await waitFor(() => api.samplePanel(), 'the sample panel');
    await panel.whenReady();
    const view = panel.view(1);
    const second = demo.rows.filter((r) => r.kind === 'value')[1];
    assert.equal(second.kind, 'value');
    if (second.kind === 'value') {
      assert.equal(view.id, second.value.id);
      assert.equal(view.text, second.value.text);
      assert.ok(view.regions.chain && view.regions.chain.end > view.regions.chain.start, 'the chain region is located');
    }
    assert.throws(() => panel.view(10_000), /No sample 10000/);
    panel.panel.dispose();
  });
});

describe('Build Corpus and Verify Answer commands', () => {
  it('builds a corpus from the demo inputs through the command and lists it', async () => {
    const api = await activateExtension();
    const root = workspaceRoot();
    const out = vscode.Uri.joinPath(root, 'built.dcd.jsonl');
    const result = await vscode.commands.executeCommand<{ summary: { samples: number; draft_correct: number; draft_wrong: number } }>('dcd.buildCorpus', {
      s1k: vscode.Uri.joinPath(root, 's1k-demo.jsonl'), drafts: vscode.Uri.joinPath(root, 'drafts-demo.jsonl'), out,
    });
    try {
      const written = (await vscode.workspace.fs.readFile(out)).toString().trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(result.summary.samples, written.length);
      // The same inputs built the committed demo corpus: the command reproduces it exactly.
      const demo = (await vscode.workspace.fs.readFile(vscode.Uri.joinPath(root, 'demo.dcd.jsonl'))).toString().trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(written.map((s) => s.id), demo.map((s) => s.id));
      api.corpora.refresh();
      const listed = await waitFor(async () => (await api.corpora.list()).find((c) => c.uri.fsPath === out.fsPath), 'the built corpus in the view');
      assert.equal(listed.summary.draft_wrong, result.summary.draft_wrong);
    } finally {
      await vscode.workspace.fs.delete(out);
    }
  });

  it('verifies an answer pair through the command', async () => {
    await activateExtension();
    const yes = await vscode.commands.executeCommand<{ equivalent: boolean; rule: string }>('dcd.verifyAnswer', { pred: 'so x = \\boxed{\\frac{1}{2}}', gold: '0.5' });
    assert.equal(yes.equivalent, true);
    const no = await vscode.commands.executeCommand<{ equivalent: boolean }>('dcd.verifyAnswer', { pred: '\\boxed{(3,4)}', gold: '(3,4]' });
    assert.equal(no.equivalent, false);
  });
});

describe('Audit Corpus Tokens', () => {
  it('audits the demo corpus in workers and shows the flags in the Corpora view', async () => {
    const api = await activateExtension();
    const demo = (await api.corpora.list()).find((c) => path.basename(c.uri.fsPath) === 'demo.dcd.jsonl')!;
    const result = await vscode.commands.executeCommand<{ samples: number; tokens: number; trained_tokens: number; flags: Record<string, number> }>('dcd.auditCorpusTokens', demo.uri);
    assert.equal(result.samples, demo.summary.samples);
    assert.ok(result.tokens > 1000 && result.trained_tokens > 0 && result.trained_tokens < result.tokens);
    const children = await api.corpora.getChildren({ kind: 'file', corpus: demo });
    assert.equal(children[0].kind, 'audit');
    const flags = await api.corpora.getChildren(children[0]);
    assert.deepEqual(flags.map((f) => (f as { flag: string }).flag), ['truncated', 'verdict_cut', 'answer_cut', 'zero_trained']);
    const item = api.corpora.getTreeItem(children[0]);
    assert.match(String(item.description), /% trained/);
  });
});

describe('Audit Corpus Tokens with a small max_length', () => {
  it('flags truncated samples and verdicts cut by truncation', async () => {
    const api = await activateExtension();
    const demo = (await api.corpora.list()).find((c) => path.basename(c.uri.fsPath) === 'demo.dcd.jsonl')!;
    const config = vscode.workspace.getConfiguration('dcd');
    await config.update('maxLength', 400, vscode.ConfigurationTarget.Workspace);
    try {
      const result = await vscode.commands.executeCommand<{ max_length: number; flags: Record<string, number>; flagged: { index: number; tokens: number; flags: string[] }[] }>('dcd.auditCorpusTokens', demo.uri);
      assert.equal(result.max_length, 400);
      assert.ok(result.flags.truncated > 0, 'the long AIME traces exceed 400 tokens');
      for (const f of result.flagged) if (f.flags.includes('truncated')) assert.ok(f.tokens > 400);
      assert.ok(result.flags.verdict_cut > 0 && result.flags.verdict_cut <= result.flags.truncated);
      const audit = (await api.corpora.getChildren({ kind: 'file', corpus: demo }))[0];
      const truncated = (await api.corpora.getChildren(audit))[0];
      const samples = await api.corpora.getChildren(truncated);
      assert.equal(samples.length, result.flags.truncated);
    } finally {
      await config.update('maxLength', undefined, vscode.ConfigurationTarget.Workspace);
    }
  });
});
