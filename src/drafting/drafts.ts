/**
 * "DCD: Generate Student Drafts…": a question file (s1K parquet, JSONL or
 * JSON rows), drafts per question and an output file; a resumable batch with
 * progress, ETA and cancel, then "Build Corpus…".
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { runDraftBatch, type BatchSummary } from '../core/drafting/batch';
import { parseQuestions, type DraftQuestion } from '../core/drafting/questions';
import { detectS1kFormat, importS1k } from '../core/corpus/importers';
import { UserError } from '../services/commands';
import { batchProgressMessage, batchSummaryMessage, defaultDraftsPath } from './format';
import { readLocalSettings, requireTrust, withLocalModel, type LocalFeature } from './settings';

export interface GenerateDraftsArgs { questions?: vscode.Uri; n?: number; out?: vscode.Uri }

async function loadQuestions(file: string): Promise<DraftQuestion[]> {
  let questions: DraftQuestion[];
  if ((await detectS1kFormat(file)) === 'parquet') {
    const imp = await importS1k(file, 'parquet');
    questions = imp.rows.map((r) => ({ question: r.question, solution: r.solution }));
  } else {
    const parsed = parseQuestions(await fs.readFile(file, 'utf8'));
    if (parsed.problems.length) {
      const shown = parsed.problems.slice(0, 3).map((p) => `${p.where}: ${p.message}`).join('; ');
      throw new UserError(`${path.basename(file)} has ${parsed.problems.length} bad question row(s) (${shown}).`);
    }
    questions = parsed.questions;
  }
  if (!questions.length) throw new UserError(`${path.basename(file)} holds no questions.`);
  return questions;
}

async function pickQuestionFile(): Promise<vscode.Uri | undefined> {
  const found = await vscode.workspace.findFiles('**/*.{jsonl,json,parquet}', '{**/node_modules/**,**/.git/**,**/*.dcd.jsonl,**/*drafts*.jsonl,**/.vscode/**}', 200);
  const browse = { label: '$(folder-opened) Browse…', uri: undefined as vscode.Uri | undefined };
  const items = [
    ...found.sort((a, b) => a.fsPath.localeCompare(b.fsPath)).map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
    browse,
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Generate Student Drafts (1/3): questions (s1K file or question list)', placeHolder: 'JSONL / JSON rows with a "question" field, or s1K parquet' });
  if (!pick) return undefined;
  if (pick.uri) return pick.uri;
  const open = await vscode.window.showOpenDialog({
    title: 'Questions to draft', canSelectMany: false,
    filters: { 'Questions (s1K, JSONL, JSON)': ['jsonl', 'json', 'parquet'] },
  });
  return open?.[0];
}

export async function generateDrafts(l: LocalFeature, args?: GenerateDraftsArgs): Promise<BatchSummary | undefined> {
  if (!requireTrust('Generating student drafts')) return undefined;
  const cfg = readLocalSettings();
  const questionsUri = args?.questions ?? (await pickQuestionFile());
  if (!questionsUri) return undefined;
  const questions = await loadQuestions(questionsUri.fsPath);
  let n = args?.n;
  if (n === undefined) {
    const v = await vscode.window.showInputBox({
      title: `Generate Student Drafts (2/3): drafts per question (${questions.length} questions)`, value: '1', ignoreFocusOut: true,
      validateInput: (s) => (/^\s*[1-9]\d*\s*$/.test(s) ? undefined : 'A whole number ≥ 1'),
    });
    if (v === undefined) return undefined;
    n = Number(v);
  }
  if (!Number.isInteger(n) || n < 1) throw new UserError(`Drafts per question must be a whole number ≥ 1, not ${n}.`);
  let out = args?.out;
  if (!out) {
    out = await vscode.window.showSaveDialog({
      title: 'Generate Student Drafts (3/3): drafts JSONL (an existing file is resumed)',
      defaultUri: vscode.Uri.file(defaultDraftsPath(questionsUri.fsPath)), filters: { 'Drafts JSONL': ['jsonl'] },
    });
    if (!out) return undefined;
  }
  const outUri = out;
  const perQuestion = n;
  const summary = await withLocalModel(l, 'Student drafts', cfg, async (client, progress, signal) => {
    let reported = 0;
    return runDraftBatch({
      questions, n: perQuestion, out: outUri.fsPath, model: client, params: cfg.params, prompt: cfg.prompt,
      verifyWithModel: cfg.verifyUndecided, signal,
      onProgress: (p) => {
        const pct = p.total ? (100 * p.done) / p.total : 100;
        progress.report({ message: batchProgressMessage(p), increment: Math.max(0, pct - reported) });
        reported = Math.max(reported, pct);
      },
    }).catch(async (err) => { await l.models.evictOnCrash(client, err); throw err; });
  });
  l.output.appendLine(`[local] drafts → ${summary.out}: ${JSON.stringify({ ...summary, out: undefined })}`);
  const message = batchSummaryMessage(summary);
  const build = 'Build Corpus…';
  const show = 'Open Drafts';
  void (summary.cancelled ? vscode.window.showWarningMessage(message, show) : vscode.window.showInformationMessage(message, build, show))
    .then(async (pick) => {
      if (pick === show) await vscode.commands.executeCommand('vscode.open', outUri);
      if (pick !== build) return;
      const corpus = await vscode.window.showSaveDialog({
        title: 'Build Corpus: write the corpus to',
        defaultUri: vscode.Uri.file(path.join(path.dirname(questionsUri.fsPath), 'corpus.dcd.jsonl')),
        filters: { 'DCD corpus': ['jsonl'] },
      });
      if (corpus) await vscode.commands.executeCommand('dcd.buildCorpus', { s1k: questionsUri, drafts: outUri, out: corpus, open: true });
    });
  return summary;
}
