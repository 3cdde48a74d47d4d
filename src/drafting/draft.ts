/**
 * "DCD: Generate Draft for Question…": the selection, or a question asked
 * for, drafted by the local student model; tokens stream into an untitled
 * markdown editor beside the current one.
 */
import * as vscode from 'vscode';
import { studentPrompt } from '../core/drafting/prompts';
import { readLocalSettings, requireTrust, withLocalModel, type LocalFeature } from './settings';

export interface GenerateDraftArgs { question?: string }
export interface GenerateDraftResult { uri: vscode.Uri; text: string; finishReason: string; tokens: number; seed: number }

/** Appends streamed text to a document in order, a few edits per second at most. */
class DocumentStream {
  private buffer = '';
  private chain: Promise<void> = Promise.resolve();
  private scheduled = false;
  broken = false;

  constructor(private readonly doc: vscode.TextDocument) {}

  push(text: string): void {
    if (!text || this.broken) return;
    this.buffer += text;
    if (this.scheduled) return;
    this.scheduled = true;
    this.chain = this.chain.then(() => new Promise((r) => setTimeout(r, 40))).then(() => this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const text = this.buffer;
    this.buffer = '';
    if (!text || this.broken || this.doc.isClosed) return;
    const edit = new vscode.WorkspaceEdit();
    edit.insert(this.doc.uri, this.doc.positionAt(this.doc.getText().length), text);
    if (!(await vscode.workspace.applyEdit(edit))) this.broken = true;
  }

  /** Waits for pending edits, then makes the document hold exactly `text`. */
  async finish(text: string): Promise<void> {
    await this.chain;
    await this.flush();
    if (this.doc.isClosed || this.doc.getText() === text) return;
    const edit = new vscode.WorkspaceEdit();
    edit.replace(this.doc.uri, new vscode.Range(this.doc.positionAt(0), this.doc.positionAt(this.doc.getText().length)), text);
    await vscode.workspace.applyEdit(edit);
  }
}

export async function generateDraft(l: LocalFeature, args?: GenerateDraftArgs): Promise<GenerateDraftResult | undefined> {
  if (!requireTrust('Generating a draft')) return undefined;
  const cfg = readLocalSettings();
  let question = args?.question;
  const editor = vscode.window.activeTextEditor;
  if (question === undefined && editor && !editor.selection.isEmpty) question = editor.document.getText(editor.selection);
  if (question === undefined) {
    question = await vscode.window.showInputBox({ title: 'Generate Draft for Question', prompt: 'The question the local student model drafts an answer to', ignoreFocusOut: true });
  }
  if (!question?.trim()) return undefined;
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: '' });
  await vscode.window.showTextDocument(doc, { preview: false, viewColumn: editor ? vscode.ViewColumn.Beside : undefined });
  const stream = new DocumentStream(doc);
  const q = question;
  return withLocalModel(l, 'Local draft', cfg, async (client, progress, signal) => {
    if (signal.aborted) return undefined;
    progress.report({ message: `${client.info.name} (${client.info.dtype}): generating…` });
    let n = 0;
    const r = await client.generate(studentPrompt(q, cfg.prompt), cfg.params, {
      signal,
      onToken: (ev) => {
        stream.push(ev.text);
        if (++n % 16 === 0) progress.report({ message: `${client.info.name}: ${n} tokens` });
      },
    }).catch(async (err) => { await l.models.evictOnCrash(client, err); throw err; });
    await stream.finish(r.text);
    l.output.appendLine(`[local] draft: ${r.tokenIds.length} tokens (${r.finishReason}) in ${r.ms} ms, ${r.decodeTokensPerSecond.toFixed(1)} tok/s`);
    return { uri: doc.uri, text: r.text, finishReason: r.finishReason, tokens: r.tokenIds.length, seed: cfg.params.seed };
  });
}
