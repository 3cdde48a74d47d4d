/**
 * The trace editor (extension side): samples as editable trace
 * documents in VS Code's own editor, their structure (outline, folding,
 * CodeLens, hover), the token-mask overlay, and problems for corpus files.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { MASK_POLICIES, isMaskPolicy, type MaskPolicy } from '../core/trace/mask';
import { parseCorpus } from '../core/corpus/summary';
import type { Verdict } from '../core/trace/model';
import { setting, Settings } from '../services/config';
import type { ExtensionServices } from '../services';
import { TraceFileSystem, TRACE_SCHEME, traceUri, detectPreset } from './traceFs';
import { TraceTokenService, maskSettings } from './tokens';
import { MaskOverlay } from './overlay';
import { TraceChecks, TraceParser, TraceStructure, verdictEdit } from './structure';
import { CorpusDiagnostics } from './corpusDiagnostics';

export { traceUri, parseTraceUri, TRACE_SCHEME } from './traceFs';

/** What the trace feature exposes to the tests and to the other features. */
export interface TracesApi {
  fs: TraceFileSystem;
  overlay: MaskOverlay;
  checks: TraceChecks;
  corpusDiagnostics: CorpusDiagnostics;
  /** Opens a sample of a corpus (index among its samples, or id) as a trace document. */
  open(corpus: vscode.Uri, indexOrId: number | string): Promise<vscode.TextEditor>;
  /** The template preset a trace document is parsed with. */
  presetOf(doc: vscode.TextDocument): string;
}

interface CorpusLister { list(): Promise<readonly { uri: vscode.Uri }[]> }

const decoder = new TextDecoder();

async function readSamples(corpus: vscode.Uri): Promise<Record<string, unknown>[]> {
  const rows = parseCorpus(decoder.decode(await vscode.workspace.fs.readFile(corpus)));
  return rows.flatMap((r) => (r.kind === 'value' ? [r.value as Record<string, unknown>] : []));
}

/** `corpora` lists the workspace's corpora (the corpora feature's view, given by `activate`). */
export function registerTraces(context: vscode.ExtensionContext, _services: ExtensionServices, { corpora }: { corpora: CorpusLister }): TracesApi {
  const fs = new TraceFileSystem();
  const presetMemo = new Map<string, { version: number; preset: string }>();
  const presetOf = (doc: vscode.TextDocument): string => {
    const entry = fs.entry(doc.uri);
    if (entry) return entry.preset;
    const key = doc.uri.toString();
    const hit = presetMemo.get(key);
    if (hit && hit.version === doc.version) return hit.preset;
    const preset = detectPreset(doc.getText()) ?? setting(Settings.templatePreset, 'paper');
    presetMemo.set(key, { version: doc.version, preset });
    return preset;
  };
  const tokens = new TraceTokenService(context.extensionPath);
  const overlay = new MaskOverlay(context.workspaceState, tokens, presetOf);
  const parser = new TraceParser(presetOf);
  const checks = new TraceChecks(parser, fs, presetOf);
  const structure = new TraceStructure({ parser, tokens, overlay, fs, presetOf, disagreement: (d) => checks.disagreement(d) });
  const corpusDiagnostics = new CorpusDiagnostics(() => corpora.list());

  const open = async (corpus: vscode.Uri, indexOrId: number | string): Promise<vscode.TextEditor> => {
    let id: string;
    if (typeof indexOrId === 'number') {
      const samples = await readSamples(corpus);
      const sample = samples[indexOrId];
      if (!sample) throw new Error(`No sample ${indexOrId} in ${path.basename(corpus.fsPath)} (${samples.length} samples).`);
      if (typeof sample.id !== 'string' || !sample.id) throw new Error(`Sample ${indexOrId} of ${path.basename(corpus.fsPath)} has no "id": it cannot be opened as a trace.`);
      id = sample.id;
    } else id = indexOrId;
    const doc = await vscode.workspace.openTextDocument(traceUri(corpus, id));
    if (doc.languageId !== 'dcd-trace') await vscode.languages.setTextDocumentLanguage(doc, 'dcd-trace');
    return vscode.window.showTextDocument(doc, { preview: false });
  };

  const openCommand = async (corpusArg?: vscode.Uri | string, indexOrId?: number | string): Promise<vscode.TextEditor | undefined> => {
    let corpus = typeof corpusArg === 'string' ? vscode.Uri.parse(corpusArg) : corpusArg;
    if (!corpus) {
      const list = await corpora.list();
      if (!list.length) { void vscode.window.showWarningMessage('No DCD corpus (*.dcd.jsonl) in this workspace.'); return undefined; }
      const pick = list.length === 1 ? { uri: list[0].uri } : await vscode.window.showQuickPick(
        list.map((c) => ({ label: vscode.workspace.asRelativePath(c.uri), uri: c.uri })), { title: 'Open a sample of which corpus as a trace?' });
      if (!pick) return undefined;
      corpus = pick.uri;
    }
    if (indexOrId === undefined) {
      const samples = await readSamples(corpus);
      const pick = await vscode.window.showQuickPick(samples.map((s, i) => ({
        label: `${i + 1}. ${String(s.question ?? '').split('\n')[0].slice(0, 80)}`,
        description: `${String(s.verdict ?? '?')} · ${String(s.draft_source ?? '')}`,
        detail: String(s.id ?? '(no id)'), index: i,
      })), { title: `Open which sample of ${path.basename(corpus.fsPath)}?`, matchOnDescription: true, matchOnDetail: true });
      if (!pick) return undefined;
      indexOrId = pick.index;
    }
    try {
      return await open(corpus, indexOrId);
    } catch (err) {
      void vscode.window.showErrorMessage(`Cannot open the sample as a trace: ${(err as Error).message}`);
      return undefined;
    }
  };

  const setVerdict = async (uri: vscode.Uri, verdict: Verdict, save = false): Promise<boolean> => {
    const doc = await vscode.workspace.openTextDocument(uri);
    const edit = verdictEdit(doc, parser, presetOf(doc), verdict);
    if (!edit || !(await vscode.workspace.applyEdit(edit))) return false;
    return save ? doc.save() : true;
  };

  context.subscriptions.push(
    fs, tokens, overlay, checks, structure, corpusDiagnostics,
    vscode.workspace.registerFileSystemProvider(TRACE_SCHEME, fs, { isCaseSensitive: true }),
    vscode.commands.registerCommand('dcd.openSampleAsTrace', openCommand),
    vscode.commands.registerCommand('dcd.toggleTokenMask', async (on?: boolean) => {
      await (typeof on === 'boolean' ? overlay.setEnabled(on) : overlay.toggle());
      if (on === undefined && overlay.enabled && !vscode.window.visibleTextEditors.some((e) => e.document.languageId === 'dcd-trace')) {
        void vscode.window.showInformationMessage('Token mask on: it shows in trace documents.', 'Open Sample as Trace')
          .then((c) => { if (c) void vscode.commands.executeCommand('dcd.openSampleAsTrace'); });
      }
    }),
    vscode.commands.registerCommand('dcd.switchMaskPolicy', async (policy?: MaskPolicy) => {
      if (policy === undefined) {
        const current = maskSettings().policy;
        const pick = await vscode.window.showQuickPick(MASK_POLICIES.map((p) => ({
          label: p, description: p === current ? '(current)' : '',
          detail: p === 'paper' ? 'Train everything from <|im_start|>think through the final <|im_end|> (the paper\'s mask, default).' : 'As paper, but the draft tokens are masked (-100).',
        })), { title: 'Loss-mask policy (also used by the export and the trainer)' });
        if (!pick) return;
        policy = pick.label;
      }
      if (!isMaskPolicy(policy)) throw new Error(`Unknown mask policy "${String(policy)}".`);
      await overlay.setPolicy(policy);
    }),
    vscode.commands.registerCommand('dcd.traces.reveal', async (uri: vscode.Uri, offset: number) => {
      const editor = await vscode.window.showTextDocument(uri);
      const pos = editor.document.positionAt(offset);
      editor.selection = new vscode.Selection(pos, pos);
      editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenter);
    }),
    vscode.commands.registerCommand('dcd.traces.setVerdict', (uri: vscode.Uri, verdict: Verdict) => setVerdict(uri, verdict)),
    vscode.commands.registerCommand('dcd.traces.compareDrafts', async (uri: vscode.Uri) => {
      const entry = fs.entry(uri);
      if (!entry) return;
      const samples = await readSamples(entry.corpus);
      const index = samples.findIndex((s) => s.id === entry.id);
      try {
        await vscode.commands.executeCommand('dcd.compareDrafts', { corpus: entry.corpus, id: entry.id, index, sample: entry.sample });
      } catch (err) {
        void vscode.window.showInformationMessage(`Compare with other draft is not available: ${(err as Error).message}`);
      }
    }),
    fs.onDidSave((e) => {
      structure.refreshLenses();
      const check = e.result.check;
      if (!e.draftChanged || !check?.disagrees || !check.verifierVerdict) return;
      const to = check.verifierVerdict;
      const verdict = String(e.result.sample.verdict);
      void vscode.window.showWarningMessage(
        `Saved. The verifier now finds the draft's answer (${check.draftAnswer ?? 'none'}) ${to === 'correct' ? 'equivalent' : 'not equivalent'} to the gold answer (rule ${check.rule}), but the verdict is still "${verdict}". It was not changed.`,
        `Set verdict to "${to}"`,
      ).then((choice) => { if (choice) void setVerdict(e.entry.uri, to, true); });
    }),
    checks.onDidChange(() => structure.refreshLenses()),
  );

  return { fs, overlay, checks, corpusDiagnostics, open, presetOf };
}
