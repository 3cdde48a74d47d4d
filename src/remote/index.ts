/**
 * Remote hosts and training jobs in VS Code: the Remote Hosts & Jobs view,
 * "Train on Host…", cancel / reattach / download / log, Check Host, Set Up
 * Host, Forget Host Key and the live loss chart. Everything runs on the pure
 * core (src/core/remote, src/core/jobs) and on the extension's one JobEngine
 * (src/services/hosts.ts); this folder holds the VS Code side.
 */
import * as vscode from 'vscode';
import type { JobRecord } from '../core/jobs/store';
import type { HostReport } from '../core/remote/hostCheck';
import type { ExtensionServices } from '../services';
import { LossChartPanel } from './chartPanel';
import { checkHostCommand, forgetHostKeyCommand, runCheckHost, setUpHostCommand } from './hostCommands';
import { HostsView } from './hostsView';
import { cancel, cancelJobCommand, downloadArtifactCommand, refreshJobsCommand, reattachJobCommand, showJobLogCommand, showLossCurves, showLossCurvesCommand } from './jobCommands';
import { assertTrusted, JobsModel } from './jobsModel';
import type { RemoteFeature } from './pickers';
import { trainOnHost, trainOnHostCommand, type TrainArgs } from './train';

export type { TrainArgs } from './train';

export interface RemoteApi {
  model: JobsModel;
  view: HostsView;
  chart(): LossChartPanel | undefined;
  /** "Train on Host…" without dialogs for what the args give; `trusted` overrides Workspace Trust (tests). */
  trainOnHost(args: TrainArgs, opts?: { trusted?: boolean }): Promise<JobRecord | undefined>;
  cancel(id: string, graceMs?: number): Promise<JobRecord>;
  showLossCurves(ids: string[]): Promise<LossChartPanel>;
  checkHost(name: string): Promise<HostReport>;
  /** The guard every dispatching command calls first. */
  assertTrusted: typeof assertTrusted;
}

export function registerRemote(context: vscode.ExtensionContext, services: ExtensionServices): RemoteApi {
  const { output, commands } = services;
  const model = new JobsModel(services.hosts, output);
  const view = new HostsView();
  view.bind(model);
  const r: RemoteFeature = { context, output, model, view };

  context.subscriptions.push(
    model, view,
    vscode.window.registerTreeDataProvider('dcd.remote', view),
    commands.registerCommand('dcd.trainOnHost', (arg?: Parameters<typeof trainOnHostCommand>[1]) => trainOnHostCommand(r, arg)),
    commands.registerCommand('dcd.cancelJob', (arg?: unknown, graceMs?: number) => cancelJobCommand(r, arg, graceMs)),
    commands.registerCommand('dcd.reattachJob', (arg?: unknown) => reattachJobCommand(r, arg)),
    commands.registerCommand('dcd.downloadArtifact', (arg?: unknown, name?: string, dest?: string) => downloadArtifactCommand(r, arg, name, dest)),
    commands.registerCommand('dcd.showJobLog', (arg?: unknown) => showJobLogCommand(r, arg)),
    commands.registerCommand('dcd.showLossCurves', (arg?: unknown, selection?: unknown[]) => showLossCurvesCommand(r, arg, selection)),
    commands.registerCommand('dcd.refreshJobs', () => refreshJobsCommand(r)),
    commands.registerCommand('dcd.checkHost', (arg?: unknown) => checkHostCommand(r, arg)),
    commands.registerCommand('dcd.setUpHost', (arg?: unknown) => setUpHostCommand(r, arg)),
    commands.registerCommand('dcd.forgetHostKey', (arg?: unknown) => forgetHostKeyCommand(r, arg)),
  );

  // Reattach the jobs that were running when the window closed.
  void model.reattachAll().then((ids) => { if (ids.length) output.appendLine(`reattached ${ids.length} running job(s): ${ids.join(', ')}`); }, (err: Error) => output.appendLine(`jobs: ${err.message}`));

  return {
    model, view, chart: () => LossChartPanel.current,
    trainOnHost: (args, opts) => trainOnHost(r, args, opts),
    cancel: (id, graceMs) => cancel(r, id, graceMs),
    showLossCurves: (ids) => showLossCurves(r, ids),
    checkHost: (name) => runCheckHost(r, name),
    assertTrusted,
  };
}
