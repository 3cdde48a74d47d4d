/**
 * Saving a workbench document whose file changed on disk: as VS Code does for
 * text files, the user chooses Reload (drop the unsaved edits), Compare (a
 * diff of the file on disk and the unsaved content; nothing is saved) or
 * Overwrite (write over exactly the change the prompt was about — a further
 * change asks again). The prompt is injectable: the in-VS Code tests answer it.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { FileChangedError } from '../core/io/fileVersion';
import type { WorkbenchDocument } from './document';

export type ConflictChoice = 'reload' | 'compare' | 'overwrite';
/** Asks what to do about a save conflict; undefined cancels the save. */
export type ConflictPrompt = (document: WorkbenchDocument, conflict: FileChangedError) => Thenable<ConflictChoice | undefined>;

export const modalConflictPrompt: ConflictPrompt = async (document, conflict) => {
  const name = path.basename(document.uri.path);
  const what = conflict.current ? 'changed' : 'deleted';
  const choice = await vscode.window.showWarningMessage(
    `The file has been ${what} on disk: ${name}`,
    {
      modal: true,
      detail: `${name} was ${what} after the DCD workbench read it (by another editor, a trace save, git or dcd build). `
        + 'Reload discards your unsaved changes; Overwrite discards the change on disk; Compare shows both and saves nothing.',
    },
    'Reload', 'Compare', 'Overwrite',
  );
  return choice?.toLowerCase() as ConflictChoice | undefined;
};

/** Read-only snapshots for the Compare diff (both sides: the disk side must not open in the workbench itself). */
export const COMPARE_SCHEME = 'dcd-workbench-compare';

export class CompareSnapshots implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly texts = new Map<string, string>();
  private readonly subscription = vscode.workspace.onDidCloseTextDocument((d) => { this.texts.delete(d.uri.toString()); });

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.toString()) ?? '';
  }

  /** Opens a diff of the file on disk (left) and the document's unsaved content (right). */
  async compare(document: WorkbenchDocument): Promise<void> {
    const decoder = new TextDecoder();
    const disk = await vscode.workspace.fs.readFile(document.uri).then((b) => decoder.decode(b), () => '');
    // "name.dcd (on disk).jsonl": not *.dcd.jsonl, so the diff opens text editors, not two workbenches.
    const base = document.uri.path.replace(/\.jsonl$/, '');
    const stamp = Date.now();
    const left = vscode.Uri.from({ scheme: COMPARE_SCHEME, path: `${base} (on disk).jsonl`, query: `${stamp}` });
    const right = vscode.Uri.from({ scheme: COMPARE_SCHEME, path: `${base} (unsaved).jsonl`, query: `${stamp}` });
    this.texts.set(left.toString(), disk);
    this.texts.set(right.toString(), decoder.decode(document.doc.serialize()));
    const name = path.basename(document.uri.path);
    await vscode.commands.executeCommand('vscode.diff', left, right, `${name} (on disk) ↔ (unsaved in the workbench)`);
  }

  dispose(): void {
    this.subscription.dispose();
    this.texts.clear();
  }
}

/** Saves a document; a change on disk since it was read goes to `prompt`, never silently over. */
export async function saveResolvingConflicts(document: WorkbenchDocument, prompt: ConflictPrompt, compare: (d: WorkbenchDocument) => Promise<void>): Promise<void> {
  await document.loaded(); // a streamed file's version is known once it is read
  let expected = document.version;
  for (;;) {
    try {
      await document.save(expected);
      return;
    } catch (err) {
      if (!(err instanceof FileChangedError)) throw err;
      const choice = await prompt(document, err);
      if (choice === 'overwrite') { expected = err.current; continue; }
      if (choice === 'reload') { await document.reload(); return; }
      if (choice === 'compare') await compare(document);
      throw new Error(`Not saved: ${err.message} Save again to reload, compare or overwrite.`);
    }
  }
}
