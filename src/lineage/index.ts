/**
 * Lineage in VS Code: the Lineage view (src/lineage/lineageView.ts) over the
 * pure core (src/core/lineage), "Show Lineage" for a file or folder
 * (`dcd.lineage.reveal`, which other features — the results table — call with
 * a path), open a node, refresh.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { artifactAt, HashCache, jsonNode, type JsonNode, type LineageGraph, type LineageNode } from '../core/lineage';
import type { ExtensionServices } from '../services';
import { LineageView } from './lineageView';
import { buildExport, type BuildExportArgs, type BuiltExport } from './buildExport';

export type { BuildExportArgs, BuiltExport } from './buildExport';

export interface LineageApi {
  view: LineageView;
  treeView: vscode.TreeView<LineageNode>;
  /** Shows the node for PATH (a corpus, export, run or model folder, results file) and returns it with its reasons. */
  reveal(target: string | vscode.Uri): Promise<JsonNode | undefined>;
  buildExport(args: BuildExportArgs): Promise<BuiltExport | undefined>;
}

const asPath = (v: string | vscode.Uri) => (v instanceof vscode.Uri ? v.fsPath : v);

/** The view's message after a scan: how many nodes are stale, and the first change that made them so. */
export function staleSummary(g: LineageGraph): string | undefined {
  const stale = [...g.nodes.values()].filter((n) => n.stale);
  if (!stale.length) return undefined;
  const cause = stale.flatMap((n) => n.changes.filter((c) => c.node === n.id))[0];
  return `${stale.length} stale${cause ? ` — ${cause.message}` : ''}`;
}

export function registerLineage(context: vscode.ExtensionContext, services: ExtensionServices): LineageApi {
  const storage = context.globalStorageUri.fsPath;
  const cache = new HashCache(path.join(storage, 'lineage-hashes.json'));
  const loaded = cache.load();
  const engine = services.hosts.engine;
  const view = new LineageView({
    roots: () => [...(vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath), path.join(storage, 'exports')],
    jobs: async () => {
      await loaded;
      const jobs = await engine.list().catch(() => []);
      return jobs.map((j) => ({ id: j.id, data: j.spec?.data, jobDir: j.host?.kind === 'local' ? j.remote?.jobDir : undefined }));
    },
  }, cache);
  const treeView = vscode.window.createTreeView('dcd.lineage', { treeDataProvider: view, showCollapseAll: true });

  const reveal = async (target: string | vscode.Uri): Promise<JsonNode | undefined> => {
    const p = asPath(target);
    const hit = await artifactAt(p);
    if (!hit) throw new Error(`${p} is not a corpus, export, run folder, model folder or results with a dcd_lineage.json`);
    // Local run folders (~/.dcd/jobs/<id>/run) and other places outside the roots are scanned too.
    const g = await view.refresh(hit.id);
    const node = g.nodes.get(hit.id) ?? [...g.nodes.values()].find((n) => n.kind === 'model' && path.dirname(n.id) === hit.id);
    if (!node) return undefined;
    await vscode.commands.executeCommand('dcd.lineage.focus');
    await treeView.reveal(node, { select: true, focus: true, expand: 2 });
    const j = jsonNode(node);
    treeView.message = j.stale ? `${path.basename(j.id)} is stale: ${j.reasons[0]}` : `${path.basename(j.id)} · ${j.kind} · sha256 ${j.sha256?.slice(0, 12) ?? '?'}`;
    return j;
  };

  // Local job folders live outside the workspace: scan each finished one's run folder too.
  const jobRoots = async () => {
    const runs = (await engine.list().catch(() => []))
      .flatMap((j) => (j.host?.kind === 'local' && j.remote?.jobDir ? [path.join(j.remote.jobDir, 'run')] : []));
    await view.include(runs);
  };

  const watcher = vscode.workspace.createFileSystemWatcher('**/{*.jsonl,manifest.json,dcd_training.json,dcd_lineage.json}');
  let timer: NodeJS.Timeout | undefined;
  const later = () => {
    if (!view.current()) return; // not shown yet: the first look scans
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => { void view.refresh().then((g) => { treeView.message = staleSummary(g); }).catch((err: Error) => services.output.appendLine(`lineage: ${err.message}`)); }, 500);
  };
  context.subscriptions.push(
    view, treeView, watcher,
    watcher.onDidChange(later), watcher.onDidCreate(later), watcher.onDidDelete(later),
    vscode.window.registerFileDecorationProvider(view),
    { dispose: () => { if (timer) clearTimeout(timer); } },
    services.commands.registerCommand('dcd.lineage.refresh', async () => {
      await jobRoots();
      const g = await view.refresh();
      treeView.message = staleSummary(g);
      return staleSummary(g);
    }),
    services.commands.registerCommand('dcd.lineage.reveal', async (target?: string | vscode.Uri) => {
      const t = target ?? vscode.window.activeTextEditor?.document.uri;
      if (!t) throw new Error('no file: run it on a corpus, an export, a run or model folder, or a results file');
      return reveal(t);
    }, { rejectScripted: true }),
    services.commands.registerCommand('dcd.buildTrainingExport', async (arg?: BuildExportArgs | vscode.Uri) => {
      const built = await buildExport(arg instanceof vscode.Uri ? { corpus: arg } : arg ?? {}, storage);
      if (!built) return undefined;
      services.output.appendLine(`export ${built.dir}: ${built.manifest.samples} samples, ${built.manifest.tokens} tokens, ${built.manifest.trained_tokens} trained`);
      await reveal(built.dir).catch((err: Error) => services.output.appendLine(`lineage: ${err.message}`));
      return built;
    }, { rejectScripted: true }),
    services.commands.registerCommand('dcd.lineage.open', async (id?: string | LineageNode) => {
      const n = typeof id === 'string' ? view.node(id) : id ?? treeView.selection[0];
      if (!n) return;
      await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(LineageView.fileOf(n)));
    }),
  );
  void jobRoots().catch((err: Error) => services.output.appendLine(`lineage: ${err.message}`));
  return { view, treeView, reveal, buildExport: (args) => buildExport(args, storage) };
}
