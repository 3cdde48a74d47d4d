/**
 * "DCD: Open Eval Samples…": the drill-down into one lm-eval sample log
 * (`samples_<task>_<ts>.jsonl`): every row with its grade, and for the chosen
 * row the prompt, the output as a stage-coloured trace, the extracted answer,
 * the gold answer, and the training-corpus questions most like it.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { renderWebviewHtml, revealOrCreatePanel, WebviewChannel } from '../services/webviewHost';
import { benchmarkOfTask } from '../core/eval/benchmarks';
import { DRILLDOWN_NGRAM, similarQuestions } from '../core/eval/contamination';
import { parseSamplesJsonl, type EvalSampleRow, type EvalSamplesParse } from '../core/eval/samples';
import {
  WORKSPACE_CORPUS, type CorpusChoice, type EvalCompareCandidate, type EvalComparison, type EvalSampleDetail, type EvalSampleItem,
  type EvalSamplesHostApi, type EvalSamplesInit, type EvalSamplesWebviewApi, type SimilarResult,
} from '../core/protocols/eval';
import { taskFromSamplesFileName } from '../core/eval/samples';
import { comparableTasks, comparedPair, comparisonView, holdComparison, type HeldComparison } from './samplesCompare';
import { OfferedUris } from '../core/protocols/offeredUris';
import { questionOfSample } from './contaminationReport';
import { CorpusIndexCache, workspaceCorpora } from './corpusQuestions';
import { segmentOutput } from './outputRegions';
import { compareUriHandlers, samplesUriHandlers } from './uriRequests';
import { displayPath, parentOf, readText, workspaceSamples } from './workspaceFiles';

const oneLine = (s: string, n = 140) => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > n ? t.slice(0, n - 1) + '…' : t;
};

export function sampleItem(r: EvalSampleRow): EvalSampleItem {
  return {
    line: r.line, docId: r.docId, filter: r.filter, correct: r.correct,
    extracted: r.extracted === null ? null : oneLine(r.extracted, 80), gold: oneLine(r.gold, 80), preview: oneLine(questionOfSample(r)),
  };
}

export function sampleDetail(r: EvalSampleRow): EvalSampleDetail {
  return {
    line: r.line, docId: r.docId, filter: r.filter, question: r.question, prompt: r.prompt, messages: r.messages,
    output: r.output, segments: segmentOutput(r.output), extracted: r.extracted, answerSection: r.answerSection,
    gold: r.gold, target: r.target, correct: r.correct, metric: r.metric, score: r.score, metrics: r.metrics,
  };
}

export class EvalSamplesPanel implements vscode.Disposable {
  static current: EvalSamplesPanel | undefined;
  private readonly channel: WebviewChannel<EvalSamplesHostApi, EvalSamplesWebviewApi>;
  private parsed!: EvalSamplesParse;
  private byLine = new Map<number, EvalSampleRow>();
  private uri!: vscode.Uri;
  private picked: vscode.Uri[] = [];
  private corpus = WORKSPACE_CORPUS;
  private readonly offered = new OfferedUris();
  private comparison: HeldComparison | undefined;

  static async show(extensionUri: vscode.Uri, uri: vscode.Uri, cache: CorpusIndexCache): Promise<EvalSamplesPanel> {
    const panel = EvalSamplesPanel.current = revealOrCreatePanel(EvalSamplesPanel.current, extensionUri, 'dcd.evalSamples', 'DCD Eval Samples',
      (webviewPanel) => new EvalSamplesPanel(webviewPanel, extensionUri, cache));
    await panel.open(uri);
    return panel;
  }

  private constructor(readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, private readonly cache: CorpusIndexCache) {
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'dcd.svg');
    panel.webview.html = renderWebviewHtml(panel.webview, extensionUri, { bundle: 'evalSamples', title: 'DCD Eval Samples' });
    this.channel = new WebviewChannel<EvalSamplesHostApi, EvalSamplesWebviewApi>(panel.webview, {
      getInit: () => this.init(),
      getSample: ({ line }) => this.detail(line),
      pickCorpus: async () => {
        const picked = await vscode.window.showOpenDialog({
          title: 'Training corpus to compare eval questions with', canSelectMany: false,
          filters: { 'Corpus (JSONL, JSON)': ['jsonl', 'json'] },
        });
        if (picked?.[0]) {
          if (!this.picked.some((u) => u.toString() === picked[0].toString())) this.picked.push(picked[0]);
          this.corpus = picked[0].toString();
        }
        return { corpora: await this.corpora(), corpus: this.corpus };
      },
      pickComparison: async () => {
        const picked = await vscode.window.showOpenDialog({
          title: 'Sample log of another run to compare with', canSelectMany: false,
          filters: { 'lm-eval sample log': ['jsonl'] },
        });
        return picked?.[0] ? this.compareWith(picked[0]) : null;
      },
      getPair: ({ docId }) => {
        if (!this.comparison) throw new Error('No comparison is open.');
        return comparedPair(this.comparison, docId);
      },
      clearComparison: () => { this.comparison = undefined; return {}; },
      ...compareUriHandlers(this.offered, {
        candidates: () => this.compareCandidates(),
        compare: (uri) => this.compareWith(vscode.Uri.parse(uri)),
      }),
      ...samplesUriHandlers(this.offered, {
        similar: (line, corpus) => this.similar(line, corpus),
        corpusSample: (uri, index) => vscode.commands.executeCommand('dcd.openCorpusSample', vscode.Uri.parse(uri), index),
      }),
    });
    panel.onDidDispose(() => this.dispose());
  }

  whenReady(): Promise<void> { return this.channel.whenReady(); }

  get file(): vscode.Uri { return this.uri; }
  get rows(): readonly EvalSampleRow[] { return this.parsed.rows; }

  async open(uri: vscode.Uri): Promise<EvalSamplesInit> {
    const name = path.posix.basename(uri.path);
    this.parsed = parseSamplesJsonl(await readText(uri), name);
    this.uri = uri;
    this.byLine = new Map(this.parsed.rows.map((r) => [r.line, r]));
    this.comparison = undefined;
    const init = await this.init();
    this.panel.title = `DCD Eval Samples: ${init.task ?? name}`;
    this.channel.endpoint.emit('init', init);
    return init;
  }

  async init(): Promise<EvalSamplesInit> {
    const filters = [...new Set(this.parsed.rows.map((r) => r.filter).filter((f): f is string => f !== null))];
    return {
      uri: this.uri.toString(), label: displayPath(this.uri), task: this.parsed.task,
      benchmark: this.parsed.task ? benchmarkOfTask(this.parsed.task)?.label ?? null : null,
      filters, items: this.parsed.rows.map(sampleItem),
      errors: this.parsed.errors.map((e) => ({ line: e.line, message: e.message })),
      corpora: await this.corpora(), corpus: this.corpus,
    };
  }

  /** Logs of the same benchmark in the workspace, other than this one. */
  async compareCandidates(): Promise<EvalCompareCandidate[]> {
    const task = this.parsed.task;
    if (!task) return [];
    const out: EvalCompareCandidate[] = [];
    for (const u of await workspaceSamples()) {
      const t = taskFromSamplesFileName(u.path);
      if (!t || u.toString() === this.uri.toString() || !comparableTasks(task, t)) continue;
      out.push({ uri: u.toString(), label: displayPath(u), task: t });
    }
    return out;
  }

  /** Compares this log with another run's log (questions that flipped, both generations); tells the webview. */
  async compareWith(other: vscode.Uri): Promise<EvalComparison> {
    const name = path.posix.basename(other.path);
    const otherTask = taskFromSamplesFileName(name);
    const task = this.parsed.task;
    if (!otherTask) throw new Error(`${displayPath(other)} is not an lm-eval sample log (samples_<task>_<timestamp>.jsonl).`);
    if (task && !comparableTasks(task, otherTask)) throw new Error(`${displayPath(other)} is a log of ${otherTask}, not of ${task}.`);
    const parse = parseSamplesJsonl(await readText(other), name);
    const modelOf = (u: vscode.Uri) => path.posix.basename(parentOf(u).path) || null;
    this.comparison = holdComparison(
      { task: task ?? otherTask, file: displayPath(this.uri), parse: this.parsed, label: displayPath(this.uri), model: modelOf(this.uri) },
      { task: otherTask, file: displayPath(other), parse, label: displayPath(other), model: modelOf(other), uri: this.offered.offer(other.toString()) },
    );
    const view = comparisonView(this.comparison);
    this.channel.endpoint.emit('comparison', view);
    return view;
  }

  /** Selects a row in the webview. */
  select(line: number): void { this.channel.endpoint.emit('select', { line }); }

  private row(line: number): EvalSampleRow {
    const r = this.byLine.get(line);
    if (!r) throw new Error(`No sample on line ${line} of ${displayPath(this.uri)}.`);
    return r;
  }

  detail(line: number): EvalSampleDetail { return sampleDetail(this.row(line)); }

  async corpora(): Promise<CorpusChoice[]> {
    const ws = await workspaceCorpora();
    const choices: CorpusChoice[] = [{ id: WORKSPACE_CORPUS, label: `All workspace corpora (${ws.length})` }];
    for (const u of [...ws, ...this.picked]) {
      if (!choices.some((c) => c.id === u.toString())) choices.push({ id: this.offered.offer(u.toString()), label: displayPath(u) });
    }
    return choices;
  }

  /** The corpus questions most like the eval question of row `line` (word 3-gram containment). */
  async similar(line: number, corpus: string, k = 5): Promise<SimilarResult> {
    const r = this.row(line);
    this.corpus = corpus;
    const uris = corpus === WORKSPACE_CORPUS ? await workspaceCorpora() : [vscode.Uri.parse(corpus)];
    const label = corpus === WORKSPACE_CORPUS ? 'all workspace corpora' : displayPath(uris[0]);
    const query = questionOfSample(r);
    if (!uris.length) return { corpus: label, searched: 0, n: DRILLDOWN_NGRAM, query, matches: [] };
    const { corpus: c, index } = await this.cache.get(uris, label, DRILLDOWN_NGRAM);
    const matches = similarQuestions(index, c.items, query, k).map((m) => {
      const o = c.origins[m.index];
      return {
        file: o.file, uri: o.uri, index: o.index, id: m.id, question: m.question,
        containment: m.containment, jaccard: m.jaccard, shared: m.shared, copies: m.copies,
      };
    });
    return { corpus: label, searched: index.uniqueSize, n: DRILLDOWN_NGRAM, query, matches };
  }

  dispose(): void {
    if (EvalSamplesPanel.current === this) EvalSamplesPanel.current = undefined;
    this.channel.dispose();
  }
}
