/**
 * The Corpus workbench: a custom editor for DCD corpora (default for
 * *.dcd.jsonl, "Open With…" for any .jsonl), its curation commands and
 * keybindings, and `dcd.compareDrafts` (side by side), which the trace
 * editor's CodeLens also calls.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { CorpusEditorProvider, VIEW_TYPE, VIEW_TYPE_JSONL, type ConflictHandling } from './provider';
import { CompareSnapshots, COMPARE_SCHEME, modalConflictPrompt, type ConflictPrompt } from './conflict';
import type { WorkbenchPanel } from './panel';
import type { WorkbenchDocument } from './document';
import type { CurateAction, PairView } from '../core/protocols/workbench';
import type { ExtensionServices } from '../services';

export { VIEW_TYPE, VIEW_TYPE_JSONL } from './provider';

/** What the extension's API exposes of the workbench (used by the in-VS Code tests). */
export interface WorkbenchApi {
  viewTypes: readonly string[];
  panels(): WorkbenchPanel[];
  /** The last active workbench panel. */
  activePanel(): WorkbenchPanel | undefined;
  documentFor(uri: vscode.Uri): WorkbenchDocument | undefined;
  /** Opens a corpus in the workbench and resolves with its panel once the webview is ready. */
  open(uri: vscode.Uri): Promise<WorkbenchPanel>;
  compareDrafts(uri?: vscode.Uri, sample?: number | string): Promise<PairView | null>;
  /** Asks what to do when a save finds the file changed on disk (the modal by default; tests replace it). */
  conflictPrompt: ConflictPrompt;
}

/** The argument form of `dcd.compareDrafts` used by the trace editor. */
interface CompareTarget { corpus: vscode.Uri | string; id?: string; index?: number }

export function viewTypeFor(uri: vscode.Uri): string {
  return uri.path.endsWith('.dcd.jsonl') ? VIEW_TYPE : VIEW_TYPE_JSONL;
}

export function registerWorkbench(context: vscode.ExtensionContext, _services: ExtensionServices): WorkbenchApi {
  const conflicts: ConflictHandling = { prompt: modalConflictPrompt, snapshots: new CompareSnapshots() };
  context.subscriptions.push(conflicts.snapshots, vscode.workspace.registerTextDocumentContentProvider(COMPARE_SCHEME, conflicts.snapshots));
  const providers = [CorpusEditorProvider.register(context, VIEW_TYPE, conflicts), CorpusEditorProvider.register(context, VIEW_TYPE_JSONL, conflicts)];
  const panels = (): WorkbenchPanel[] => providers.flatMap((p) => [...p.panels]);
  const activePanel = (): WorkbenchPanel | undefined => {
    const all = panels();
    return all.find((p) => p.panel.active) ?? providers.map((p) => p.active).find((p) => p && all.includes(p));
  };
  const panelFor = (uri: vscode.Uri): WorkbenchPanel | undefined => {
    const list = panels().filter((p) => p.document.uri.toString() === uri.toString());
    return list.find((p) => p.panel.active) ?? list[0];
  };

  const open = async (uri: vscode.Uri): Promise<WorkbenchPanel> => {
    const existing = panelFor(uri);
    if (existing) {
      existing.panel.reveal();
      await existing.whenReady();
      return existing;
    }
    const provider = providers.find((p) => p.viewType === viewTypeFor(uri))!;
    const opened = new Promise<WorkbenchPanel>((resolve) => {
      const sub = provider.onDidOpenPanel((p) => {
        if (p.document.uri.toString() === uri.toString()) { sub.dispose(); resolve(p); }
      });
    });
    await vscode.commands.executeCommand('vscode.openWith', uri, viewTypeFor(uri));
    const panel = await opened;
    await panel.whenReady();
    return panel;
  };

  const compareDrafts = async (uri?: vscode.Uri, sample?: number | string): Promise<PairView | null> => {
    let panel: WorkbenchPanel | undefined;
    let key: number | undefined;
    if (uri) {
      panel = await open(uri);
      await panel.document.loaded();
      const doc = panel.document.doc;
      key = typeof sample === 'number' ? doc.keyOfSampleIndex(sample) : typeof sample === 'string' ? doc.keyOfId(sample) : panel.selectedKey ?? undefined;
      if (sample !== undefined && key === undefined) throw new Error(`No sample ${JSON.stringify(sample)} in ${path.basename(uri.path)}.`);
    } else {
      panel = activePanel();
      if (!panel) {
        void vscode.window.showWarningMessage('Open a corpus in the DCD workbench (or pass a corpus and a sample) to compare drafts.');
        return null;
      }
      key = panel.selectedKey ?? undefined;
    }
    panel.panel.reveal();
    const pair = await panel.showPair(key);
    if (!pair) void vscode.window.showInformationMessage('No question in this corpus has both a draft-correct and a draft-wrong sample.');
    return pair;
  };

  const curateCommand = (action: CurateAction) => async (): Promise<{ changed: number; message?: string } | undefined> => {
    const panel = activePanel();
    if (!panel) return undefined;
    const r = await panel.curate(action);
    if (!r.changed && r.message && r.message !== 'Cancelled.') void vscode.window.setStatusBarMessage(`DCD: ${r.message}`, 3000);
    return r;
  };

  context.subscriptions.push(
    // Trained-token counts and truncation flags depend on the mask settings: recompute them (the token cache keeps it cheap).
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('dcd.maskPolicy') && !e.affectsConfiguration('dcd.maxLength')) return;
      for (const doc of new Set(panels().map((p) => p.document))) void doc.retokenize();
    }),
    vscode.commands.registerCommand('dcd.openWorkbench', async (uri?: vscode.Uri) => {
      let target = uri;
      if (!target) {
        const files = await vscode.workspace.findFiles('**/*.jsonl', '**/node_modules/**', 500);
        files.sort((a, b) => Number(b.path.endsWith('.dcd.jsonl')) - Number(a.path.endsWith('.dcd.jsonl')) || a.path.localeCompare(b.path));
        const pick = await vscode.window.showQuickPick(files.map((f) => ({ label: vscode.workspace.asRelativePath(f), uri: f })), { title: 'Open which corpus in the DCD workbench?' });
        target = pick?.uri;
      }
      if (target) await open(target);
    }),
    vscode.commands.registerCommand('dcd.compareDrafts', (arg?: vscode.Uri | string | CompareTarget, sample?: number | string) => {
      // The trace editor's CodeLens passes one object: { corpus, id, index }.
      if (arg && typeof arg === 'object' && !(arg instanceof vscode.Uri) && 'corpus' in arg) {
        const corpus = typeof arg.corpus === 'string' ? vscode.Uri.parse(arg.corpus) : arg.corpus;
        return compareDrafts(corpus, arg.id ?? (typeof arg.index === 'number' && arg.index >= 0 ? arg.index : undefined));
      }
      return compareDrafts(typeof arg === 'string' ? vscode.Uri.parse(arg) : arg as vscode.Uri | undefined, sample);
    }),
    vscode.commands.registerCommand('dcd.workbench.accept', curateCommand('accept')),
    vscode.commands.registerCommand('dcd.workbench.reject', curateCommand('reject')),
    vscode.commands.registerCommand('dcd.workbench.flag', curateCommand('flag')),
    vscode.commands.registerCommand('dcd.workbench.unreview', curateCommand('unreview')),
    vscode.commands.registerCommand('dcd.workbench.delete', curateCommand('delete')),
    vscode.commands.registerCommand('dcd.workbench.duplicate', curateCommand('duplicate')),
    vscode.commands.registerCommand('dcd.workbench.nextPair', () => activePanel()?.channel.endpoint.emit('navigatePair', { delta: 1 })),
    vscode.commands.registerCommand('dcd.workbench.previousPair', () => activePanel()?.channel.endpoint.emit('navigatePair', { delta: -1 })),
    vscode.commands.registerCommand('dcd.workbench.openAsText', async () => {
      const panel = activePanel();
      if (panel?.selectedKey != null) await panel.openAsText(panel.selectedKey);
    }),
  );

  return {
    viewTypes: [VIEW_TYPE, VIEW_TYPE_JSONL],
    panels,
    activePanel,
    documentFor: (uri) => panelFor(uri)?.document,
    open,
    compareDrafts,
    get conflictPrompt() { return conflicts.prompt; },
    set conflictPrompt(prompt: ConflictPrompt) { conflicts.prompt = prompt; },
  };
}
