/**
 * "DCD: Audit Corpus Tokens": the dataset audit of the core (token lengths,
 * trained-token ratio, truncation flags) in worker threads, with progress and
 * cancel. Results are kept per corpus and shown in the Corpora view.
 */
import * as vscode from 'vscode';
import { auditCorpus, type AuditResult } from '../core/training/audit';
import type { LoadedCorpus } from './corpusFiles';
import { maskSettings, tokenizerPool } from '../services/tokenizerPool';

export class AuditStore {
  private readonly results = new Map<string, AuditResult>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  get(uri: vscode.Uri): AuditResult | undefined { return this.results.get(uri.toString()); }
  set(uri: vscode.Uri, result: AuditResult): void { this.results.set(uri.toString(), result); this.changed.fire(uri); }
  dispose(): void { this.changed.dispose(); }
}

export async function auditCorpusCommand(store: AuditStore, corpus: LoadedCorpus, output: vscode.OutputChannel): Promise<AuditResult | undefined> {
  const samples = corpus.rows.flatMap((r) => (r.kind === 'value' ? [r.value] : []));
  const { policy, maxLength } = maskSettings();
  const result = await vscode.window.withProgress({
    location: vscode.ProgressLocation.Notification, title: `Auditing tokens of ${vscode.workspace.asRelativePath(corpus.uri)}`, cancellable: true,
  }, async (progress, token) => {
    const controller = new AbortController();
    token.onCancellationRequested(() => controller.abort());
    let last = 0;
    try {
      return await auditCorpus(samples, {
        pool: await tokenizerPool(), policy, maxLength, signal: controller.signal,
        onProgress: (done, total) => {
          const pct = total ? (100 * done) / total : 100;
          progress.report({ increment: pct - last, message: `${done} / ${total} traces` });
          last = pct;
        },
      });
    } catch (err) {
      if (controller.signal.aborted) return undefined;
      throw err;
    }
  });
  if (!result) {
    void vscode.window.showInformationMessage('Token audit cancelled.');
    return undefined;
  }
  store.set(corpus.uri, result);
  output.appendLine(`[audit] ${corpus.uri.fsPath}: ${result.samples} samples, ${result.tokens} tokens (${(100 * result.trained_ratio).toFixed(1)}% trained), `
    + `policy ${result.policy}, max_length ${result.max_length}; flags ${JSON.stringify(result.flags)}; ${result.elapsed_ms} ms`);
  const flagged = Object.values(result.flags).reduce((a, b) => a + b, 0);
  void vscode.window.showInformationMessage(`Audit: ${result.tokens.toLocaleString()} tokens, ${(100 * result.trained_ratio).toFixed(1)}% trained, `
    + `${flagged ? `${flagged} flag(s) — see the Corpora view` : 'no flags'}.`);
  return result;
}
