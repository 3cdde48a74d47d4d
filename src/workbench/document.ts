/**
 * The custom document of the workbench: the core CorpusDocument of one file,
 * its background work (the streaming index, token columns) and saving.
 *
 * A local file over IN_MEMORY_BYTES is never read whole: the core indexes it in chunks (the first
 * rows are served after the first chunk; `onDidProgress` reports the rest),
 * reads rows back by byte offset, searches in a worker thread, and saves by
 * copying untouched line runs from the file into the temporary file that
 * replaces it. The version (mtime, size, SHA-256) is hashed during the index
 * and re-checked by a streamed hash before the rename. The one thing such a
 * file cannot survive is being rewritten in place (not renamed over) under
 * unsaved edits: the untouched lines the save would copy are gone, so the
 * save stops with FileChangedInPlaceError and writes nothing (Reload, or
 * Compare, still work).
 *
 * The document remembers the version of the file it was loaded from
 * (core/io/fileVersion.ts) and saves only if the file is still at that version:
 * a change made on disk meanwhile (a trace save, `git pull`, `dcd build`) is
 * reloaded when the document is clean, and is a conflict for the provider to
 * resolve when it is dirty; it is never written over unread.
 */
import * as vscode from 'vscode';
import { promises as fs } from 'node:fs';
import { CorpusDocument, FileSource, WorkerSearchRunner, type ByteSource, type DocumentEdit, type IndexProgress } from '../core/workbench';
import { writeFileAtomic } from '../core/io/atomicWrite';
import {
  compareVersions, currentVersion, externalChangeAction, FileChangedError, readVersioned, versionOf, writeFileIfUnchanged, type FileVersion,
} from '../core/io/fileVersion';
import { computeTokenColumns, type TokenProgress } from './tokens';

/** Least time between two token progress events (the columns fill in a few rows at a time). */
const TOKEN_EVENT_MS = 500;

export class WorkbenchDocument implements vscode.CustomDocument {
  private core: CorpusDocument;
  private loadedPromise: Promise<void>;
  private abort = new AbortController();
  private readonly changeEmitter = new vscode.EventEmitter<{ reason: string }>();
  private readonly tokenEmitter = new vscode.EventEmitter<TokenProgress>();
  private readonly loadedEmitter = new vscode.EventEmitter<void>();
  /** The document changed: an edit, an undo or redo, a revert. */
  readonly onDidChange = this.changeEmitter.event;
  /** Token columns progressed. */
  readonly onDidTokenize = this.tokenEmitter.event;
  readonly onDidLoad = this.loadedEmitter.event;
  tokenProgress: TokenProgress = { done: 0, total: 0, finished: false };
  /** ms from the start of reading to the first row summaries, and to all of them. */
  readonly timings: { read?: number; index?: number; loaded?: number } = {};
  private loadedFlag = false;

  static async create(uri: vscode.Uri, backupId: string | undefined): Promise<WorkbenchDocument> {
    const t0 = performance.now();
    if (!backupId) {
      if (uri.scheme === 'file') { const local = await openLocal(uri); return new WorkbenchDocument(uri, local.bytes, local.version, t0); }
      const { bytes, version } = await readWithVersion(uri);
      return new WorkbenchDocument(uri, bytes, version, t0);
    }
    // Hot exit: the backup holds the unsaved bytes and the version of the file they were based on.
    const backup = parseBackupId(backupId);
    const bytes = backup.uri.scheme === 'file' ? (await openLocal(backup.uri)).bytes : await vscode.workspace.fs.readFile(backup.uri);
    const based = backup.version ?? (uri.scheme === 'file' ? await currentVersion(uri.fsPath).catch(() => null) : (await readWithVersion(uri).catch(() => null))?.version ?? null);
    const doc = new WorkbenchDocument(uri, bytes, based, t0);
    // Unsaved content: a change on disk must never replace it silently.
    doc.savedDepth = Number.NaN;
    return doc;
  }

  private readonly watcher: vscode.FileSystemWatcher | undefined;
  private readonly diskChangeEmitter = new vscode.EventEmitter<void>();
  /** The file changed on disk under unsaved edits (saving will ask what to do). */
  readonly onDidConflict = this.diskChangeEmitter.event;
  /** Saves, reloads and reactions to the watcher, one at a time: each compares against the version the previous one left. */
  private queue: Promise<unknown> = Promise.resolve();

  private loadedVersion: FileVersion | null = null;
  /** Cores whose file version is their source's (hashed by the streaming index). */
  private readonly versionFromSource = new WeakSet<CorpusDocument>();
  private readonly searchRunner = new WorkerSearchRunner();
  private readonly progressEmitter = new vscode.EventEmitter<IndexProgress>();
  /** The streaming index progressed (bytes read, rows found). */
  readonly onDidProgress = this.progressEmitter.event;
  indexProgress: IndexProgress = { bytes: 0, totalBytes: 0, rows: 0, done: false };

  /** `version` 'source': the version is the source's own, known once its streaming index has hashed it. */
  private constructor(readonly uri: vscode.Uri, bytes: Uint8Array | ByteSource, version: FileVersion | null | 'source', t0: number) {
    this.timings.read = performance.now() - t0;
    this.core = this.makeCore(bytes, version);
    this.loadedPromise = this.startLoading(t0);
    if (uri.scheme === 'file') {
      const slash = uri.path.lastIndexOf('/');
      this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(uri.with({ path: uri.path.slice(0, slash) }), uri.path.slice(slash + 1)));
      // An atomic rename (ours, git's, dcd build's) can arrive as a create.
      const onDisk = () => { void this.serialized(() => this.onDiskChange()).catch(() => undefined); };
      this.watcher.onDidChange(onDisk);
      this.watcher.onDidCreate(onDisk);
    }
  }

  /** The version of the file the in-memory content is based on (null: the file did not exist). */
  get version(): FileVersion | null { return this.loadedVersion; }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async onDiskChange(): Promise<void> {
    await this.loadedPromise.catch(() => undefined);
    const now = await currentVersion(this.uri.fsPath).catch(() => null);
    let action = externalChangeAction(this.loadedVersion, now, this.isDirty);
    if (action === 'reload') {
      const local = await openLocal(this.uri).catch(() => null);
      // An edit may have come in while the file was read: decide again on what is true now, and load in the same tick.
      action = local ? externalChangeAction(this.loadedVersion, now, this.isDirty) : 'ignore';
      if (local && action === 'reload') { await this.load(local.bytes, local.version); return; }
      if (local && local.bytes instanceof FileSource) local.bytes.release();
    }
    if (action === 'adopt') this.loadedVersion = now;
    else if (action === 'conflict') {
      // One warning per change on disk, however many events the watcher reports for it.
      const seen = now?.hash ?? 'deleted';
      if (seen !== this.reportedConflict) this.diskChangeEmitter.fire();
      this.reportedConflict = seen;
    }
  }
  private reportedConflict: string | undefined;

  get doc(): CorpusDocument { return this.core; }
  get isLoaded(): boolean { return this.loadedFlag; }

  /** Resolves once every row is summarised. */
  loaded(): Promise<void> { return this.loadedPromise; }

  /** A core document on bytes or a source; a source is indexed in the background, with progress. */
  private makeCore(bytes: Uint8Array | ByteSource, version: FileVersion | null | 'source'): CorpusDocument {
    const core = new CorpusDocument(bytes);
    core.searchRunner = this.searchRunner;
    if (version !== 'source') this.loadedVersion = version;
    if (!core.complete) {
      const source = bytes as ByteSource;
      void core.indexSource({
        signal: this.abort.signal,
        onProgress: (p) => {
          if (core !== this.core) return;
          this.indexProgress = p;
          this.progressEmitter.fire(p);
        },
      }).catch(() => undefined);
      if (version === 'source' && source instanceof FileSource) this.versionFromSource.add(core);
    } else {
      this.indexProgress = { bytes: core.source.size, totalBytes: core.source.size, rows: core.rows().length, done: true };
    }
    return core;
  }

  private startLoading(t0: number): Promise<void> {
    const core = this.core;
    const signal = this.abort.signal;
    void core.whenFirstRows().then(() => { if (core === this.core) this.timings.index = performance.now() - t0; });
    const p = core.summarizeAll({ signal }).then(() => {
      if (core !== this.core) return;
      const source = core.source;
      if (this.versionFromSource.has(core) && source instanceof FileSource && core.sourceHash) {
        this.loadedVersion = { mtimeMs: source.mtimeMs, size: source.size, hash: core.sourceHash };
      }
      this.timings.loaded = performance.now() - t0;
      this.loadedFlag = true;
      this.loadedEmitter.fire();
      void this.tokenize();
    });
    p.catch(() => undefined);
    return p;
  }

  /** Fills token columns in the background (again after rows were added). */
  async tokenize(): Promise<void> {
    const core = this.core;
    let fired = -Infinity;
    try {
      await computeTokenColumns(core, (p) => {
        if (core !== this.core) return;
        this.tokenProgress = p;
        // Each event makes every open webview fetch its rows on screen again: a few a second, and the last one.
        const now = performance.now();
        if (!p.finished && now - fired < TOKEN_EVENT_MS) return;
        fired = now;
        this.tokenEmitter.fire(p);
      }, this.abort.signal);
    } catch (err) {
      if (this.abort.signal.aborted || core !== this.core) return;
      this.tokenProgress = { ...this.tokenProgress, finished: true, error: (err as Error).message };
      this.tokenEmitter.fire(this.tokenProgress);
    }
  }

  /** Edits applied minus edits undone, and that count when last saved: the document is dirty when they differ. */
  private depth = 0;
  private savedDepth = 0;
  get isDirty(): boolean { return this.depth !== this.savedDepth; }
  markSaved(): void { this.savedDepth = this.depth; }

  /** Recomputes every token column (the mask settings changed). */
  async retokenize(): Promise<void> {
    this.core.clearTokens();
    this.tokenProgress = { done: 0, total: this.tokenProgress.total, finished: false };
    this.tokenEmitter.fire(this.tokenProgress);
    await this.tokenize();
  }

  apply(edit: DocumentEdit): void {
    this.depth++;
    this.core.apply(edit);
    this.changeEmitter.fire({ reason: edit.label });
    if (edit.changes.some((c) => c.kind === 'insert')) void this.tokenize();
  }

  revertEdit(edit: DocumentEdit): void {
    this.depth--;
    this.core.revert(edit);
    this.changeEmitter.fire({ reason: `Undo ${edit.label}` });
  }

  /**
   * Writes the document to its file if the file is still at `expected` (by
   * default the version it was loaded from or last saved as); throws
   * FileChangedError and writes nothing otherwise.
   */
  save(expected?: FileVersion | null): Promise<void> {
    return this.serialized(async () => {
      await this.loadedPromise;
      if (expected === undefined) expected = this.loadedVersion;
      if (this.uri.scheme === 'file') {
        // Streamed: untouched line runs are copied from the file read, edited lines written anew.
        this.loadedVersion = await writeFileIfUnchanged(this.uri.fsPath, expected, this.core.chunks());
        return;
      }
      const bytes = this.core.serialize();
      // Other file systems offer no atomic rename: the same check, just before the write.
      const current = (await readWithVersion(this.uri).catch(() => null))?.version ?? null;
      if (compareVersions(expected, current) === 'changed') throw new FileChangedError(this.uri.path, expected, current);
      await vscode.workspace.fs.writeFile(this.uri, bytes);
      this.loadedVersion = versionOf(bytes, (await vscode.workspace.fs.stat(this.uri)).mtime);
    });
  }

  /** Save As: writes a copy (VS Code asks before replacing an existing file); this document stays tied to its own file. */
  async saveAs(target: vscode.Uri): Promise<void> {
    await this.loadedPromise;
    if (target.scheme === 'file') await writeFileAtomic(target.fsPath, this.core.chunks());
    else await vscode.workspace.fs.writeFile(target, this.core.serialize());
  }

  /** Reloads from disk (File: Revert, Reload after a conflict). Earlier edits no longer apply to the new lines. */
  reload(): Promise<void> {
    return this.serialized(async () => {
      if (this.uri.scheme === 'file') { const local = await openLocal(this.uri); await this.load(local.bytes, local.version); return; }
      const { bytes, version } = await readWithVersion(this.uri);
      await this.load(bytes, version);
    });
  }

  private async load(bytes: Uint8Array | ByteSource, version: FileVersion | null | 'source'): Promise<void> {
    this.abort.abort();
    this.abort = new AbortController();
    const old = this.core;
    this.core = this.makeCore(bytes, version);
    old.dispose();
    this.loadedFlag = false;
    this.savedDepth = this.depth;
    this.loadedPromise = this.startLoading(performance.now());
    this.changeEmitter.fire({ reason: 'Revert' });
  }

  async backup(destination: vscode.Uri): Promise<vscode.CustomDocumentBackup> {
    await this.loadedPromise;
    if (destination.scheme === 'file') await writeFileAtomic(destination.fsPath, this.core.chunks());
    else await vscode.workspace.fs.writeFile(destination, this.core.serialize());
    return {
      id: JSON.stringify({ uri: destination.toString(), version: this.loadedVersion }),
      delete: () => { void vscode.workspace.fs.delete(destination).then(undefined, () => undefined); },
    };
  }

  dispose(): void {
    this.abort.abort();
    this.searchRunner.dispose();
    this.core.dispose();
    this.progressEmitter.dispose();
    this.watcher?.dispose();
    this.diskChangeEmitter.dispose();
    this.changeEmitter.dispose();
    this.tokenEmitter.dispose();
    this.loadedEmitter.dispose();
  }
}

/**
 * Files up to this size are read into memory, as they always were: their
 * unsaved edits survive any change on disk, even a rewrite in place. Bigger
 * ones are read on demand from the open file (see the class comment).
 */
export const IN_MEMORY_BYTES = 64 * 1024 * 1024;

/** A local file: its bytes and version (small), or the file opened for reading on demand, its version hashed by the index. */
async function openLocal(uri: vscode.Uri): Promise<{ bytes: Uint8Array | FileSource; version: FileVersion | null | 'source' }> {
  try {
    const st = await fs.stat(uri.fsPath);
    if (st.size <= IN_MEMORY_BYTES) {
      const read = await readVersioned(uri.fsPath);
      if (read) return read;
    }
    return { bytes: await FileSource.open(uri.fsPath), version: 'source' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw vscode.FileSystemError.FileNotFound(uri);
    throw err;
  }
}

/** A file's bytes and version through the file system API (other file systems than the local one). */
async function readWithVersion(uri: vscode.Uri): Promise<{ bytes: Uint8Array; version: FileVersion | null }> {
  const stat = await vscode.workspace.fs.stat(uri);
  const bytes = await vscode.workspace.fs.readFile(uri);
  return { bytes, version: versionOf(bytes, stat.mtime) };
}

/** A backup id: JSON with the backup file and the version its content was based on; older ids are the bare URI. */
function parseBackupId(id: string): { uri: vscode.Uri; version: FileVersion | null | undefined } {
  if (!id.startsWith('{')) return { uri: vscode.Uri.parse(id), version: undefined };
  const parsed = JSON.parse(id) as { uri: string; version: FileVersion | null };
  return { uri: vscode.Uri.parse(parsed.uri), version: parsed.version };
}
