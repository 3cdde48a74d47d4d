/**
 * The "From corpus to Table 1" walkthrough's buttons: each step runs the
 * feature command that does the thing (by command id, so no feature imports
 * another) on the bundled demo corpus, copied into the workspace, and keeps
 * what the next step needs (the export, the training job, the results).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { JobRecord } from '../core/jobs/store';
import { isTerminal } from '../core/jobs/status';
import type { ExtensionServices } from '../services';

/** The walkthrough's training recipe: the smoke plan (at most 8 optimizer steps) on the built-in tiny model, samples cut to 512 tokens. */
export const WALKTHROUGH_RECIPE = { preset: 'smoke' as const, model: 'builtin:tiny', maxLength: 512 };
/**
 * The evaluation: GSM8K offline from the data bundled with the demo (media/demo/bench-data, 24 rows), 5
 * questions, on this machine's CPU. A demo, not a measurement: 32 new tokens per answer (a real DCD run
 * needs thousands), no chat template (builtin:tiny's tokenizer, from the export, has none), batch 1, float32.
 */
export const WALKTHROUGH_EVAL = {
  benchmarks: ['gsm8k' as const], limit: 5, dataDir: ['media', 'demo', 'bench-data'],
  settings: { maxGenToks: 32, batchSize: 1, backend: 'hf' as const, dtype: 'float32' as const, applyChatTemplate: false },
};

export interface WalkthroughState {
  demo?: string;
  exportDir?: string;
  job?: string;
  modelDir?: string;
  results?: string;
}

export interface WalkthroughApi {
  state(): WalkthroughState;
}

const KEY = 'dcd.walkthrough.state';

export function registerWalkthrough(context: vscode.ExtensionContext, services: ExtensionServices): WalkthroughApi {
  const state = (): WalkthroughState => context.workspaceState.get<WalkthroughState>(KEY) ?? {};
  const save = (s: Partial<WalkthroughState>) => context.workspaceState.update(KEY, { ...state(), ...s });
  const run = <T>(id: string, ...args: unknown[]) => vscode.commands.executeCommand<T>(id, ...args);

  /** The demo corpus in the workspace (copied from the extension on first use; an edited copy is kept). */
  const demo = async (): Promise<vscode.Uri> => {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? path.join(context.globalStorageUri.fsPath, 'demo');
    const file = path.join(folder, 'demo.dcd.jsonl');
    try { await fs.access(file); } catch {
      await fs.mkdir(folder, { recursive: true });
      await fs.copyFile(vscode.Uri.joinPath(context.extensionUri, 'media', 'demo', 'demo.dcd.jsonl').fsPath, file);
    }
    await save({ demo: file });
    return vscode.Uri.file(file);
  };

  const needs = <K extends keyof WalkthroughState>(key: K, step: string): NonNullable<WalkthroughState[K]> => {
    const v = state()[key];
    if (!v) throw new Error(`do the step "${step}" first`);
    return v as NonNullable<WalkthroughState[K]>;
  };

  const settled = async (id: string, token?: vscode.CancellationToken): Promise<JobRecord> => {
    for (;;) {
      const rec = await services.hosts.engine.store.get(id);
      if (!rec) throw new Error(`no job ${id} in the job history`);
      if (isTerminal(rec.status)) return rec;
      if (token?.isCancellationRequested) throw new vscode.CancellationError();
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const waitForJob = async (id: string): Promise<JobRecord> => vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `DCD: waiting for training job ${id} to finish`, cancellable: true },
    (_p, token) => settled(id, token));

  const c = services.commands;
  context.subscriptions.push(
    c.registerCommand('dcd.walkthrough.openDemo', async () => {
      const uri = await demo();
      await run('dcd.openWorkbench', uri);
      return uri.fsPath;
    }),
    c.registerCommand('dcd.walkthrough.compare', async () => run('dcd.compareDrafts', await demo(), 0)),
    c.registerCommand('dcd.walkthrough.trace', async () => {
      await run('dcd.toggleTokenMask', true);
      return run('dcd.openSampleAsTrace', await demo(), 0);
    }),
    c.registerCommand('dcd.walkthrough.audit', async () => run('dcd.auditCorpusTokens', await demo())),
    c.registerCommand('dcd.walkthrough.export', async () => {
      const built = await run<{ dir: string } | undefined>('dcd.buildTrainingExport', { corpus: await demo(), preset: WALKTHROUGH_RECIPE.preset, maxLength: WALKTHROUGH_RECIPE.maxLength });
      if (built) await save({ exportDir: built.dir });
      return built?.dir;
    }),
    c.registerCommand('dcd.walkthrough.train', async () => {
      const exportDir = needs('exportDir', 'Build the training export');
      const rec = await run<JobRecord | undefined>('dcd.trainOnHost', { exportDir, host: 'local', preset: WALKTHROUGH_RECIPE.preset, model: WALKTHROUGH_RECIPE.model, showChart: true });
      if (!rec) return undefined;
      const modelDir = rec.remote ? path.join(rec.remote.jobDir, 'run', 'final') : undefined;
      await save({ job: rec.id, modelDir });
      // Once it has finished, show the trained model in the Lineage view: model → run → export → demo.dcd.jsonl.
      void settled(rec.id).then((done) => (done.status === 'succeeded' && modelDir ? run('dcd.lineage.reveal', modelDir) : undefined))
        .then(undefined, (err: Error) => services.output.appendLine(`walkthrough: ${err.message}`));
      return rec.id;
    }),
    c.registerCommand('dcd.walkthrough.evaluate', async () => {
      const done = await waitForJob(needs('job', 'Train on this machine'));
      if (done.status !== 'succeeded') throw new Error(`training job ${done.id} ${done.status}${done.error ? `: ${done.error}` : ''}`);
      const modelDir = needs('modelDir', 'Train on this machine');
      await run('dcd.lineage.reveal', modelDir).then(undefined, () => undefined);
      // Offline: the bundled GSM8K rows; the results folder comes back with its lineage sidecar (written where the model is).
      const outcome = await run<{ localResults?: vscode.Uri; error?: string; statuses?: Array<{ status: string; error?: string }> } | undefined>('dcd.evaluateModel', {
        host: 'local', model: modelDir, benchmarks: WALKTHROUGH_EVAL.benchmarks, limit: WALKTHROUGH_EVAL.limit, settings: WALKTHROUGH_EVAL.settings,
        dataDir: vscode.Uri.joinPath(context.extensionUri, ...WALKTHROUGH_EVAL.dataDir).fsPath, wait: true, openResults: true,
      });
      if (outcome?.error) throw new Error(outcome.error);
      const failed = outcome?.statuses?.find((st) => st.status !== 'succeeded');
      if (failed) throw new Error(`the evaluation ${failed.status}${failed.error ? `: ${failed.error}` : ''} (see the "DCD Eval" output)`);
      if (!outcome?.localResults) return undefined;
      const results = outcome.localResults.fsPath;
      await save({ results });
      return results;
    }),
    c.registerCommand('dcd.walkthrough.results', async () => {
      const results = needs('results', 'Evaluate the trained model');
      const files = await listResults(results);
      await run('dcd.openEvalResults', vscode.Uri.file(files.results[0] ?? results));
      if (files.samples[0]) await run('dcd.openEvalSamples', vscode.Uri.file(files.samples[0]));
      return run('dcd.lineage.reveal', files.results[0] ?? results);
    }),
  );
  return { state };
}

async function listResults(dir: string): Promise<{ results: string[]; samples: string[] }> {
  const out = { results: [] as string[], samples: [] as string[] };
  const walk = async (d: string, depth: number): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && depth > 0) await walk(p, depth - 1);
      else if (/^results_.*\.json$/.test(e.name)) out.results.push(p);
      else if (/^samples_.*\.jsonl$/.test(e.name)) out.samples.push(p);
    }
  };
  await walk(dir, 3);
  out.results.sort();
  out.samples.sort();
  return out;
}
