/** Setting keys and secret keys of DCD Studio, in one place (package.json `contributes.configuration`). */
import * as vscode from 'vscode';
import { profilesFromSettings, type HostProfile } from '../core/remote/profiles';

export const SECTION = 'dcd';

export const Settings = {
  corpusGlob: 'corpusGlob',
  templatePreset: 'templatePreset',
  pythonPath: 'pythonPath',
  hosts: 'hosts',
  maskPolicy: 'maskPolicy',
  tokenizerPath: 'tokenizerPath',
  maxLength: 'maxLength',
  evalChatTemplate: 'eval.chatTemplate',
  evalMaxGenToks: 'eval.maxGenToks',
  evalMaxModelLen: 'eval.maxModelLen',
  evalTensorParallelSize: 'eval.tensorParallelSize',
  evalGpuMemoryUtilization: 'eval.gpuMemoryUtilization',
  evalSeed: 'eval.seed',
  evalLimit: 'eval.limit',
  evalDcdAware: 'eval.dcdAware',
  localModelPath: 'local.modelPath',
  localDtype: 'local.dtype',
  localMaxNewTokens: 'local.maxNewTokens',
  localTemperature: 'local.temperature',
  localTopP: 'local.topP',
  localSeed: 'local.seed',
  localStudentPrompt: 'local.studentPrompt',
  localVerifyUndecided: 'local.verifyUndecided',
} as const;

/** Keys of VS Code's SecretStorage that every feature may read (host passwords and passphrases are keyed by the connector). */
export const SecretKeys = {
  /** The Hugging Face token: gated benchmarks, model downloads, training on SSH hosts. */
  hfToken: 'dcd.hfToken',
} as const;

export interface HostSetting { name: string; host: string; port?: number; user?: string; python?: string }

export function setting<T>(key: (typeof Settings)[keyof typeof Settings], fallback: T): T {
  return vscode.workspace.getConfiguration(SECTION).get<T>(key, fallback);
}

/** `local` (running `dcd.pythonPath`) and the valid `dcd.hosts` profiles: the one source for training and evaluation. */
export function configuredProfiles(problems: string[] = []): HostProfile[] {
  return profilesFromSettings(setting<unknown>(Settings.hosts, []), setting<string>(Settings.pythonPath, 'python3'), problems);
}
