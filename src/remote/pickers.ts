/**
 * What every command of the remote feature shares: the feature's state and
 * the pickers for a job or a host (a tree node or an id given, else a quick
 * pick).
 */
import * as vscode from 'vscode';
import type { JobRecord } from '../core/jobs/store';
import { describeHost, type HostProfile } from '../core/remote/profiles';
import type { HostsView, Node } from './hostsView';
import type { JobsModel } from './jobsModel';

export interface RemoteFeature {
  context: vscode.ExtensionContext;
  output: vscode.OutputChannel;
  model: JobsModel;
  view: HostsView;
}

export function jobIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const n = arg as Node | undefined;
  return n && n.kind === 'job' ? n.job.id : undefined;
}

function hostNameOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const n = arg as Node | undefined;
  return n && n.kind === 'host' ? n.profile.name : undefined;
}

/** Quick-pick rows of jobs. */
export function jobItems(jobs: readonly JobRecord[]) {
  return jobs.map((j) => ({ label: `${j.spec.model} (${j.spec.preset})`, description: `${j.status} · ${j.host.name}`, detail: j.id, id: j.id }));
}

export async function pickJob(r: RemoteFeature, arg: unknown, filter: (j: JobRecord) => boolean, title: string): Promise<string | undefined> {
  const id = jobIdOf(arg);
  if (id) return id;
  const jobs = (await r.model.reload()).filter(filter);
  if (!jobs.length) { void vscode.window.showInformationMessage(`DCD: no job to choose for "${title}".`); return undefined; }
  const pick = await vscode.window.showQuickPick(jobItems(jobs), { title });
  return pick?.id;
}

export async function pickHost(r: RemoteFeature, arg: unknown, title: string): Promise<HostProfile | undefined> {
  const name = hostNameOf(arg);
  if (name) return r.model.profile(name);
  const problems: string[] = [];
  const profiles = r.model.profiles(problems);
  for (const p of problems) r.output.appendLine(`dcd.hosts: ${p}`);
  const pick = await vscode.window.showQuickPick(profiles.map((p) => ({ label: p.name, description: describeHost(p), p })), { title });
  return pick?.p;
}
