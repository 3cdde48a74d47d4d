/**
 * "DCD: Evaluate Model…": pick a host, a model (a checkpoint of a finished
 * training job, or any path / Hugging Face id) and the benchmarks; one
 * lm_eval job per benchmark is dispatched (dispatch.ts) with the `dcd.eval.*`
 * settings and the Hugging Face token from SecretStorage (environment only).
 * The jobs' logs stream into the "DCD Eval" output channel; when they end the
 * results folder is downloaded into the workspace and the Results view opens.
 * Offline hosts: the model can be a folder on this machine (uploaded with the
 * job) and the benchmark data a local data dir (docs/FORMATS.md §5), uploaded
 * with the job and read with the Hugging Face Hub turned off.
 */
import * as vscode from 'vscode';
import * as os from 'node:os';
import * as path from 'node:path';
import { BENCHMARKS, BENCHMARK_IDS, type BenchmarkId } from '../core/eval/benchmarks';
import type { JobStatus } from '../core/jobs/status';
import { describeHost, type HostProfile } from '../core/remote/profiles';
import { SecretKeys, setting, Settings } from '../services/config';
import { dispatchEval, downloadEvalResults, overrideEvalSettings, followEval, type EvalDispatch, type EvalJobEngine, type EvalSettings } from '../core/jobs/evalDispatch';
import { DATA_LAYOUT } from '../core/eval/offlineData';

/** An engine that can also list a training job's checkpoints (JobEngine can). */
export type EvalEngine = EvalJobEngine & {
  list?(): Promise<Array<{ id: string; status: JobStatus; host: HostProfile; spec: { model: string } }>>;
  artifacts?(id: string): Promise<Array<{ kind: string; name: string; path: string; step?: number }>>;
};

export interface EvaluateArgs {
  /** A profile name (`local`, or one of `dcd.hosts`) or a profile. */
  host?: string | HostProfile;
  model?: string;
  benchmarks?: BenchmarkId[];
  /** Grade DCD-aware as well (default: the `dcd.eval.dcdAware` setting). */
  dcd?: boolean;
  /** Resolve only when the jobs have ended (default: follow in the background). */
  wait?: boolean;
  /** Download the results and open the Results view when all ended (default true). */
  openResults?: boolean;
  /** `model` is a folder on this machine: upload it with the job. */
  uploadModel?: boolean;
  /** A benchmark data dir on this machine (docs/FORMATS.md §5): uploaded, the run is offline. `null`: the Hub (no question asked). */
  dataDir?: string | null;
  /** `--limit`: documents per task (an integer) or a fraction in (0, 1); default the `dcd.eval.limit` setting. */
  limit?: number;
  /** lm_eval options that replace the `dcd.eval.*` settings for this run (the walkthrough's small CPU evaluation). */
  settings?: EvalSettings;
}

export interface EvaluateOutcome {
  dispatch?: EvalDispatch;
  /** Why nothing (more) runs. */
  error?: string;
  /** Final statuses, when waited for. */
  statuses?: Array<{ id: string; benchmark: BenchmarkId; status: JobStatus; error?: string }>;
  /** Where the results were downloaded, when they were. */
  localResults?: vscode.Uri;
}

export interface EvaluateDeps {
  context: vscode.ExtensionContext;
  output: vscode.OutputChannel;
  engine: () => EvalEngine;
  /** The host profiles (services.hosts): the same list training offers. */
  profiles: (problems?: string[]) => HostProfile[];
  backendDir: string;
  openResults: (uris: vscode.Uri[]) => Promise<unknown>;
}

/** The `dcd.eval.*` settings as lm_eval options (null / unset: the harness's own default). */
export function evalSettings(): EvalSettings {
  const n = (key: (typeof Settings)[keyof typeof Settings]) => {
    const v = setting<number | null>(key, null);
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  };
  return {
    applyChatTemplate: setting<boolean>(Settings.evalChatTemplate, true),
    maxGenToks: n(Settings.evalMaxGenToks),
    maxModelLen: n(Settings.evalMaxModelLen),
    tensorParallelSize: n(Settings.evalTensorParallelSize),
    gpuMemoryUtilization: n(Settings.evalGpuMemoryUtilization),
    seed: n(Settings.evalSeed),
    limit: n(Settings.evalLimit),
  };
}

async function pickHost(deps: EvaluateDeps): Promise<HostProfile | undefined> {
  const problems: string[] = [];
  const profiles = deps.profiles(problems);
  for (const p of problems) void vscode.window.showWarningMessage(`dcd.hosts: ${p}`);
  if (profiles.length === 1) return profiles[0];
  const pick = await vscode.window.showQuickPick(profiles.map((p) => ({
    label: p.name, description: describeHost(p), profile: p,
  })), { title: 'Evaluate Model: on which host?' });
  return pick?.profile;
}

/** The key of the last benchmark data dir used (workspace state). */
const LAST_DATA_DIR = 'dcd.eval.lastDataDir';

async function pickModel(engine: EvalEngine, host: HostProfile): Promise<{ model: string; upload: boolean } | undefined> {
  type Item = vscode.QuickPickItem & { model?: string; enter?: boolean; upload?: boolean };
  const items: Item[] = [
    { label: '$(edit) Enter a model path or Hugging Face id…', enter: true },
    { label: '$(cloud-upload) Upload a model folder from this machine…', description: host.kind === 'local' ? 'used in place on this machine' : `sent to ${host.name} with the job (offline hosts)`, upload: true },
  ];
  try {
    const jobs = (await engine.list?.()) ?? [];
    const done = jobs.filter((j) => j.status === 'succeeded' && j.host.name === host.name && (j.spec as { kind?: string }).kind !== 'eval').slice(0, 5);
    for (const j of done) {
      const arts = (await engine.artifacts?.(j.id).catch(() => [])) ?? [];
      for (const a of arts.slice().reverse()) {
        items.push({ label: `${a.kind === 'model' ? '$(package)' : '$(history)'} ${j.id} / ${a.name}`, description: `${j.spec.model}${a.step !== undefined ? ` · step ${a.step}` : ''}`, detail: a.path, model: a.path });
      }
    }
  } catch { /* the job history is optional here */ }
  const pick = await vscode.window.showQuickPick(items, { title: `Evaluate Model on ${host.name}: which model?`, matchOnDetail: true });
  if (!pick) return undefined;
  if (pick.model) return { model: pick.model, upload: false };
  if (pick.upload) {
    const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Evaluate Model: the model folder to upload (config.json, weights, tokenizer)', openLabel: 'Upload This Model' });
    return folder?.[0] ? { model: folder[0].fsPath, upload: true } : undefined;
  }
  const typed = await vscode.window.showInputBox({
    title: 'Evaluate Model', prompt: `A checkpoint directory on ${host.name} or a Hugging Face model id`, placeHolder: 'Qwen/Qwen2.5-1.5B-Instruct', ignoreFocusOut: true,
    validateInput: (s) => (!s.trim() ? 'Required' : s.includes(',') ? 'lm-eval cannot take a comma in a model path' : undefined),
  });
  return typed ? { model: typed, upload: false } : undefined;
}

/** Where the benchmark data comes from: the Hub (online), or a data dir on this machine uploaded with the job (offline). */
async function pickDataDir(context: vscode.ExtensionContext, benchmarks: readonly BenchmarkId[]): Promise<string | null | undefined> {
  type Item = vscode.QuickPickItem & { dir?: string | null; choose?: boolean };
  const last = context.workspaceState.get<string>(LAST_DATA_DIR);
  const folders = benchmarks.map((b) => `${DATA_LAYOUT[b].folder}/`).join(', ');
  const items: Item[] = [
    { label: 'Benchmark data: from the Hugging Face Hub', description: 'the host needs internet', dir: null },
    ...(last ? [{ label: `Benchmark data: uploaded from ${last} (offline)`, description: 'the Hub is turned off on the host', dir: last }] : []),
    { label: '$(folder-opened) Benchmark data: upload a data folder… (offline)', description: `holds ${folders}`, choose: true },
  ];
  const pick = await vscode.window.showQuickPick(items, { title: 'Evaluate Model: benchmark data' });
  if (!pick) return undefined;
  if (!pick.choose) return pick.dir;
  const folder = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: `Benchmark data folder (${folders}; see docs/FORMATS.md §5)`, openLabel: 'Use This Data' });
  if (!folder?.[0]) return undefined;
  await context.workspaceState.update(LAST_DATA_DIR, folder[0].fsPath);
  return folder[0].fsPath;
}

async function pickBenchmarks(): Promise<BenchmarkId[] | undefined> {
  const picks = await vscode.window.showQuickPick(BENCHMARK_IDS.map((id) => {
    const b = BENCHMARKS[id];
    return { label: b.label, description: `${b.task} · ${b.numFewshot}-shot${b.gated ? ' · needs a Hugging Face token' : ''}`, picked: true, id };
  }), { title: 'Evaluate Model: benchmarks (each is its own lm_eval call)', canPickMany: true });
  if (!picks?.length) return undefined;
  return picks.map((p) => p.id);
}

export async function setHfTokenCommand(context: vscode.ExtensionContext): Promise<boolean> {
  const value = await vscode.window.showInputBox({
    title: 'DCD: Set Hugging Face Token',
    prompt: 'Used for gated benchmarks (GPQA Diamond): kept in VS Code\'s secret storage and passed to lm_eval in the environment only. Leave empty to remove the stored token.',
    password: true, ignoreFocusOut: true, placeHolder: 'hf_…',
    validateInput: (s) => (/\s/.test(s.trim()) ? 'A token has no spaces' : undefined),
  });
  if (value === undefined) return false;
  if (!value.trim()) {
    await context.secrets.delete(SecretKeys.hfToken);
    void vscode.window.showInformationMessage('Hugging Face token removed.');
  } else {
    await context.secrets.store(SecretKeys.hfToken, value.trim());
    void vscode.window.showInformationMessage('Hugging Face token saved in secret storage.');
  }
  return true;
}

export async function evaluateModelCommand(deps: EvaluateDeps, args: EvaluateArgs = {}): Promise<EvaluateOutcome | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showWarningMessage('Evaluate Model runs lm_eval on a host: trust this workspace first.');
    return { error: 'workspace not trusted' };
  }
  let host: HostProfile | undefined;
  if (typeof args.host === 'object') host = args.host;
  else if (typeof args.host === 'string') {
    host = deps.profiles().find((p) => p.name === args.host);
    if (!host) return { error: `no host profile named ${args.host}` };
  } else host = await pickHost(deps);
  if (!host) return undefined;
  const interactive = args.model === undefined || args.benchmarks === undefined;
  const engine = deps.engine();
  const picked = args.model !== undefined ? { model: args.model, upload: args.uploadModel === true } : await pickModel(engine, host);
  if (!picked) return undefined;
  const model = picked.model;
  const benchmarks = args.benchmarks ?? await pickBenchmarks();
  if (!benchmarks) return undefined;
  const dataDir = args.dataDir !== undefined ? args.dataDir : interactive ? await pickDataDir(deps.context, benchmarks) : null;
  if (dataDir === undefined) return undefined;
  const dcd = args.dcd ?? setting<boolean>(Settings.evalDcdAware, true);
  const hfToken = await deps.context.secrets.get(SecretKeys.hfToken);
  if (!hfToken && !dataDir && benchmarks.some((b) => BENCHMARKS[b].gated) && interactive) {
    const set = 'Set Token…';
    const go = 'Continue Without';
    const a = await vscode.window.showWarningMessage('GPQA Diamond is gated on the Hugging Face Hub: lm_eval needs your token there (unless the host is already logged in).', set, go);
    if (a === set) { await setHfTokenCommand(deps.context); return evaluateModelCommand(deps, { ...args, host, model, uploadModel: picked.upload, benchmarks, dcd, dataDir }); }
    if (a !== go) return undefined;
  }

  const out = deps.output;
  const secrets = hfToken ? [hfToken] : [];
  out.show(true);
  out.appendLine(`=== Evaluate ${model}${picked.upload ? ' (uploaded)' : ''} on ${host.name}: ${benchmarks.map((b) => BENCHMARKS[b].label).join(', ')}${dcd ? ' (stock and DCD-aware grading)' : ''}`);
  if (dataDir) out.appendLine(`benchmark data: uploaded from ${dataDir} (offline)`);
  let dispatch: EvalDispatch;
  try {
    dispatch = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DCD: dispatching lm_eval to ${host.name}…` }, () =>
      dispatchEval(engine, host, { model, benchmarks, dcd, settings: overrideEvalSettings(evalSettings(), args.settings, args.limit), hfToken, backendDir: deps.backendDir, dataDir: dataDir ?? undefined, uploadModel: picked.upload }, {
        onStatus: (b, s) => out.appendLine(`[${BENCHMARKS[b].label}] ${s}`),
        onWarning: (w) => { out.appendLine(`warning: ${w}`); void vscode.window.showWarningMessage(w); },
      }));
  } catch (err) {
    const message = (err as Error).message;
    out.appendLine(`error: ${message}`);
    void vscode.window.showErrorMessage(message, 'Show Log').then((a) => { if (a) out.show(); });
    return { error: message };
  }
  out.appendLine(`jobs: ${dispatch.jobs.map((j) => `${BENCHMARKS[j.benchmark].label} ${j.id}`).join(', ')}; results on the host in ${dispatch.resultsDir}`);
  for (const j of dispatch.jobs) out.appendLine(`[${BENCHMARKS[j.benchmark].label}] $ ${j.argv.join(' ')}${j.envNames.length ? `   (environment: ${j.envNames.join(', ')})` : ''}`);

  const follow = vscode.window.withProgress({
    location: vscode.ProgressLocation.Notification, title: `DCD: evaluating ${path.posix.basename(model)}`, cancellable: true,
  }, async (progress, token) => {
    const signal = { stopped: false };
    token.onCancellationRequested(() => { signal.stopped = true; out.appendLine('(stopped following: the jobs keep running on the host)'); });
    let done = 0;
    const statuses = await followEval(engine, dispatch, secrets, {
      signal,
      onLog: (job, text) => {
        out.append(text.replace(/\r(?!\n)/g, '\n'));
        progress.report({ message: `${BENCHMARKS[job.benchmark].label} (${done + 1}/${dispatch.jobs.length})` });
      },
      onDone: (job, status) => {
        done++;
        out.appendLine(`[${BENCHMARKS[job.benchmark].label}] ${status}`);
        progress.report({ increment: 100 / dispatch.jobs.length });
      },
    });
    const outcome: EvaluateOutcome = { dispatch, statuses };
    if (signal.stopped) return outcome;
    const failed = statuses.filter((s) => s.status !== 'succeeded');
    if (failed.length) void vscode.window.showWarningMessage(`Evaluate Model: ${failed.map((f) => `${BENCHMARKS[f.benchmark].label} ${f.status}`).join(', ')}. See the "DCD Eval" output.`);
    if (failed.length < statuses.length && args.openResults !== false) {
      try {
        outcome.localResults = await downloadResults(engine, host, dispatch, out);
        out.appendLine(`results downloaded to ${outcome.localResults.fsPath}`);
        await deps.openResults([outcome.localResults]);
      } catch (err) {
        out.appendLine(`could not download the results: ${(err as Error).message}`);
      }
    }
    return outcome;
  });
  if (args.wait) return follow;
  void follow;
  return { dispatch };
}

/** Copies the run's results folder from the host into the workspace (`eval-results/<evalId>/`). */
async function downloadResults(engine: EvalEngine, host: HostProfile, dispatch: EvalDispatch, out: vscode.OutputChannel): Promise<vscode.Uri> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const base = folder && folder.scheme === 'file' ? folder.fsPath : path.join(os.homedir(), '.dcd');
  const session = await engine.session(host);
  const r = await downloadEvalResults(session, dispatch, base, { onWarning: (w) => out.appendLine(`warning: ${w}`) });
  return vscode.Uri.file(r.localPath);
}
