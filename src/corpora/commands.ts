/**
 * "DCD: Build Corpus…" and "DCD: Verify Answer": thin adapters over the core's
 * buildCorpus and verify (the same functions `dcd build` / `dcd verify` call).
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { buildCorpus, type BuildResult } from '../core/corpus/build';
import { verify, type Verification } from '../core/answer';
import { formatJsonlError } from '../core/io/jsonl';
import { setting, Settings } from '../services/config';

export interface BuildRequest { s1k: vscode.Uri; drafts?: vscode.Uri; out: vscode.Uri; open?: boolean }

const S1K_FILTERS = { 's1K-1.1 (parquet, JSONL, JSON)': ['parquet', 'jsonl', 'json'] };

/** Asks for the inputs (unless given), builds with progress, reports bad lines, opens the result. */
export async function buildCorpusCommand(output: vscode.OutputChannel, request?: BuildRequest): Promise<BuildResult | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Building a corpus writes files: trust this workspace first.');
    return undefined;
  }
  let req = request;
  if (!req) {
    const s1k = await vscode.window.showOpenDialog({ title: 'Build DCD corpus: s1K-1.1 file', filters: S1K_FILTERS, canSelectMany: false });
    if (!s1k?.[0]) return undefined;
    const drafts = await vscode.window.showOpenDialog({ title: 'Student drafts JSONL (Cancel to build draft-correct samples only)', filters: { 'Drafts JSONL': ['jsonl'] }, canSelectMany: false });
    const defaultOut = vscode.Uri.file(path.join(path.dirname(s1k[0].fsPath), 'corpus.dcd.jsonl'));
    const out = await vscode.window.showSaveDialog({ title: 'Write the corpus to', defaultUri: defaultOut, filters: { 'DCD corpus': ['jsonl'] } });
    if (!out) return undefined;
    req = { s1k: s1k[0], drafts: drafts?.[0], out, open: true };
  }
  const r = req;
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Building DCD corpus', cancellable: false }, (progress) =>
    buildCorpus({
      s1k: r.s1k.fsPath, drafts: r.drafts?.fsPath, out: r.out.fsPath, preset: setting(Settings.templatePreset, 'paper'),
      onProgress: (stage) => progress.report({ message: stage }),
    }));
  const s = result.summary;
  output.appendLine(`[build] ${r.out.fsPath}: ${s.samples} samples (${s.draft_correct} draft-correct, ${s.draft_wrong} draft-wrong)`);
  for (const [reason, n] of Object.entries(s.skipped)) if (n) output.appendLine(`[build]   skipped ${reason}: ${n}`);
  for (const e of result.errors) output.appendLine(`[build]   ${formatJsonlError(e)}`);
  for (const rep of result.reported) output.appendLine(`[build]   row ${rep.row}${rep.line ? ` (line ${rep.line})` : ''}: ${rep.reason}${rep.detail ? ` — ${rep.detail}` : ''}`);
  const bad = result.errors.length ? ` ${result.errors.length} bad input line(s) were kept out and listed in the output.` : '';
  void vscode.window.showInformationMessage(`Built ${s.samples} samples: ${s.draft_correct} draft-correct, ${s.draft_wrong} draft-wrong.${bad}`, 'Show Details')
    .then((pick) => { if (pick) output.show(); });
  if (r.open) await vscode.commands.executeCommand('vscode.open', r.out);
  return result;
}

/** Verifies the selection (draft) against a gold answer from an input box, or two given strings. */
export async function verifyAnswerCommand(args?: { pred: string; gold: string }): Promise<Verification | undefined> {
  let pred = args?.pred;
  let gold = args?.gold;
  if (pred === undefined) {
    const editor = vscode.window.activeTextEditor;
    const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : undefined;
    pred = selection ?? await vscode.window.showInputBox({ title: 'Verify Answer (1/2)', prompt: 'Draft or answer to check (the last \\boxed{} or "answer is" wins)' });
    if (pred === undefined) return undefined;
  }
  if (gold === undefined) {
    gold = await vscode.window.showInputBox({ title: 'Verify Answer (2/2)', prompt: 'Gold answer or solution' });
    if (gold === undefined) return undefined;
  }
  const v = verify(pred, gold);
  const verdict = v.equivalent === true ? 'equivalent' : v.equivalent === false ? 'NOT equivalent' : 'undecidable';
  void vscode.window.showInformationMessage(`${verdict} (rule: ${v.rule}) — draft answer: ${v.pred_answer ?? '∅'}; gold: ${v.gold_answer ?? '∅'}`);
  return v;
}
