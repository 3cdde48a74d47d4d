/**
 * "DCD: Check Contamination": benchmark questions (a `samples_*.jsonl` log, or
 * any JSONL/JSON file of questions) against the training corpus (every
 * `*.dcd.jsonl` of the workspace, or a picked file), by word n-gram
 * containment (the core's checkContamination), shown as a read-only Markdown
 * document with the thresholds and every question that shares an n-gram.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import {
  checkContamination, DEFAULT_CONTAMINATION_THRESHOLD, getField, parseRecords, recordsToItems,
  type ContaminationReport, type TextItem,
} from '../core/eval/contamination';
import { DEFAULT_NGRAM } from '../core/eval/similarity';
import { parseSamplesJsonl, taskFromSamplesFileName } from '../core/eval/samples';
import { contaminationMarkdown, detectQuestionField, samplesQuestionItems, stringFields } from './contaminationReport';
import { readCorpusQuestions, workspaceCorpora } from './corpusQuestions';
import { displayPath, readText, workspaceSamples } from './workspaceFiles';

export const REPORT_SCHEME = 'dcd-eval';

/** Arguments for scripted use (tests, other commands); anything missing is asked for. */
export interface ContaminationArgs {
  benchmark?: vscode.Uri;
  benchmarkField?: string;
  /** A corpus file, several, or none for every corpus of the workspace. */
  corpus?: vscode.Uri | vscode.Uri[];
  corpusField?: string;
  threshold?: number;
  n?: number;
  topK?: number;
  /** Open the report document (default true). */
  show?: boolean;
}

export interface ContaminationResult {
  report: ContaminationReport;
  /** The report document (`dcd-eval:` URI). */
  uri: vscode.Uri;
  markdown: string;
}

/** Read-only documents holding the reports. */
export class ReportDocuments implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly docs = new Map<string, string>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;

  set(uri: vscode.Uri, text: string): void {
    this.docs.set(uri.toString(), text);
    this.changed.fire(uri);
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.docs.get(uri.toString()) ?? '(This report is no longer available: run "DCD: Check Contamination" again.)';
  }

  dispose(): void { this.changed.dispose(); }
}

async function pickBenchmark(): Promise<vscode.Uri | undefined> {
  const logs = await workspaceSamples();
  type Item = vscode.QuickPickItem & { uri?: vscode.Uri };
  const items: Item[] = logs.map((u) => ({ label: path.posix.basename(u.path), description: displayPath(vscode.Uri.joinPath(u, '..')), uri: u }));
  items.push({ label: '$(folder-opened) Browse for a questions file…', description: 'JSONL or JSON: a samples log, a benchmark test set, …' });
  const pick = await vscode.window.showQuickPick(items, { title: 'Check Contamination: benchmark questions', placeHolder: 'An lm-eval samples log, or any file of questions' });
  if (!pick) return undefined;
  if (pick.uri) return pick.uri;
  const chosen = await vscode.window.showOpenDialog({ title: 'Benchmark questions', canSelectMany: false, filters: { 'Questions (JSONL, JSON)': ['jsonl', 'json'] } });
  return chosen?.[0];
}

async function pickCorpus(): Promise<vscode.Uri[] | undefined> {
  const corpora = await workspaceCorpora();
  type Item = vscode.QuickPickItem & { uris?: vscode.Uri[] };
  const items: Item[] = [];
  if (corpora.length) items.push({ label: `All workspace corpora (${corpora.length})`, description: corpora.map(displayPath).join(', '), uris: corpora });
  for (const u of corpora) items.push({ label: displayPath(u), uris: [u] });
  items.push({ label: '$(folder-opened) Browse for a corpus file…' });
  const pick = await vscode.window.showQuickPick(items, { title: 'Check Contamination: training corpus' });
  if (!pick) return undefined;
  if (pick.uris) return pick.uris;
  const chosen = await vscode.window.showOpenDialog({ title: 'Training corpus', canSelectMany: true, filters: { 'Corpus (JSONL, JSON)': ['jsonl', 'json'] } });
  return chosen?.length ? chosen : undefined;
}

async function askThreshold(): Promise<number | undefined> {
  const v = await vscode.window.showInputBox({
    title: 'Check Contamination: threshold',
    prompt: `Flag a benchmark question when this share of its word ${DEFAULT_NGRAM}-grams appears in one corpus question (0 < t ≤ 1).`,
    value: String(DEFAULT_CONTAMINATION_THRESHOLD),
    validateInput: (s) => { const x = Number(s); return Number.isFinite(x) && x > 0 && x <= 1 ? undefined : 'A number in (0, 1]'; },
  });
  return v === undefined ? undefined : Number(v);
}

/** Benchmark questions of a file: a samples log (one per document) or records with a question field. */
async function benchmarkItems(uri: vscode.Uri, field: string | undefined, interactive: boolean): Promise<TextItem[] | undefined> {
  const text = await readText(uri);
  const name = path.posix.basename(uri.path);
  if (taskFromSamplesFileName(name) && !field) {
    const parsed = parseSamplesJsonl(text, name);
    return samplesQuestionItems(parsed.rows);
  }
  const records = parseRecords(text, displayPath(uri));
  if (!records.length) throw new Error(`${displayPath(uri)}: no records`);
  let f = field ?? detectQuestionField(records, getField);
  if (!f) {
    if (!interactive) throw new Error(`${displayPath(uri)}: no question field found (tried question, problem, …); name one`);
    f = await vscode.window.showQuickPick(stringFields(records[0]), { title: `Which field of ${displayPath(uri)} holds the question?` });
    if (!f) return undefined;
  }
  return recordsToItems(records, f, displayPath(uri));
}

export async function checkContaminationCommand(docs: ReportDocuments, args: ContaminationArgs = {}): Promise<ContaminationResult | undefined> {
  const interactive = args.benchmark === undefined;
  const benchmark = args.benchmark ?? await pickBenchmark();
  if (!benchmark) return undefined;
  const corpusUris = args.corpus ? (Array.isArray(args.corpus) ? args.corpus : [args.corpus]) : interactive ? await pickCorpus() : await workspaceCorpora();
  if (!corpusUris) return undefined;
  if (!corpusUris.length) {
    void vscode.window.showWarningMessage('No training corpus (*.dcd.jsonl) in this workspace: pick a corpus file.');
    return undefined;
  }
  const threshold = args.threshold ?? (interactive ? await askThreshold() : DEFAULT_CONTAMINATION_THRESHOLD);
  if (threshold === undefined) return undefined;
  const n = args.n ?? DEFAULT_NGRAM;

  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'DCD: checking contamination…' }, async () => {
    const items = await benchmarkItems(benchmark, args.benchmarkField, interactive);
    if (!items) return undefined;
    const corpusLabel = corpusUris.length === 1 ? displayPath(corpusUris[0]) : `${corpusUris.length} corpora: ${corpusUris.map(displayPath).join(', ')}`;
    const corpus = await readCorpusQuestions(corpusUris, corpusLabel, args.corpusField);
    const report = checkContamination(items, corpus.items, { threshold, n, topK: args.topK });
    const benchLabel = displayPath(benchmark);
    const markdown = contaminationMarkdown(report, { benchmarkLabel: benchLabel, corpusLabel, origins: corpus.origins });
    const uri = vscode.Uri.from({ scheme: REPORT_SCHEME, path: `/Contamination ${path.posix.basename(benchmark.path)}.md`, query: `t=${Date.now()}` });
    docs.set(uri, markdown);
    if (args.show !== false) {
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.languages.setTextDocumentLanguage(doc, 'markdown');
      await vscode.window.showTextDocument(doc, { preview: false });
      const msg = `Contamination: ${report.flagged} of ${report.benchmarkCount} benchmark questions flagged (score ≥ ${report.threshold}).`;
      void vscode.window.showInformationMessage(msg, 'Open Preview').then((a) => {
        if (a) void vscode.commands.executeCommand('markdown.showPreviewToSide', uri);
      });
    }
    return { report, uri, markdown };
  });
}
