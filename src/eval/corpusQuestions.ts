/**
 * Training-corpus questions for the drill-down's "most similar questions" and
 * for "Check Contamination": the workspace's `*.dcd.jsonl` corpora (or any
 * picked JSONL/JSON file), read through VS Code's file system, with an n-gram
 * index cached until a file changes.
 */
import * as vscode from 'vscode';
import { getField, parseRecords, type TextItem } from '../core/eval/contamination';
import { NgramIndex } from '../core/eval/similarity';
import { parseJsonl } from '../core/io/jsonl';
import { setting, Settings } from '../services/config';
import { detectQuestionField, type CorpusOrigin } from './contaminationReport';
import { displayPath, readText } from './workspaceFiles';

export interface CorpusQuestions {
  label: string;
  items: TextItem[];
  /** For each item: its file and 0-based position among the file's records (as "Show Corpus Sample" counts). */
  origins: Array<CorpusOrigin & { uri: string }>;
  /** Files read, and records without a question (skipped). */
  files: string[];
  skipped: number;
}

/** The workspace's corpus files (the Corpora view's glob). */
export async function workspaceCorpora(): Promise<vscode.Uri[]> {
  const glob = setting<string>(Settings.corpusGlob, '**/*.dcd.jsonl');
  const uris = await vscode.workspace.findFiles(glob, '**/node_modules/**', 500);
  return uris.sort((a, b) => a.toString().localeCompare(b.toString()));
}

/** Records of a file: JSONL (malformed lines skipped) or a JSON array. */
function records(text: string, file: string): Record<string, unknown>[] {
  const t = text.trimStart();
  if (t.startsWith('[')) return parseRecords(text, file);
  return parseJsonl<Record<string, unknown>>(text).flatMap((r) => (r.kind === 'value' ? [r.value] : []));
}

/** Questions of corpus files. `field` defaults to `question`, else the first common question field of each file. */
export async function readCorpusQuestions(uris: readonly vscode.Uri[], label: string, field?: string): Promise<CorpusQuestions> {
  const out: CorpusQuestions = { label, items: [], origins: [], files: [], skipped: 0 };
  for (const uri of uris) {
    const file = displayPath(uri);
    const recs = records(await readText(uri), file);
    const f = field ?? (recs.some((r) => typeof r.question === 'string') ? 'question' : detectQuestionField(recs, getField) ?? 'question');
    out.files.push(file);
    recs.forEach((r, index) => {
      const q = getField(r, f);
      if (typeof q !== 'string' || !q.trim()) { out.skipped++; return; }
      const id = ['id', 'unique_id', 'doc_id', 'question_id'].map((k) => r[k]).find((v) => typeof v === 'string' || typeof v === 'number');
      out.items.push({ id: id === undefined ? null : String(id), text: q });
      out.origins.push({ file, index, uri: uri.toString() });
    });
  }
  return out;
}

interface CacheEntry { key: string; corpus: CorpusQuestions; index: NgramIndex }

/** Caches one index per (corpus, n), keyed by the files' modification times and sizes. */
export class CorpusIndexCache {
  private readonly entries = new Map<string, CacheEntry>();

  async get(uris: readonly vscode.Uri[], label: string, n: number): Promise<CacheEntry> {
    const stats = await Promise.all(uris.map(async (u) => {
      const st = await vscode.workspace.fs.stat(u);
      return `${u.toString()}@${st.mtime}:${st.size}`;
    }));
    const key = `${n}|${stats.join('|')}`;
    const slot = `${n}|${uris.map((u) => u.toString()).join('|')}`;
    const hit = this.entries.get(slot);
    if (hit && hit.key === key) return hit;
    const corpus = await readCorpusQuestions(uris, label);
    const entry = { key, corpus, index: new NgramIndex(corpus.items.map((i) => i.text), n) };
    this.entries.set(slot, entry);
    return entry;
  }

  clear(): void { this.entries.clear(); }
}
