/**
 * The `dcd.local.*` settings as the local-model commands read them, checked
 * when a command runs (a bad value is a UserError with the action that fixes
 * it), the Workspace Trust gate, and what the commands share.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { LocalModelClient } from '../core/drafting/client';
import { DEFAULT_STUDENT_PROMPT, studentPromptProblem, type StudentPrompt } from '../core/drafting/prompts';
import { DEFAULT_GENERATE_PARAMS, isDtypeSetting, type DtypeSetting, type GenerateParams } from '../core/drafting/types';
import { UserError } from '../services/commands';
import { setting, Settings, SECTION } from '../services/config';
import { resolveModelPath } from './format';
import type { LocalModels } from './models';

/** The feature's state, given to every command. */
export interface LocalFeature {
  output: vscode.OutputChannel;
  models: LocalModels;
  /** Where downloaded models go: `<globalStorage>/models/<owner>/<name>`. */
  storageRoot(): string;
  secrets: vscode.SecretStorage;
}

export interface LocalSettings {
  modelPath: string;
  dtype: DtypeSetting;
  params: GenerateParams;
  prompt: StudentPrompt;
  verifyUndecided: boolean;
}

const openLocalSettings = () => vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.local`);
const downloadAction = { title: 'Download Local Model…', run: () => vscode.commands.executeCommand('dcd.local.downloadModel') };
const settingsAction = { title: 'Open Settings', run: openLocalSettings };

export function requireTrust(what: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  void vscode.window.showWarningMessage(`${what} runs a local model and writes files: trust this workspace first.`, 'Manage Workspace Trust')
    .then((pick) => { if (pick) void vscode.commands.executeCommand('workbench.trust.manage'); });
  return false;
}

export function readLocalSettings(): LocalSettings {
  const raw = setting<string>(Settings.localModelPath, '');
  const modelPath = resolveModelPath(raw, vscode.workspace.workspaceFolders?.[0]?.uri.fsPath);
  if (!modelPath) {
    throw new UserError('No local model is set: set dcd.local.modelPath to a model folder (transformers.js layout), or download one.', [downloadAction, settingsAction]);
  }
  const dtype = setting<string>(Settings.localDtype, 'auto');
  if (!isDtypeSetting(dtype)) throw new UserError(`dcd.local.dtype must be one of auto, q4, q8, fp16, fp32, not "${dtype}".`);
  const prompt = setting<StudentPrompt>(Settings.localStudentPrompt, { ...DEFAULT_STUDENT_PROMPT });
  const problem = studentPromptProblem(prompt);
  if (problem) throw new UserError(`dcd.local.studentPrompt: ${problem}.`, [settingsAction]);
  const num = (key: (typeof Settings)[keyof typeof Settings], fallback: number) => {
    const v = setting<number>(key, fallback);
    return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
  };
  return {
    modelPath, dtype, prompt,
    params: {
      maxNewTokens: Math.max(1, Math.floor(num(Settings.localMaxNewTokens, DEFAULT_GENERATE_PARAMS.maxNewTokens))),
      temperature: Math.max(0, num(Settings.localTemperature, DEFAULT_GENERATE_PARAMS.temperature)),
      topP: Math.min(1, Math.max(0, num(Settings.localTopP, DEFAULT_GENERATE_PARAMS.topP))),
      seed: Math.max(0, Math.floor(num(Settings.localSeed, DEFAULT_GENERATE_PARAMS.seed))) >>> 0,
    },
    verifyUndecided: setting<boolean>(Settings.localVerifyUndecided, false) === true,
  };
}

/** Loads the configured local model under a cancellable progress notification, then runs `work` with it. */
export function withLocalModel<T>(l: LocalFeature, title: string, cfg: LocalSettings,
  work: (client: LocalModelClient, progress: vscode.Progress<{ message?: string; increment?: number }>, signal: AbortSignal) => Promise<T>): Thenable<T> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const ac = new AbortController();
    const sub = token.onCancellationRequested(() => ac.abort());
    try {
      progress.report({ message: `loading ${path.basename(cfg.modelPath)}…` });
      return await work(await l.models.get(cfg.modelPath, cfg.dtype), progress, ac.signal);
    } finally {
      sub.dispose();
    }
  });
}
