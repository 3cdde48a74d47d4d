/** Reads corpus files of the workspace through VS Code's file system (works for remote workspaces too). */
import * as vscode from 'vscode';
import { parseCorpus, summarizeCorpus, type CorpusSummary } from '../core/corpus/summary';
import type { JsonlRow } from '../core/io/jsonl';
import type { DcdSample } from '../core/trace/model';

export interface LoadedCorpus {
  uri: vscode.Uri;
  rows: JsonlRow<DcdSample>[];
  summary: CorpusSummary;
}

const decoder = new TextDecoder();

export async function loadCorpus(uri: vscode.Uri): Promise<LoadedCorpus> {
  const text = decoder.decode(await vscode.workspace.fs.readFile(uri));
  const rows = parseCorpus(text);
  return { uri, rows, summary: summarizeCorpus(rows) };
}
