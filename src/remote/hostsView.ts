/**
 * The Remote Hosts & Jobs view: the embedded `local` profile and the SSH
 * profiles from settings (with the facts of their last Check Host as
 * children), and the job history with status and progress.
 */
import * as vscode from 'vscode';
import type { JobRecord } from '../core/jobs/store';
import { jobDescription } from '../core/jobs/describe';
import { describeHost, type HostProfile } from '../core/remote/profiles';
import type { HostReport } from '../core/remote/hostCheck';
import type { JobsModel } from './jobsModel';
import { formatBytes } from '../core/display/bytes';

export type Node =
  | { kind: 'group'; group: 'hosts' | 'jobs' }
  | { kind: 'host'; profile: HostProfile }
  | { kind: 'fact'; label: string; value: string; warn?: boolean }
  | { kind: 'job'; job: JobRecord };

const STATUS_ICON: Record<string, [string, string?]> = {
  preparing: ['loading~spin'], uploading: ['cloud-upload'], queued: ['clock'], running: ['sync~spin', 'charts.blue'],
  succeeded: ['pass', 'testing.iconPassed'], failed: ['error', 'testing.iconFailed'], cancelled: ['circle-slash', 'disabledForeground'],
};

// Re-exported: the remote commands (src/remote/index.ts) import it from here.
export { formatBytes };

/** The facts of a Check Host, as tree rows (also written to the output channel). */
export function hostFacts(r: HostReport): Array<{ label: string; value: string; warn?: boolean }> {
  const s = r.summary;
  return [
    { label: 'OS', value: s.os ?? '?' },
    { label: 'Python', value: s.python ?? `not found (${r.python})`, warn: !s.python },
    { label: 'torch', value: s.torch ?? 'missing', warn: !s.torch },
    { label: 'CUDA', value: s.cuda === true ? 'available' : s.cuda === false ? 'not available' : '?' },
    { label: 'GPUs', value: s.gpus.length ? s.gpus.join('; ') : 'none' },
    { label: 'free disk', value: formatBytes(s.diskFreeBytes) },
    { label: 'backend packages', value: s.missing.length ? `missing: ${s.missing.join(', ')}` : 'all present', warn: s.missing.length > 0 },
  ];
}

export class HostsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[] = [];
  private model: JobsModel | undefined;
  /** Last Check Host per profile name. */
  readonly checks = new Map<string, HostReport | { error: string }>();

  constructor() {
    this.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('dcd.hosts') || e.affectsConfiguration('dcd.pythonPath')) this.refresh();
    }));
  }

  /** Connects the view to the jobs model (registerRemote does this). */
  bind(model: JobsModel): void {
    this.model = model;
    this.subscriptions.push(model.onDidChange(() => this.refresh()));
  }

  refresh(): void { this.changed.fire(undefined); }

  getChildren(node?: Node): Node[] {
    if (!node) return [{ kind: 'group', group: 'hosts' }, { kind: 'group', group: 'jobs' }];
    if (node.kind === 'group' && node.group === 'hosts') return (this.model?.profiles() ?? []).map((profile) => ({ kind: 'host', profile }));
    if (node.kind === 'group') return (this.model?.list() ?? []).map((job) => ({ kind: 'job', job }));
    if (node.kind === 'host') {
      const c = this.checks.get(node.profile.name);
      if (!c) return [];
      if ('error' in c) return [{ kind: 'fact', label: 'check failed', value: c.error, warn: true }];
      return hostFacts(c).map((f) => ({ kind: 'fact', ...f }));
    }
    return [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'group': {
        const item = new vscode.TreeItem(node.group === 'hosts' ? 'Hosts' : 'Jobs', vscode.TreeItemCollapsibleState.Expanded);
        item.id = `group:${node.group}`;
        item.contextValue = `dcd.group.${node.group}`;
        if (node.group === 'jobs') item.description = `${this.model?.list().length ?? 0}`;
        return item;
      }
      case 'host': {
        const p = node.profile;
        const item = new vscode.TreeItem(p.name, this.checks.has(p.name) ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
        item.id = `host:${p.name}`;
        item.description = `${describeHost(p)}${p.kind === 'local' && p.python ? ` · ${p.python}` : ''}`;
        item.iconPath = new vscode.ThemeIcon(p.kind === 'local' ? 'vm' : 'remote');
        item.contextValue = p.kind === 'local' ? 'dcd.host.local' : 'dcd.host.ssh';
        item.tooltip = p.kind === 'local' ? 'Jobs run on this machine (CPU or its GPUs)' : p.kind === 'slurm' ? `Jobs are submitted with sbatch (${describeHost(p)})` : `SSH host ${p.host}`;
        return item;
      }
      case 'fact': {
        const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
        item.description = node.value;
        item.tooltip = `${node.label}: ${node.value}`;
        item.iconPath = new vscode.ThemeIcon(node.warn ? 'warning' : 'info', node.warn ? new vscode.ThemeColor('problemsWarningIcon.foreground') : undefined);
        return item;
      }
      case 'job': {
        const j = node.job;
        const item = new vscode.TreeItem(`${j.spec.model} (${j.spec.preset})`, vscode.TreeItemCollapsibleState.None);
        item.id = `job:${j.id}`;
        item.description = jobDescription(j);
        const [icon, color] = STATUS_ICON[j.status] ?? ['circle-outline'];
        item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
        item.contextValue = `dcd.job.${j.status}`;
        const md = new vscode.MarkdownString(undefined, false);
        md.appendText(`job ${j.id}\n\n${j.history.map((h) => `${h.status} ${h.time}`).join('\n')}${j.error ? `\n\nerror: ${j.error}` : ''}`);
        item.tooltip = md;
        item.command = { command: 'dcd.showLossCurves', title: 'Show Loss Curves', arguments: [node] };
        return item;
      }
    }
  }

  dispose(): void {
    this.changed.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
