/**
 * The Lineage view: corpus → export → run → model → evaluation for the
 * workspace, the extension's exports and the jobs' run folders (docs/FORMATS.md
 * §6), each node with its hash; stale nodes carry a warning icon, a file
 * decoration and the reason. A node with several parents is listed under its
 * first one.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { HashCache, jsonNode, scanLineage, type JobHint, type LineageGraph, type LineageNode } from '../core/lineage';

const ICON: Record<LineageNode['kind'], string> = { corpus: 'database', export: 'package', run: 'pulse', model: 'circuit-board', eval: 'graph' };

export interface LineageSources {
  roots(): string[];
  jobs(): Promise<JobHint[]>;
}

export class LineageView implements vscode.TreeDataProvider<LineageNode>, vscode.FileDecorationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<LineageNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly decorationsChanged = new vscode.EventEmitter<vscode.Uri[] | undefined>();
  readonly onDidChangeFileDecorations = this.decorationsChanged.event;
  private graph: LineageGraph | undefined;
  private scanning: Promise<LineageGraph> | undefined;
  private extra = new Set<string>();
  private stale = new Map<string, string>();

  constructor(private readonly sources: LineageSources, private readonly cache: HashCache) {}

  /** Rescans (at most one scan at a time; a call during a scan waits for it, then scans again). */
  async refresh(include: string | string[] = []): Promise<LineageGraph> {
    for (const p of typeof include === 'string' ? [include] : include) this.extra.add(p);
    const prev = this.scanning;
    const next = (async () => {
      await prev?.catch(() => undefined);
      const g = await scanLineage({ roots: this.sources.roots(), include: [...this.extra], cache: this.cache, jobs: await this.sources.jobs() });
      await this.cache.save().catch(() => undefined);
      return g;
    })();
    this.scanning = next;
    const g = await next;
    this.graph = g;
    const before = [...this.stale.keys()];
    this.stale = new Map([...g.nodes.values()].filter((n) => n.stale).map((n) => [vscode.Uri.file(n.id).toString(), jsonNode(n).reasons[0]]));
    this.changed.fire(undefined);
    this.decorationsChanged.fire([...new Set([...before, ...this.stale.keys()])].map((u) => vscode.Uri.parse(u)));
    return g;
  }

  /** Adds folders to scan beside the roots; rescans only if the view has been shown already. */
  async include(paths: string[]): Promise<void> {
    for (const p of paths) this.extra.add(p);
    if (this.graph) await this.refresh();
  }

  current(): LineageGraph | undefined {
    return this.graph;
  }

  node(id: string): LineageNode | undefined {
    return this.graph?.nodes.get(id);
  }

  async getChildren(element?: LineageNode): Promise<LineageNode[]> {
    const g = this.graph ?? await this.refresh();
    if (element) return element.children.map((c) => g.nodes.get(c)!).filter((c) => c && c.parents[0]?.id === element.id);
    return [...g.nodes.values()].filter((n) => !n.parents.length).sort((a, b) => a.kind.localeCompare(b.kind) || a.id.localeCompare(b.id));
  }

  getParent(element: LineageNode): LineageNode | undefined {
    const p = element.parents[0];
    return p ? this.graph?.nodes.get(p.id) : undefined;
  }

  getTreeItem(n: LineageNode): vscode.TreeItem {
    const item = new vscode.TreeItem(n.label, n.children.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    const j = jsonNode(n);
    item.id = `${n.kind}:${n.id}`;
    const hash = n.sha256 ? n.sha256.slice(0, 12) : 'missing';
    item.description = `${n.kind} · ${hash}${n.stale ? ' · stale' : ''}`;
    item.iconPath = n.stale ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'))
      : n.missing ? new vscode.ThemeIcon('question', new vscode.ThemeColor('disabledForeground'))
        : new vscode.ThemeIcon(ICON[n.kind]);
    if (!n.missing) item.resourceUri = vscode.Uri.file(n.id);
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${n.kind}** `).appendText(n.id).appendMarkdown('\n\n').appendText(`sha256 ${n.sha256 ?? '(not found here)'}`);
    for (const r of [...j.reasons, ...n.problems]) md.appendMarkdown('\n\n- ').appendText(r);
    item.tooltip = md;
    item.contextValue = `dcdLineage.${n.kind}${n.stale ? '.stale' : ''}`;
    if (!n.missing) item.command = { command: 'dcd.lineage.open', title: 'Open', arguments: [n.id] };
    return item;
  }

  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    const why = this.stale.get(uri.toString());
    return why ? new vscode.FileDecoration('!', `stale: ${why}`, new vscode.ThemeColor('list.warningForeground')) : undefined;
  }

  /** The file to open for a node: the corpus, the manifest, the events or training record, a results file. */
  static fileOf(n: LineageNode): string {
    switch (n.kind) {
      case 'corpus': return n.id;
      case 'export': return path.join(n.id, 'manifest.json');
      case 'run': return (n.details.events as string | undefined) ?? path.join(n.id, 'final', 'dcd_training.json');
      case 'model': return path.join(n.id, 'dcd_training.json');
      case 'eval': return ((n.details.results as string[] | undefined) ?? [])[0] ?? path.join(n.id, 'dcd_lineage.json');
    }
  }

  dispose(): void {
    this.changed.dispose();
    this.decorationsChanged.dispose();
  }
}
