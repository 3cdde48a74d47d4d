/**
 * "DCD: Open Eval Results…": the Results webview. Holds the loaded results
 * files, groups them into runs and serves the table (pure model in
 * resultsModel.ts) to the webview; CSV export goes through a save dialog and
 * an atomic write.
 */
import * as vscode from 'vscode';
import * as os from 'node:os';
import { renderWebviewHtml, revealOrCreatePanel, WebviewChannel } from '../services/webviewHost';
import type { EvalRunSamples, ResultsHostApi, ResultsViewState, ResultsWebviewApi } from '../core/protocols/eval';
import { OfferedUris } from '../core/protocols/offeredUris';
import { buildResultsView, DEFAULT_BASELINE, groupRuns, resultsCsv, type EvalRun, type LoadedResultFile } from './resultsModel';
import { resultsStateUris, resultsUriHandlers } from './uriRequests';
import { displayPath, loadResultsFrom, samplesIn, withDcdGrades, workspaceResults, writeTextAtomic } from './workspaceFiles';

export class ResultsPanel implements vscode.Disposable {
  static current: ResultsPanel | undefined;
  private readonly channel: WebviewChannel<ResultsHostApi, ResultsWebviewApi>;
  private readonly files = new Map<string, LoadedResultFile>();
  private readonly hidden = new Set<string>();
  private samples = new Map<string, EvalRunSamples[]>();
  private warnings: string[] = [];
  private baselineId = DEFAULT_BASELINE;
  private readonly offered = new OfferedUris();

  /** Opens (or reveals) the view with the workspace's results plus `sources` (results files or folders). */
  static async show(extensionUri: vscode.Uri, sources: readonly vscode.Uri[], pickMore: () => Promise<vscode.Uri[]>): Promise<ResultsPanel> {
    const panel = ResultsPanel.current = revealOrCreatePanel(ResultsPanel.current, extensionUri, 'dcd.evalResults', 'DCD Eval Results',
      (webviewPanel) => new ResultsPanel(webviewPanel, extensionUri, pickMore));
    await panel.load(sources, true);
    return panel;
  }

  private constructor(readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private readonly pickMore: () => Promise<vscode.Uri[]>) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'dcd.svg');
    panel.webview.html = renderWebviewHtml(panel.webview, extensionUri, { bundle: 'results', title: 'DCD Eval Results' });
    this.channel = new WebviewChannel<ResultsHostApi, ResultsWebviewApi>(panel.webview, {
      getState: () => this.state(),
      setBaseline: ({ id }) => this.setBaseline(id),
      exportCsv: async ({ baselineId }) => {
        const target = await vscode.window.showSaveDialog({
          title: 'Export eval results as CSV',
          defaultUri: vscode.Uri.joinPath(vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(os.homedir()), 'eval-results.csv'),
          filters: { CSV: ['csv'] },
        });
        if (!target) return { saved: null };
        await this.exportCsv(target, baselineId);
        void vscode.window.showInformationMessage(`Eval results saved to ${displayPath(target)}.`);
        return { saved: displayPath(target) };
      },
      addResults: async () => {
        const more = await this.pickMore();
        if (more.length) await this.load(more, false);
        return this.state();
      },
      removeRun: ({ id }) => {
        for (const f of this.files.values()) if (`run:${f.folder}` === id) this.hidden.add(f.uri);
        return this.publish();
      },
      ...resultsUriHandlers(this.offered, {
        samples: (uri) => vscode.commands.executeCommand('dcd.openEvalSamples', vscode.Uri.parse(uri)),
        file: (uri) => vscode.window.showTextDocument(vscode.Uri.parse(uri), { preview: true, viewColumn: vscode.ViewColumn.Beside }),
        // By command id: the Lineage feature is not imported here.
        lineage: (uri) => vscode.commands.executeCommand('dcd.lineage.reveal', vscode.Uri.parse(uri)),
      }),
    });
    panel.onDidDispose(() => this.dispose());
  }

  /** Resolves once the webview has announced `ready`. */
  whenReady(): Promise<void> { return this.channel.whenReady(); }

  /** Loads `sources` (and, with `rescanWorkspace`, every `results_*.json` of the workspace), then redraws. */
  async load(sources: readonly vscode.Uri[], rescanWorkspace: boolean): Promise<ResultsViewState> {
    const warnings: string[] = [];
    const loaded: LoadedResultFile[] = [];
    if (rescanWorkspace) loaded.push(...await workspaceResults(warnings));
    for (const src of sources) {
      try {
        const found = await loadResultsFrom(src);
        if (!found.length) warnings.push(`${displayPath(src)}: no lm-eval results file found`);
        loaded.push(...found);
      } catch (err) {
        warnings.push((err as Error).message);
      }
    }
    for (const f of await withDcdGrades(loaded, warnings)) { this.files.set(f.uri, f); this.hidden.delete(f.uri); }
    const folders = new Set([...this.files.values()].map((f) => f.folder));
    this.samples = new Map(await Promise.all([...folders].map(async (d) => [d, await samplesIn(vscode.Uri.parse(d))] as const)));
    this.warnings = warnings;
    return this.publish();
  }

  /** Deltas against this row from now on (an unknown id falls back to the paper's base model). */
  setBaseline(id: string): ResultsViewState {
    this.baselineId = id;
    return this.publish();
  }

  runs(): EvalRun[] {
    return groupRuns([...this.files.values()].filter((f) => !this.hidden.has(f.uri)), this.samples);
  }

  state(): ResultsViewState {
    const s = buildResultsView(this.runs(), this.baselineId, this.warnings);
    this.baselineId = s.baselineId;
    // Every state the webview gets goes through here: what it links to is what it may open.
    this.offered.offerAll(resultsStateUris(s));
    return s;
  }

  private publish(): ResultsViewState {
    const s = this.state();
    this.panel.title = `DCD Eval Results (${s.runs.length} run${s.runs.length === 1 ? '' : 's'})`;
    this.channel.endpoint.emit('state', s);
    return s;
  }

  /** Writes the CSV (atomically on disk). */
  async exportCsv(target: vscode.Uri, baselineId = this.baselineId): Promise<string> {
    const csv = resultsCsv(this.runs(), baselineId);
    await writeTextAtomic(target, csv);
    return csv;
  }

  dispose(): void {
    if (ResultsPanel.current === this) ResultsPanel.current = undefined;
    this.channel.dispose();
  }
}
