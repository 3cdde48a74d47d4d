/**
 * Local ONNX drafting in the extension: the model settings, "DCD:
 * Download Local Model…", "DCD: Generate Draft for Question…" (tokens stream
 * into an untitled editor) and "DCD: Generate Student Drafts…" (resumable
 * batch with progress, ETA and cancel, then "Build Corpus…"). Inference runs in
 * the core's worker process; this module only adapts it to VS Code.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { setting, Settings, SECTION } from '../config';
import { runDraftBatch, type BatchSummary } from '../core/local/batch';
import { workerEntry, type LocalModelClient } from '../core/local/client';
import { downloadModel, DownloadError, modelDirFor, type DownloadResult } from '../core/local/download';
import { DEFAULT_STUDENT_PROMPT, studentPrompt, studentPromptProblem, type StudentPrompt } from '../core/local/prompts';
import { parseQuestions, type DraftQuestion } from '../core/local/questions';
import { DEFAULT_GENERATE_PARAMS, isDtypeSetting, type DtypeSetting, type GenerateParams, type LocalDtype } from '../core/local/types';
import { detectS1kFormat, importS1k } from '../core/importers';
import { HF_TOKEN_KEY } from '../eval/evaluateCommand';
import { batchProgressMessage, batchSummaryMessage, defaultDraftsPath, downloadProgressMessage, resolveModelPath } from './format';
import { LocalModels } from './models';

export const DEFAULT_DOWNLOAD_ID = 'onnx-community/Qwen2.5-1.5B-Instruct';

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

export interface LocalSettings {
  modelPath: string;
  dtype: DtypeSetting;
  params: GenerateParams;
  prompt: StudentPrompt;
  verifyUndecided: boolean;
}

export interface GenerateDraftArgs { question?: string }
export interface GenerateDraftResult { uri: vscode.Uri; text: string; finishReason: string; tokens: number; seed: number }
export interface GenerateDraftsArgs { questions?: vscode.Uri; n?: number; out?: vscode.Uri }
export interface DownloadArgs { id?: string; dtype?: LocalDtype; endpoint?: string; use?: boolean }

/** A problem the user can act on; shown as is. */
class UserError extends Error {
  constructor(message: string, readonly actions: { title: string; run: () => unknown }[] = []) { super(message); this.name = 'UserError'; }
}

const CANCELLED = 'cancelled';

const openLocalSettings = () => vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.local`);
const downloadAction = { title: 'Download Local Model…', run: () => vscode.commands.executeCommand('dcd.local.downloadModel') };
const settingsAction = { title: 'Open Settings', run: openLocalSettings };

function requireTrust(what: string): boolean {
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

async function showError(err: unknown, prefix: string): Promise<void> {
  const message = `${prefix}: ${(err as Error)?.message ?? String(err)}`;
  const actions = err instanceof UserError ? err.actions : [];
  const pick = await vscode.window.showErrorMessage(message, ...actions.map((a) => a.title));
  const action = actions.find((a) => a.title === pick);
  if (action) await action.run();
}

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

export function registerLocal(context: vscode.ExtensionContext, output: vscode.OutputChannel): LocalApi {
  const models = new LocalModels(output, workerEntry(context.asAbsolutePath(path.join('out', 'local-worker.js'))));
  const storageRoot = () => path.join(context.globalStorageUri.fsPath, 'models');

  async function generateDraft(args?: GenerateDraftArgs): Promise<GenerateDraftResult | undefined> {
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
    return withLocalModel('Local draft', cfg, async (client, progress, signal) => {
      if (signal.aborted) return undefined;
      progress.report({ message: `${client.info.name} (${client.info.dtype}): generating…` });
      let n = 0;
      const r = await client.generate(studentPrompt(q, cfg.prompt), cfg.params, {
        signal,
        onToken: (ev) => {
          stream.push(ev.text);
          if (++n % 16 === 0) progress.report({ message: `${client.info.name}: ${n} tokens` });
        },
      }).catch(async (err) => { await models.evictOnCrash(client, err); throw err; });
      await stream.finish(r.text);
      output.appendLine(`[local] draft: ${r.tokenIds.length} tokens (${r.finishReason}) in ${r.ms} ms, ${r.decodeTokensPerSecond.toFixed(1)} tok/s`);
      return { uri: doc.uri, text: r.text, finishReason: r.finishReason, tokens: r.tokenIds.length, seed: cfg.params.seed };
    });
  }

  /** Loads the configured local model under a cancellable progress notification, then runs `work` with it. */
  function withLocalModel<T>(title: string, cfg: LocalSettings,
    work: (client: LocalModelClient, progress: vscode.Progress<{ message?: string; increment?: number }>, signal: AbortSignal) => Promise<T>): Thenable<T> {
    return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
      const ac = new AbortController();
      const sub = token.onCancellationRequested(() => ac.abort());
      try {
        progress.report({ message: `loading ${path.basename(cfg.modelPath)}…` });
        return await work(await models.get(cfg.modelPath, cfg.dtype), progress, ac.signal);
      } finally {
        sub.dispose();
      }
    });
  }

  async function generateDrafts(args?: GenerateDraftsArgs): Promise<BatchSummary | undefined> {
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
    const summary = await withLocalModel('Student drafts', cfg, async (client, progress, signal) => {
      let reported = 0;
      return runDraftBatch({
        questions, n: perQuestion, out: outUri.fsPath, model: client, params: cfg.params, prompt: cfg.prompt,
        verifyWithModel: cfg.verifyUndecided, signal,
        onProgress: (p) => {
          const pct = p.total ? (100 * p.done) / p.total : 100;
          progress.report({ message: batchProgressMessage(p), increment: Math.max(0, pct - reported) });
          reported = Math.max(reported, pct);
        },
      }).catch(async (err) => { await models.evictOnCrash(client, err); throw err; });
    });
    output.appendLine(`[local] drafts → ${summary.out}: ${JSON.stringify({ ...summary, out: undefined })}`);
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

  async function download(args?: DownloadArgs): Promise<DownloadResult | undefined> {
    if (!requireTrust('Downloading a model')) return undefined;
    const id = args?.id ?? (await vscode.window.showInputBox({
      title: 'Download Local Model', prompt: 'Hugging Face model id with an ONNX export in the transformers.js layout',
      value: DEFAULT_DOWNLOAD_ID, ignoreFocusOut: true,
      validateInput: (v) => { try { modelDirFor(storageRoot(), v.trim()); return undefined; } catch (err) { return (err as Error).message; } },
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
    const token = await context.secrets.get(HF_TOKEN_KEY);
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Downloading ${id} (${variant})`, cancellable: true },
      async (progress, ct) => {
        const ac = new AbortController();
        const sub = ct.onCancellationRequested(() => ac.abort());
        let reported = 0;
        try {
          return await downloadModel(id, storageRoot(), {
            dtype: variant, signal: ac.signal, endpoint: args?.endpoint, token: token || undefined,
            onProgress: (p) => {
              const pct = p.total ? (100 * p.loaded) / p.total : 0;
              progress.report({ message: downloadProgressMessage(p), increment: Math.max(0, pct - reported) });
              reported = Math.max(reported, pct);
            },
          });
        } finally {
          sub.dispose();
        }
      });
    output.appendLine(`[local] ${result.alreadyPresent ? 'already present' : 'downloaded'}: ${id} (${result.dtype}) → ${result.dir}`);
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

  /** Palette calls show errors; programmatic calls (with arguments) also get them as a rejection. */
  const command = <A, R>(name: string, prefix: string, fn: (args?: A) => Promise<R | undefined>) =>
    vscode.commands.registerCommand(name, async (args?: A) => {
      try {
        return await fn(args);
      } catch (err) {
        if (err instanceof DownloadError && err.code === CANCELLED) {
          void vscode.window.showInformationMessage('Download cancelled; nothing was kept.');
          return undefined;
        }
        void showError(err, prefix);
        if (args !== undefined) throw err;
        return undefined;
      }
    });

  context.subscriptions.push(
    models,
    command<GenerateDraftArgs, GenerateDraftResult>('dcd.local.generateDraft', 'Local draft', generateDraft),
    command<GenerateDraftsArgs, BatchSummary>('dcd.local.generateDrafts', 'Student drafts', generateDrafts),
    command<DownloadArgs, DownloadResult>('dcd.local.downloadModel', 'Download Local Model', download),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.${Settings.localModelPath}`) || e.affectsConfiguration(`${SECTION}.${Settings.localDtype}`)) {
        void models.disposeAll();
      }
    }),
  );
  return { models, settings: readLocalSettings, generateDraft, generateDrafts, downloadModel: download, storageRoot };
}
