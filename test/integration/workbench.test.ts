import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, waitFor, workspaceRoot } from './util';
import { WorkbenchDocument } from '../../src/workbench/document';

const decoder = new TextDecoder();

async function readLines(uri: vscode.Uri): Promise<string[]> {
  return decoder.decode(await vscode.workspace.fs.readFile(uri)).split('\n').filter((l) => l.trim());
}

function activeTab(): vscode.Tab | undefined {
  return vscode.window.tabGroups.activeTabGroup.activeTab;
}

async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor').then(undefined, () => undefined);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

describe('Corpus workbench', () => {
  const demo = () => vscode.Uri.joinPath(workspaceRoot(), 'demo.dcd.jsonl');

  after(async () => { await closeAll(); });

  it('is the default editor of *.dcd.jsonl and paints its first rows', async () => {
    const api = await activateExtension();
    await vscode.commands.executeCommand('vscode.open', demo());
    const tab = await waitFor(() => {
      const t = activeTab();
      return t?.input instanceof vscode.TabInputCustom && t.input.uri.toString() === demo().toString() ? t : undefined;
    }, 'the workbench tab');
    assert.equal((tab.input as vscode.TabInputCustom).viewType, 'dcd.workbench');
    const panel = await waitFor(() => api.workbench.panels().find((p) => p.document.uri.toString() === demo().toString()), 'the workbench panel');
    await panel.whenPainted();
    assert.ok(panel.firstPaintMs !== undefined && panel.firstPaintMs > 0);
    await panel.document.loaded();
    const lines = await readLines(demo());
    const stats = panel.document.doc.stats();
    assert.equal(stats.samples, lines.length);
    assert.equal(stats.verdicts.incorrect, lines.filter((l) => JSON.parse(l).verdict === 'incorrect').length);
    assert.equal(stats.consistency.checked, lines.length);
  });

  it('filters to draft-wrong samples and searches with a hit count', async () => {
    const api = await activateExtension();
    const panel = await api.workbench.open(demo());
    const lines = (await readLines(demo())).map((l) => JSON.parse(l) as Record<string, unknown>);
    const wrong = await panel.setView({ filter: { verdict: 'incorrect' }, sort: null });
    assert.equal(wrong.count, lines.filter((s) => s.verdict === 'incorrect').length);
    assert.equal(wrong.total, lines.length);
    // Independent count of "ducks" over every field but the rendered text.
    const count = (s: Record<string, unknown>) => Object.entries(s).filter(([k, v]) => k !== 'text' && typeof v === 'string')
      .reduce((n, [, v]) => n + ((v as string).match(/ducks/gi)?.length ?? 0), 0);
    const found = await panel.setView({ filter: { verdict: 'incorrect', search: { text: 'Ducks' } }, sort: null });
    const expected = lines.filter((s) => s.verdict === 'incorrect');
    assert.equal(found.search?.occurrences, expected.reduce((n, s) => n + count(s), 0));
    assert.equal(found.count, expected.filter((s) => count(s) > 0).length);
    assert.ok(found.count > 0);
    await panel.setView({ filter: {}, sort: null });
  });

  it('opens a pair side by side through dcd.compareDrafts', async () => {
    const api = await activateExtension();
    const lines = (await readLines(demo())).map((l) => JSON.parse(l) as Record<string, unknown>);
    const pair = await vscode.commands.executeCommand<import('../../src/core/protocols/workbench').PairView>('dcd.compareDrafts', demo(), 1);
    assert.ok(pair);
    assert.equal(pair.right.id, lines[1].id);
    assert.equal(pair.left.verdict, 'correct');
    assert.equal(pair.left.id, lines.find((s) => s.s1k_index === lines[1].s1k_index && s.verdict === 'correct')!.id);
    const chain = pair.stages.find((s) => s.name === 'chain')!;
    assert.equal(chain.identical, true);
    assert.equal(chain.left, lines[1].chain);
    assert.equal(pair.stages.find((s) => s.name === 'draft')!.identical, false);
    // The trace editor's CodeLens form: one object with the corpus and the sample id.
    const byId = await vscode.commands.executeCommand<typeof pair>('dcd.compareDrafts', { corpus: demo(), id: lines[2].id, index: 2 });
    assert.equal(byId.right.id, lines[2].id);
    const panel = api.workbench.panels().find((p) => p.document.uri.toString() === demo().toString())!;
    assert.equal(panel.mode, 'pair');
    assert.equal(panel.selectedKey, byId.right.key);
  });

  it('accepts a sample, undoes, redoes and saves it to disk', async () => {
    const api = await activateExtension();
    const panel = await api.workbench.open(demo());
    const before = decoder.decode(await vscode.workspace.fs.readFile(demo()));
    const doc = panel.document.doc;
    const target = doc.rows()[3];
    panel.selectedKey = target.key;
    const r = await vscode.commands.executeCommand<{ changed: number }>('dcd.workbench.accept');
    assert.equal(r.changed, 1);
    assert.equal(doc.summary(doc.entryByKey(target.key)!).review, 'accepted');
    await waitFor(() => activeTab()?.isDirty, 'the dirty marker');
    await vscode.commands.executeCommand('undo');
    await waitFor(() => doc.summary(doc.entryByKey(target.key)!).review === 'unreviewed', 'undo');
    await waitFor(() => activeTab()?.isDirty === false, 'clean after undo');
    await vscode.commands.executeCommand('redo');
    await waitFor(() => doc.summary(doc.entryByKey(target.key)!).review === 'accepted', 'redo');
    await vscode.commands.executeCommand('workbench.action.files.save');
    await waitFor(() => activeTab()?.isDirty === false, 'clean after save');
    const after = decoder.decode(await vscode.workspace.fs.readFile(demo()));
    const a = before.split('\n'), b = after.split('\n');
    assert.equal(b.length, a.length);
    for (let i = 0; i < a.length; i++) if (i !== 3) assert.equal(b[i], a[i], `line ${i + 1} is unchanged on disk`);
    const saved = JSON.parse(b[3]);
    assert.equal(saved.review.status, 'accepted');
    assert.ok(Date.parse(saved.review.at) > 0);
    const { review: _r, ...rest } = saved;
    assert.deepEqual(rest, JSON.parse(a[3]));
    // Put the demo file back for the other suites: the clean document follows the change on disk.
    await vscode.workspace.fs.writeFile(demo(), new TextEncoder().encode(before));
    await waitFor(() => panel.document.doc !== doc || undefined, 'the reload after the change on disk');
    await panel.document.loaded();
    assert.equal(panel.document.doc.summary(panel.document.doc.rows()[3]).review, 'unreviewed');
  });

  it('round-trips a file with a malformed line byte for byte, apart from the edited line', async () => {
    const api = await activateExtension();
    const lines = await readLines(demo());
    const file = vscode.Uri.joinPath(workspaceRoot(), 'malformed-wb.dcd.jsonl');
    const original = `${lines[0]}\n{"id": "broken", oops\n\n${lines[1]}\r\n${lines[2]}\n${lines[4]}`;
    await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(original));
    try {
      const panel = await api.workbench.open(file);
      await panel.document.loaded();
      const doc = panel.document.doc;
      assert.deepEqual(doc.rows().map((e) => doc.summary(e).kind), ['sample', 'error', 'sample', 'sample', 'sample']);
      const rows = await panel.setView({ filter: { flags: ['malformed'] }, sort: null });
      assert.equal(rows.count, 1);
      const target = doc.rows()[3];
      const r = await panel.curate('reject', [target.key], undefined);
      assert.equal(r.changed, 1);
      const flagged = await panel.curate('flag', [doc.rows()[2].key], 'draft answer <b>wrong</b> "quoted"');
      assert.equal(flagged.changed, 1);
      await vscode.commands.executeCommand('workbench.action.files.save');
      await waitFor(() => !panel.document.isDirty, 'the save');
      const saved = decoder.decode(await vscode.workspace.fs.readFile(file));
      const o = original.split('\n'), s = saved.split('\n');
      assert.equal(s.length, o.length);
      assert.equal(s[0], o[0]);
      assert.equal(s[1], o[1], 'the malformed line is written back unchanged');
      assert.equal(s[2], o[2]);
      assert.ok(s[3].endsWith('\r'), 'the CRLF line keeps its terminator');
      assert.equal(JSON.parse(s[3]).review.status, 'flagged');
      assert.equal(JSON.parse(s[3]).review.note, 'draft answer <b>wrong</b> "quoted"');
      assert.equal(JSON.parse(s[4]).review.status, 'rejected');
      assert.equal(s[5], o[5], 'the last line, without a final newline, is unchanged');
      assert.ok(!saved.endsWith('\n'));
      // Hot exit: a backup restores the unsaved state byte for byte.
      await panel.curate('duplicate', [doc.rows()[0].key]);
      const backup = vscode.Uri.joinPath(workspaceRoot(), '.wb-backup.jsonl');
      const b = await panel.document.backup(backup);
      const restored = await WorkbenchDocument.create(file, b.id);
      assert.ok(Buffer.from(restored.doc.serialize()).equals(Buffer.from(panel.document.doc.serialize())));
      assert.equal(restored.doc.rows().length, 6);
      restored.dispose();
      b.delete();
    } finally {
      await closeAll();
      await vscode.workspace.fs.delete(file).then(undefined, () => undefined);
    }
  });

  it('fills token columns in the background', async () => {
    const api = await activateExtension();
    const panel = await api.workbench.open(demo());
    await waitFor(() => panel.document.tokenProgress.finished || undefined, 'token columns', 90_000);
    assert.equal(panel.document.tokenProgress.error, undefined);
    const doc = panel.document.doc;
    const first = doc.rows()[0];
    const t = doc.tokensOf(first.key);
    assert.ok(t && t.tokens > 100 && t.trained > 0 && t.trained < t.tokens, JSON.stringify(t));
    const stats = doc.stats();
    assert.equal(stats.tokens.done, stats.samples);
    assert.ok(stats.tokens.histogram && stats.tokens.histogram.counts.reduce((a, b) => a + b, 0) === stats.samples);
    const sorted = await panel.setView({ filter: { tokenMin: t.tokens, tokenMax: t.tokens }, sort: null });
    assert.ok(sorted.count >= 1);
    await panel.setView({ filter: {}, sort: null });
  });
});
