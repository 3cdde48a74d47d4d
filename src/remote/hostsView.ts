/** The Remote Hosts & Jobs view: the embedded `local` profile and the SSH profiles from settings. */
import * as vscode from 'vscode';
import { setting, Settings, type HostSetting } from '../config';

type Node = { kind: 'host'; host: HostSetting & { local?: boolean } };

export class HostsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscription = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('dcd.hosts')) this.changed.fire(undefined);
  });

  hosts(): (HostSetting & { local?: boolean })[] {
    return [{ name: 'local', host: 'localhost', local: true }, ...setting<HostSetting[]>(Settings.hosts, [])];
  }

  getChildren(node?: Node): Node[] {
    return node ? [] : this.hosts().map((host) => ({ kind: 'host', host }));
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const h = node.host;
    const item = new vscode.TreeItem(h.name, vscode.TreeItemCollapsibleState.None);
    item.description = h.local ? 'this machine (CPU, built-in tiny model)' : `${h.user ? `${h.user}@` : ''}${h.host}${h.port ? `:${h.port}` : ''}`;
    item.iconPath = new vscode.ThemeIcon(h.local ? 'vm' : 'remote');
    item.contextValue = h.local ? 'dcd.host.local' : 'dcd.host.ssh';
    return item;
  }

  dispose(): void {
    this.changed.dispose();
    this.subscription.dispose();
  }
}
