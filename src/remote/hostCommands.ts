/**
 * The host commands of the Remote Hosts & Jobs view: Check Host (facts as
 * tree rows), Set Up Host (a venv with the backend's requirements) and Forget
 * Host Key (from DCD's own trust store; ~/.ssh/known_hosts is only read).
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import { checkHost, setupCommands, setupHost, type HostReport, type SetupResult } from '../core/remote/hostCheck';
import { TrustStore } from '../core/remote/knownHosts';
import { resolveSshTarget } from '../core/remote/sshConfig';
import { isRemoteProfile } from '../core/remote/profiles';
import { hostFacts } from './hostsView';
import { assertTrusted } from './jobsModel';
import { pickHost, type RemoteFeature } from './pickers';

export async function runCheckHost(r: RemoteFeature, name: string): Promise<HostReport> {
  const profile = r.model.profile(name);
  r.output.appendLine(`[check ${name}] connecting…`);
  try {
    const report = await checkHost(await r.model.engine.session(profile), profile, r.model.hosts.backendDir);
    r.view.checks.set(name, report);
    r.output.appendLine(`[check ${name}] via ${report.via}${report.pythonError ? ` (python: ${report.pythonError})` : ''}`);
    for (const f of hostFacts(report)) r.output.appendLine(`  ${f.label}: ${f.value}`);
    return report;
  } catch (err) {
    r.view.checks.set(name, { error: (err as Error).message });
    throw err;
  } finally {
    r.view.refresh();
  }
}

export async function checkHostCommand(r: RemoteFeature, arg?: unknown): Promise<HostReport | undefined> {
  assertTrusted('Check Host');
  const profile = await pickHost(r, arg, 'Check which host?');
  if (!profile) return undefined;
  r.output.show(true);
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DCD: checking ${profile.name}` }, () => runCheckHost(r, profile.name));
}

export async function setUpHostCommand(r: RemoteFeature, arg?: unknown): Promise<SetupResult | undefined> {
  assertTrusted('Set Up Host');
  const profile = await pickHost(r, arg, 'Set up which host?');
  if (!profile) return undefined;
  const root = profile.root ?? '~/.dcd';
  const plan = setupCommands(profile.python ?? 'python3', `${root}/venv`, `${root}/backend/…/requirements.txt`);
  const go = await vscode.window.showWarningMessage(`Set up ${profile.name}? This creates a virtual environment and pip-installs the backend's requirements (needs internet on the host).`, { modal: true, detail: plan }, 'Set Up');
  if (go !== 'Set Up') return undefined;
  r.output.show(true);
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DCD: setting up ${profile.name}` }, async () => setupHost(await r.model.engine.session(profile), profile, r.model.hosts.backendDir));
  r.output.appendLine(`[setup ${profile.name}] ready: venv ${result.venv}; use "python": ${JSON.stringify(result.python)} for this host in dcd.hosts`);
  void vscode.window.showInformationMessage(`DCD: ${profile.name} is set up. Use "python": "${result.python}" for it in the dcd.hosts setting.`);
  return result;
}

export async function forgetHostKeyCommand(r: RemoteFeature, arg?: unknown): Promise<number | undefined> {
  const profile = await pickHost(r, arg, 'Forget the saved key of which host?');
  if (!profile || !isRemoteProfile(profile)) return undefined;
  const configText = await fs.readFile(path.join(os.homedir(), '.ssh', 'config'), 'utf8').catch(() => undefined);
  let target = { host: profile.host, port: profile.port ?? 22 };
  try { target = resolveSshTarget(profile, { configText, homeDir: os.homedir(), localUser: os.userInfo().username }); } catch { /* the profile as given */ }
  const n = await new TrustStore(r.model.trustStoreFile).remove(target.host, target.port);
  void vscode.window.showInformationMessage(n ? `DCD: forgot the saved key of ${target.host}:${target.port}.` : `DCD: no key of ${target.host}:${target.port} was saved by DCD Studio (~/.ssh/known_hosts is left alone).`);
  return n;
}
