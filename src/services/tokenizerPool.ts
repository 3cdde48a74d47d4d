/**
 * The one tokenizer worker pool of the extension host, and the mask settings,
 * shared by the trace overlay, the workbench's token columns, the audit and
 * the training export. The tokenizer comes from `dcd.tokenizerPath` (a folder
 * with tokenizer.json, e.g. the model folder) or the bundled Qwen2.5 default.
 */
import * as vscode from 'vscode';
import { existsSync } from 'node:fs';
import { TokenizerPool, WORKER_BUNDLE, defaultCacheDir, defaultWorkerCount, resolveTokenizerSource } from '../core/tokenizer';
import { DEFAULT_MAX_LENGTH, DEFAULT_POLICY, isMaskPolicy, type MaskPolicy } from '../core/trace/mask';
import { setting, Settings } from './config';

let shared: Promise<TokenizerPool> | undefined;
/** Nice value of the pool's worker threads (background work on a shared machine). */
const WORKER_NICENESS = 10;
let workerFile: string | undefined;

/** Where the worker bundle lies (out/ of the extension); restarts the pool when the tokenizer setting changes, closes it on deactivation. */
export function configureTokenizer(extensionUri: vscode.Uri): vscode.Disposable {
  workerFile = vscode.Uri.joinPath(extensionUri, 'out', WORKER_BUNDLE).fsPath;
  const watch = vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('dcd.tokenizerPath')) void closeTokenizerPool(); });
  return new vscode.Disposable(() => { watch.dispose(); void closeTokenizerPool(); });
}

/** The mask policy and max_length settings. */
export function maskSettings(): { policy: MaskPolicy; maxLength: number } {
  const policy = setting<string>(Settings.maskPolicy, DEFAULT_POLICY);
  const maxLength = setting<number>(Settings.maxLength, DEFAULT_MAX_LENGTH);
  return { policy: isMaskPolicy(policy) ? policy : DEFAULT_POLICY, maxLength: Number.isInteger(maxLength) && maxLength > 0 ? maxLength : DEFAULT_MAX_LENGTH };
}

/** The tokenizer folder of `dcd.tokenizerPath`, resolved against the first workspace folder; undefined: the bundled default. */
export function tokenizerDir(): string | undefined {
  const value = setting<string>(Settings.tokenizerPath, '').trim();
  if (!value) return undefined;
  const base = vscode.workspace.workspaceFolders?.[0]?.uri;
  return value.startsWith('/') || !base ? value : vscode.Uri.joinPath(base, value).fsPath;
}

/** One worker pool for every feature, started on first use. */
export function tokenizerPool(): Promise<TokenizerPool> {
  shared ??= (async () => {
    const source = await resolveTokenizerSource({ dir: tokenizerDir() });
    const file = workerFile && existsSync(workerFile) ? workerFile : undefined;
    // One core fewer than there are, and a lower priority than the extension host's thread: the webviews it answers come first.
    return new TokenizerPool(source, { workers: Math.max(1, Math.min(4, defaultWorkerCount() - 1)), cacheRoot: defaultCacheDir(), workerFile: file, niceness: WORKER_NICENESS });
  })();
  shared.catch(() => { shared = undefined; });
  return shared;
}

export async function closeTokenizerPool(): Promise<void> {
  const p = shared;
  shared = undefined;
  if (p) await (await p).close().catch(() => undefined);
}
