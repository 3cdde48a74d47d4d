/**
 * Trace documents: every sample of a corpus opens as an editable document in
 * VS Code's own editor, through this FileSystemProvider.
 *
 * URI: `dcd-trace:/<corpus path>/<sample id>.dcdtrace` (the `.dcdtrace` suffix
 * gives the document the `dcd-trace` language). A corpus outside the `file`
 * scheme keeps its scheme and authority in the query.
 *
 * Reading renders the sample's trace; writing parses the edited trace back
 * into fields and replaces that one JSONL line atomically (src/core/trace/traceEdit.ts).
 * A text whose structure is broken is refused with the parser's message and
 * nothing is written.
 *
 * Each sample has its own modification stamp, which changes only when its own
 * line changes: saving one trace of a corpus never makes another open trace
 * of the same corpus look "newer on disk".
 *
 * A save never writes over a change it did not read: the sample's line must
 * still be the one the document was read from, and the corpus is written only
 * if it is still at the version the save read (compare-and-swap,
 * core/io/fileVersion.ts, the same write the workbench uses), so a workbench
 * save, `git pull` or `dcd build` in between is never discarded.
 */
import * as vscode from 'vscode';
import { FileChangedError, readVersioned, writeFileIfUnchanged, type FileVersion } from '../core/io/fileVersion';
import { findSampleLine, saveTraceToCorpus, traceFieldsOf, TraceLineChangedError, type TraceSaveResult } from '../core/trace/traceEdit';
import { PRESETS, parseTrace, renderTrace, TraceStructureError } from '../core/trace/template';
import { setting, Settings } from '../services/config';

export const TRACE_SCHEME = 'dcd-trace';
export const TRACE_SUFFIX = '.dcdtrace';

/** The trace document URI of a sample. */
export function traceUri(corpus: vscode.Uri, id: string): vscode.Uri {
  const query = corpus.scheme === 'file' ? '' : new URLSearchParams({ scheme: corpus.scheme, authority: corpus.authority }).toString();
  return vscode.Uri.from({ scheme: TRACE_SCHEME, path: `${corpus.path}/${encodeURIComponent(id)}${TRACE_SUFFIX}`, query });
}

/** The corpus and sample id of a trace document URI. */
export function parseTraceUri(uri: vscode.Uri): { corpus: vscode.Uri; id: string } {
  if (uri.scheme !== TRACE_SCHEME) throw vscode.FileSystemError.FileNotFound(uri);
  const slash = uri.path.lastIndexOf('/');
  if (slash <= 0) throw vscode.FileSystemError.FileNotFound(uri);
  let last = uri.path.slice(slash + 1);
  if (last.endsWith(TRACE_SUFFIX)) last = last.slice(0, -TRACE_SUFFIX.length);
  const q = new URLSearchParams(uri.query);
  const corpus = vscode.Uri.from({ scheme: q.get('scheme') ?? 'file', authority: q.get('authority') ?? '', path: uri.path.slice(0, slash) });
  return { corpus, id: decodeURIComponent(last) };
}

/** What a trace document was read from: the sample, and the preset its text parses with. */
export interface TraceEntry {
  uri: vscode.Uri;
  corpus: vscode.Uri;
  id: string;
  /** The sample as last read or written. */
  sample: Record<string, unknown>;
  /** 0-based line of the sample in the corpus file. */
  line: number;
  /** The sample's raw line (BOM stripped). */
  raw: string;
  preset: string;
  text: string;
  mtime: number;
}

/** A successful save. */
export interface TraceSaveEvent {
  entry: TraceEntry;
  result: TraceSaveResult;
  /** The draft changed in this save. */
  draftChanged: boolean;
}

interface CorpusCache {
  stamp: string;
  mtime: number;
  text: string;
}

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const encoder = new TextEncoder();

/** The preset a trace text parses with: the configured one first, then the others; null if none. */
export function detectPreset(text: string, preferred = setting(Settings.templatePreset, 'paper')): string | null {
  for (const name of [preferred, ...Object.keys(PRESETS).filter((p) => p !== preferred)]) {
    try { parseTrace(text, name); return name; } catch { /* next */ }
  }
  return null;
}

export class TraceFileSystem implements vscode.FileSystemProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;
  private readonly saved = new vscode.EventEmitter<TraceSaveEvent>();
  /** Fires after a trace was written back to its corpus. */
  readonly onDidSave = this.saved.event;
  private readonly entries = new Map<string, TraceEntry>();
  private readonly corpora = new Map<string, CorpusCache>();
  private readonly watchers = new Map<string, { watcher: vscode.FileSystemWatcher; refs: number }>();
  /**
   * The raw line each trace document's text was read from (or last saved as).
   * Not the entry's: a watcher reloads the entry, but a dirty document keeps
   * the text of the line it read.
   */
  private readonly served = new Map<string, string>();

  /** The entry of an open trace document (undefined before it was read). */
  entry(uri: vscode.Uri): TraceEntry | undefined {
    return this.entries.get(uri.toString());
  }

  private async corpusText(corpus: vscode.Uri): Promise<CorpusCache> {
    const key = corpus.toString();
    const st = await vscode.workspace.fs.stat(corpus);
    const stamp = `${st.mtime}:${st.size}`;
    const cached = this.corpora.get(key);
    if (cached && cached.stamp === stamp) return cached;
    const text = decoder.decode(await vscode.workspace.fs.readFile(corpus));
    const entry = { stamp, mtime: st.mtime, text };
    this.corpora.set(key, entry);
    return entry;
  }

  /** Reads the sample behind a trace URI and (re)builds its entry. */
  private async load(uri: vscode.Uri): Promise<TraceEntry> {
    const { corpus, id } = parseTraceUri(uri);
    let cache: CorpusCache;
    try {
      cache = await this.corpusText(corpus);
    } catch {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    const found = findSampleLine(cache.text, id);
    if (!found) throw vscode.FileSystemError.FileNotFound(uri);
    const key = uri.toString();
    const previous = this.entries.get(key);
    const rawText = typeof found.sample.text === 'string' ? found.sample.text : undefined;
    let preset = rawText !== undefined ? detectPreset(rawText) : null;
    let text: string;
    if (rawText !== undefined && preset) text = rawText;
    else {
      // The stored text does not parse (or is missing): show the trace rendered from the fields.
      const fields = traceFieldsOf(found.sample);
      if (!fields) throw new vscode.FileSystemError(`Sample "${id}" has neither a parsable "text" nor the fields question, draft, chain, verdict, final_answer.`);
      preset = setting(Settings.templatePreset, 'paper');
      text = renderTrace(fields, preset).text;
    }
    const unchanged = previous && previous.text === text;
    const entry: TraceEntry = { uri, corpus, id, sample: found.sample, line: found.line, raw: found.raw, preset, text, mtime: unchanged ? previous.mtime : Math.max(cache.mtime, (previous?.mtime ?? 0) + 1) };
    this.entries.set(key, entry);
    return entry;
  }

  watch(uri: vscode.Uri): vscode.Disposable {
    let corpus: vscode.Uri;
    try { corpus = parseTraceUri(uri).corpus; } catch { return new vscode.Disposable(() => undefined); }
    const key = corpus.toString();
    let w = this.watchers.get(key);
    if (!w) {
      const base = vscode.Uri.joinPath(corpus, '..');
      const name = corpus.path.slice(corpus.path.lastIndexOf('/') + 1);
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(base, name));
      const onChange = () => void this.corpusChanged(corpus);
      watcher.onDidChange(onChange);
      watcher.onDidCreate(onChange);
      watcher.onDidDelete(onChange);
      w = { watcher, refs: 0 };
      this.watchers.set(key, w);
    }
    w.refs++;
    const held = w;
    return new vscode.Disposable(() => {
      if (--held.refs === 0) { held.watcher.dispose(); this.watchers.delete(key); }
    });
  }

  /** A corpus changed on disk: tell VS Code about the open traces whose own line changed. */
  private async corpusChanged(corpus: vscode.Uri): Promise<void> {
    const events: vscode.FileChangeEvent[] = [];
    for (const entry of [...this.entries.values()]) {
      if (entry.corpus.toString() !== corpus.toString()) continue;
      const before = entry.text;
      try {
        const now = await this.load(entry.uri);
        if (now.text !== before) events.push({ type: vscode.FileChangeType.Changed, uri: entry.uri });
      } catch {
        this.entries.delete(entry.uri.toString());
        events.push({ type: vscode.FileChangeType.Deleted, uri: entry.uri });
      }
    }
    if (events.length) this.changed.fire(events);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    // The corpus path is the traces' folder (vscode.workspace.fs looks at the parent before writing).
    if (!uri.path.endsWith(TRACE_SUFFIX)) return { type: vscode.FileType.Directory, ctime: 0, mtime: 0, size: 0 };
    const entry = await this.load(uri);
    return { type: vscode.FileType.File, ctime: 0, mtime: entry.mtime, size: encoder.encode(entry.text).length };
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const entry = await this.load(uri);
    this.served.set(uri.toString(), entry.raw);
    return encoder.encode(entry.text);
  }

  /** The corpus bytes, with their version for the compare-and-swap write (local files). */
  private async readCorpus(corpus: vscode.Uri): Promise<{ bytes: Uint8Array; version: FileVersion | null }> {
    try {
      if (corpus.scheme !== 'file') return { bytes: await vscode.workspace.fs.readFile(corpus), version: null };
      const read = await readVersioned(corpus.fsPath);
      if (!read) throw new Error('the file does not exist');
      return read;
    } catch (err) {
      throw new vscode.FileSystemError(`Cannot read the corpus ${corpus.fsPath}: ${(err as Error).message}`);
    }
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array): Promise<void> {
    const key = uri.toString();
    const entry = this.entries.get(key) ?? await this.load(uri);
    const text = decoder.decode(content);
    const dirtyCorpus = vscode.workspace.textDocuments.find((d) => d.uri.toString() === entry.corpus.toString() && d.isDirty);
    if (dirtyCorpus) {
      throw new vscode.FileSystemError(`${vscode.workspace.asRelativePath(entry.corpus)} has unsaved changes in an editor: save or revert it before saving one of its traces.`);
    }
    const readLine = this.served.get(key) ?? entry.raw;
    let result: TraceSaveResult;
    for (let attempt = 0; ; attempt++) {
      const { bytes, version } = await this.readCorpus(entry.corpus);
      try {
        result = saveTraceToCorpus(bytes, entry.id, text, entry.preset, readLine);
        if (!result.changed.length) break;
        if (entry.corpus.scheme === 'file') await writeFileIfUnchanged(entry.corpus.fsPath, version, result.bytes);
        else await vscode.workspace.fs.writeFile(entry.corpus, result.bytes);
        break;
      } catch (err) {
        // The corpus changed between this read and the write: read it again; the line check decides whether the change concerns this sample.
        if (err instanceof FileChangedError && attempt < 2) continue;
        if (err instanceof TraceStructureError) {
          throw new vscode.FileSystemError(`Not saved: the trace structure is broken. ${err.message} Restore the stage tags and fixed lines (or undo), then save again.`);
        }
        if (err instanceof TraceLineChangedError) {
          throw new vscode.FileSystemError(`Not saved: ${err.message} Copy your edit, revert the trace (File: Revert File) to load the sample as it is now, then edit and save again.`);
        }
        throw new vscode.FileSystemError(`Not saved: ${(err as Error).message}`);
      }
    }
    this.served.set(key, result.line);
    const draftChanged = entry.sample.draft !== result.sample.draft;
    this.corpora.delete(entry.corpus.toString());
    const updated = await this.load(uri);
    // The saved bytes are the document's: keep the stamp monotonic even if the corpus mtime is coarse.
    updated.mtime = Math.max(updated.mtime, entry.mtime + 1);
    this.saved.fire({ entry: updated, result, draftChanged });
  }

  // A trace document is one file: no directories, renames or deletes.
  readDirectory(): [string, vscode.FileType][] { return []; }
  createDirectory(): void { /* the folders of trace URIs (corpus paths) always exist */ }
  delete(): void { throw vscode.FileSystemError.NoPermissions('Delete a sample in its corpus file, not through its trace.'); }
  rename(): void { throw vscode.FileSystemError.NoPermissions('Trace documents cannot be renamed.'); }

  dispose(): void {
    for (const w of this.watchers.values()) w.watcher.dispose();
    this.watchers.clear();
    this.changed.dispose();
    this.saved.dispose();
  }
}
