/**
 * "DCD: Show Loss Curves": one webview panel overlaying the runs of several
 * jobs. The host forwards each job's points as the model reads them (every
 * step once); the webview paints them and reports back (`painted`), and
 * hands its CSV / PNG exports to the host, which writes them atomically.
 */
import * as vscode from 'vscode';
import { writeFileAtomic } from '../core/io/atomicWrite';
import type { ChartPoint, ChartRun, JobsHostApi, JobsWebviewApi } from '../core/protocols/jobs';
import { renderWebviewHtml, webviewOptions, WebviewChannel } from '../services/webviewHost';
import type { JobsModel } from './jobsModel';

export interface PaintedReport { run: string; step: number; seq: number; points: number }

export class LossChartPanel implements vscode.Disposable {
  static current: LossChartPanel | undefined;
  /** Tests set this to skip the save dialog. */
  static saveTarget: vscode.Uri | undefined;
  private readonly channel: WebviewChannel<JobsHostApi, JobsWebviewApi>;
  private readonly runs = new Map<string, ChartPoint[]>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly paintedEmitter = new vscode.EventEmitter<PaintedReport>();
  /** Fires when the webview has painted new points. */
  readonly onPainted = this.paintedEmitter.event;
  /** What the webview last reported per run. */
  readonly painted = new Map<string, PaintedReport>();

  static show(extensionUri: vscode.Uri, model: JobsModel, ids: string[]): LossChartPanel {
    if (!LossChartPanel.current) {
      const panel = vscode.window.createWebviewPanel('dcd.lossCurves', 'DCD Loss Curves', vscode.ViewColumn.Active, webviewOptions(extensionUri));
      LossChartPanel.current = new LossChartPanel(panel, extensionUri, model);
    } else {
      LossChartPanel.current.panel.reveal();
    }
    for (const id of ids) LossChartPanel.current.add(id);
    return LossChartPanel.current;
  }

  private constructor(readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private readonly model: JobsModel) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'dcd.svg');
    panel.webview.html = renderWebviewHtml(panel.webview, extensionUri, { bundle: 'jobs', title: 'DCD Loss Curves' });
    this.channel = new WebviewChannel<JobsHostApi, JobsWebviewApi>(panel.webview, {
      saveCsv: ({ csv, suggestedName }) => this.save(suggestedName, { 'CSV': ['csv'] }, Buffer.from(csv, 'utf8')),
      savePng: ({ dataUrl, suggestedName }) => {
        const m = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(dataUrl);
        if (!m) throw new Error('not a PNG data URL');
        return this.save(suggestedName, { 'PNG image': ['png'] }, Buffer.from(m[1], 'base64'));
      },
    }, {
      painted: (p) => { this.painted.set(p.run, p); this.paintedEmitter.fire(p); },
    });
    this.disposables.push(
      model.onPoints(({ id, points, seq }) => {
        const mine = this.runs.get(id);
        if (!mine) return;
        mine.push(...points);
        this.channel.endpoint.emit('points', { run: id, points, seq });
      }),
      model.onDidChange(() => { for (const id of this.runs.keys()) this.emitRun(id); }),
    );
    panel.onDidDispose(() => this.dispose());
  }

  whenReady(): Promise<void> { return this.channel.whenReady(); }

  /** The runs shown and the points sent to the webview for each (every step once, in order). */
  data(): Record<string, ChartPoint[]> {
    return Object.fromEntries([...this.runs].map(([id, pts]) => [id, [...pts]]));
  }

  private runInfo(id: string): ChartRun {
    const rec = this.model.list().find((j) => j.id === id);
    return { id, label: rec ? `${rec.spec.model} ${rec.spec.preset} @${rec.host.name} · ${id}` : id, status: rec?.status ?? 'unknown', totalSteps: rec?.totalSteps };
  }

  private emitRun(id: string): void { this.channel.endpoint.emit('run', this.runInfo(id)); }

  add(id: string): void {
    if (this.runs.has(id)) return;
    const existing = this.model.points(id);
    const mine = [...existing];
    this.runs.set(id, mine);
    this.emitRun(id);
    if (mine.length) this.channel.endpoint.emit('points', { run: id, points: mine, seq: 0 });
  }

  remove(id: string): void {
    if (this.runs.delete(id)) this.channel.endpoint.emit('remove', { run: id });
  }

  private async save(suggestedName: string, filters: Record<string, string[]>, data: Buffer): Promise<string | null> {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    // The name comes from the webview: only its last segment, so the dialog cannot start outside the workspace folder.
    const last = suggestedName.split(/[\\/]/).pop() ?? '';
    const name = last === '' || last === '.' || last === '..' ? 'loss-curves' : last;
    const target = LossChartPanel.saveTarget ?? await vscode.window.showSaveDialog({
      title: 'Export loss curves', filters, defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
    });
    if (!target) return null;
    await writeFileAtomic(target.fsPath, data);
    return target.fsPath;
  }

  dispose(): void {
    if (LossChartPanel.current === this) LossChartPanel.current = undefined;
    for (const d of this.disposables) d.dispose();
    this.paintedEmitter.dispose();
    this.channel.dispose();
  }
}
