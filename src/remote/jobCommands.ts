/**
 * The job commands of the Remote Hosts & Jobs view: Cancel, Reattach,
 * Download Checkpoint / Final Model, Show Job Log, Show Loss Curves and
 * Refresh Jobs. Each takes a job tree node, a job id, or asks.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import type { JobRecord } from '../core/jobs/store';
import type { JobEngine } from '../core/jobs/engine';
import { isTerminal } from '../core/jobs/status';
import { LossChartPanel } from './chartPanel';
import { formatBytes } from './hostsView';
import { assertTrusted } from './jobsModel';
import { jobIdOf, jobItems, pickHost, pickJob, type RemoteFeature } from './pickers';

const isLive = (j: JobRecord) => !isTerminal(j.status);

export async function showLossCurves(r: RemoteFeature, ids: string[]): Promise<LossChartPanel> {
  await r.model.reload();
  return LossChartPanel.show(r.context.extensionUri, r.model, ids);
}

export async function cancel(r: RemoteFeature, id: string, graceMs = 60_000): Promise<JobRecord> {
  r.output.appendLine(`[job ${id}] cancelling (SIGTERM, forced kill after ${graceMs / 1000} s)…`);
  const rec = await r.model.engine.cancel(id, { graceMs });
  await r.model.reload();
  r.output.appendLine(`[job ${id}] ${rec.status}`);
  return rec;
}

export async function cancelJobCommand(r: RemoteFeature, arg?: unknown, graceMs?: number): Promise<JobRecord | undefined> {
  assertTrusted('Cancel Job');
  const id = await pickJob(r, arg, isLive, 'Cancel which job?');
  return id ? vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DCD: cancelling ${id}` }, () => cancel(r, id, graceMs)) : undefined;
}

export async function reattachJobCommand(r: RemoteFeature, arg?: unknown): Promise<string | undefined> {
  assertTrusted('Reattach Job');
  const id = jobIdOf(arg);
  if (id) { await r.model.engine.refresh(id); r.model.watch(id); await r.model.reload(); return id; }
  const profile = await pickHost(r, undefined, 'Reattach: the job runs on which host?');
  if (!profile) return undefined;
  const given = await vscode.window.showInputBox({ title: 'Reattach: job id', prompt: `The id of a job on ${profile.name} (its folder under ~/.dcd/jobs)` });
  if (!given) return undefined;
  const rec = await r.model.engine.attach(profile, given.trim());
  await r.model.reload();
  r.model.watch(rec.id);
  return rec.id;
}

async function pickArtifact(r: RemoteFeature, id: string): Promise<string | undefined> {
  const arts = await r.model.engine.artifacts(id);
  if (!arts.length) { void vscode.window.showInformationMessage(`DCD: job ${id} has no checkpoint or model yet.`); return undefined; }
  const pick = await vscode.window.showQuickPick([
    ...arts.map((a) => ({ label: a.name, description: `${a.kind}${a.step !== undefined ? ` · step ${a.step}` : ''}${a.reason ? ` · ${a.reason}` : ''}`, detail: a.path })),
    { label: 'all', description: 'every checkpoint and the final model' },
  ], { title: `Download from job ${id}` });
  return pick?.label;
}

export async function downloadArtifactCommand(r: RemoteFeature, arg?: unknown, name?: string, dest?: string): Promise<Awaited<ReturnType<JobEngine['fetch']>> | undefined> {
  assertTrusted('Download Checkpoint');
  const id = await pickJob(r, arg, (j) => !!j.remote, 'Download from which job?');
  if (!id) return undefined;
  const what = name ?? await pickArtifact(r, id);
  if (!what) return undefined;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const out = dest ?? (folder ? path.join(folder, 'dcd-jobs', id) : (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Download into' }))?.[0]?.fsPath);
  if (!out) return undefined;
  const fetched = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DCD: downloading ${what} of ${id}` }, () => r.model.engine.fetch(id, what, out, { onWarning: (w) => r.output.appendLine(`[job ${id}] warning: ${w}`) }));
  for (const f of fetched) r.output.appendLine(`[job ${id}] ${f.name} → ${f.localPath} (${f.files} files, ${formatBytes(f.bytes)})`);
  void vscode.window.showInformationMessage(`DCD: downloaded ${fetched.map((f) => f.name).join(', ')} into ${out}`);
  return fetched;
}

export async function showJobLogCommand(r: RemoteFeature, arg?: unknown): Promise<string | undefined> {
  const id = await pickJob(r, arg, (j) => !!j.remote, 'Show the log of which job?');
  if (!id) return undefined;
  const channel = vscode.window.createOutputChannel(`DCD Job ${id}`);
  r.context.subscriptions.push(channel);
  channel.show(true);
  const f = r.model.engine.followLog(id, 0, (text) => channel.append(text), { onReconnect: (n, err) => channel.appendLine(`\n[connection lost: ${err.message}; reconnecting (${n})…]`) });
  r.context.subscriptions.push({ dispose: () => f.stop() });
  return id;
}

export async function showLossCurvesCommand(r: RemoteFeature, arg?: unknown, selection?: unknown[]): Promise<LossChartPanel> {
  const fromSelection = (selection ?? []).map(jobIdOf).filter((x): x is string => !!x);
  let ids = fromSelection.length ? fromSelection : Array.isArray(arg) ? arg.map(jobIdOf).filter((x): x is string => !!x) : [jobIdOf(arg)].filter((x): x is string => !!x);
  if (!ids.length) {
    const jobs = (await r.model.reload()).filter((j) => j.remote);
    const picks = await vscode.window.showQuickPick(jobItems(jobs), { title: 'Show loss curves of which jobs?', canPickMany: true });
    ids = (picks ?? []).map((p) => p.id);
  }
  return showLossCurves(r, ids);
}

export async function refreshJobsCommand(r: RemoteFeature): Promise<JobRecord[]> {
  const jobs = await r.model.reload();
  await Promise.all(jobs.filter((j) => isLive(j) && j.remote).map((j) => r.model.engine.refresh(j.id).catch((err: Error) => r.output.appendLine(`[job ${j.id}] ${err.message}`))));
  return r.model.reload();
}
