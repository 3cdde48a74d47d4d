/**
 * The token-mask overlay on trace documents: trained and masked tokens in two
 * theme colours, alternating shades at token boundaries, a marker at
 * max_length where the sample would be truncated. The tokens and labels come
 * from the core's tokenizeTrace in a worker thread (tokens.ts); this module
 * only turns them into decorations.
 */
import * as vscode from 'vscode';
import { IGNORE_INDEX, MASK_POLICIES, type MaskPolicy } from '../core/trace/mask';
import { maskSettings, type TraceTokenService, type TraceTokens } from './tokens';
import { overlaySpans } from './overlaySpans';
import { Settings, SECTION } from '../services/config';

export const TRACE_LANGUAGE = 'dcd-trace';
const STATE_KEY = 'dcd.maskOverlay';

/** What the overlay last applied to a document (offsets are UTF-16, half-open). */
export interface AppliedOverlay {
  uri: string;
  version: number;
  policy: MaskPolicy;
  maxLength: number;
  /** Kept tokens, trained tokens, tokens before truncation. */
  tokens: number;
  trainedTokens: number;
  totalTokens: number;
  trained: Array<[number, number]>;
  masked: Array<[number, number]>;
  /** Offset where max_length cuts the text; null when the sample is not truncated. */
  cutAt: number | null;
  timing: OverlayTiming;
}

export interface OverlayTiming {
  /** Worker round trip: request → result (ms). */
  tokenizeMs: number;
  /** Result → decorations set (ms): the 100 ms budget. */
  applyMs: number;
  /** Of applyMs: waiting for the extension host's event loop after the result arrived (ms). */
  queueMs: number;
  /** Of applyMs: turning offsets into ranges (ms). */
  computeMs: number;
  /** Of applyMs: handing the decorations to the editors (ms). */
  setMs: number;
  /** CPU time of the extension-host process while computing and setting the decorations (ms): what applyMs is on an idle machine. */
  applyCpuMs: number;
  /** Toggle command → decorations set (ms), when this application followed a toggle. */
  toggleToAppliedMs?: number;
}

export class MaskOverlay implements vscode.Disposable {
  private enabledFlag: boolean;
  private readonly trainedTypes: [vscode.TextEditorDecorationType, vscode.TextEditorDecorationType];
  private readonly maskedTypes: [vscode.TextEditorDecorationType, vscode.TextEditorDecorationType];
  private readonly cutType: vscode.TextEditorDecorationType;
  private readonly markerType: vscode.TextEditorDecorationType;
  private readonly applied = new Map<string, AppliedOverlay>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly appliedEmitter = new vscode.EventEmitter<AppliedOverlay>();
  /** Fires each time decorations were set on a document's editors. */
  readonly onDidApply = this.appliedEmitter.event;
  private readonly toggleItem: vscode.StatusBarItem;
  private readonly policyItem: vscode.StatusBarItem;
  private toggledAt: number | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** Why the overlay could not be computed for a document (e.g. its structure is broken). */
  private readonly failures = new Map<string, string>();
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly memento: vscode.Memento,
    private readonly tokens: TraceTokenService,
    private readonly presetOf: (doc: vscode.TextDocument) => string,
  ) {
    this.enabledFlag = memento.get<boolean>(STATE_KEY, false);
    const bg = (id: string, extra: vscode.DecorationRenderOptions = {}) =>
      vscode.window.createTextEditorDecorationType({ backgroundColor: new vscode.ThemeColor(id), rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed, ...extra });
    this.trainedTypes = [bg('dcd.tokenTrainedBackground'), bg('dcd.tokenTrainedAlternateBackground')];
    this.maskedTypes = [bg('dcd.tokenMaskedBackground', { opacity: '0.7' }), bg('dcd.tokenMaskedAlternateBackground', { opacity: '0.7' })];
    this.cutType = vscode.window.createTextEditorDecorationType({ opacity: '0.45', textDecoration: 'line-through', rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed });
    this.markerType = vscode.window.createTextEditorDecorationType({
      borderColor: new vscode.ThemeColor('dcd.truncationMarkerForeground'), borderStyle: 'solid', borderWidth: '0 0 0 2px',
      overviewRulerColor: new vscode.ThemeColor('dcd.truncationMarkerForeground'), overviewRulerLane: vscode.OverviewRulerLane.Full,
      before: { contentText: '✂ max_length', color: new vscode.ThemeColor('dcd.truncationMarkerForeground'), fontWeight: 'bold', margin: '0 4px 0 0' },
    });
    this.toggleItem = vscode.window.createStatusBarItem('dcd.maskToggle', vscode.StatusBarAlignment.Right, 102);
    this.toggleItem.name = 'DCD Token Mask';
    this.toggleItem.command = 'dcd.toggleTokenMask';
    this.policyItem = vscode.window.createStatusBarItem('dcd.maskPolicy', vscode.StatusBarAlignment.Right, 101);
    this.policyItem.name = 'DCD Mask Policy';
    this.policyItem.command = 'dcd.switchMaskPolicy';
    this.disposables.push(
      this.trainedTypes[0], this.trainedTypes[1], this.maskedTypes[0], this.maskedTypes[1], this.cutType, this.markerType,
      this.toggleItem, this.policyItem, this.appliedEmitter,
      vscode.window.onDidChangeVisibleTextEditors(() => this.refreshVisible()),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateStatus()),
      vscode.workspace.onDidChangeTextDocument((e) => { if (e.document.languageId === TRACE_LANGUAGE && e.contentChanges.length) this.schedule(e.document); }),
      vscode.workspace.onDidCloseTextDocument((d) => { this.applied.delete(d.uri.toString()); this.failures.delete(d.uri.toString()); this.generations.delete(d.uri.toString()); this.tokens.forget(d.uri); }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.${Settings.maskPolicy}`) || e.affectsConfiguration(`${SECTION}.${Settings.maxLength}`)) this.refreshVisible();
      }),
    );
    this.refreshVisible();
  }

  get enabled(): boolean { return this.enabledFlag; }

  /** The overlay last applied to a document, if any. */
  appliedTo(uri: vscode.Uri): AppliedOverlay | undefined { return this.applied.get(uri.toString()); }

  failure(uri: vscode.Uri): string | undefined { return this.failures.get(uri.toString()); }

  async setEnabled(on: boolean): Promise<void> {
    this.enabledFlag = on;
    this.toggledAt = performance.now();
    await this.memento.update(STATE_KEY, on);
    await this.refreshVisible();
  }

  toggle(): Promise<void> { return this.setEnabled(!this.enabledFlag); }

  /** Switches the mask policy (the `dcd.maskPolicy` setting, shared with the export and the trainer). */
  async setPolicy(policy: MaskPolicy): Promise<void> {
    if (!MASK_POLICIES.includes(policy)) throw new Error(`Unknown mask policy "${policy}": use ${MASK_POLICIES.join(' or ')}.`);
    const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
    this.toggledAt = performance.now();
    // The configuration listener refreshes the overlay.
    await vscode.workspace.getConfiguration(SECTION).update(Settings.maskPolicy, policy, target);
  }

  private traceEditors(): vscode.TextEditor[] {
    return vscode.window.visibleTextEditors.filter((e) => e.document.languageId === TRACE_LANGUAGE);
  }

  private schedule(doc: vscode.TextDocument): void {
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => { this.timers.delete(key); void this.refreshDocument(doc); }, 250));
  }

  /** Recomputes (or clears) the overlay of every visible trace editor. */
  async refreshVisible(): Promise<void> {
    const docs = new Map<string, vscode.TextDocument>();
    for (const e of this.traceEditors()) docs.set(e.document.uri.toString(), e.document);
    await Promise.all([...docs.values()].map((d) => this.refreshDocument(d)));
    this.updateStatus();
  }

  private clear(editors: readonly vscode.TextEditor[]): void {
    for (const e of editors) for (const t of [...this.trainedTypes, ...this.maskedTypes, this.cutType, this.markerType]) e.setDecorations(t, []);
  }

  async refreshDocument(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    // Only the latest refresh of a document applies its result.
    const generation = (this.generations.get(key) ?? 0) + 1;
    this.generations.set(key, generation);
    const editors = () => this.traceEditors().filter((e) => e.document.uri.toString() === key);
    if (!this.enabledFlag) {
      this.clear(editors());
      this.applied.delete(key);
      this.updateStatus();
      return;
    }
    let t: TraceTokens;
    const asked = performance.now();
    try {
      t = await this.tokens.tokens(doc, this.presetOf(doc), maskSettings());
      this.failures.delete(key);
    } catch (err) {
      if (this.generations.get(key) !== generation) return;
      this.failures.set(key, (err as Error).message);
      this.clear(editors());
      this.applied.delete(key);
      this.updateStatus();
      return;
    }
    // A newer refresh, edit or setting supersedes this result.
    const now = maskSettings();
    if (this.generations.get(key) !== generation || !this.enabledFlag || doc.isClosed || doc.version !== t.version || now.policy !== t.policy || now.maxLength !== t.maxLength) return;
    this.apply(doc, t, editors(), asked);
  }

  private apply(doc: vscode.TextDocument, t: TraceTokens, editors: readonly vscode.TextEditor[], asked: number): void {
    const start = performance.now();
    const cpu0 = process.cpuUsage();
    const { offsets, labels } = t.trace;
    const text = doc.getText();
    const spans = overlaySpans(text, offsets, labels, t.trace.flags.truncated);
    // Runs of trained and masked tokens carry the base colours; every odd token is painted again in the
    // alternate shade (those decoration types are created later, so their colour wins): token boundaries
    // show with half as many ranges as one range per token.
    const ranges: vscode.Range[][] = [[], [], [], []];
    const p = spans.positions;
    for (let i = 0; i < labels.length;) {
      const trainedRun = labels[i] !== IGNORE_INDEX;
      let j = i;
      while (j + 1 < labels.length && (labels[j + 1] !== IGNORE_INDEX) === trainedRun) j++;
      ranges[trainedRun ? 0 : 2].push(new vscode.Range(p[4 * i], p[4 * i + 1], p[4 * j + 2], p[4 * j + 3]));
      for (let k = i + ((i & 1) ^ 1); k <= j; k += 2) ranges[trainedRun ? 1 : 3].push(new vscode.Range(p[4 * k], p[4 * k + 1], p[4 * k + 2], p[4 * k + 3]));
      i = j + 1;
    }
    const { trained, masked, cutAt } = spans;
    const computed = performance.now();
    const kept = labels.length;
    const cut = cutAt !== null ? [new vscode.Range(doc.positionAt(cutAt), doc.positionAt(text.length))] : [];
    const markerOptions: vscode.DecorationOptions[] = cutAt !== null ? [{
      range: new vscode.Range(doc.positionAt(cutAt), doc.positionAt(cutAt + 1)),
      hoverMessage: new vscode.MarkdownString(`**max_length ${t.maxLength.toLocaleString('en-US')}**: the ${(t.trace.totalTokens - kept).toLocaleString('en-US')} tokens after this point are cut from training.`),
    }] : [];
    for (const e of editors) {
      e.setDecorations(this.trainedTypes[0], ranges[0]);
      e.setDecorations(this.trainedTypes[1], ranges[1]);
      e.setDecorations(this.maskedTypes[0], ranges[2]);
      e.setDecorations(this.maskedTypes[1], ranges[3]);
      e.setDecorations(this.cutType, cut);
      e.setDecorations(this.markerType, markerOptions);
    }
    const end = performance.now();
    const cpu = process.cpuUsage(cpu0);
    const timing: OverlayTiming = {
      tokenizeMs: t.resultAt - t.requestedAt, applyMs: end - Math.max(asked, t.resultAt),
      queueMs: start - Math.max(asked, t.resultAt), computeMs: computed - start, setMs: end - computed,
      applyCpuMs: (cpu.user + cpu.system) / 1000,
    };
    if (this.toggledAt !== undefined) { timing.toggleToAppliedMs = end - this.toggledAt; this.toggledAt = undefined; }
    const overlay: AppliedOverlay = {
      uri: doc.uri.toString(), version: t.version, policy: t.policy, maxLength: t.maxLength,
      tokens: kept, trainedTokens: t.trace.trainedTokens, totalTokens: t.trace.totalTokens, trained, masked, cutAt, timing,
    };
    this.applied.set(overlay.uri, overlay);
    this.updateStatus();
    this.appliedEmitter.fire(overlay);
  }

  /** Resolves with the overlay once one is applied to this document version (tests, commands). */
  whenApplied(doc: vscode.TextDocument, policy?: MaskPolicy, timeoutMs = 30_000): Promise<AppliedOverlay> {
    const ok = (o: AppliedOverlay | undefined) => !!o && o.uri === doc.uri.toString() && o.version === doc.version && (!policy || o.policy === policy);
    const current = this.applied.get(doc.uri.toString());
    if (ok(current)) return Promise.resolve(current as AppliedOverlay);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { sub.dispose(); reject(new Error(this.failures.get(doc.uri.toString()) ?? 'The token-mask overlay was not applied in time.')); }, timeoutMs);
      const sub = this.onDidApply((o) => { if (ok(o)) { clearTimeout(timer); sub.dispose(); resolve(o); } });
    });
  }

  private updateStatus(): void {
    const editor = vscode.window.activeTextEditor;
    if (!editor || editor.document.languageId !== TRACE_LANGUAGE) {
      this.toggleItem.hide();
      this.policyItem.hide();
      return;
    }
    const { policy, maxLength } = maskSettings();
    const o = this.applied.get(editor.document.uri.toString());
    const failure = this.failures.get(editor.document.uri.toString());
    if (!this.enabledFlag) {
      this.toggleItem.text = '$(eye-closed) Mask off';
      this.toggleItem.tooltip = 'DCD: show which tokens are trained (Toggle Token Mask)';
    } else if (failure) {
      this.toggleItem.text = '$(warning) Mask: no tokens';
      this.toggleItem.tooltip = failure;
    } else if (o) {
      this.toggleItem.text = `$(eye) ${o.trainedTokens.toLocaleString('en-US')}/${o.tokens.toLocaleString('en-US')} trained${o.cutAt !== null ? ' $(scissors)' : ''}`;
      this.toggleItem.tooltip = new vscode.MarkdownString(
        `**Token mask (${o.policy})**: ${o.trainedTokens.toLocaleString('en-US')} of ${o.tokens.toLocaleString('en-US')} kept tokens are trained` +
        (o.cutAt !== null ? `; ${(o.totalTokens - o.tokens).toLocaleString('en-US')} tokens beyond max_length ${maxLength.toLocaleString('en-US')} are cut` : '') +
        '.\n\nClick to hide the overlay.');
    } else {
      this.toggleItem.text = '$(loading~spin) Mask';
      this.toggleItem.tooltip = 'Tokenizing in a worker thread…';
    }
    this.policyItem.text = `$(symbol-ruler) ${policy}`;
    this.policyItem.tooltip = `Loss-mask policy: ${policy === 'paper' ? 'everything from <|im_start|>think through the final <|im_end|> is trained' : 'as paper, but the draft is masked'}. Click to switch.`;
    this.toggleItem.show();
    this.policyItem.show();
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const d of this.disposables) d.dispose();
  }
}
