/**
 * Corpora in VS Code: the Corpora view, Build Corpus…, Verify Answer, Audit
 * Corpus Tokens and the Sample panel. The corpus logic is the pure core's;
 * this folder is the VS Code side.
 */
import * as vscode from 'vscode';
import type { ExtensionServices } from '../services';
import { AuditStore, auditCorpusCommand } from './audit';
import { buildCorpusCommand, verifyAnswerCommand } from './commands';
import { CorporaView } from './corporaView';
import { SamplePanel } from './samplePanel';

/** What the feature exposes to tests and to the other features (by injection). */
export interface CorporaApi {
  view: CorporaView;
  audits: AuditStore;
  samplePanel(): SamplePanel | undefined;
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

async function auditCommand(corpora: CorporaView, audits: AuditStore, output: vscode.OutputChannel, target?: vscode.Uri | { corpus?: { uri: vscode.Uri } }) {
  const uri = target instanceof vscode.Uri ? target : target?.corpus?.uri ?? (await pickCorpus(corpora));
  if (!uri) return undefined;
  const corpus = (await corpora.list()).find((c) => c.uri.toString() === uri.toString());
  if (!corpus) throw new Error(`${uri.fsPath} is not a corpus of this workspace`);
  return auditCorpusCommand(audits, corpus, output);
}

async function openSampleCommand(context: vscode.ExtensionContext, corpora: CorporaView, uri?: vscode.Uri, index = 0): Promise<void> {
  const target = uri ?? (await pickCorpus(corpora));
  if (target) await SamplePanel.show(context.extensionUri, target, index);
}

export function registerCorpora(context: vscode.ExtensionContext, services: ExtensionServices): CorporaApi {
  const { output } = services;
  const audits = new AuditStore();
  const view = new CorporaView(audits);
  context.subscriptions.push(
    audits, view,
    vscode.window.registerTreeDataProvider('dcd.corpora', view),
    vscode.commands.registerCommand('dcd.auditCorpusTokens', (target?: vscode.Uri | { corpus?: { uri: vscode.Uri } }) => auditCommand(view, audits, output, target)),
    vscode.commands.registerCommand('dcd.buildCorpus', (req?: Parameters<typeof buildCorpusCommand>[1]) => buildCorpusCommand(output, req)),
    vscode.commands.registerCommand('dcd.verifyAnswer', (args?: { pred: string; gold: string }) => verifyAnswerCommand(args)),
    vscode.commands.registerCommand('dcd.refreshCorpora', () => view.refresh()),
    vscode.commands.registerCommand('dcd.openCorpusSample', (uri?: vscode.Uri, index = 0) => openSampleCommand(context, view, uri, index)),
  );
  return { view, audits, samplePanel: () => SamplePanel.current };
}
