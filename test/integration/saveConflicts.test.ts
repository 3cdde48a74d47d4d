import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { activateExtension, waitFor, workspaceRoot } from './util';
import type { ConflictChoice, ConflictPrompt } from '../../src/workbench/conflict';
import type { WorkbenchPanel } from '../../src/workbench/panel';
import { parseTrace } from '../../src/core/trace/template';

async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor').then(undefined, () => undefined);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

const linesOf = (file: vscode.Uri): Record<string, unknown>[] =>
  fs.readFileSync(file.fsPath, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);
const writeLines = (file: vscode.Uri, lines: Record<string, unknown>[]): void =>
  fs.writeFileSync(file.fsPath, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

/** The sample of a workbench row, as the document now holds it. */
const rowSample = (panel: WorkbenchPanel, i: number): Record<string, unknown> => {
  const doc = panel.document.doc;
  return doc.parsed(doc.rows()[i])!;
};

/** Saves the corpus through VS Code's own Save on the workbench editor. */
async function saveWorkbench(panel: WorkbenchPanel): Promise<void> {
  panel.panel.reveal();
  await waitFor(() => {
    const tab = vscode.window.tabGroups.activeTabGroup.activeTab;
    return (tab?.input instanceof vscode.TabInputCustom && tab.input.uri.toString() === panel.document.uri.toString()) || undefined;
  }, 'the workbench editor to be active');
  await vscode.commands.executeCommand('workbench.action.files.save');
}

/** Saves a trace document and closes its editor (the workbench is active again). */
async function saveTrace(doc: vscode.TextDocument): Promise<void> {
  await vscode.window.showTextDocument(doc);
  assert.ok(await doc.save(), 'the trace save succeeds');
  await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
}

/** Replaces the chain of a trace document and returns the new chain. */
async function editChain(doc: vscode.TextDocument, extra: string): Promise<string> {
  const { rendered, fields } = parseTrace(doc.getText());
  const chain = `${fields.chain}\n${extra}`;
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, new vscode.Range(doc.positionAt(rendered.regions.chain.start), doc.positionAt(rendered.regions.chain.end)), chain);
  assert.ok(await vscode.workspace.applyEdit(edit));
  return chain;
}

describe('Corpus saves never write over a change they did not read', () => {
  const created: vscode.Uri[] = [];
  const asked: string[] = [];
  let answer: ConflictChoice | undefined;
  let demo: Buffer;
  let modal: ConflictPrompt;

  before(async () => {
    const api = await activateExtension();
    demo = fs.readFileSync(vscode.Uri.joinPath(workspaceRoot(), 'demo.dcd.jsonl').fsPath);
    modal = api.workbench.conflictPrompt;
    api.workbench.conflictPrompt = async (document) => { asked.push(document.uri.path); return answer; };
  });

  beforeEach(() => { asked.length = 0; answer = undefined; });

  after(async () => {
    const api = await activateExtension();
    await closeAll();
    for (const u of created) fs.rmSync(u.fsPath, { force: true });
    api.workbench.conflictPrompt = modal;
  });

  const copyOfDemo = (name: string): vscode.Uri => {
    const file = vscode.Uri.joinPath(workspaceRoot(), name);
    fs.writeFileSync(file.fsPath, demo);
    created.push(file);
    return file;
  };

  it('a dirty workbench whose file changed on disk asks at save: cancel and compare write nothing, overwrite and reload do what they say', async () => {
    const api = await activateExtension();
    const file = copyOfDemo('conflict-wb.dcd.jsonl');
    const panel = await api.workbench.open(file);
    await panel.document.loaded();
    const doc = panel.document;
    assert.equal((await panel.curate('accept', [doc.doc.rows()[0].key])).changed, 1);
    assert.ok(doc.isDirty);

    // `git pull` / `dcd build` under the open editor.
    const external = linesOf(file);
    external[2] = { ...external[2], chain: `${String(external[2].chain)}\nPulled from upstream.` };
    writeLines(file, external);
    const onDisk = fs.readFileSync(file.fsPath, 'utf8');

    await saveWorkbench(panel);
    await waitFor(() => asked.length === 1 || undefined, 'the conflict prompt', 10_000);
    assert.equal(fs.readFileSync(file.fsPath, 'utf8'), onDisk, 'a cancelled save writes nothing');
    assert.ok(doc.isDirty, 'the unsaved edit is kept');

    answer = 'compare';
    await saveWorkbench(panel);
    await waitFor(() => asked.length === 2 || undefined, 'the second prompt', 10_000);
    const diff = await waitFor(() => vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => t.input)
      .find((i): i is vscode.TabInputTextDiff => i instanceof vscode.TabInputTextDiff && i.original.scheme === 'dcd-workbench-compare'), 'the compare diff');
    const left = await vscode.workspace.openTextDocument(diff.original);
    const right = await vscode.workspace.openTextDocument(diff.modified);
    assert.equal(left.getText(), onDisk, 'the left side is the file on disk');
    assert.equal(right.getText(), Buffer.from(doc.doc.serialize()).toString('utf8'), 'the right side is the unsaved content');
    assert.equal(fs.readFileSync(file.fsPath, 'utf8'), onDisk, 'compare saves nothing');
    assert.ok(doc.isDirty);

    answer = 'overwrite';
    await saveWorkbench(panel);
    await waitFor(() => !doc.isDirty || undefined, 'the overwrite', 10_000);
    const saved = linesOf(file);
    assert.equal((saved[0].review as { status: string }).status, 'accepted');
    assert.doesNotMatch(String(saved[2].chain), /Pulled from upstream/, 'overwrite replaces the change it was asked about');

    // Reload drops the unsaved edit and shows the file on disk.
    assert.equal((await panel.curate('reject', [doc.doc.rows()[1].key])).changed, 1);
    writeLines(file, external);
    answer = 'reload';
    asked.length = 0;
    await saveWorkbench(panel);
    await waitFor(() => asked.length === 1 || undefined, 'the reload prompt', 10_000);
    await waitFor(() => (!doc.isDirty && /Pulled from upstream/.test(String(rowSample(panel, 2).chain))) || undefined, 'the reload');
    assert.equal(doc.doc.summary(doc.doc.rows()[1]).review, 'unreviewed');
    assert.equal(fs.readFileSync(file.fsPath, 'utf8'), onDisk);
    await closeAll();
  });

  it('trace saves and workbench saves of one corpus keep each other\'s edits', async () => {
    const api = await activateExtension();
    const file = copyOfDemo('shared-wb.dcd.jsonl');
    const ids = linesOf(file).map((s) => s.id as string);
    const panel = await api.workbench.open(file);
    await panel.document.loaded();
    const doc = panel.document;

    // A clean workbench follows a trace save.
    const t1 = (await api.traces.open(file, ids[1])).document;
    const chain1 = await editChain(t1, 'Checked in the trace editor.');
    await saveTrace(t1);
    await waitFor(() => rowSample(panel, 1).chain === chain1 || undefined, 'the workbench to reload the trace save');
    assert.ok(!doc.isDirty);

    // A dirty workbench: the trace save is a conflict at the workbench save, never overwritten.
    assert.equal((await panel.curate('accept', [doc.doc.rows()[3].key])).changed, 1);
    const t2 = (await api.traces.open(file, ids[2])).document;
    const chain2 = await editChain(t2, 'Second trace edit.');
    await saveTrace(t2);
    assert.ok(doc.isDirty);
    answer = 'reload';
    await saveWorkbench(panel);
    await waitFor(() => asked.length === 1 || undefined, 'the conflict prompt', 10_000).catch((err: Error) => {
      throw new Error(`${err.message} (dirty: ${doc.isDirty}; on disk, the trace edit: ${linesOf(file)[2].chain === chain2}, the review: ${JSON.stringify(linesOf(file)[3].review)})`);
    });
    assert.equal(linesOf(file)[2].chain, chain2, 'the trace edit is on disk');
    await waitFor(() => rowSample(panel, 2).chain === chain2 || undefined, 'the reload');
    // Redo the workbench edit on the reloaded document: both edits end up on disk.
    assert.equal((await panel.curate('accept', [doc.doc.rows()[3].key])).changed, 1);
    await saveWorkbench(panel);
    await waitFor(() => !doc.isDirty || undefined, 'the workbench save');
    const both = linesOf(file);
    assert.equal(both[1].chain, chain1);
    assert.equal(both[2].chain, chain2);
    assert.equal((both[3].review as { status: string }).status, 'accepted');
    assert.equal(asked.length, 1);

    // A trace whose line changed on disk after it was read refuses to save over it.
    const t4 = (await api.traces.open(file, ids[4])).document;
    await editChain(t4, 'Stale trace edit.');
    const external = linesOf(file);
    external[4] = { ...external[4], draft_answer: 'changed upstream' };
    writeLines(file, external);
    const onDisk = fs.readFileSync(file.fsPath, 'utf8');
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(t4.uri, new TextEncoder().encode(t4.getText()))), (err: Error) => {
      assert.match(err.message, /changed in the corpus file since this trace was opened/);
      return true;
    });
    assert.equal(fs.readFileSync(file.fsPath, 'utf8'), onDisk, 'the corpus is unchanged');
    await closeAll();
  });
});
