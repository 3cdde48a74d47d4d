/**
 * Hosts and jobs, wired once for the whole extension: the host profiles
 * (`dcd.pythonPath` and `dcd.hosts`), the connector with DCD's trust store,
 * passwords and passphrases asked for and kept in SecretStorage, THE host-key
 * modal, and the one JobEngine that training and evaluation both dispatch on.
 * A second engine would mean a second trust store and a second set of SSH
 * sessions, so features receive this one instead of building their own.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { JobEngine } from '../core/jobs/engine';
import { JobStore } from '../core/jobs/store';
import { createConnector, type HostProfile } from '../core/remote/profiles';
import { typeChangeWarning, type HostKeyInfo } from '../core/remote/knownHosts';
import { configuredProfiles } from './config';

export type HostKeyDecision = 'accept-once' | 'accept-save' | 'reject';
export type HostKeyPolicy = (info: HostKeyInfo) => Promise<HostKeyDecision>;

/** The host-key modal (an unknown key, or one of another type than recorded): SHA256 fingerprint; Trust and Connect / Connect Once / cancel (reject). */
export async function hostKeyModal(info: HostKeyInfo): Promise<HostKeyDecision> {
  const trust = 'Trust and Connect';
  const once = 'Connect Once';
  const typeChanged = info.status === 'type-changed' ? typeChangeWarning(info) : undefined;
  const pick = await vscode.window.showWarningMessage(
    typeChanged ? `DCD: ${typeChanged.message}` : `DCD: the authenticity of host ${info.host}:${info.port} can't be established.`,
    {
      modal: true,
      detail: `${typeChanged ? typeChanged.detail : `${info.keyType} key fingerprint is ${info.fingerprintSha256}.`}\n\nConnect only if this matches the host's key (ask its administrator, or run \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\` on it). "Trust and Connect" remembers the key in DCD Studio's own trust store.`,
    },
    trust, once,
  );
  return pick === trust ? 'accept-save' : pick === once ? 'accept-once' : 'reject';
}

export class HostServices implements vscode.Disposable {
  /** Job history of training and evaluation alike (existing users' file: `<globalStorage>/jobs.json`). */
  readonly engine: JobEngine;
  /** Host keys accepted with "Trust and Connect" (beside ~/.ssh/known_hosts, which DCD only reads). */
  readonly trustStoreFile: string;
  /** Tests replace the modal with a scripted answer. */
  hostKeyPolicy: HostKeyPolicy = hostKeyModal;
  readonly backendDir: string;

  constructor(context: vscode.ExtensionContext) {
    const storage = context.globalStorageUri.fsPath;
    this.trustStoreFile = path.join(storage, 'known_hosts');
    this.backendDir = vscode.Uri.joinPath(context.extensionUri, 'python-backend').fsPath;
    const secrets = context.secrets;
    this.engine = new JobEngine({
      store: new JobStore(path.join(storage, 'jobs.json')),
      backendDir: this.backendDir,
      connectorFor: (profile) => createConnector(profile, {
        hostKeyPolicy: (info) => this.hostKeyPolicy(info),
        trustStoreFile: this.trustStoreFile,
        secrets: { get: (k) => Promise.resolve(secrets.get(k)), set: (k, v) => Promise.resolve(secrets.store(k, v)), delete: (k) => Promise.resolve(secrets.delete(k)) },
        promptPassword: ({ user, host, port }) => Promise.resolve(vscode.window.showInputBox({ password: true, ignoreFocusOut: true, title: `DCD: password for ${user}@${host}:${port}` })),
        promptPassphrase: ({ keyFile }) => Promise.resolve(vscode.window.showInputBox({ password: true, ignoreFocusOut: true, title: `DCD: passphrase for ${keyFile}` })),
      }),
    });
  }

  /** `local` (with `dcd.pythonPath`) and the valid `dcd.hosts` profiles; problems are collected. */
  profiles(problems: string[] = []): HostProfile[] {
    return configuredProfiles(problems);
  }

  profile(name: string): HostProfile {
    const p = this.profiles().find((x) => x.name === name);
    if (!p) throw new Error(`no host profile "${name}" (known: ${this.profiles().map((x) => x.name).join(', ')})`);
    return p;
  }

  dispose(): void {
    void this.engine.close();
  }
}
