/**
 * The evaluation feature in VS Code: "Evaluate Model…", "Set Hugging Face
 * Token", "Open Eval Results…" (results table), "Open Eval Samples…"
 * (drill-down) and "Check Contamination". Everything it computes comes from
 * the pure core (src/core/eval); this folder is the VS Code side.
 */
import * as vscode from 'vscode';
import type { ExtensionServices } from '../services';
import { CorpusIndexCache } from './corpusQuestions';
import { checkContaminationCommand, REPORT_SCHEME, ReportDocuments, type ContaminationArgs, type ContaminationResult } from './contaminationCommand';
import { evaluateModelCommand, setHfTokenCommand, type EvalEngine, type EvaluateArgs, type EvaluateOutcome } from './evaluateCommand';
import { ResultsPanel } from './resultsPanel';
import { EvalSamplesPanel } from './samplesPanel';
import { displayPath, workspaceSamples } from './workspaceFiles';

/** What the feature exposes to tests and to the rest of the extension. */
export interface EvalApi {
  resultsPanel(): ResultsPanel | undefined;
  samplesPanel(): EvalSamplesPanel | undefined;
  openResults(sources: vscode.Uri[]): Promise<ResultsPanel>;
  openSamples(uri: vscode.Uri): Promise<EvalSamplesPanel>;
  checkContamination(args: ContaminationArgs): Promise<ContaminationResult | undefined>;
  /** Scripted "Evaluate Model…"; `engine` replaces the feature's jobs engine for this call. */
  evaluate(args: EvaluateArgs, engine?: EvalEngine): Promise<EvaluateOutcome | undefined>;
  /** The report documents' contents (by `dcd-eval:` URI). */
  reports: ReportDocuments;
}

async function pickResultsSources(): Promise<vscode.Uri[] | undefined> {
  const items = [
    { label: '$(file) Open a Results File…', what: 'file' as const },
    { label: '$(folder) Open an Output Folder…', description: 'every lm-eval results file under it', what: 'folder' as const },
    { label: '$(search) Workspace Results Only', description: 'every results_*.json of the workspace', what: 'none' as const },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Open Eval Results' });
  if (!pick) return undefined;
  if (pick.what === 'none') return [];
  const chosen = await vscode.window.showOpenDialog({
    title: pick.what === 'file' ? 'lm-eval results JSON' : 'lm-eval output folder (--output_path)',
    canSelectFiles: pick.what === 'file', canSelectFolders: pick.what === 'folder', canSelectMany: true,
    filters: pick.what === 'file' ? { 'Results JSON': ['json'] } : undefined,
  });
  return chosen ?? undefined;
}

async function pickSamplesFile(): Promise<vscode.Uri | undefined> {
  const found = await workspaceSamples();
  const items: Array<vscode.QuickPickItem & { uri?: vscode.Uri }> = found.map((u) => ({ label: u.path.split('/').pop()!, description: displayPath(vscode.Uri.joinPath(u, '..')), uri: u }));
  items.push({ label: '$(folder-opened) Browse…' });
  const pick = await vscode.window.showQuickPick(items, { title: 'Open Eval Samples: which sample log?' });
  if (!pick) return undefined;
  if (pick.uri) return pick.uri;
  return (await vscode.window.showOpenDialog({ title: 'lm-eval sample log (samples_*.jsonl)', canSelectMany: false, filters: { 'Sample log': ['jsonl'] } }))?.[0];
}

const asUris = (v: unknown): vscode.Uri[] | undefined => {
  if (v instanceof vscode.Uri) return [v];
  if (Array.isArray(v) && v.every((x) => x instanceof vscode.Uri)) return v as vscode.Uri[];
  return undefined;
};

/** Evaluation dispatches on the extension's one JobEngine (services.hosts), the same job history and trust store as training. */
export function registerEval(context: vscode.ExtensionContext, services: ExtensionServices): EvalApi {
  const output = vscode.window.createOutputChannel('DCD Eval');
  const reports = new ReportDocuments();
  const cache = new CorpusIndexCache();
  const engine = (): EvalEngine => services.hosts.engine;
  const backendDir = services.hosts.backendDir;

  const openResults = (sources: vscode.Uri[]) => ResultsPanel.show(context.extensionUri, sources, async () => (await pickResultsSources()) ?? []);
  const openSamples = (uri: vscode.Uri) => EvalSamplesPanel.show(context.extensionUri, uri, cache);
  const evaluate = (args: EvaluateArgs, eng?: EvalEngine) => evaluateModelCommand({
    context, output, engine: eng ? () => eng : engine, profiles: (problems) => services.hosts.profiles(problems), backendDir, openResults,
  }, args);

  context.subscriptions.push(
    output, reports,
    vscode.workspace.registerTextDocumentContentProvider(REPORT_SCHEME, reports),
    // Invalidate cached corpus indexes when a corpus changes on disk.
    vscode.workspace.onDidSaveTextDocument(() => cache.clear()),
    vscode.commands.registerCommand('dcd.openEvalResults', async (arg?: unknown, all?: unknown) => {
      const given = asUris(all) ?? asUris(arg);
      const sources = given ?? await pickResultsSources();
      if (!sources) return undefined;
      return openResults(sources);
    }),
    vscode.commands.registerCommand('dcd.openEvalSamples', async (arg?: unknown) => {
      const uri = asUris(arg)?.[0] ?? await pickSamplesFile();
      if (!uri) return undefined;
      return openSamples(uri);
    }),
    services.commands.registerCommand('dcd.checkContamination', (arg?: unknown) => {
      const args: ContaminationArgs = arg instanceof vscode.Uri ? { benchmark: arg } : (arg && typeof arg === 'object' ? arg as ContaminationArgs : {});
      return checkContaminationCommand(reports, args);
    }),
    vscode.commands.registerCommand('dcd.evaluateModel', (args?: EvaluateArgs) => evaluate(args && typeof args === 'object' && !(args instanceof vscode.Uri) ? args : {})),
    vscode.commands.registerCommand('dcd.setHfToken', () => setHfTokenCommand(context)),
  );

  return {
    resultsPanel: () => ResultsPanel.current,
    samplesPanel: () => EvalSamplesPanel.current,
    openResults,
    openSamples,
    checkContamination: (args) => checkContaminationCommand(reports, { show: false, ...args }),
    evaluate,
    reports,
  };
}
