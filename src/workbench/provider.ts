/**
 * The custom editor provider of DCD corpora: documents, their edit stack
 * (undo/redo through VS Code), save, save as, revert, backup and hot exit.
 */
import * as vscode from 'vscode';
import type { DocumentEdit } from '../core/workbench';
import { WorkbenchDocument } from './document';
import { WorkbenchPanel } from './panel';
import { saveResolvingConflicts, type CompareSnapshots, type ConflictPrompt } from './conflict';

/** How saves resolve a change on disk; shared by the providers, the prompt replaceable by tests. */
export interface ConflictHandling {
  prompt: ConflictPrompt;
  snapshots: CompareSnapshots;
}

/** Default editor for *.dcd.jsonl. */
export const VIEW_TYPE = 'dcd.workbench';
/** Offered by "Open With…" for any .jsonl. */
export const VIEW_TYPE_JSONL = 'dcd.workbench.jsonl';

export class CorpusEditorProvider implements vscode.CustomEditorProvider<WorkbenchDocument> {
  private readonly changeEmitter = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<WorkbenchDocument>>();
  readonly onDidChangeCustomDocument = this.changeEmitter.event;
  readonly panels = new Set<WorkbenchPanel>();
  readonly documents = new Set<WorkbenchDocument>();
  /** The panel that was active last (keybinding commands act on it). */
  active: WorkbenchPanel | undefined;
  private readonly panelEmitter = new vscode.EventEmitter<WorkbenchPanel>();
  readonly onDidOpenPanel = this.panelEmitter.event;

  constructor(readonly viewType: string, private readonly context: vscode.ExtensionContext, private readonly conflicts: ConflictHandling) {}

  static register(context: vscode.ExtensionContext, viewType: string, conflicts: ConflictHandling): CorpusEditorProvider {
    const provider = new CorpusEditorProvider(viewType, context, conflicts);
    context.subscriptions.push(
      vscode.window.registerCustomEditorProvider(viewType, provider, { supportsMultipleEditorsPerDocument: true }),
      provider.changeEmitter, provider.panelEmitter,
    );
    return provider;
  }

  async openCustomDocument(uri: vscode.Uri, openContext: vscode.CustomDocumentOpenContext): Promise<WorkbenchDocument> {
    const doc = await WorkbenchDocument.create(uri, openContext.untitledDocumentData ? undefined : openContext.backupId);
    this.documents.add(doc);
    doc.onDidConflict(() => {
      void vscode.window.showWarningMessage(`${vscode.workspace.asRelativePath(uri)} has been changed on disk and has unsaved changes in the DCD workbench: saving will ask whether to reload, compare or overwrite.`);
    });
    return doc;
  }

  async resolveCustomEditor(document: WorkbenchDocument, webviewPanel: vscode.WebviewPanel): Promise<void> {
    const panel = new WorkbenchPanel(webviewPanel, document, {
      extensionUri: this.context.extensionUri,
      workspaceState: this.context.workspaceState,
      pushEdit: (doc, edit) => this.pushEdit(doc, edit),
    });
    this.panels.add(panel);
    this.active = panel;
    webviewPanel.onDidChangeViewState((e) => { if (e.webviewPanel.active) this.active = panel; });
    panel.onDidDispose(() => {
      this.panels.delete(panel);
      if (this.active === panel) this.active = [...this.panels].find((p) => p.panel.active);
      if (![...this.panels].some((p) => p.document === document)) this.documents.delete(document);
    });
    this.panelEmitter.fire(panel);
  }

  /** Applies an edit and records it on VS Code's edit stack, so undo/redo, dirty state and hot exit follow. */
  pushEdit(document: WorkbenchDocument, edit: DocumentEdit): void {
    document.apply(edit);
    this.changeEmitter.fire({
      document,
      label: edit.label,
      undo: () => document.revertEdit(edit),
      redo: () => document.apply(edit),
    });
  }

  async saveCustomDocument(document: WorkbenchDocument): Promise<void> {
    await saveResolvingConflicts(document, this.conflicts.prompt, (d) => this.conflicts.snapshots.compare(d));
    document.markSaved();
  }

  async saveCustomDocumentAs(document: WorkbenchDocument, destination: vscode.Uri): Promise<void> {
    await document.saveAs(destination);
  }

  async revertCustomDocument(document: WorkbenchDocument): Promise<void> {
    await document.reload();
  }

  backupCustomDocument(document: WorkbenchDocument, context: vscode.CustomDocumentBackupContext): Promise<vscode.CustomDocumentBackup> {
    return document.backup(context.destination);
  }
}
