/**
 * A jobs engine for "Evaluate Model…" when the extension gives none: the same
 * job history as the `dcd job` CLI (`DCD_JOBS_STORE`, else ~/.dcd/jobs.json),
 * host keys checked against ~/.ssh/known_hosts plus DCD's trust store, with a
 * modal prompt for an unknown key (changed or revoked keys are refused by the
 * core without asking), passwords and passphrases asked for and kept in
 * SecretStorage. The remote/jobs feature can pass its own engine to
 * `registerEval` instead.
 */
import * as vscode from 'vscode';
import * as os from 'node:os';
import * as path from 'node:path';
import { JobEngine } from '../core/jobs/engine';
import { JobStore } from '../core/jobs/store';
import { createConnector, type HostProfile } from '../core/remote/profiles';
import { typeChangeWarning, type HostKeyInfo } from '../core/remote/knownHosts';

export function dcdHome(): string {
  return path.join(os.homedir(), '.dcd');
}

async function askHostKey(info: HostKeyInfo): Promise<'accept-once' | 'accept-save' | 'reject'> {
  const trust = 'Trust and Remember';
  const once = 'Connect Once';
  const typeChanged = info.status === 'type-changed' ? typeChangeWarning(info) : undefined;
  const pick = await vscode.window.showWarningMessage(
    typeChanged ? typeChanged.message : `The host ${info.host}:${info.port} is not known. Its ${info.keyType} key fingerprint is ${info.fingerprintSha256}. Connect only if this matches the host's key.`,
    { modal: true, detail: typeChanged?.detail }, trust, once,
  );
  return pick === trust ? 'accept-save' : pick === once ? 'accept-once' : 'reject';
}

export function createDefaultEngine(context: vscode.ExtensionContext): JobEngine {
  const home = dcdHome();
  return new JobEngine({
    store: new JobStore(process.env.DCD_JOBS_STORE || path.join(home, 'jobs.json')),
    backendDir: vscode.Uri.joinPath(context.extensionUri, 'python-backend').fsPath,
    connectorFor: (profile: HostProfile) => createConnector(profile, {
      hostKeyPolicy: askHostKey,
      trustStoreFile: process.env.DCD_TRUST_STORE || path.join(home, 'known_hosts'),
      secrets: { get: (k) => Promise.resolve(context.secrets.get(k)), set: (k, v) => Promise.resolve(context.secrets.store(k, v)), delete: (k) => Promise.resolve(context.secrets.delete(k)) },
      promptPassword: ({ user, host, port }) => Promise.resolve(vscode.window.showInputBox({ password: true, ignoreFocusOut: true, title: `Password for ${user}@${host}:${port}` })),
      promptPassphrase: ({ keyFile }) => Promise.resolve(vscode.window.showInputBox({ password: true, ignoreFocusOut: true, title: `Passphrase for ${keyFile}` })),
    }),
  });
}
