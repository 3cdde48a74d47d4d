/** "DCD: Show Corpus Sample": one webview panel showing a sample of a corpus as an inert, stage-coloured trace. */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { renderWebviewHtml, webviewOptions, WebviewChannel } from '../services/webviewHost';
import type { SampleHostApi, SampleView, SampleWebviewApi } from '../core/protocols/sample';
import { parseTrace } from '../core/trace/template';
import { loadCorpus, type LoadedCorpus } from './corpusFiles';
import type { DcdSample } from '../core/trace/model';

export class SamplePanel implements vscode.Disposable {
  static current: SamplePanel | undefined;
  private readonly channel: WebviewChannel<SampleHostApi, SampleWebviewApi>;
  private corpus: LoadedCorpus;

  static async show(extensionUri: vscode.Uri, uri: vscode.Uri, index: number): Promise<SamplePanel> {
    const corpus = await loadCorpus(uri);
    if (SamplePanel.current) {
      SamplePanel.current.corpus = corpus;
      SamplePanel.current.panel.reveal();
    } else {
      const panel = vscode.window.createWebviewPanel('dcd.sample', 'DCD Sample', vscode.ViewColumn.Active, webviewOptions(extensionUri));
      SamplePanel.current = new SamplePanel(panel, extensionUri, corpus);
    }
    SamplePanel.current.showIndex(index);
    return SamplePanel.current;
  }

  private constructor(readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, corpus: LoadedCorpus) {
    this.corpus = corpus;
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'dcd.svg');
    panel.webview.html = renderWebviewHtml(panel.webview, extensionUri, { bundle: 'sample', title: 'DCD Sample' });
    this.channel = new WebviewChannel<SampleHostApi, SampleWebviewApi>(panel.webview, {
      getSample: ({ index }) => {
        const view = this.view(index);
        this.panel.title = `DCD Sample ${index + 1}: ${view.verdict}`;
        return view;
      },
    });
    panel.onDidDispose(() => this.dispose());
  }

  /** Resolves once the webview has announced `ready`. */
  whenReady(): Promise<void> { return this.channel.whenReady(); }

  showIndex(index: number): void {
    const view = this.view(index);
    this.panel.title = `DCD Sample ${index + 1}: ${view.verdict}`;
    this.channel.endpoint.emit('show', view);
  }

  view(index: number): SampleView {
    const samples = this.corpus.rows.flatMap((r) => (r.kind === 'value' ? [r.value] : []));
    if (index < 0 || index >= samples.length) throw new Error(`No sample ${index} in ${path.basename(this.corpus.uri.fsPath)} (${samples.length} samples).`);
    const s: DcdSample = samples[index];
    let regions: SampleView['regions'] = {};
    try { regions = parseTrace(s.text).rendered.regions; } catch { /* shown without stage colours */ }
    return {
      file: this.corpus.uri.fsPath, index, total: samples.length, id: String(s.id), verdict: String(s.verdict),
      draft_source: String(s.draft_source), gold_answer: s.gold_answer ?? null, draft_answer: s.draft_answer ?? null,
      text: String(s.text ?? ''), regions,
    };
  }

  dispose(): void {
    if (SamplePanel.current === this) SamplePanel.current = undefined;
    this.channel.dispose();
  }
}
