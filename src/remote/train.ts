/**
 * "Train on Host…": a corpus (packed into an export under globalStorage with
 * the mask settings) or an existing export, a host, a preset and a model;
 * the job is submitted on the extension's one JobEngine and followed.
 */
import * as vscode from 'vscode';
import * as path from 'node:path';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { packCorpus } from '../core/training/pack';
import { getPlanPreset } from '../core/training/plan';
import type { JobRecord } from '../core/jobs/store';
import { SecretKeys, setting, Settings } from '../services/config';
import { maskSettings, tokenizerPool } from '../services/tokenizerPool';
import { formatBytes } from './hostsView';
import { assertTrusted } from './jobsModel';
import { showLossCurves } from './jobCommands';
import { pickHost, type RemoteFeature } from './pickers';

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

const asPath = (v: string | vscode.Uri | undefined) => (v instanceof vscode.Uri ? v.fsPath : v);

async function exportFor(r: RemoteFeature, corpus: string, preset: 'paper' | 'smoke', maxLength: number | undefined, progress: vscode.Progress<{ message?: string }>): Promise<string> {
  const plan = { max_length: maxLength ?? getPlanPreset(preset).max_length };
  const { policy } = maskSettings();
  const key = createHash('sha256').update(`${path.resolve(corpus)}\0${preset}\0${policy}\0${plan.max_length}`).digest('hex').slice(0, 12);
  const out = path.join(r.context.globalStorageUri.fsPath, 'exports', `${path.basename(corpus).replace(/\.dcd\.jsonl$|\.jsonl$/, '')}-${preset}-${key}`);
  progress.report({ message: `packing ${path.basename(corpus)} (${preset}, max_length ${plan.max_length})…` });
  await vscode.workspace.fs.createDirectory(vscode.Uri.file(path.dirname(out)));
  const m = await packCorpus(corpus, out, { pool: await tokenizerPool(), policy, maxLength: plan.max_length, planPreset: preset, preset: setting<string>(Settings.templatePreset, 'paper') });
  r.output.appendLine(`packed ${corpus} → ${out}: ${m.samples} samples, ${m.tokens} tokens, ${m.trained_tokens} trained`);
  return out;
}

/** Asks for what the args leave open: a corpus, or an export folder. */
async function pickTrainingData(): Promise<{ corpus?: string; exportDir?: string } | undefined> {
  const glob = setting<string>(Settings.corpusGlob, '**/*.dcd.jsonl');
  const files = await vscode.workspace.findFiles(glob, '**/node_modules/**', 200);
  const items: Array<vscode.QuickPickItem & { file?: string }> = files.map((u) => ({ label: vscode.workspace.asRelativePath(u), file: u.fsPath }));
  items.push({ label: '$(folder) Existing export folder…' });
  const pick = await vscode.window.showQuickPick(items, { title: 'Train on Host: which corpus?' });
  if (!pick) return undefined;
  if (pick.file) return { corpus: pick.file };
  const dir = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, title: 'Export folder (dcd pack output, with manifest.json)' });
  return dir?.[0] ? { exportDir: dir[0].fsPath } : undefined;
}

async function pickPreset(): Promise<'paper' | 'smoke' | undefined> {
  const p = await vscode.window.showQuickPick([
    { label: 'smoke', description: getPlanPreset('smoke').description },
    { label: 'paper', description: getPlanPreset('paper').description },
  ], { title: 'Train on Host: preset' });
  return p?.label as 'paper' | 'smoke' | undefined;
}

export async function trainOnHost(r: RemoteFeature, args: TrainArgs = {}, opts: { trusted?: boolean } = {}): Promise<JobRecord | undefined> {
  assertTrusted('Train on Host', opts.trusted ?? vscode.workspace.isTrusted);
  let corpus = asPath(args.corpus);
  let exportDir = asPath(args.exportDir);
  if (!corpus && !exportDir) {
    const picked = await pickTrainingData();
    if (!picked) return undefined;
    ({ corpus, exportDir } = picked);
  }
  if (exportDir && !existsSync(path.join(exportDir, 'manifest.json'))) throw new Error(`${exportDir} is not an export (no manifest.json)`);
  const profile = args.host ? r.model.profile(args.host) : await pickHost(r, undefined, 'Train on Host: which host?');
  if (!profile) return undefined;
  const preset = args.preset ?? await pickPreset();
  if (!preset) return undefined;
  const defaultModel = profile.kind === 'local' ? 'builtin:tiny' : getPlanPreset(preset).model;
  const modelSpec = args.model ?? (args.corpus || args.exportDir ? defaultModel : await vscode.window.showInputBox({
    title: 'Train on Host: model', prompt: 'Hugging Face id or path on the host, or builtin:tiny (a tiny CPU model for checking the pipeline)', value: defaultModel,
  }));
  if (!modelSpec) return undefined;
  const rec = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DCD: Train on ${profile.name}`, cancellable: false }, async (progress) => {
    const data = exportDir ?? await exportFor(r, corpus!, preset, args.maxLength, progress);
    const hfToken = await r.context.secrets.get(SecretKeys.hfToken);
    return r.model.engine.submit(profile, { data, model: modelSpec, preset, maxSteps: args.maxSteps }, {
      onStatus: (s) => progress.report({ message: `${s}…` }),
      onUpload: (what, p) => progress.report({ message: `uploading ${what}: ${formatBytes(p.bytesIn)} (${formatBytes(p.wireBytes)} sent)` }),
      secretEnv: hfToken && profile.kind !== 'local' ? { HF_TOKEN: hfToken } : undefined,
    });
  });
  r.output.appendLine(`[job ${rec.id}] submitted to ${profile.name}: ${rec.spec.model} (${rec.spec.preset}) — ${rec.status}`);
  await r.model.reload();
  r.model.watch(rec.id);
  if (args.showChart !== false) await showLossCurves(r, [rec.id]);
  return rec;
}

/** `dcd.trainOnHost`: from the palette, a corpus in the explorer or the Corpora view, or scripted with TrainArgs. */
export function trainOnHostCommand(r: RemoteFeature, arg?: TrainArgs | vscode.Uri | { corpus?: { uri: vscode.Uri } }): Promise<JobRecord | undefined> {
  assertTrusted('Train on Host');
  const args: TrainArgs = arg instanceof vscode.Uri ? { corpus: arg } : arg && 'corpus' in arg && arg.corpus && typeof arg.corpus === 'object' && 'uri' in arg.corpus ? { corpus: arg.corpus.uri } : (arg as TrainArgs | undefined) ?? {};
  return trainOnHost(r, args);
}
