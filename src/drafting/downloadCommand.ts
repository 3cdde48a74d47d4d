/**
 * "DCD: Download Local Model…": an ONNX export (transformers.js layout) from
 * the Hugging Face Hub into globalStorage, with the stored token, progress
 * and cancel; then, if asked, the model settings point at it.
 */
import * as vscode from 'vscode';
import { downloadModel, DownloadError, modelDirFor, type DownloadResult } from '../core/drafting/download';
import type { LocalDtype } from '../core/drafting/types';
import { SecretKeys, setting, Settings, SECTION } from '../services/config';
import { downloadProgressMessage } from './format';
import { requireTrust, type LocalFeature } from './settings';

export const DEFAULT_DOWNLOAD_ID = 'onnx-community/Qwen2.5-1.5B-Instruct';

export interface DownloadArgs { id?: string; dtype?: LocalDtype; endpoint?: string; use?: boolean }

export async function downloadLocalModel(l: LocalFeature, args?: DownloadArgs): Promise<DownloadResult | undefined> {
  if (!requireTrust('Downloading a model')) return undefined;
  const id = args?.id ?? (await vscode.window.showInputBox({
    title: 'Download Local Model', prompt: 'Hugging Face model id with an ONNX export in the transformers.js layout',
    value: DEFAULT_DOWNLOAD_ID, ignoreFocusOut: true,
    validateInput: (v) => { try { modelDirFor(l.storageRoot(), v.trim()); return undefined; } catch (err) { return (err as Error).message; } },
  }))?.trim();
  if (!id) return undefined;
  let dtype = args?.dtype;
  if (!dtype) {
    const current = setting<string>(Settings.localDtype, 'auto');
    const items: { label: LocalDtype; description: string }[] = [
      { label: 'q4', description: '4-bit, smallest and fastest on CPU' },
      { label: 'q8', description: '8-bit' },
      { label: 'fp16', description: 'half precision (slow on CPU)' },
      { label: 'fp32', description: 'full precision, largest' },
    ];
    const pick = await vscode.window.showQuickPick(items.map((i) => ({ ...i, picked: i.label === current })), { title: `Download ${id}: which ONNX variant?` });
    if (!pick) return undefined;
    dtype = pick.label;
  }
  const variant = dtype;
  const token = await l.secrets.get(SecretKeys.hfToken);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Downloading ${id} (${variant})`, cancellable: true },
    async (progress, ct) => {
      const ac = new AbortController();
      const sub = ct.onCancellationRequested(() => ac.abort());
      let reported = 0;
      try {
        return await downloadModel(id, l.storageRoot(), {
          dtype: variant, signal: ac.signal, endpoint: args?.endpoint, token: token || undefined,
          onProgress: (p) => {
            const pct = p.total ? (100 * p.loaded) / p.total : 0;
            progress.report({ message: downloadProgressMessage(p), increment: Math.max(0, pct - reported) });
            reported = Math.max(reported, pct);
          },
        });
      } catch (err) {
        // A cancelled download is no failure: say that nothing was kept, even to a scripted caller.
        if (err instanceof DownloadError && err.code === 'cancelled') {
          void vscode.window.showInformationMessage('Download cancelled; nothing was kept.');
          return undefined;
        }
        throw err;
      } finally {
        sub.dispose();
      }
    });
  if (!result) return undefined;
  l.output.appendLine(`[local] ${result.alreadyPresent ? 'already present' : 'downloaded'}: ${id} (${result.dtype}) → ${result.dir}`);
  const use = async () => {
    const config = vscode.workspace.getConfiguration(SECTION);
    await config.update(Settings.localModelPath, result.dir, vscode.ConfigurationTarget.Global);
    await config.update(Settings.localDtype, result.dtype, vscode.ConfigurationTarget.Global);
  };
  if (args?.use) await use();
  else {
    void vscode.window.showInformationMessage(
      `${id} (${result.dtype}) is ${result.alreadyPresent ? 'already downloaded' : 'downloaded'}.`, 'Use This Model')
      .then((pick) => (pick ? use() : undefined));
  }
  return result;
}
