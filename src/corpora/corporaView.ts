/**
 * The Corpora view: every corpus file of the workspace with its counts; each
 * file expands to its samples (malformed lines shown as error rows).
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { setting, Settings } from '../config';
import { loadCorpus, type LoadedCorpus } from './corpusFiles';

type Node =
  | { kind: 'file'; corpus: LoadedCorpus }
  | { kind: 'sample'; corpus: LoadedCorpus; index: number }
  | { kind: 'malformed'; corpus: LoadedCorpus; line: number; message: string }
  | { kind: 'more'; corpus: LoadedCorpus; shown: number };

const PAGE = 200;

export class CorporaView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private corpora: LoadedCorpus[] | undefined;
  private loading: Promise<LoadedCorpus[]> | undefined;
  private readonly shown = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    const watcher = vscode.workspace.createFileSystemWatcher(setting(Settings.corpusGlob, '**/*.dcd.jsonl'));
    this.disposables.push(watcher, this.changed,
      watcher.onDidChange(() => this.refresh()), watcher.onDidCreate(() => this.refresh()), watcher.onDidDelete(() => this.refresh()),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('dcd.corpusGlob')) this.refresh(); }));
  }

  refresh(): void {
    this.corpora = undefined;
    this.loading = undefined;
    this.changed.fire(undefined);
  }

  /** The corpora currently listed (loads them on first use). */
  async list(): Promise<LoadedCorpus[]> {
    if (this.corpora) return this.corpora;
    this.loading ??= (async () => {
      const uris = await vscode.workspace.findFiles(setting(Settings.corpusGlob, '**/*.dcd.jsonl'), '**/node_modules/**');
      uris.sort((a, b) => a.fsPath.localeCompare(b.fsPath));
      const loaded = await Promise.all(uris.map((u) => loadCorpus(u).catch(() => undefined)));
      this.corpora = loaded.filter((c): c is LoadedCorpus => !!c);
      return this.corpora;
    })();
    return this.loading;
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) return (await this.list()).map((corpus) => ({ kind: 'file', corpus }));
    if (node.kind === 'file' || node.kind === 'more') {
      const key = node.corpus.uri.toString();
      if (node.kind === 'more') this.shown.set(key, node.shown + PAGE);
      const limit = this.shown.get(key) ?? PAGE;
      const out: Node[] = [];
      let sampleIndex = 0;
      for (const row of node.corpus.rows) {
        if (out.length >= limit) { out.push({ kind: 'more', corpus: node.corpus, shown: limit }); break; }
        if (row.kind === 'error') out.push({ kind: 'malformed', corpus: node.corpus, line: row.line, message: row.message });
        else out.push({ kind: 'sample', corpus: node.corpus, index: sampleIndex++ });
      }
      return out;
    }
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'file': {
        const s = node.corpus.summary;
        const item = new vscode.TreeItem(path.basename(node.corpus.uri.fsPath), vscode.TreeItemCollapsibleState.Collapsed);
        item.resourceUri = node.corpus.uri;
        item.description = `${s.samples} samples · ${s.draft_correct} correct · ${s.draft_wrong} wrong${s.malformed ? ` · ${s.malformed} malformed` : ''}`;
        item.tooltip = new vscode.MarkdownString(
          `**${vscode.workspace.asRelativePath(node.corpus.uri)}**\n\n| | |\n|---|---|\n| samples | ${s.samples} |\n| draft-correct | ${s.draft_correct} |\n| draft-wrong | ${s.draft_wrong} |\n| malformed lines | ${s.malformed} |\n` +
          Object.entries(s.by_source).map(([k, v]) => `| source \`${k}\` | ${v} |`).join('\n'));
        item.contextValue = 'dcd.corpusFile';
        item.iconPath = new vscode.ThemeIcon('database');
        item.id = `file:${node.corpus.uri.toString()}`;
        return item;
      }
      case 'sample': {
        const sample = this.sampleAt(node.corpus, node.index);
        const firstLine = (sample?.question ?? '').split('\n')[0].slice(0, 80);
        const item = new vscode.TreeItem(`${node.index + 1}. ${firstLine}`, vscode.TreeItemCollapsibleState.None);
        item.description = `${sample?.verdict ?? '?'} · ${sample?.draft_source ?? ''}`;
        item.iconPath = new vscode.ThemeIcon(sample?.verdict === 'correct' ? 'pass' : 'error',
          new vscode.ThemeColor(sample?.verdict === 'correct' ? 'testing.iconPassed' : 'testing.iconFailed'));
        item.command = { command: 'dcd.openCorpusSample', title: 'Show Sample', arguments: [node.corpus.uri, node.index] };
        item.id = `sample:${node.corpus.uri.toString()}:${node.index}`;
        return item;
      }
      case 'malformed': {
        const item = new vscode.TreeItem(`line ${node.line}: malformed`, vscode.TreeItemCollapsibleState.None);
        item.description = node.message;
        item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        item.command = { command: 'vscode.open', title: 'Open', arguments: [node.corpus.uri, { selection: new vscode.Range(node.line - 1, 0, node.line - 1, 0) }] };
        return item;
      }
      case 'more':
        return Object.assign(new vscode.TreeItem(`Show ${PAGE} more…`, vscode.TreeItemCollapsibleState.Collapsed), { iconPath: new vscode.ThemeIcon('ellipsis') });
    }
  }

  private sampleAt(corpus: LoadedCorpus, index: number) {
    let i = 0;
    for (const row of corpus.rows) if (row.kind === 'value' && i++ === index) return row.value;
    return undefined;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
