/**
 * The Corpora view: every corpus file of the workspace with its counts; each
 * file expands to its samples (malformed lines shown as error rows).
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { setting, Settings } from '../services/config';
import { loadCorpus, type LoadedCorpus } from './corpusFiles';
import type { AuditStore } from './audit';
import { AUDIT_FLAGS, type AuditFlag } from '../core/training/audit';
import { corpusSummaryMarkdown } from '../core/display/markdown';

type Node =
  | { kind: 'file'; corpus: LoadedCorpus }
  | { kind: 'sample'; corpus: LoadedCorpus; index: number }
  | { kind: 'malformed'; corpus: LoadedCorpus; line: number; message: string }
  | { kind: 'more'; corpus: LoadedCorpus; shown: number }
  | { kind: 'audit'; corpus: LoadedCorpus }
  | { kind: 'flag'; corpus: LoadedCorpus; flag: AuditFlag }
  | { kind: 'flagged'; corpus: LoadedCorpus; flag: AuditFlag; index: number; tokens: number; trained: number };

const FLAG_LABELS: Record<AuditFlag, string> = {
  truncated: 'over max_length (truncated)', verdict_cut: 'verdict cut by truncation', answer_cut: 'answer cut by truncation', zero_trained: 'no trained token',
};

const PAGE = 200;

export class CorporaView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private corpora: LoadedCorpus[] | undefined;
  private loading: Promise<LoadedCorpus[]> | undefined;
  private readonly shown = new Map<string, number>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly audits?: AuditStore) {
    if (audits) this.disposables.push(audits.onDidChange(() => this.changed.fire(undefined)));
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
      if (node.kind === 'file' && this.audits?.get(node.corpus.uri)) out.push({ kind: 'audit', corpus: node.corpus });
      let sampleIndex = 0;
      for (const row of node.corpus.rows) {
        if (out.length >= limit + (out[0]?.kind === 'audit' ? 1 : 0)) { out.push({ kind: 'more', corpus: node.corpus, shown: limit }); break; }
        if (row.kind === 'error') out.push({ kind: 'malformed', corpus: node.corpus, line: row.line, message: row.message });
        else out.push({ kind: 'sample', corpus: node.corpus, index: sampleIndex++ });
      }
      return out;
    }
    const audit = this.audits?.get(node.corpus.uri);
    if (node.kind === 'audit' && audit) return AUDIT_FLAGS.map((flag) => ({ kind: 'flag', corpus: node.corpus, flag }));
    if (node.kind === 'flag' && audit) {
      return audit.flagged.filter((f) => f.flags.includes(node.flag))
        .map((f) => ({ kind: 'flagged', corpus: node.corpus, flag: node.flag, index: f.index, tokens: f.tokens, trained: f.trained }));
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
        item.tooltip = new vscode.MarkdownString(corpusSummaryMarkdown(vscode.workspace.asRelativePath(node.corpus.uri), s));
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
      case 'audit': {
        const a = this.audits?.get(node.corpus.uri);
        const item = new vscode.TreeItem('Token audit', vscode.TreeItemCollapsibleState.Expanded);
        if (a) {
          item.description = `${a.tokens.toLocaleString()} tokens · ${(100 * a.trained_ratio).toFixed(1)}% trained · ${a.policy} · max ${a.max_length}`;
          item.tooltip = new vscode.MarkdownString(`| | |\n|---|---|\n| samples | ${a.samples} |\n| tokens (after truncation) | ${a.tokens} |\n| trained tokens | ${a.trained_tokens} |\n`
            + `| length min / median / p90 / max | ${a.length.min} / ${a.length.median} / ${a.length.p90} / ${a.length.max} |\n| tokenizer | ${a.tokenizer.name} (${a.tokenizer.sha256.slice(0, 12)}) |\n| failed | ${a.failed} |`);
        }
        item.iconPath = new vscode.ThemeIcon('symbol-number');
        return item;
      }
      case 'flag': {
        const n = this.audits?.get(node.corpus.uri)?.flags[node.flag] ?? 0;
        const item = new vscode.TreeItem(FLAG_LABELS[node.flag], n ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.description = String(n);
        item.iconPath = new vscode.ThemeIcon(n ? 'warning' : 'pass', new vscode.ThemeColor(n ? 'problemsWarningIcon.foreground' : 'testing.iconPassed'));
        return item;
      }
      case 'flagged': {
        const sample = this.sampleAt(node.corpus, node.index);
        const item = new vscode.TreeItem(`${node.index + 1}. ${String(sample?.question ?? '').split('\n')[0].slice(0, 60)}`, vscode.TreeItemCollapsibleState.None);
        item.description = `${node.tokens} tokens · ${node.trained} trained`;
        item.command = { command: 'dcd.openCorpusSample', title: 'Show Sample', arguments: [node.corpus.uri, node.index] };
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
