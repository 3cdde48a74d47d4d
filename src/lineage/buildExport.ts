/**
 * "Build Training Export…": packs a corpus (the mask settings, a plan preset)
 * into `<workspace>/dcd-exports/<corpus>-<preset>/` — the export of
 * docs/FORMATS.md §1 with its lineage record — and shows it in the Lineage view.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { packCorpus, type ExportManifest } from '../core/training/pack';
import { getPlanPreset } from '../core/training/plan';
import { setting, Settings } from '../services/config';
import { maskSettings, tokenizerPool } from '../services/tokenizerPool';

export interface BuildExportArgs {
  corpus?: string | vscode.Uri;
  preset?: 'paper' | 'smoke';
  /** Cut samples to this many tokens (default: the `dcd.maxLength` setting). */
  maxLength?: number;
  /** Export folder (default `<workspace>/dcd-exports/<corpus>-<preset>`). */
  out?: string;
}

export interface BuiltExport { dir: string; manifest: ExportManifest }

const asPath = (v: string | vscode.Uri | undefined) => (v instanceof vscode.Uri ? v.fsPath : v);

export async function buildExport(args: BuildExportArgs, storageDir: string): Promise<BuiltExport | undefined> {
  let corpus = asPath(args.corpus);
  if (!corpus) {
    const files = await vscode.workspace.findFiles(setting<string>(Settings.corpusGlob, '**/*.dcd.jsonl'), '**/node_modules/**', 200);
    const pick = await vscode.window.showQuickPick(files.map((u) => ({ label: vscode.workspace.asRelativePath(u), file: u.fsPath })), { title: 'Build Training Export: which corpus?' });
    corpus = pick?.file;
  }
  if (!corpus) return undefined;
  let preset = args.preset;
  if (!preset) {
    const p = await vscode.window.showQuickPick([
      { label: 'smoke', description: getPlanPreset('smoke').description },
      { label: 'paper', description: getPlanPreset('paper').description },
    ], { title: 'Build Training Export: plan preset' });
    preset = p?.label as 'paper' | 'smoke' | undefined;
  }
  if (!preset) return undefined;
  const name = `${path.basename(corpus).replace(/\.dcd\.jsonl$|\.jsonl$/, '')}-${preset}`;
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? storageDir;
  const dir = args.out ?? path.join(folder, 'dcd-exports', name);
  const { policy, maxLength } = maskSettings();
  const manifest = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `DCD: packing ${path.basename(corpus)}` }, async () =>
    packCorpus(corpus, dir, { pool: await tokenizerPool(), policy, maxLength: args.maxLength ?? maxLength, planPreset: preset, preset: setting<string>(Settings.templatePreset, 'paper') }));
  return { dir, manifest };
}
