/**
 * DCD Studio's entry point: sets up the shared services (src/services), then
 * registers each feature's thin VS Code adapters on the pure core, one
 * `register<Feature>(context, services)` per folder. Activation is implicit
 * (views, commands, the dcd-trace language).
 */
import * as vscode from 'vscode';
import type { CorporaView } from './corpora/corporaView';
import type { SamplePanel } from './corpora/samplePanel';
import type { AuditStore } from './corpora/audit';
import type { HostsView } from './remote/hostsView';
import { createServices } from './services';
import { registerCorpora } from './corpora';
import { registerTraces, type TracesApi } from './traces';
import { registerWorkbench, type WorkbenchApi } from './workbench';
import { registerEval, type EvalApi } from './eval';
import { registerRemote, type RemoteApi } from './remote';
import { registerLocal, type LocalApi } from './drafting';
import { registerLineage, type LineageApi } from './lineage';
import { registerWalkthrough, type WalkthroughApi } from './walkthrough';
import { version } from '../package.json';

/** What `activate` returns: used by the in-VS Code tests and by other extensions. */
export interface DcdStudioApi {
  version: string;
  corpora: CorporaView;
  hosts: HostsView;
  samplePanel(): SamplePanel | undefined;
  audits: AuditStore;
  workbench: WorkbenchApi;
  traces: TracesApi;
  eval: EvalApi;
  local: LocalApi;
  remote: RemoteApi;
  lineage: LineageApi;
  walkthrough: WalkthroughApi;
}

export function activate(context: vscode.ExtensionContext): DcdStudioApi {
  const services = createServices(context);
  context.subscriptions.push(
    vscode.commands.registerCommand('dcd.showAbout', () =>
      vscode.window.showInformationMessage(`DCD Studio ${version}: Dialectical Chain Distillation corpora, traces and training.`)),
    vscode.commands.registerCommand('dcd.openWalkthrough', () =>
      vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#dcd.gettingStarted`, false)),
    vscode.commands.registerCommand('dcd.openSettings', () =>
      vscode.commands.executeCommand('workbench.action.openSettings', '@ext:' + context.extension.id)),
  );
  const corpora = registerCorpora(context, services);
  const traces = registerTraces(context, services, { corpora: corpora.view });
  const workbench = registerWorkbench(context, services);
  const remote = registerRemote(context, services);
  const evalApi = registerEval(context, services);
  const local = registerLocal(context, services);
  const lineage = registerLineage(context, services);
  const walkthrough = registerWalkthrough(context, services);
  // Disposed after every feature: job followers stop before the engine closes their sessions.
  context.subscriptions.push(services.hosts);
  return {
    version, corpora: corpora.view, hosts: remote.view, audits: corpora.audits, samplePanel: corpora.samplePanel,
    traces, workbench, eval: evalApi, local, remote, lineage, walkthrough,
  };
}

export function deactivate(): void { /* disposables are owned by context.subscriptions */ }
