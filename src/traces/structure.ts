/**
 * Structure of trace documents: the outline and breadcrumbs (document
 * symbols), folding ranges (the chain folds under its bridge line), the
 * CodeLens on the first line and a hover that shows the token under the cursor.
 * Also the trace documents' own checks: a broken structure and a verdict that
 * the verifier contradicts (diagnostics, a quick fix, the verdict in colour).
 */
import * as vscode from 'vscode';
import { getPreset, parseTrace, TraceStructureError, type RenderedTrace, type TraceFields } from '../core/trace/template';
import { checkVerdict, type VerdictCheck } from '../core/trace/traceEdit';
import { IGNORE_INDEX } from '../core/trace/mask';
import type { Verdict } from '../core/trace/model';
import { maskSettings, type TraceTokenService } from './tokens';
import { tokenAt } from '../core/tokenizer/offsets';
import type { TraceFileSystem } from './traceFs';
import type { MaskOverlay } from './overlay';
import { TRACE_LANGUAGE } from './overlay';

const SELECTOR: vscode.DocumentSelector = { language: TRACE_LANGUAGE };

export interface ParsedTraceDoc {
  version: number;
  fields: TraceFields;
  rendered: RenderedTrace;
}

/** Parses trace documents, memoised per version. */
export class TraceParser {
  private readonly cache = new Map<string, { version: number; result: ParsedTraceDoc | TraceStructureError }>();
  constructor(private readonly presetOf: (doc: vscode.TextDocument) => string) {}

  parse(doc: vscode.TextDocument): ParsedTraceDoc | TraceStructureError {
    const key = doc.uri.toString();
    const hit = this.cache.get(key);
    if (hit && hit.version === doc.version) return hit.result;
    let result: ParsedTraceDoc | TraceStructureError;
    try {
      const { fields, rendered } = parseTrace(doc.getText(), this.presetOf(doc));
      result = { version: doc.version, fields, rendered };
    } catch (err) {
      if (!(err instanceof TraceStructureError)) throw err;
      result = err;
    }
    this.cache.set(key, { version: doc.version, result });
    return result;
  }

  forget(uri: vscode.Uri): void { this.cache.delete(uri.toString()); }
}

function rangeOf(doc: vscode.TextDocument, start: number, end: number): vscode.Range {
  return new vscode.Range(doc.positionAt(start), doc.positionAt(end));
}

function firstLine(s: string, max = 60): string {
  const line = s.trim().split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

const lineCount = (s: string) => (s ? s.split('\n').length : 0);

/** The stages of a trace as (name, kind, full range start, end, detail). */
function stages(text: string, p: ParsedTraceDoc): Array<{ name: string; kind: vscode.SymbolKind; start: number; end: number; sel: [number, number]; detail: string }> {
  const r = p.rendered.regions;
  const userTag = text.lastIndexOf('<|im_start|>user', r.question.start);
  const thinkTag = p.rendered.thinkStart;
  const answerTag = p.rendered.answerTagStart;
  const endOfText = text.length;
  return [
    { name: 'Question', kind: vscode.SymbolKind.String, start: userTag >= 0 ? userTag : r.question.start, end: r.question.end, sel: [r.question.start, r.question.end], detail: firstLine(p.fields.question) },
    { name: 'Draft', kind: vscode.SymbolKind.Event, start: thinkTag >= 0 ? thinkTag : r.draft.start, end: r.draft.end, sel: [r.draft.start, r.draft.end], detail: `${lineCount(p.fields.draft)} lines` },
    { name: 'Bridge', kind: vscode.SymbolKind.Constant, start: r.bridge.start, end: r.bridge.end, sel: [r.bridge.start, r.bridge.end], detail: '' },
    { name: 'Chain', kind: vscode.SymbolKind.Namespace, start: r.chain.start, end: r.chain.end, sel: [r.chain.start, r.chain.end], detail: `${lineCount(p.fields.chain)} lines` },
    { name: 'Verdict', kind: vscode.SymbolKind.Boolean, start: r.verdict.start, end: r.verdict.end, sel: [r.verdict.start, r.verdict.end], detail: p.fields.verdict },
    { name: 'Answer', kind: vscode.SymbolKind.Field, start: answerTag >= 0 ? answerTag : r.final_answer.start, end: endOfText, sel: [r.final_answer.start, r.final_answer.end], detail: firstLine(p.fields.final_answer) },
  ];
}

export interface TraceStructureDeps {
  parser: TraceParser;
  tokens: TraceTokenService;
  overlay: MaskOverlay;
  fs: TraceFileSystem;
  presetOf: (doc: vscode.TextDocument) => string;
  /** The verifier's view of a document's draft, when it contradicts the verdict. */
  disagreement: (doc: vscode.TextDocument) => VerdictCheck | undefined;
}

export class TraceStructure implements vscode.DocumentSymbolProvider, vscode.FoldingRangeProvider, vscode.CodeLensProvider, vscode.HoverProvider, vscode.Disposable {
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly deps: TraceStructureDeps) {
    this.disposables.push(
      this.lensesChanged,
      vscode.languages.registerDocumentSymbolProvider(SELECTOR, this, { label: 'DCD trace' }),
      vscode.languages.registerFoldingRangeProvider(SELECTOR, this),
      vscode.languages.registerCodeLensProvider(SELECTOR, this),
      vscode.languages.registerHoverProvider(SELECTOR, this),
      deps.overlay.onDidApply(() => this.lensesChanged.fire()),
      vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('dcd')) this.lensesChanged.fire(); }),
    );
  }

  refreshLenses(): void { this.lensesChanged.fire(); }

  provideDocumentSymbols(doc: vscode.TextDocument): vscode.DocumentSymbol[] {
    const p = this.deps.parser.parse(doc);
    if (p instanceof TraceStructureError) return [];
    return stages(doc.getText(), p).map((s) => {
      const range = rangeOf(doc, s.start, s.end);
      const sel = rangeOf(doc, s.sel[0], s.sel[1]);
      return new vscode.DocumentSymbol(s.name, s.detail, s.kind, range, range.contains(sel) ? sel : new vscode.Range(range.start, range.start));
    });
  }

  provideFoldingRanges(doc: vscode.TextDocument): vscode.FoldingRange[] {
    const p = this.deps.parser.parse(doc);
    if (p instanceof TraceStructureError) return [];
    const text = doc.getText();
    const r = p.rendered.regions;
    const line = (offset: number) => doc.positionAt(offset).line;
    const out: vscode.FoldingRange[] = [];
    const add = (a: number, b: number) => { const s = line(a); const e = line(Math.max(a, b - 1)); if (e > s) out.push(new vscode.FoldingRange(s, e, vscode.FoldingRangeKind.Region)); };
    const systemTag = text.lastIndexOf('<|im_start|>system', r.system.start);
    add(systemTag >= 0 ? systemTag : r.system.start, r.system.end);
    add(text.lastIndexOf('<|im_start|>user', r.question.start), r.question.end);
    add(p.rendered.thinkStart, r.draft.end);
    // The chain folds under the bridge sentence that introduces it.
    add(r.bridge.start, r.chain.end);
    add(p.rendered.answerTagStart, text.length);
    return out;
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const top = new vscode.Range(0, 0, 0, 0);
    const p = this.deps.parser.parse(doc);
    const lenses: vscode.CodeLens[] = [];
    if (p instanceof TraceStructureError) {
      lenses.push(new vscode.CodeLens(top, { title: '$(error) Trace structure broken: saving is refused', command: 'workbench.actions.view.problems' }));
      return lenses;
    }
    const verdict = p.fields.verdict;
    lenses.push(new vscode.CodeLens(top, {
      title: verdict === 'correct' ? '$(pass) Verdict: correct' : '$(error) Verdict: incorrect',
      tooltip: 'Go to the verdict sentence', command: 'dcd.traces.reveal', arguments: [doc.uri, p.rendered.regions.verdict.start],
    }));
    const check = this.deps.disagreement(doc);
    if (check?.verifierVerdict) {
      lenses.push(new vscode.CodeLens(top, {
        title: `$(warning) Verifier: draft is ${check.verifierVerdict} (${check.rule}) — set verdict`,
        tooltip: `The answer verifier contradicts the verdict. Click to change the verdict sentence to "${check.verifierVerdict}" (then save).`,
        command: 'dcd.traces.setVerdict', arguments: [doc.uri, check.verifierVerdict],
      }));
    }
    const mask = maskSettings();
    try {
      const t = await this.deps.tokens.tokens(doc, this.deps.presetOf(doc), mask);
      const n = (x: number) => x.toLocaleString('en-US');
      const cut = t.trace.flags.truncated ? ` · $(scissors) ${n(t.trace.totalTokens - t.trace.labels.length)} cut at max_length` : '';
      lenses.push(new vscode.CodeLens(top, {
        title: `Trained ${n(t.trace.trainedTokens)} / ${n(t.trace.totalTokens)} tokens (${t.policy})${cut}`,
        tooltip: 'Trained tokens / all tokens of the trace under the current mask policy. Click to switch the policy.',
        command: 'dcd.switchMaskPolicy',
      }));
    } catch (err) {
      lenses.push(new vscode.CodeLens(top, { title: '$(warning) Tokens unavailable', tooltip: (err as Error).message, command: '' }));
    }
    const entry = this.deps.fs.entry(doc.uri);
    if (entry) {
      lenses.push(new vscode.CodeLens(top, {
        title: 'Compare with other draft', tooltip: 'Compare this sample with the other drafts of its question',
        command: 'dcd.traces.compareDrafts', arguments: [doc.uri],
      }));
    }
    lenses.push(new vscode.CodeLens(top, {
      title: this.deps.overlay.enabled ? '$(eye-closed) Toggle mask' : '$(eye) Toggle mask',
      tooltip: 'Show or hide the token-mask overlay (DCD: Toggle Token Mask)', command: 'dcd.toggleTokenMask',
    }));
    return lenses;
  }

  async provideHover(doc: vscode.TextDocument, pos: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    const offset = doc.offsetAt(pos);
    let t;
    try {
      t = await this.deps.tokens.tokens(doc, this.deps.presetOf(doc), maskSettings());
    } catch {
      return undefined;
    }
    if (token.isCancellationRequested || t.version !== doc.version) return undefined;
    const { offsets, labels, ids } = t.trace;
    const n = (x: number) => x.toLocaleString('en-US');
    let i = tokenAt(offsets, offset);
    if (i < 0) {
      if (t.trace.flags.truncated && labels.length && offset >= offsets[2 * labels.length - 1]) {
        return new vscode.Hover(new vscode.MarkdownString(`**Beyond max_length ${n(t.maxLength)}**: this text is cut from training (${n(t.trace.totalTokens - labels.length)} tokens).`));
      }
      return undefined;
    }
    // Tokens that split one character's bytes share its range: show them all.
    while (i > 0 && offsets[2 * (i - 1)] === offsets[2 * i] && offsets[2 * (i - 1) + 1] === offsets[2 * i + 1]) i--;
    const start = offsets[2 * i];
    const end = offsets[2 * i + 1];
    const md = new vscode.MarkdownString();
    const text = doc.getText().slice(start, end);
    for (let j = i; j < labels.length && offsets[2 * j] === start && offsets[2 * j + 1] === end; j++) {
      const trained = labels[j] !== IGNORE_INDEX;
      md.appendMarkdown(`**Token ${n(j)}** of ${n(t.trace.totalTokens)} · id \`${ids[j]}\` · ${trained ? '**trained**' : '**masked** (label −100)'} · policy \`${t.policy}\`\n\n`);
    }
    md.appendCodeblock(JSON.stringify(text), 'json');
    return new vscode.Hover(md, rangeOf(doc, start, end));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** The trace documents' diagnostics and verdict colours, kept up to date as they change. */
export class TraceChecks implements vscode.CodeActionProvider, vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('dcd-trace');
  private readonly checks = new Map<string, { version: number; check: VerdictCheck }>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly changedEmitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changedEmitter.event;
  private readonly correctType = vscode.window.createTextEditorDecorationType({
    color: new vscode.ThemeColor('dcd.verdictCorrectForeground'), fontWeight: 'bold',
    overviewRulerColor: new vscode.ThemeColor('dcd.verdictCorrectForeground'), overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly incorrectType = vscode.window.createTextEditorDecorationType({
    color: new vscode.ThemeColor('dcd.verdictIncorrectForeground'), fontWeight: 'bold',
    overviewRulerColor: new vscode.ThemeColor('dcd.verdictIncorrectForeground'), overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly parser: TraceParser, private readonly fs: TraceFileSystem, private readonly presetOf: (doc: vscode.TextDocument) => string) {
    this.disposables.push(
      this.collection, this.correctType, this.incorrectType, this.changedEmitter,
      vscode.languages.registerCodeActionsProvider(SELECTOR, this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
      vscode.workspace.onDidOpenTextDocument((d) => this.check(d)),
      vscode.workspace.onDidChangeTextDocument((e) => { if (e.document.languageId === TRACE_LANGUAGE && e.contentChanges.length) this.schedule(e.document); }),
      vscode.workspace.onDidCloseTextDocument((d) => { this.collection.delete(d.uri); this.checks.delete(d.uri.toString()); this.parser.forget(d.uri); }),
      vscode.window.onDidChangeVisibleTextEditors(() => { for (const e of vscode.window.visibleTextEditors) this.paint(e); }),
      fs.onDidSave((e) => { const d = vscode.workspace.textDocuments.find((x) => x.uri.toString() === e.entry.uri.toString()); if (d) this.check(d); }),
    );
    for (const d of vscode.workspace.textDocuments) this.check(d);
  }

  /** The verifier's contradiction of a document's verdict, for its current version. */
  disagreement(doc: vscode.TextDocument): VerdictCheck | undefined {
    const c = this.checks.get(doc.uri.toString());
    return c && c.version === doc.version && c.check.disagrees ? c.check : undefined;
  }

  private schedule(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => { this.timers.delete(key); this.check(doc); }, 300));
  }

  /** Checks a trace document now: structure, then the verdict against the verifier. */
  check(doc: vscode.TextDocument): void {
    if (doc.languageId !== TRACE_LANGUAGE || doc.isClosed) return;
    const p = this.parser.parse(doc);
    const diagnostics: vscode.Diagnostic[] = [];
    const key = doc.uri.toString();
    this.checks.delete(key);
    if (p instanceof TraceStructureError) {
      const at = doc.positionAt(p.offset);
      const eol = doc.lineAt(at.line).range.end;
      const d = new vscode.Diagnostic(new vscode.Range(at, eol.isAfter(at) ? eol : at),
        `Trace structure: ${p.message} Saving is refused until the stage tags and fixed lines are back in order.`, vscode.DiagnosticSeverity.Error);
      d.source = 'DCD';
      d.code = 'trace-structure';
      diagnostics.push(d);
    } else {
      const gold = this.fs.entry(doc.uri)?.sample.gold_answer;
      if (gold !== undefined) {
        const check = checkVerdict(p.fields.draft, gold, p.fields.verdict);
        this.checks.set(key, { version: doc.version, check });
        if (check.disagrees) {
          const r = p.rendered.regions.verdict;
          const d = new vscode.Diagnostic(rangeOf(doc, r.start, r.end),
            `The verifier finds the draft's answer (${check.draftAnswer ?? 'none'}) ${check.verifierVerdict === 'correct' ? 'equivalent' : 'not equivalent'} to the gold answer (${String(gold)}; rule ${check.rule}), but the verdict is "${p.fields.verdict}". The verdict is not changed automatically.`,
            vscode.DiagnosticSeverity.Warning);
          d.source = 'DCD';
          d.code = 'verdict-disagrees';
          diagnostics.push(d);
        }
      }
    }
    this.collection.set(doc.uri, diagnostics);
    for (const e of vscode.window.visibleTextEditors) if (e.document.uri.toString() === key) this.paint(e);
    this.changedEmitter.fire(doc.uri);
  }

  /** Colours the verdict sentence with the contributed theme colours. */
  private paint(editor: vscode.TextEditor): void {
    if (editor.document.languageId !== TRACE_LANGUAGE) return;
    const p = this.parser.parse(editor.document);
    if (p instanceof TraceStructureError) {
      editor.setDecorations(this.correctType, []);
      editor.setDecorations(this.incorrectType, []);
      return;
    }
    const r = rangeOf(editor.document, p.rendered.regions.verdict.start, p.rendered.regions.verdict.end);
    editor.setDecorations(this.correctType, p.fields.verdict === 'correct' ? [r] : []);
    editor.setDecorations(this.incorrectType, p.fields.verdict === 'incorrect' ? [r] : []);
  }

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, ctx: vscode.CodeActionContext): vscode.CodeAction[] {
    const out: vscode.CodeAction[] = [];
    for (const d of ctx.diagnostics) {
      if (d.source !== 'DCD' || d.code !== 'verdict-disagrees') continue;
      const check = this.disagreement(doc);
      if (!check?.verifierVerdict) continue;
      const edit = verdictEdit(doc, this.parser, this.presetOf(doc), check.verifierVerdict);
      if (!edit) continue;
      const action = new vscode.CodeAction(`Set verdict to "${check.verifierVerdict}" (verifier rule ${check.rule})`, vscode.CodeActionKind.QuickFix);
      action.edit = edit;
      action.diagnostics = [d];
      action.isPreferred = true;
      out.push(action);
    }
    return out;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}

/** The edit that replaces a trace document's verdict sentence. */
export function verdictEdit(doc: vscode.TextDocument, parser: TraceParser, preset: string, verdict: Verdict): vscode.WorkspaceEdit | undefined {
  const p = parser.parse(doc);
  if (p instanceof TraceStructureError) return undefined;
  const r = p.rendered.regions.verdict;
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, rangeOf(doc, r.start, r.end), getPreset(preset).verdicts[verdict]);
  return edit;
}
