/**
 * Remote hosts and training jobs in VS Code: the Remote Hosts & Jobs view,
 * "Train on Host…", cancel / reattach / download / log, Check Host, Set Up
 * Host, Forget Host Key and the live loss chart. Everything runs on the pure
 * core (src/core/remote, src/core/jobs); this folder holds the VS Code side.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import { createHash } from 'node:crypto';
import { packCorpus } from '../core/pack';
import { getPlanPreset } from '../core/plan';
import { checkHost, setupCommands, setupHost, type HostReport } from '../core/remote/hostCheck';
import { HostKeyError, TrustStore } from '../core/remote/knownHosts';
import { resolveSshTarget } from '../core/remote/sshConfig';
import type { JobRecord } from '../core/jobs/store';
import type { HostProfile } from '../core/remote/profiles';
import { tokenizerPool, maskSettings } from '../workbench/tokens';
import { setting, Settings } from '../config';
import { LossChartPanel } from './chartPanel';
import { formatBytes, hostFacts, HostsView, type Node } from './hostsView';
import { assertTrusted, JobsModel, UntrustedWorkspaceError } from './jobsModel';

export interface TrainArgs {
  /** A corpus (*.dcd.jsonl) to pack, as path or URI. */
  corpus?: string | vscode.Uri;
  /** Or an existing export folder (manifest.json). */
  exportDir?: string | vscode.Uri;
  /** Host profile name (default: ask; `local` when scripted). */
  host?: string;
  preset?: 'paper' | 'smoke';
  /** Model spec (default `builtin:tiny` on local, the preset's model elsewhere). */
  model?: string;
  maxSteps?: number;
  /** Pack with this max_length instead of the preset's (quick local runs). */
  maxLength?: number;
  /** Open the loss chart for the new job (default true). */
  showChart?: boolean;
}

export interface RemoteApi {
  model: JobsModel;
  view: HostsView;
  chart(): LossChartPanel | undefined;
  /** "Train on Host…" without dialogs for what the args give; `trusted` overrides Workspace Trust (tests). */
  trainOnHost(args: TrainArgs, opts?: { trusted?: boolean }): Promise<JobRecord | undefined>;
  cancel(id: string, graceMs?: number): Promise<JobRecord>;
  showLossCurves(ids: string[]): Promise<LossChartPanel>;
  checkHost(name: string): Promise<HostReport>;
  /** The guard every dispatching command calls first. */
  assertTrusted: typeof assertTrusted;
}

const asPath = (v: string | vscode.Uri | undefined) => (v instanceof vscode.Uri ? v.fsPath : v);

function jobIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const n = arg as Node | undefined;
  return n && n.kind === 'job' ? n.job.id : undefined;
}

function hostNameOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  const n = arg as Node | undefined;
  return n && n.kind === 'host' ? n.profile.name : undefined;
}

export function registerRemote(context: vscode.ExtensionContext, view: HostsView, output: vscode.OutputChannel): RemoteApi {
  const backendDir = vscode.Uri.joinPath(context.extensionUri, 'python-backend').fsPath;
  const model = new JobsModel(context, backendDir, output);
  view.bind(model);
  context.subscriptions.push(model);
  const storage = context.globalStorageUri.fsPath;

  const pickJob = async (arg: unknown, filter: (j: JobRecord) => boolean, title: string): Promise<string | undefined> => {
    const id = jobIdOf(arg);
    if (id) return id;
    const jobs = (await model.reload()).filter(filter);
    if (!jobs.length) { void vscode.window.showInformationMessage(`DCD: no job to choose for "${title}".`); return undefined; }
    const pick = await vscode.window.showQuickPick(jobs.map((j) => ({ label: `${j.spec.model} (${j.spec.preset})`, description: `${j.status} · ${j.host.name}`, detail: j.id, id: j.id })), { title });
    return pick?.id;
  };

  const pickHost = async (arg: unknown, title: string): Promise<HostProfile | undefined> => {
    const name = hostNameOf(arg);
    if (name) return model.profile(name);
    const problems: string[] = [];
    const profiles = model.profiles(problems);
    for (const p of problems) output.appendLine(`dcd.hosts: ${p}`);
    const pick = await vscode.window.showQuickPick(profiles.map((p) => ({ label: p.name, description: p.kind === 'local' ? 'this machine' : p.host, p })), { title });
    return pick?.p;
  };

  /** Errors as the user sees them: host key refusals and trust refusals are explained, not stack traces. */
  const report = (err: unknown, action: string) => {
    const msg = err instanceof HostKeyError || err instanceof UntrustedWorkspaceError ? err.message : `${action} failed: ${(err as Error).message}`;
    output.appendLine(`[${action}] ${msg}`);
    void vscode.window.showErrorMessage(msg);
  };

  async function exportFor(corpus: string, preset: 'paper' | 'smoke', maxLength: number | undefined, progress: vscode.Progress<{ message?: string }>): Promise<string> {
    const plan = { max_length: maxLength ?? getPlanPreset(preset).max_length };
    const { policy } = maskSettings();
    const key = createHash('sha256').update(`${path.resolve(corpus)}\0${preset}\0${policy}\0${plan.max_length}`).digest('hex').slice(0, 12);
    const out = path.join(storage, 'exports', `${path.basename(corpus).replace(/\.dcd\.jsonl$|\.jsonl$/, '')}-${preset}-${key}`);
    progress.report({ message: `packing ${path.basename(corpus)} (${preset}, max_length ${plan.max_length})…` });
    await vscode.workspace.fs.createDirectory(vscode.Uri.file(path.dirname(out)));
    const m = await packCorpus(corpus, out, { pool: await tokenizerPool(), policy, maxLength: plan.max_length, planPreset: preset, preset: setting<string>(Settings.templatePreset, 'paper') });
    output.appendLine(`packed ${corpus} → ${out}: ${m.samples} samples, ${m.tokens} tokens, ${m.trained_tokens} trained`);
    return out;
  }

  async function trainOnHost(args: TrainArgs = {}, opts: { trusted?: boolean } = {}): Promise<JobRecord | undefined> {
    assertTrusted('Train on Host', opts.trusted ?? vscode.workspace.isTrusted);
    let corpus = asPath(args.corpus);
    let exportDir = asPath(args.exportDir);
    if (!corpus && !exportDir) {
      const glob = setting<string>(Settings.corpusGlob, '**/*.dcd.jsonl');
      const files = await vscode.workspace.findFiles(glob, '**/node_modules/**', 200);
      const items: Array<vscode.QuickPickItem & { file?: string }> = files.map((u) => ({ label: vscode.workspace.asRelativePath(u), file: u.fsPath }));
      items.push({ label: '$(folder) Existing export folder…' });
      const pick = await vscode.window.showQuickPick(items, { title: 'Train on Host: which corpus?' });
      if (!pick) return undefined;
      if (pick.file) corpus = pick.file;
      else {
        const dir = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Export folder (dcd pack output, with manifest.json)' });
        if (!dir?.[0]) return undefined;
        exportDir = dir[0].fsPath;
      }
    }
    if (exportDir && !existsSync(path.join(exportDir, 'manifest.json'))) throw new Error(`${exportDir} is not an export (no manifest.json)`);
    const profile = args.host ? model.profile(args.host) : await pickHost(undefined, 'Train on Host: which host?');
    if (!profile) return undefined;
    let preset = args.preset;
    if (!preset) {
      const p = await vscode.window.showQuickPick([
        { label: 'smoke', description: getPlanPreset('smoke').description },
        { label: 'paper', description: getPlanPreset('paper').description },
      ], { title: 'Train on Host: preset' });
      if (!p) return undefined;
      preset = p.label as 'paper' | 'smoke';
    }
    const defaultModel = profile.kind === 'local' ? 'builtin:tiny' : getPlanPreset(preset).model;
    const modelSpec = args.model ?? (args.corpus || args.exportDir ? defaultModel : await vscode.window.showInputBox({
      title: 'Train on Host: model', prompt: 'Hugging Face id or path on the host, or builtin:tiny (a tiny CPU model for checking the pipeline)', value: defaultModel,
    }));
    if (!modelSpec) return undefined;
    const rec = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DCD: Train on ${profile.name}`, cancellable: false }, async (progress) => {
      const data = exportDir ?? await exportFor(corpus!, preset!, args.maxLength, progress);
      const hfToken = await context.secrets.get('dcd.hfToken');
      return model.engine.submit(profile, { data, model: modelSpec, preset: preset!, maxSteps: args.maxSteps }, {
        onStatus: (s) => progress.report({ message: `${s}…` }),
        onUpload: (what, p) => progress.report({ message: `uploading ${what}: ${formatBytes(p.bytesIn)} (${formatBytes(p.wireBytes)} sent)` }),
        secretEnv: hfToken && profile.kind === 'ssh' ? { HF_TOKEN: hfToken } : undefined,
      });
    });
    output.appendLine(`[job ${rec.id}] submitted to ${profile.name}: ${rec.spec.model} (${rec.spec.preset}) — ${rec.status}`);
    await model.reload();
    model.watch(rec.id);
    if (args.showChart !== false) await showLossCurves([rec.id]);
    return rec;
  }

  async function showLossCurves(ids: string[]): Promise<LossChartPanel> {
    await model.reload();
    const panel = LossChartPanel.show(context.extensionUri, model, ids);
    return panel;
  }

  async function cancel(id: string, graceMs = 60_000): Promise<JobRecord> {
    output.appendLine(`[job ${id}] cancelling (SIGTERM, forced kill after ${graceMs / 1000} s)…`);
    const rec = await model.engine.cancel(id, { graceMs });
    await model.reload();
    output.appendLine(`[job ${id}] ${rec.status}`);
    return rec;
  }

  async function runCheckHost(name: string): Promise<HostReport> {
    const profile = model.profile(name);
    output.appendLine(`[check ${name}] connecting…`);
    try {
      const r = await checkHost(await model.engine.session(profile), profile, backendDir);
      view.checks.set(name, r);
      output.appendLine(`[check ${name}] via ${r.via}${r.pythonError ? ` (python: ${r.pythonError})` : ''}`);
      for (const f of hostFacts(r)) output.appendLine(`  ${f.label}: ${f.value}`);
      return r;
    } catch (err) {
      view.checks.set(name, { error: (err as Error).message });
      throw err;
    } finally {
      view.refresh();
    }
  }

  const command = <A extends unknown[]>(id: string, action: string, fn: (...args: A) => Promise<unknown>, needsTrust = false) =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        if (needsTrust) assertTrusted(action);
        return await fn(...(args as A));
      } catch (err) {
        report(err, action);
        return undefined;
      }
    });

  context.subscriptions.push(
    command('dcd.trainOnHost', 'Train on Host', (arg?: TrainArgs | vscode.Uri | { corpus?: { uri: vscode.Uri } }) => {
      const args: TrainArgs = arg instanceof vscode.Uri ? { corpus: arg } : arg && 'corpus' in arg && arg.corpus && typeof arg.corpus === 'object' && 'uri' in arg.corpus ? { corpus: arg.corpus.uri } : (arg as TrainArgs | undefined) ?? {};
      return trainOnHost(args);
    }, true),
    command('dcd.cancelJob', 'Cancel Job', async (arg?: unknown, graceMs?: number) => {
      const id = await pickJob(arg, (j) => !['succeeded', 'failed', 'cancelled'].includes(j.status), 'Cancel which job?');
      return id ? vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DCD: cancelling ${id}` }, () => cancel(id, graceMs)) : undefined;
    }, true),
    command('dcd.reattachJob', 'Reattach Job', async (arg?: unknown) => {
      const id = jobIdOf(arg);
      if (id) { await model.engine.refresh(id); model.watch(id); await model.reload(); return id; }
      const profile = await pickHost(undefined, 'Reattach: the job runs on which host?');
      if (!profile) return undefined;
      const given = await vscode.window.showInputBox({ title: 'Reattach: job id', prompt: `The id of a job on ${profile.name} (its folder under ~/.dcd/jobs)` });
      if (!given) return undefined;
      const rec = await model.engine.attach(profile, given.trim());
      await model.reload();
      model.watch(rec.id);
      return rec.id;
    }, true),
    command('dcd.downloadArtifact', 'Download Checkpoint', async (arg?: unknown, name?: string, dest?: string) => {
      const id = await pickJob(arg, (j) => !!j.remote, 'Download from which job?');
      if (!id) return undefined;
      let what = name;
      if (!what) {
        const arts = await model.engine.artifacts(id);
        if (!arts.length) { void vscode.window.showInformationMessage(`DCD: job ${id} has no checkpoint or model yet.`); return undefined; }
        const pick = await vscode.window.showQuickPick([
          ...arts.map((a) => ({ label: a.name, description: `${a.kind}${a.step !== undefined ? ` · step ${a.step}` : ''}${a.reason ? ` · ${a.reason}` : ''}`, detail: a.path })),
          { label: 'all', description: 'every checkpoint and the final model' },
        ], { title: `Download from job ${id}` });
        if (!pick) return undefined;
        what = pick.label;
      }
      const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
      const out = dest ?? (folder ? path.join(folder, 'dcd-jobs', id) : (await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Download into' }))?.[0]?.fsPath);
      if (!out) return undefined;
      const fetched = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DCD: downloading ${what} of ${id}` }, () => model.engine.fetch(id, what!, out, { onWarning: (w) => output.appendLine(`[job ${id}] warning: ${w}`) }));
      for (const f of fetched) output.appendLine(`[job ${id}] ${f.name} → ${f.localPath} (${f.files} files, ${formatBytes(f.bytes)})`);
      void vscode.window.showInformationMessage(`DCD: downloaded ${fetched.map((f) => f.name).join(', ')} into ${out}`);
      return fetched;
    }, true),
    command('dcd.showJobLog', 'Show Job Log', async (arg?: unknown) => {
      const id = await pickJob(arg, (j) => !!j.remote, 'Show the log of which job?');
      if (!id) return undefined;
      const channel = vscode.window.createOutputChannel(`DCD Job ${id}`);
      context.subscriptions.push(channel);
      channel.show(true);
      const f = model.engine.followLog(id, 0, (text) => channel.append(text), { onReconnect: (n, err) => channel.appendLine(`\n[connection lost: ${err.message}; reconnecting (${n})…]`) });
      context.subscriptions.push({ dispose: () => f.stop() });
      return id;
    }),
    command('dcd.showLossCurves', 'Show Loss Curves', async (arg?: unknown, selection?: unknown[]) => {
      const fromSelection = (selection ?? []).map(jobIdOf).filter((x): x is string => !!x);
      let ids = fromSelection.length ? fromSelection : Array.isArray(arg) ? arg.map(jobIdOf).filter((x): x is string => !!x) : [jobIdOf(arg)].filter((x): x is string => !!x);
      if (!ids.length) {
        const jobs = (await model.reload()).filter((j) => j.remote);
        const picks = await vscode.window.showQuickPick(jobs.map((j) => ({ label: `${j.spec.model} (${j.spec.preset})`, description: `${j.status} · ${j.host.name}`, detail: j.id, id: j.id })), { title: 'Show loss curves of which jobs?', canPickMany: true });
        ids = (picks ?? []).map((p) => p.id);
      }
      return showLossCurves(ids);
    }),
    command('dcd.refreshJobs', 'Refresh Jobs', async () => {
      const jobs = await model.reload();
      await Promise.all(jobs.filter((j) => !['succeeded', 'failed', 'cancelled'].includes(j.status) && j.remote).map((j) => model.engine.refresh(j.id).catch((err: Error) => output.appendLine(`[job ${j.id}] ${err.message}`))));
      return model.reload();
    }),
    command('dcd.checkHost', 'Check Host', async (arg?: unknown) => {
      const profile = await pickHost(arg, 'Check which host?');
      if (!profile) return undefined;
      output.show(true);
      return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DCD: checking ${profile.name}` }, () => runCheckHost(profile.name));
    }, true),
    command('dcd.setUpHost', 'Set Up Host', async (arg?: unknown) => {
      const profile = await pickHost(arg, 'Set up which host?');
      if (!profile) return undefined;
      const root = profile.root ?? '~/.dcd';
      const plan = setupCommands(profile.python ?? 'python3', `${root}/venv`, `${root}/backend/…/requirements.txt`);
      const go = await vscode.window.showWarningMessage(`Set up ${profile.name}? This creates a virtual environment and pip-installs the backend's requirements (needs internet on the host).`, { modal: true, detail: plan }, 'Set Up');
      if (go !== 'Set Up') return undefined;
      output.show(true);
      const r = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DCD: setting up ${profile.name}` }, async () => setupHost(await model.engine.session(profile), profile, backendDir));
      output.appendLine(`[setup ${profile.name}] ready: venv ${r.venv}; use "python": ${JSON.stringify(r.python)} for this host in dcd.hosts`);
      void vscode.window.showInformationMessage(`DCD: ${profile.name} is set up. Use "python": "${r.python}" for it in the dcd.hosts setting.`);
      return r;
    }, true),
    command('dcd.forgetHostKey', 'Forget Host Key', async (arg?: unknown) => {
      const profile = await pickHost(arg, 'Forget the saved key of which host?');
      if (!profile || profile.kind !== 'ssh') return undefined;
      const configText = await fs.readFile(path.join(os.homedir(), '.ssh', 'config'), 'utf8').catch(() => undefined);
      let target = { host: profile.host, port: profile.port ?? 22 };
      try { target = resolveSshTarget(profile, { configText, homeDir: os.homedir(), localUser: os.userInfo().username }); } catch { /* the profile as given */ }
      const n = await new TrustStore(model.trustStoreFile).remove(target.host, target.port);
      void vscode.window.showInformationMessage(n ? `DCD: forgot the saved key of ${target.host}:${target.port}.` : `DCD: no key of ${target.host}:${target.port} was saved by DCD Studio (~/.ssh/known_hosts is left alone).`);
      return n;
    }),
  );

  // Reattach the jobs that were running when the window closed.
  void model.reattachAll().then((ids) => { if (ids.length) output.appendLine(`reattached ${ids.length} running job(s): ${ids.join(', ')}`); }, (err: Error) => output.appendLine(`jobs: ${err.message}`));

  return {
    model, view, chart: () => LossChartPanel.current, trainOnHost, cancel, showLossCurves, checkHost: runCheckHost, assertTrusted,
  };
}
