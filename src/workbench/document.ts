/**
 * The custom document of the workbench: the core CorpusDocument of one file,
 * its background work (summarising every row, token columns) and saving.
 *
 * The document remembers the version of the file it was loaded from
 * (core/io/fileVersion.ts) and saves only if the file is still at that version:
 * a change made on disk meanwhile (a trace save, `git pull`, `dcd build`) is
 * reloaded when the document is clean, and is a conflict for the provider to
 * resolve when it is dirty; it is never written over unread.
 */
import * as vscode from 'vscode';
import { CorpusDocument, type DocumentEdit } from '../core/workbench';
import { writeFileAtomic } from '../core/io/atomicWrite';
import {
  compareVersions, externalChangeAction, FileChangedError, readVersioned, versionOf, writeFileIfUnchanged, type FileVersion,
} from '../core/io/fileVersion';
import { computeTokenColumns, type TokenProgress } from './tokens';

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
      const { bytes, version } = await readWithVersion(uri);
      return new WorkbenchDocument(uri, bytes, version, t0);
    }
    // Hot exit: the backup holds the unsaved bytes and the version of the file they were based on.
    const backup = parseBackupId(backupId);
    const bytes = await vscode.workspace.fs.readFile(backup.uri);
    const doc = new WorkbenchDocument(uri, bytes, backup.version ?? (await readWithVersion(uri).catch(() => null))?.version ?? null, t0);
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

  private constructor(readonly uri: vscode.Uri, bytes: Uint8Array, private loadedVersion: FileVersion | null, t0: number) {
    this.timings.read = performance.now() - t0;
    this.core = new CorpusDocument(bytes);
    this.timings.index = performance.now() - t0;
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
    const read = await readWithVersion(this.uri).catch(() => null);
    const action = externalChangeAction(this.loadedVersion, read?.version ?? null, this.isDirty);
    if (action === 'adopt') this.loadedVersion = read!.version;
    else if (action === 'reload') await this.load(read!.bytes, read!.version);
    else if (action === 'conflict') {
      // One warning per change on disk, however many events the watcher reports for it.
      const seen = read?.version?.hash ?? 'deleted';
      if (seen !== this.reportedConflict) this.diskChangeEmitter.fire();
      this.reportedConflict = seen;
    }
  }
  private reportedConflict: string | undefined;

  get doc(): CorpusDocument { return this.core; }
  get isLoaded(): boolean { return this.loadedFlag; }

  /** Resolves once every row is summarised. */
  loaded(): Promise<void> { return this.loadedPromise; }

  private startLoading(t0: number): Promise<void> {
    const core = this.core;
    const signal = this.abort.signal;
    const p = core.summarizeAll({ signal }).then(() => {
      if (core !== this.core) return;
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
    try {
      await computeTokenColumns(core, (p) => {
        if (core !== this.core) return;
        this.tokenProgress = p;
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
  save(expected: FileVersion | null = this.loadedVersion): Promise<void> {
    return this.serialized(async () => {
      const bytes = this.core.serialize();
      if (this.uri.scheme === 'file') {
        this.loadedVersion = await writeFileIfUnchanged(this.uri.fsPath, expected, bytes);
        return;
      }
      // Other file systems offer no atomic rename: the same check, just before the write.
      const current = (await readWithVersion(this.uri).catch(() => null))?.version ?? null;
      if (compareVersions(expected, current) === 'changed') throw new FileChangedError(this.uri.path, expected, current);
      await vscode.workspace.fs.writeFile(this.uri, bytes);
      this.loadedVersion = versionOf(bytes, (await vscode.workspace.fs.stat(this.uri)).mtime);
    });
  }

  /** Save As: writes a copy (VS Code asks before replacing an existing file); this document stays tied to its own file. */
  async saveAs(target: vscode.Uri): Promise<void> {
    const bytes = this.core.serialize();
    if (target.scheme === 'file') await writeFileAtomic(target.fsPath, bytes);
    else await vscode.workspace.fs.writeFile(target, bytes);
  }

  /** Reloads from disk (File: Revert, Reload after a conflict). Earlier edits no longer apply to the new lines. */
  reload(): Promise<void> {
    return this.serialized(async () => {
      const { bytes, version } = await readWithVersion(this.uri);
      await this.load(bytes, version);
    });
  }

  private async load(bytes: Uint8Array, version: FileVersion | null): Promise<void> {
    this.loadedVersion = version;
    this.abort.abort();
    this.abort = new AbortController();
    this.core = new CorpusDocument(bytes);
    this.loadedFlag = false;
    this.savedDepth = this.depth;
    this.loadedPromise = this.startLoading(performance.now());
    this.changeEmitter.fire({ reason: 'Revert' });
  }

  async backup(destination: vscode.Uri): Promise<vscode.CustomDocumentBackup> {
    await vscode.workspace.fs.writeFile(destination, this.core.serialize());
    return {
      id: JSON.stringify({ uri: destination.toString(), version: this.loadedVersion }),
      delete: () => { void vscode.workspace.fs.delete(destination).then(undefined, () => undefined); },
    };
  }

  dispose(): void {
    this.abort.abort();
    this.watcher?.dispose();
    this.diskChangeEmitter.dispose();
    this.changeEmitter.dispose();
    this.tokenEmitter.dispose();
    this.loadedEmitter.dispose();
  }
}

/** A file's bytes and version: exact (hashed, stat-checked) for local files, from the file system API otherwise. */
async function readWithVersion(uri: vscode.Uri): Promise<{ bytes: Uint8Array; version: FileVersion | null }> {
  if (uri.scheme === 'file') {
    const read = await readVersioned(uri.fsPath);
    if (!read) throw vscode.FileSystemError.FileNotFound(uri);
    return read;
  }
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
