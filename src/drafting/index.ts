/**
 * Local ONNX drafting in the extension: the model settings, "DCD:
 * Download Local Model…", "DCD: Generate Draft for Question…" (tokens stream
 * into an untitled editor) and "DCD: Generate Student Drafts…" (resumable
 * batch with progress, ETA and cancel, then "Build Corpus…"). Inference runs in
 * the core's worker process; this folder only adapts it to VS Code.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BatchSummary } from '../core/drafting/batch';
import { workerEntry } from '../core/drafting/client';
import type { DownloadResult } from '../core/drafting/download';
import type { ExtensionServices } from '../services';
import { Settings, SECTION } from '../services/config';
import { generateDraft, type GenerateDraftArgs, type GenerateDraftResult } from './draft';
import { generateDrafts, type GenerateDraftsArgs } from './drafts';
import { downloadLocalModel, type DownloadArgs } from './downloadCommand';
import { LocalModels } from './models';
import { readLocalSettings, type LocalFeature, type LocalSettings } from './settings';

export type { GenerateDraftArgs, GenerateDraftResult } from './draft';
export type { GenerateDraftsArgs } from './drafts';
export { DEFAULT_DOWNLOAD_ID, type DownloadArgs } from './downloadCommand';
export { readLocalSettings, type LocalSettings } from './settings';

/** What the tests (and other extensions) get. */
export interface LocalApi {
  models: LocalModels;
  /** The settings as the commands read them now; throws when no usable model folder is set. */
  settings(): LocalSettings;
  generateDraft(args?: GenerateDraftArgs): Promise<GenerateDraftResult | undefined>;
  generateDrafts(args?: GenerateDraftsArgs): Promise<BatchSummary | undefined>;
  downloadModel(args?: DownloadArgs): Promise<DownloadResult | undefined>;
  /** Where downloaded models go: `<globalStorage>/models/<owner>/<name>`. */
  storageRoot(): string;
}

export function registerLocal(context: vscode.ExtensionContext, services: ExtensionServices): LocalApi {
  const { output, commands } = services;
  const models = new LocalModels(output, workerEntry(context.asAbsolutePath(path.join('out', 'local-worker.js'))));
  const l: LocalFeature = { output, models, secrets: context.secrets, storageRoot: () => path.join(context.globalStorageUri.fsPath, 'models') };
  // No menu passes these commands an argument, so a caller with arguments is a script that wants the error.
  const scripted = { rejectScripted: true };

  context.subscriptions.push(
    models,
    commands.registerCommand('dcd.local.generateDraft', (args?: GenerateDraftArgs) => generateDraft(l, args), scripted),
    commands.registerCommand('dcd.local.generateDrafts', (args?: GenerateDraftsArgs) => generateDrafts(l, args), scripted),
    commands.registerCommand('dcd.local.downloadModel', (args?: DownloadArgs) => downloadLocalModel(l, args), scripted),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.${Settings.localModelPath}`) || e.affectsConfiguration(`${SECTION}.${Settings.localDtype}`)) {
        void models.disposeAll();
      }
    }),
  );
  return {
    models, settings: readLocalSettings, storageRoot: l.storageRoot,
    generateDraft: (args) => generateDraft(l, args),
    generateDrafts: (args) => generateDrafts(l, args),
    downloadModel: (args) => downloadLocalModel(l, args),
  };
}
