/** Finding and reading eval files through VS Code's file system (so remote workspaces work too). */
import * as vscode from 'vscode';
import { writeFileAtomic } from '../core/io/atomicWrite';
import { isResultsJson, parseResultsJson } from '../core/eval/results';
import { taskFromSamplesFileName } from '../core/eval/samples';
import { gradeResultsWith, samplesNamesFor } from '../core/eval/grading';
import type { EvalRunSamples } from '../core/protocols/eval';
import type { LoadedResultFile } from './resultsModel';

const decoder = new TextDecoder();
const MAX_JSON_BYTES = 64 * 1024 * 1024;
const MAX_DEPTH = 6;
const EXCLUDE = '{**/node_modules/**,**/.git/**}';

export async function readText(uri: vscode.Uri): Promise<string> {
  return decoder.decode(await vscode.workspace.fs.readFile(uri));
}

/** A path for display: workspace-relative where possible. */
export function displayPath(uri: vscode.Uri): string {
  return vscode.workspace.asRelativePath(uri, false);
}

export function parentOf(uri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(uri, '..');
}

export async function isDirectory(uri: vscode.Uri): Promise<boolean> {
  return ((await vscode.workspace.fs.stat(uri)).type & vscode.FileType.Directory) !== 0;
}

/** One results file; throws with the file's name when it is not an lm-eval results file. */
export async function loadResultFile(uri: vscode.Uri): Promise<LoadedResultFile> {
  const text = await readText(uri);
  let data: unknown;
  try { data = JSON.parse(text); } catch (err) { throw new Error(`${displayPath(uri)}: not JSON (${(err as Error).message})`); }
  const result = parseResultsJson(data, uri.path);
  const folder = parentOf(uri);
  result.file = displayPath(uri);
  return { result, uri: uri.toString(), label: displayPath(uri), folder: folder.toString(), folderLabel: displayPath(folder) };
}

/** Every results file under a folder (recursive, like the core's findResultsFiles); foreign JSON is skipped. */
export async function findResultsIn(dir: vscode.Uri, depth = 0): Promise<LoadedResultFile[]> {
  const out: LoadedResultFile[] = [];
  const entries = (await vscode.workspace.fs.readDirectory(dir)).sort((a, b) => a[0].localeCompare(b[0]));
  for (const [name, type] of entries) {
    const uri = vscode.Uri.joinPath(dir, name);
    if (type & vscode.FileType.Directory) {
      if (depth < MAX_DEPTH && !name.startsWith('.') && name !== 'node_modules') out.push(...await findResultsIn(uri, depth + 1));
    } else if (name.endsWith('.json')) {
      const st = await vscode.workspace.fs.stat(uri);
      if (st.size > MAX_JSON_BYTES) continue;
      let data: unknown;
      try { data = JSON.parse(await readText(uri)); } catch { continue; }
      if (!isResultsJson(data)) continue;
      const result = parseResultsJson(data, uri.path);
      result.file = displayPath(uri);
      out.push({ result, uri: uri.toString(), label: displayPath(uri), folder: dir.toString(), folderLabel: displayPath(dir) });
    }
  }
  return out;
}

/** A results file or every results file of a folder. */
export async function loadResultsFrom(uri: vscode.Uri): Promise<LoadedResultFile[]> {
  if (await isDirectory(uri)) return findResultsIn(uri);
  return [await loadResultFile(uri)];
}

/** `results_*.json` files of the workspace that are lm-eval results (others are skipped, with a warning). */
export async function workspaceResults(warnings: string[] = []): Promise<LoadedResultFile[]> {
  const uris = await vscode.workspace.findFiles('**/results_*.json', EXCLUDE, 2000);
  const out: LoadedResultFile[] = [];
  for (const uri of uris.sort((a, b) => a.toString().localeCompare(b.toString()))) {
    try {
      const st = await vscode.workspace.fs.stat(uri);
      if (st.size > MAX_JSON_BYTES) { warnings.push(`${displayPath(uri)}: larger than 64 MiB, skipped`); continue; }
      out.push(await loadResultFile(uri));
    } catch (err) {
      warnings.push((err as Error).message);
    }
  }
  return out;
}

/**
 * Each results file with the DCD verifier's grade (`exact_match,dcd-verify`)
 * of its GSM8K / AIME tasks, from the sample logs the same call wrote beside
 * it (core/eval/grading.ts); notes about unusable logs go to `warnings`.
 */
export async function withDcdGrades(files: readonly LoadedResultFile[], warnings: string[]): Promise<LoadedResultFile[]> {
  const names = new Map<string, Promise<string[]>>();
  const listing = (dir: vscode.Uri) => {
    let p = names.get(dir.toString());
    if (!p) {
      p = Promise.resolve(vscode.workspace.fs.readDirectory(dir)).then((e) => e.map(([n]) => n), () => []);
      names.set(dir.toString(), p);
    }
    return p;
  };
  return Promise.all(files.map(async (f) => {
    const uri = vscode.Uri.parse(f.uri);
    const dir = parentOf(uri);
    const logs = samplesNamesFor(uri.path.split('/').pop() ?? '', await listing(dir));
    if (!logs.size) return f;
    const g = await gradeResultsWith(f.result, async (task) => {
      const name = logs.get(task);
      if (!name) return null;
      const log = vscode.Uri.joinPath(dir, name);
      return { file: displayPath(log), text: await readText(log) };
    });
    warnings.push(...g.warnings);
    const dcdTagged = [...g.grades.values()].some((t) => t.total > 0 && t.tagged * 2 >= t.total);
    return { ...f, result: g.result, ...(dcdTagged ? { dcdTagged } : {}) };
  }));
}

/** Sample logs in a folder, newest per task (file names carry the timestamp). */
export async function samplesIn(dir: vscode.Uri): Promise<EvalRunSamples[]> {
  let entries: [string, vscode.FileType][];
  try { entries = await vscode.workspace.fs.readDirectory(dir); } catch { return []; }
  const best = new Map<string, string>();
  for (const [name, type] of entries) {
    if (!(type & vscode.FileType.File)) continue;
    const task = taskFromSamplesFileName(name);
    if (!task) continue;
    const cur = best.get(task);
    if (!cur || name > cur) best.set(task, name);
  }
  return [...best.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([task, name]) => {
    const uri = vscode.Uri.joinPath(dir, name);
    return { task, label: displayPath(uri), uri: uri.toString() };
  });
}

/** `samples_*.jsonl` files of the workspace. */
export async function workspaceSamples(): Promise<vscode.Uri[]> {
  const uris = await vscode.workspace.findFiles('**/samples_*.jsonl', EXCLUDE, 5000);
  return uris.sort((a, b) => a.toString().localeCompare(b.toString()));
}

/** Writes a text file: atomically (temp file + rename) on disk, through the workspace file system elsewhere. */
export async function writeTextAtomic(uri: vscode.Uri, text: string): Promise<void> {
  if (uri.scheme === 'file') {
    await writeFileAtomic(uri.fsPath, text);
  } else {
    await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
  }
}
