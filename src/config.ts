/** Setting keys of DCD Studio, in one place (package.json `contributes.configuration`). */
import * as vscode from 'vscode';

export const SECTION = 'dcd';

export const Settings = {
  corpusGlob: 'corpusGlob',
  templatePreset: 'templatePreset',
  pythonPath: 'pythonPath',
  hosts: 'hosts',
} as const;

export interface HostSetting { name: string; host: string; port?: number; user?: string; python?: string }

export function setting<T>(key: (typeof Settings)[keyof typeof Settings], fallback: T): T {
  return vscode.workspace.getConfiguration(SECTION).get<T>(key, fallback);
}
