/**
 * Tokens of trace documents for the overlay, the hover and the CodeLens: the
 * core's `tokenizeTrace` (the same function that produces the training labels),
 * run in a tokenizer worker thread so the extension host never blocks.
 * Results are cached per document version, policy and max_length.
 */
import * as vscode from 'vscode';
import { tokenizeTrace, type TokenizerPool, type TokenizedTrace } from '../core/tokenizer';
import { maskSettings, tokenizerPool } from '../services/tokenizerPool';
import type { MaskPolicy } from '../core/trace/mask';

export type MaskSettings = ReturnType<typeof maskSettings>;
export { maskSettings };

/** A tokenization of one document version, with when it was asked for and when it came back. */
export interface TraceTokens {
  uri: string;
  version: number;
  policy: MaskPolicy;
  maxLength: number;
  preset: string;
  trace: TokenizedTrace;
  requestedAt: number;
  resultAt: number;
}

interface Pending { key: string; promise: Promise<TraceTokens> }

export class TraceTokenService implements vscode.Disposable {
  private readonly cache = new Map<string, Pending>();

  constructor(private readonly _extensionPath: string) {}

  /** The extension's one tokenizer pool (src/services/tokenizerPool.ts). */
  private getPool(): Promise<TokenizerPool> {
    return tokenizerPool();
  }

  /** The tokens of a document's current text (cached per version, policy, max_length and preset). */
  tokens(doc: vscode.TextDocument, preset: string, mask: MaskSettings = maskSettings()): Promise<TraceTokens> {
    const uri = doc.uri.toString();
    const key = `${doc.version}|${mask.policy}|${mask.maxLength}|${preset}`;
    const hit = this.cache.get(uri);
    if (hit && hit.key === key) return hit.promise;
    const text = doc.getText();
    const version = doc.version;
    const requestedAt = performance.now();
    const promise = (async () => {
      const pool = await this.getPool();
      const trace = await tokenizeTrace(text, { pool, policy: mask.policy, maxLength: mask.maxLength, preset });
      return { uri, version, policy: mask.policy, maxLength: mask.maxLength, preset, trace, requestedAt, resultAt: performance.now() };
    })();
    promise.catch(() => undefined);
    this.cache.set(uri, { key, promise });
    return promise;
  }

  /** The cached tokens of exactly this document version, if they are ready. */
  peek(doc: vscode.TextDocument): Promise<TraceTokens> | undefined {
    const hit = this.cache.get(doc.uri.toString());
    return hit && hit.key.startsWith(`${doc.version}|`) ? hit.promise : undefined;
  }

  forget(uri: vscode.Uri): void {
    this.cache.delete(uri.toString());
  }

  dispose(): void {
    this.cache.clear();
  }
}
