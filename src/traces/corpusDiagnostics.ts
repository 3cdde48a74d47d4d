/**
 * Problems for corpus JSONL files (`dcd.corpusGlob`), with quick fixes.
 *
 * The checks are the core's (src/core/corpus/diagnostics.ts): a `CorpusDiagnoser`
 * per file re-checks only changed lines, in time slices (the extension host
 * never runs more than one slice, ~12 ms, without yielding), after a debounce
 * on edits. The verifier runs inside those checks.
 *
 * Truncation (does max_length cut the verdict or the answer?) needs tokens:
 * it is a second, slower phase whose tokenization runs in worker threads
 * through the shared disk cache (tokenizeCorpus); only lines long enough to
 * possibly exceed max_length are tokenized, and the core's own check
 * (diagnoseCorpusLine with the measured lengths) words the result.
 *
 * Files above VS Code's 50 MB sync limit never reach extensions as documents;
 * those are read from disk while they are open in a tab, and re-read when
 * they change on disk.
 */
import * as vscode from 'vscode';
import { CorpusDiagnoser, diagnoseCorpusFile, diagnoseCorpusLine, type Diagnostic as CoreDiagnostic, type DiagnosticContext } from '../core/corpus/diagnostics';
import { verify } from '../core/answer';
import { summarizeMask } from '../core/trace/mask';
import { tokenizeCorpus, defaultWorkerCount } from '../core/tokenizer';
import { splitLines } from '../core/io/jsonl';
import { setting, Settings, SECTION } from '../services/config';
import { maskSettings } from './tokens';

/** A closed corpus larger than this is diagnosed streamed from disk (the workbench reads such files on demand too). */
const STREAMED_FILE_BYTES = 64 * 1024 * 1024;
const SLICE_MS = 12;
const EDIT_DEBOUNCE_MS = 300;
const TRUNCATION_DEBOUNCE_MS = 1500;

/** Numbers of the last full pass over a file. */
export interface CorpusPassStats {
  lines: number;
  ms: number;
  slices: number;
  maxSliceMs: number;
  computed: number;
  reused: number;
  diagnostics: number;
  /** Where the lines came from. */
  source: 'document' | 'disk';
}

export interface TruncationStats {
  candidates: number;
  tokenized: number;
  cut: number;
  ms: number;
}

interface FileState {
  uri: vscode.Uri;
  diagnoser: CorpusDiagnoser;
  abort?: AbortController;
  truncAbort?: AbortController;
  timer?: NodeJS.Timeout;
  truncTimer?: NodeJS.Timeout;
  lines: readonly string[];
  core: CoreDiagnostic[];
  truncation: Array<{ line: number; raw: string; diagnostics: CoreDiagnostic[] }>;
  published: Map<string, CoreDiagnostic>;
  pass?: CorpusPassStats;
  truncationStats?: TruncationStats;
  running?: Promise<void>;
}

const SEVERITY: Record<CoreDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error, warning: vscode.DiagnosticSeverity.Warning, info: vscode.DiagnosticSeverity.Information,
};

function diagnosticContext(): DiagnosticContext {
  return { preset: setting(Settings.templatePreset, 'paper'), verify: (pred, gold, opts) => verify(pred, gold, opts) };
}

const keyOf = (line: number, code: string, start: number) => `${line}:${code}:${start}`;

export class CorpusDiagnostics implements vscode.CodeActionProvider, vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('dcd-corpus');
  private readonly states = new Map<string, FileState>();
  private readonly passEmitter = new vscode.EventEmitter<{ uri: vscode.Uri; stats: CorpusPassStats }>();
  /** Fires after each full pass over a file (diagnostics published). */
  readonly onDidDiagnose = this.passEmitter.event;
  private readonly disposables: vscode.Disposable[] = [];
  private watcher: vscode.FileSystemWatcher | undefined;

  constructor(private readonly listCorpora: () => Promise<readonly { uri: vscode.Uri }[]>) {
    this.disposables.push(
      this.collection, this.passEmitter,
      vscode.languages.registerCodeActionsProvider({ pattern: this.glob() }, this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
      vscode.workspace.onDidOpenTextDocument((d) => { if (this.isCorpusDocument(d)) this.schedule(d.uri, 0); }),
      vscode.workspace.onDidChangeTextDocument((e) => { if (e.contentChanges.length && this.isCorpusDocument(e.document)) this.schedule(e.document.uri, EDIT_DEBOUNCE_MS); }),
      vscode.workspace.onDidCloseTextDocument((d) => { if (!this.openInTab(d.uri)) this.forget(d.uri); }),
      vscode.window.tabGroups.onDidChangeTabs((e) => void this.tabsChanged(e)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.${Settings.templatePreset}`)) {
          for (const s of this.states.values()) { s.diagnoser.setContext(diagnosticContext()); this.schedule(s.uri, 0); }
        } else if (e.affectsConfiguration(`${SECTION}.${Settings.maxLength}`)) {
          for (const s of this.states.values()) this.scheduleTruncation(s);
        }
      }),
    );
    this.watchDisk();
    for (const d of vscode.workspace.textDocuments) if (this.isCorpusDocument(d)) this.schedule(d.uri, 0);
    void this.tabsChanged({ opened: vscode.window.tabGroups.all.flatMap((g) => g.tabs), closed: [], changed: [] });
  }

  private glob(): string { return setting(Settings.corpusGlob, '**/*.dcd.jsonl'); }

  private isCorpusDocument(d: vscode.TextDocument): boolean {
    return d.uri.scheme !== 'dcd-trace' && vscode.languages.match({ pattern: this.glob() }, d) > 0;
  }

  private openInTab(uri: vscode.Uri): boolean {
    return vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => (t.input instanceof vscode.TabInputText || t.input instanceof vscode.TabInputCustom) && t.input.uri.toString() === uri.toString()));
  }

  private document(uri: vscode.Uri): vscode.TextDocument | undefined {
    return vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  }

  /** Corpus files open in a tab but not synced as documents (above VS Code's sync limit) are read from disk. */
  private async tabsChanged(e: vscode.TabChangeEvent): Promise<void> {
    const uriOf = (t: vscode.Tab) => (t.input instanceof vscode.TabInputText || t.input instanceof vscode.TabInputCustom ? t.input.uri : undefined);
    for (const t of e.closed) {
      const uri = uriOf(t);
      if (uri && !this.openInTab(uri) && !this.document(uri)) this.forget(uri);
    }
    const opened = e.opened.map(uriOf).filter((u): u is vscode.Uri => !!u && !this.states.has(u.toString()));
    if (!opened.length) return;
    const corpora = new Set((await this.listCorpora()).map((c) => c.uri.toString()));
    for (const uri of opened) if (corpora.has(uri.toString()) && !this.document(uri)) this.schedule(uri, 0);
  }

  private watchDisk(): void {
    this.watcher?.dispose();
    this.watcher = vscode.workspace.createFileSystemWatcher(this.glob(), true, false, true);
    this.watcher.onDidChange((uri) => { if (this.states.has(uri.toString()) && !this.document(uri)) this.schedule(uri, 500); });
    this.disposables.push(this.watcher);
  }

  private state(uri: vscode.Uri): FileState {
    const key = uri.toString();
    let s = this.states.get(key);
    if (!s) {
      s = { uri, diagnoser: new CorpusDiagnoser(diagnosticContext()), lines: [], core: [], truncation: [], published: new Map() };
      this.states.set(key, s);
    }
    return s;
  }

  private forget(uri: vscode.Uri): void {
    const s = this.states.get(uri.toString());
    if (!s) return;
    clearTimeout(s.timer);
    clearTimeout(s.truncTimer);
    s.abort?.abort();
    s.truncAbort?.abort();
    this.states.delete(uri.toString());
    this.collection.delete(uri);
  }

  /** Diagnoses a corpus file after `delayMs` (edits restart the delay). */
  schedule(uri: vscode.Uri, delayMs: number): void {
    const s = this.state(uri);
    clearTimeout(s.timer);
    s.abort?.abort();
    s.timer = setTimeout(() => { s.timer = undefined; s.running = this.run(s); }, delayMs);
  }

  /** Diagnoses a corpus file now and resolves when the diagnostics are published. */
  async diagnoseNow(uri: vscode.Uri): Promise<CorpusPassStats | undefined> {
    const s = this.state(uri);
    clearTimeout(s.timer);
    s.abort?.abort();
    s.running = this.run(s);
    await s.running;
    return s.pass;
  }

  stats(uri: vscode.Uri): { pass?: CorpusPassStats; truncation?: TruncationStats } | undefined {
    const s = this.states.get(uri.toString());
    return s && { pass: s.pass, truncation: s.truncationStats };
  }

  private async readLines(s: FileState): Promise<{ lines: readonly string[]; source: 'document' | 'disk' }> {
    const doc = this.document(s.uri);
    if (doc) {
      // lineAt returns the document's own line strings: unchanged lines are recognised without hashing.
      const lines = new Array<string>(doc.lineCount);
      for (let i = 0; i < doc.lineCount; i++) lines[i] = doc.lineAt(i).text;
      return { lines, source: 'document' };
    }
    const bytes = await vscode.workspace.fs.readFile(s.uri);
    return { lines: splitLines(new TextDecoder().decode(bytes)), source: 'disk' };
  }

  private async run(s: FileState): Promise<void> {
    const abort = new AbortController();
    s.abort = abort;
    if (!this.document(s.uri) && s.uri.scheme === 'file') {
      const size = (await Promise.resolve(vscode.workspace.fs.stat(s.uri)).catch(() => undefined))?.size;
      if (size !== undefined && size > STREAMED_FILE_BYTES) return this.runStreamed(s, abort);
    }
    let read;
    try {
      read = await this.readLines(s);
    } catch {
      this.forget(s.uri);
      return;
    }
    const { lines, source } = read;
    const t0 = performance.now();
    const core: CoreDiagnostic[] = [];
    let next = 0;
    let slices = 0;
    let maxSlice = 0;
    let computed = 0;
    let reused = 0;
    do {
      if (abort.signal.aborted) return;
      const a = performance.now();
      const r = s.diagnoser.diagnoseChunk(lines, next, SLICE_MS);
      maxSlice = Math.max(maxSlice, performance.now() - a);
      slices++;
      computed += r.computed;
      reused += r.reused;
      for (const d of r.diagnostics) core.push(d);
      next = r.next;
      if (next < lines.length) await new Promise<void>((resolve) => setImmediate(resolve));
    } while (next < lines.length);
    if (abort.signal.aborted) return;
    for (const d of s.diagnoser.duplicateIds(lines)) core.push(d);
    s.lines = lines;
    s.core = core;
    s.pass = { lines: lines.length, ms: performance.now() - t0, slices, maxSliceMs: maxSlice, computed, reused, diagnostics: core.length, source };
    this.publish(s);
    this.passEmitter.fire({ uri: s.uri, stats: s.pass });
    this.scheduleTruncation(s);
  }

  /**
   * A big corpus that is not open as text (e.g. behind the workbench): diagnosed
   * streamed from disk (core `diagnoseCorpusFile`), never held as lines, so the
   * extension host's memory stays bounded; no quick fixes and no truncation
   * phase (both need the lines).
   */
  private async runStreamed(s: FileState, abort: AbortController): Promise<void> {
    const t0 = performance.now();
    const core: CoreDiagnostic[] = [];
    const r = await diagnoseCorpusFile(s.uri.fsPath, diagnosticContext(), (ds) => { for (const d of ds) core.push(d); }, { signal: abort.signal })
      .catch(() => undefined);
    if (!r || abort.signal.aborted) return;
    const ms = performance.now() - t0;
    s.lines = [];
    s.core = core;
    s.truncation = [];
    s.pass = { lines: r.lines, ms, slices: 1, maxSliceMs: ms, computed: r.lines, reused: 0, diagnostics: core.length, source: 'disk' };
    this.publish(s);
    this.passEmitter.fire({ uri: s.uri, stats: s.pass });
  }

  private publish(s: FileState): void {
    const all = [...s.core];
    for (const t of s.truncation) if (s.lines[t.line] === t.raw) all.push(...t.diagnostics);
    s.published.clear();
    const out = all.map((d) => {
      const v = new vscode.Diagnostic(new vscode.Range(d.line, d.startChar, d.line, d.endChar), d.message, SEVERITY[d.severity]);
      v.source = 'DCD';
      v.code = d.code;
      s.published.set(keyOf(d.line, d.code, d.startChar), d);
      return v;
    });
    this.collection.set(s.uri, out);
  }

  private scheduleTruncation(s: FileState): void {
    clearTimeout(s.truncTimer);
    s.truncAbort?.abort();
    s.truncTimer = setTimeout(() => { s.truncTimer = undefined; void this.truncation(s).catch(() => undefined); }, TRUNCATION_DEBOUNCE_MS);
  }

  /** The truncation phase: tokenize (in workers) the lines that could exceed max_length, then let the core word the findings. */
  private async truncation(s: FileState): Promise<void> {
    const abort = new AbortController();
    s.truncAbort = abort;
    const t0 = performance.now();
    const { maxLength } = maskSettings();
    const preset = setting(Settings.templatePreset, 'paper');
    const lines = s.lines;
    const inputs: Array<{ line: number; raw: string; text: string }> = [];
    let budget = performance.now();
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i];
      // A token is at least one UTF-8 byte, and a UTF-16 unit at most three bytes: shorter lines cannot exceed max_length.
      if (raw.length * 3 <= maxLength) continue;
      try {
        const v = JSON.parse(raw) as { text?: unknown };
        if (typeof v.text === 'string' && new TextEncoder().encode(v.text).length > maxLength) inputs.push({ line: i, raw, text: v.text });
      } catch { /* malformed lines are reported by the main pass */ }
      if (performance.now() - budget > SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (abort.signal.aborted) return;
        budget = performance.now();
      }
    }
    const found: FileState['truncation'] = [];
    if (inputs.length) {
      const workers = Math.max(1, Math.min(2, defaultWorkerCount() - 1));
      const tokens = await tokenizeCorpus(inputs.map((x) => ({ text: x.text })), false, { preset, workers, signal: abort.signal });
      if (abort.signal.aborted) return;
      tokens.samples.forEach((t, k) => {
        if (!t.layout) return;
        const flags = summarizeMask(t.layout, 'paper', maxLength).flags;
        if (!flags.verdict_cut && !flags.answer_cut) return;
        const { line, raw } = inputs[k];
        const report = { verdictCut: flags.verdict_cut, answerCut: flags.answer_cut, tokens: t.layout.tokens, maxLength };
        const diagnostics = diagnoseCorpusLine(raw, line, { preset, tokenCount: () => report }).filter((d) => d.code === 'truncated-verdict' || d.code === 'truncated-answer');
        found.push({ line, raw, diagnostics });
      });
    }
    if (abort.signal.aborted || s.lines !== lines) return;
    s.truncation = found;
    s.truncationStats = { candidates: inputs.length, tokenized: inputs.length, cut: found.length, ms: performance.now() - t0 };
    this.publish(s);
  }

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const s = this.states.get(doc.uri.toString());
    if (!s) return [];
    const out: vscode.CodeAction[] = [];
    for (const d of ctx.diagnostics) {
      if (d.source !== 'DCD') continue;
      const core = s.published.get(keyOf(d.range.start.line, String(d.code), d.range.start.character));
      if (!core?.fix || core.line >= doc.lineCount || doc.lineAt(core.line).text !== s.lines[core.line]) continue;
      const action = new vscode.CodeAction(core.fix.title, vscode.CodeActionKind.QuickFix);
      action.edit = new vscode.WorkspaceEdit();
      action.edit.replace(doc.uri, doc.lineAt(core.line).range, core.fix.newLine);
      action.diagnostics = [d];
      action.isPreferred = true;
      out.push(action);
    }
    return out;
  }

  dispose(): void {
    for (const s of this.states.values()) { clearTimeout(s.timer); clearTimeout(s.truncTimer); s.abort?.abort(); s.truncAbort?.abort(); }
    this.states.clear();
    for (const d of this.disposables) d.dispose();
  }
}
