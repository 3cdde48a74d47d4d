/**
 * Host side of every webview: a strict nonce CSP, narrow localResourceRoots,
 * `asWebviewUri` for the bundle and styles, and a typed `Endpoint` whose
 * events are queued until the webview says `ready`.
 *
 * This is the extension-host side; the UIs that run inside the webviews
 * (browser code, one folder per view) live in the top-level `webview/`.
 */
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import { Endpoint, type Api, type RequestHandlers, type EventHandlers } from '../core/protocols/endpoint';

export function makeNonce(): string {
  return randomBytes(16).toString('base64');
}

export interface WebviewPage {
  /** The webview bundle name: out/webview/<bundle>.js. */
  bundle: string;
  title: string;
  /** Extra CSP sources for images (e.g. exported PNGs); default none beyond the webview's own. */
  imgSrc?: string[];
}

/** The webview HTML: no inline script without the nonce, no remote origins. */
export function renderWebviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: WebviewPage): string {
  const nonce = makeNonce();
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'out', 'webview', `${page.bundle}.js`));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.css'));
  const bundleCss = vscode.Uri.joinPath(extensionUri, 'out', 'webview', `${page.bundle}.css`);
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data: ${(page.imgSrc ?? []).join(' ')}`.trim(),
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}" nonce="${nonce}">
<link rel="stylesheet" href="${webview.asWebviewUri(bundleCss)}" nonce="${nonce}">
<title>${escapeHtml(page.title)}</title>
</head>
<body>
<div id="app" data-nonce="${nonce}"></div>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

/** Options every DCD webview uses: scripts on, and only our bundles and media readable. */
/**
 * The one panel of a kind: reveals the open one, or opens a new editor-area webview
 * (`viewType`, `title`) and builds the panel object around it.
 */
export function revealOrCreatePanel<T extends { panel: vscode.WebviewPanel }>(
  current: T | undefined, extensionUri: vscode.Uri, viewType: string, title: string, build: (webviewPanel: vscode.WebviewPanel) => T,
): T {
  if (current) {
    current.panel.reveal();
    return current;
  }
  return build(vscode.window.createWebviewPanel(viewType, title, vscode.ViewColumn.Active, webviewOptions(extensionUri)));
}

export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'out', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
    retainContextWhenHidden: false,
  };
}

/**
 * Connects a webview to a typed endpoint. Events the host emits before the
 * webview's `ready` event are queued and flushed in order once it arrives.
 */
export class WebviewChannel<Host extends Api & { events: { ready: unknown } }, View extends Api> implements vscode.Disposable {
  readonly endpoint: Endpoint<Host, View>;
  private ready = false;
  private early = false;
  private queue: Parameters<vscode.Webview['postMessage']>[0][] = [];
  private readonly subscription: vscode.Disposable;
  private readonly readyWaiters: (() => void)[] = [];

  constructor(private readonly webview: vscode.Webview, requests: Partial<RequestHandlers<Host>>, events: EventHandlers<Host> = {}) {
    const onReady = events.ready;
    this.endpoint = new Endpoint<Host, View>((message) => {
      if (this.ready || this.early || message.kind === 'response') void this.webview.postMessage(message);
      else this.queue.push(message);
    }, requests, {
      ...events,
      ready: (payload: Host['events']['ready']) => {
        this.ready = true;
        for (const m of this.queue) void this.webview.postMessage(m);
        this.queue = [];
        onReady?.(payload);
        for (const w of this.readyWaiters.splice(0)) w();
      },
    } as EventHandlers<Host>);
    this.subscription = webview.onDidReceiveMessage((m) => this.endpoint.receive(m));
  }

  get isReady(): boolean { return this.ready; }

  /**
   * Posts an event now, before the page's `ready`: VS Code holds the messages
   * of a page that is still loading and delivers them once it has loaded (its
   * scripts have run). Only for what the first load may take early: a page
   * that loads again says `ready` and must be sent what it needs then.
   */
  emitBeforeReady<K extends keyof View['events'] & string>(type: K, payload: View['events'][K]): void {
    this.early = true;
    try { this.endpoint.emit(type, payload); } finally { this.early = false; }
  }

  whenReady(): Promise<void> {
    return this.ready ? Promise.resolve() : new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  dispose(): void {
    this.subscription.dispose();
    this.endpoint.dispose('webview disposed');
  }
}
