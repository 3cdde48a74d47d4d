/**
 * One workbench webview (a document may be open in several): answers the
 * webview's requests from the document, and keeps what the host needs to
 * know about the view (selection, mode, first paint).
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { renderWebviewHtml, WebviewChannel } from '../services/webviewHost';
import type { DocumentEdit, LineEntry } from '../core/workbench';
import type { ReviewState } from '../core/trace/model';
import type {
  CurateAction, InitInfo, PairView, ViewInfo, WorkbenchHostApi, WorkbenchViewState, WorkbenchWebviewApi,
} from '../core/protocols/workbench';
import type { WorkbenchDocument } from './document';
import { facets, findPair, rowWindow, sampleDetail } from './views';
import { maskOverlay } from './tokens';

/** What the panel needs from its provider. */
export interface PanelHost {
  extensionUri: vscode.Uri;
  workspaceState: vscode.Memento;
  /** Applies an edit through the custom editor's edit stack. */
  pushEdit(document: WorkbenchDocument, edit: DocumentEdit): void;
}

const STATE_KEY = 'dcd.workbench.view:';
/** Rows pushed with the first view: two of the webview's blocks, more than a screen holds. */
const FIRST_ROWS = 80;
export const OPEN_AS_TEXT_COMMAND = 'dcd.openSampleAsTrace';

export class WorkbenchPanel implements vscode.Disposable {
  readonly channel: WebviewChannel<WorkbenchHostApi, WorkbenchWebviewApi>;
  private readonly views = new Map<number, LineEntry[]>();
  private nextViewId = 1;
  private viewAbort: AbortController | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  selectedKey: number | null = null;
  mode: 'list' | 'sample' | 'pair' = 'list';
  private shownPair: PairView | undefined;
  /** The last view state the webview asked for. */
  viewState: WorkbenchViewState | null = null;
  /** ms from resolving the editor to the first rows on screen. */
  firstPaintMs: number | undefined;
  private readonly openedAt = performance.now();
  private paintWaiters: (() => void)[] = [];
  private readonly disposeEmitter = new vscode.EventEmitter<void>();
  readonly onDidDispose = this.disposeEmitter.event;

  constructor(readonly panel: vscode.WebviewPanel, readonly document: WorkbenchDocument, private readonly host: PanelHost) {
    const webview = panel.webview;
    webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(host.extensionUri, 'out', 'webview'), vscode.Uri.joinPath(host.extensionUri, 'media')],
    };
    webview.html = renderWebviewHtml(webview, host.extensionUri, { bundle: 'workbench', title: `DCD Workbench: ${path.basename(document.uri.path)}` });
    this.channel = new WebviewChannel<WorkbenchHostApi, WorkbenchWebviewApi>(webview, {
      setView: (req) => this.setView(req),
      getRows: async ({ viewId, start, count }) => {
        const view = this.views.get(viewId);
        if (!view) return null;
        return { viewId, start, rows: rowWindow(this.document.doc, view, start, Math.min(count, 500)) };
      },
      findRow: ({ viewId, key }) => this.views.get(viewId)?.findIndex((e) => e.key === key) ?? -1,
      getStats: async () => { await this.document.loaded(); return this.document.doc.stats(); },
      getFacets: async () => { await this.document.loaded(); return facets(this.document.doc); },
      getSample: ({ key }) => sampleDetail(this.document.doc, key),
      getMask: async ({ key }) => {
        const detail = sampleDetail(this.document.doc, key);
        return maskOverlay(key, detail.text);
      },
      getPair: async (req) => { await this.document.loaded(); return findPair(this.document.doc, req); },
      curate: ({ action, keys, note }) => this.curate(action, keys, note),
      openAsText: ({ key }) => this.openAsText(key),
    }, {
      // Every (re)load of the page says ready: a hidden webview is discarded and reloaded when shown again.
      ready: () => this.sendInit(),
      select: ({ key, mode }) => { this.selectedKey = key; this.mode = mode; },
      painted: () => {
        if (this.firstPaintMs === undefined) this.firstPaintMs = performance.now() - this.openedAt;
        for (const w of this.paintWaiters.splice(0)) w();
      },
    });
    this.pushEarly();
    this.disposables.push(
      this.channel,
      document.onDidChange(({ reason }) => this.channel.endpoint.emit('changed', { version: document.doc.version, reason })),
      document.onDidTokenize((p) => this.channel.endpoint.emit('tokens', p)),
      document.onDidLoad(() => this.channel.endpoint.emit('loaded', { rows: document.doc.rows().length })),
      document.onDidProgress((p) => this.channel.endpoint.emit('progress', p)),
      panel.onDidDispose(() => this.dispose()),
    );
  }

  private initInfo(): InitInfo {
    const document = this.document;
    return {
      file: document.uri.toString(), fileName: path.basename(document.uri.path),
      saved: this.host.workspaceState.get<WorkbenchViewState>(STATE_KEY + document.uri.toString()) ?? null,
      readOnly: vscode.workspace.fs.isWritableFileSystem(document.uri.scheme) === false,
    };
  }

  /** The saved view (the default when none is saved). */
  private savedView(): WorkbenchViewState {
    const saved = this.host.workspaceState.get<WorkbenchViewState>(STATE_KEY + this.document.uri.toString());
    return { filter: saved?.filter ?? {}, sort: saved?.sort ?? null };
  }

  /** A view run with its first rows; null if it failed or was superseded. */
  private firstView(view: WorkbenchViewState): Promise<ViewInfo | null> {
    return this.setView({ ...view, firstRows: FIRST_ROWS }).catch(() => null);
  }

  /**
   * The first load of the page, before its `ready`: init and the first rows
   * of a plain saved view go out at once (VS Code holds them until the page
   * has loaded), so the page paints without a round trip. Its `ready` sends
   * them again; the page takes the first it gets.
   */
  private pushEarly(): void {
    const view = this.savedView();
    if (!isPlain(view)) return;
    this.channel.emitBeforeReady('init', this.initInfo());
    void this.firstView(view).then((info) => { if (info) this.channel.emitBeforeReady('firstView', { view, info }); });
  }

  /** What a freshly loaded page needs first: sent on its `ready`, without a round trip. */
  private sendInit(): void {
    const document = this.document;
    this.channel.endpoint.emit('init', this.initInfo());
    if (document.isLoaded) this.channel.endpoint.emit('loaded', { rows: document.doc.rows().length });
    else this.channel.endpoint.emit('progress', document.indexProgress);
    this.channel.endpoint.emit('tokens', document.tokenProgress);
    // A pair asked for while the page was hidden (revealed, so reloaded) went to the discarded page: show it again.
    if (this.mode === 'pair' && this.shownPair) this.channel.endpoint.emit('showPair', this.shownPair);
    // The first rows, unasked: the page adopts them if its state is the saved one (else it asks for its own view).
    const view = this.savedView();
    void this.firstView(view).then((info) => this.channel.endpoint.emit('firstView', { view, info }));
  }

  /** Resolves once the webview has painted its first rows. */
  whenPainted(): Promise<void> {
    return this.firstPaintMs !== undefined ? Promise.resolve() : new Promise((r) => this.paintWaiters.push(r));
  }

  whenReady(): Promise<void> { return this.channel.whenReady(); }

  /** Runs a view (filter + sort). The first window of an unfiltered view is served before the file is summarised. */
  async setView(request: WorkbenchViewState & { firstRows?: number }): Promise<ViewInfo> {
    this.viewAbort?.abort();
    const abort = new AbortController();
    this.viewAbort = abort;
    const req: WorkbenchViewState = { filter: request.filter ?? {}, sort: request.sort ?? null };
    this.viewState = req;
    void this.host.workspaceState.update(STATE_KEY + this.document.uri.toString(), req);
    const doc = this.document.doc;
    const plain = isPlain(req);
    let entries: LineEntry[];
    let search: ViewInfo['search'] = null;
    if (plain && !this.document.isLoaded) {
      // The rows indexed so far (a streamed file: at least its first chunk); `progress` events tell the webview to ask again.
      await doc.whenRows(Math.max(1, request.firstRows ?? 1));
      entries = [...doc.rows()];
    } else {
      await this.document.loaded();
      const onSearchProgress = (done: number, total: number): void => { if (!abort.signal.aborted) this.channel.endpoint.emit('searchProgress', { done, total }); };
      const r = await this.document.doc.view(req.filter, req.sort, { signal: abort.signal, onSearchProgress });
      entries = r.entries;
      search = r.search;
    }
    const viewId = this.nextViewId++;
    this.views.set(viewId, entries);
    for (const id of this.views.keys()) if (id < viewId - 3) this.views.delete(id);
    let tokensPending = 0;
    if (req.filter.tokenMin != null || req.filter.tokenMax != null) {
      for (const e of this.document.doc.rows()) if (this.document.doc.info(e).kind === 'sample' && !this.document.doc.tokensOf(e.key)) tokensPending++;
    }
    const first = rowWindow(this.document.doc, entries, 0, Math.min(request.firstRows ?? 0, 500));
    return { viewId, count: entries.length, total: this.document.doc.rows().length, search, tokensPending, first, complete: doc.complete };
  }

  /** Applies a curation action to rows (default: the selected row). */
  async curate(action: CurateAction, keys: number[] = this.selectedKey !== null ? [this.selectedKey] : [], note?: string): Promise<{ changed: number; message?: string }> {
    if (!keys.length) return { changed: 0, message: 'Select a sample first.' };
    const doc = this.document.doc;
    let edit;
    switch (action) {
      case 'delete': edit = doc.deleteEdit(keys); break;
      case 'duplicate': edit = doc.duplicateEdit(keys); break;
      default: {
        let review: ReviewState | null;
        const at = new Date().toISOString();
        if (action === 'unreview') review = null;
        else if (action === 'flag') {
          let text = note;
          if (text === undefined) {
            const current = doc.entryByKey(keys[0]);
            text = await vscode.window.showInputBox({
              title: 'Flag sample', prompt: 'A note on what is wrong with this sample (kept in its review field)',
              value: current ? doc.summary(current).note ?? '' : '', ignoreFocusOut: true,
            });
            if (text === undefined) return { changed: 0, message: 'Cancelled.' };
          }
          review = text ? { status: 'flagged', note: text, at } : { status: 'flagged', at };
        } else review = { status: action === 'accept' ? 'accepted' : 'rejected', at };
        edit = doc.reviewEdit(keys, review);
      }
    }
    if (!edit.changes.length) return { changed: 0, message: 'Nothing to change.' };
    this.host.pushEdit(this.document, edit);
    return { changed: edit.changes.length };
  }

  async openAsText(key: number): Promise<void> {
    const e = this.document.doc.entryByKey(key);
    const id = e ? this.document.doc.info(e).id : '';
    if (!e || this.document.doc.info(e).kind !== 'sample' || !id) throw new Error('Only well-formed samples with an id open as text.');
    if (this.document.isDirty) {
      void vscode.window.showInformationMessage('The trace document shows the file on disk: save the corpus first to see unsaved edits.');
    }
    // By id: the trace document reads the file on disk, where indices may differ from this unsaved view.
    await vscode.commands.executeCommand(OPEN_AS_TEXT_COMMAND, this.document.uri, id);
  }

  /** Shows the side-by-side view of a row's question. */
  async showPair(key: number | undefined): Promise<PairView | null> {
    await this.document.loaded();
    const pair = findPair(this.document.doc, { key });
    if (pair) {
      this.mode = 'pair';
      this.shownPair = pair;
      this.selectedKey = pair.right.key;
      this.channel.endpoint.emit('showPair', pair);
    }
    return pair;
  }

  dispose(): void {
    this.viewAbort?.abort();
    for (const d of this.disposables.splice(0)) d.dispose();
    this.disposeEmitter.fire();
    this.disposeEmitter.dispose();
  }
}

function isPlain(s: WorkbenchViewState): boolean {
  const f = s.filter;
  return !(f.verdict || f.sources?.length || f.cotTypes?.length || f.flags?.length || f.review?.length || f.tokenMin != null || f.tokenMax != null || f.search?.text)
    && (!s.sort || (s.sort.column === 'line' && !s.sort.descending));
}
