/**
 * DCD Studio's entry point: wires the thin VS Code adapters of each feature to
 * the pure core. Activation is implicit (views, commands, the dcd-trace language).
 */
import * as vscode from 'vscode';
import { CorporaView } from './corpora/corporaView';
import { SamplePanel } from './corpora/samplePanel';
import { HostsView } from './remote/hostsView';
import { buildCorpusCommand, verifyAnswerCommand } from './corpora/commands';
import { AuditStore, auditCorpusCommand } from './corpora/audit';
import { registerTraces, type TracesApi } from './traces';
import { registerWorkbench, type WorkbenchApi } from './workbench';
import { registerEval, type EvalApi } from './eval';
import { registerRemote, type RemoteApi } from './remote';
import { registerLocal, type LocalApi } from './local';
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
}

export function activate(context: vscode.ExtensionContext): DcdStudioApi {
  const audits = new AuditStore();
  const corpora = new CorporaView(audits);
  const hosts = new HostsView();
  const output = vscode.window.createOutputChannel('DCD Studio');
  context.subscriptions.push(
    output, audits,
    vscode.commands.registerCommand('dcd.auditCorpusTokens', async (target?: vscode.Uri | { corpus?: { uri: vscode.Uri } }) => {
      const uri = target instanceof vscode.Uri ? target : target?.corpus?.uri ?? (await pickCorpus(corpora));
      if (!uri) return undefined;
      const corpus = (await corpora.list()).find((c) => c.uri.toString() === uri.toString());
      if (!corpus) throw new Error(`${uri.fsPath} is not a corpus of this workspace`);
      return auditCorpusCommand(audits, corpus, output);
    }),
    vscode.commands.registerCommand('dcd.buildCorpus', (req?: Parameters<typeof buildCorpusCommand>[1]) => buildCorpusCommand(output, req)),
    vscode.commands.registerCommand('dcd.verifyAnswer', (args?: { pred: string; gold: string }) => verifyAnswerCommand(args)),
    corpora, hosts,
    vscode.window.registerTreeDataProvider('dcd.corpora', corpora),
    vscode.window.registerTreeDataProvider('dcd.remote', hosts),
    vscode.commands.registerCommand('dcd.refreshCorpora', () => corpora.refresh()),
    vscode.commands.registerCommand('dcd.openCorpusSample', async (uri?: vscode.Uri, index = 0) => {
      const target = uri ?? (await pickCorpus(corpora));
      if (target) await SamplePanel.show(context.extensionUri, target, index);
    }),
    vscode.commands.registerCommand('dcd.showAbout', () =>
      vscode.window.showInformationMessage(`DCD Studio ${version}: Dialectical Chain Distillation corpora, traces and training.`)),
    vscode.commands.registerCommand('dcd.openWalkthrough', () =>
      vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#dcd.gettingStarted`, false)),
    vscode.commands.registerCommand('dcd.openSettings', () =>
      vscode.commands.executeCommand('workbench.action.openSettings', '@ext:' + context.extension.id)),
  );
  const traces = registerTraces(context, corpora);
  const workbench = registerWorkbench(context);
  const remote = registerRemote(context, hosts, output);
  const evalApi = registerEval(context, { engine: () => remote.model.engine });
  const local = registerLocal(context, output);
  return { version, corpora, hosts, audits, samplePanel: () => SamplePanel.current, traces, workbench, eval: evalApi, local, remote };
}

async function pickCorpus(corpora: CorporaView): Promise<vscode.Uri | undefined> {
  const list = await corpora.list();
  if (!list.length) {
    void vscode.window.showWarningMessage('No DCD corpus (*.dcd.jsonl) in this workspace.');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick(list.map((c) => ({ label: vscode.workspace.asRelativePath(c.uri), uri: c.uri })), { title: 'Show a sample of which corpus?' });
  return pick?.uri;
}

export function deactivate(): void { /* disposables are owned by context.subscriptions */ }
