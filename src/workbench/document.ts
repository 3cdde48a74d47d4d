/**
 * The custom document of the workbench: the core CorpusDocument of one file,
 * its background work (summarising every row, token columns) and saving.
 */
import * as vscode from 'vscode';
import { CorpusDocument, type DocumentEdit } from '../core/corpusDocument';
import { writeFileAtomic } from '../core/atomicWrite';
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
    // Hot exit: the backup holds the unsaved bytes; the document stays tied to `uri`.
    const from = backupId ? vscode.Uri.parse(backupId) : uri;
    const bytes = await vscode.workspace.fs.readFile(from);
    return new WorkbenchDocument(uri, bytes, t0);
  }

  private readonly watcher: vscode.FileSystemWatcher | undefined;

  private constructor(readonly uri: vscode.Uri, bytes: Uint8Array, t0: number) {
    this.timings.read = performance.now() - t0;
    this.core = new CorpusDocument(bytes);
    this.timings.index = performance.now() - t0;
    this.loadedPromise = this.startLoading(t0);
    // A clean document follows changes made on disk by others (git, dcd build, a text editor).
    if (uri.scheme === 'file') {
      const slash = uri.path.lastIndexOf('/');
      this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(uri.with({ path: uri.path.slice(0, slash) }), uri.path.slice(slash + 1)));
      this.watcher.onDidChange(() => { void this.onDiskChange(); });
    }
  }

  private async onDiskChange(): Promise<void> {
    if (this.isDirty) return;
    const bytes = await vscode.workspace.fs.readFile(this.uri).then((b) => b, () => null);
    // Our own save reads back equal: nothing to do.
    if (!bytes || this.isDirty) return;
    if (Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(this.core.serialize())) return;
    await this.reload(bytes);
  }

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

  /** Writes the document: atomically for local files, through the file system API otherwise. */
  async saveTo(target: vscode.Uri): Promise<void> {
    const bytes = this.core.serialize();
    if (target.scheme === 'file') await writeFileAtomic(target.fsPath, bytes);
    else await vscode.workspace.fs.writeFile(target, bytes);
  }

  /** Reloads from disk (File: Revert, or a change on disk). Earlier edits no longer apply to the new lines. */
  async reload(fromDisk?: Uint8Array): Promise<void> {
    const bytes = fromDisk ?? await vscode.workspace.fs.readFile(this.uri);
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
      id: destination.toString(),
      delete: () => { void vscode.workspace.fs.delete(destination).then(undefined, () => undefined); },
    };
  }

  dispose(): void {
    this.abort.abort();
    this.watcher?.dispose();
    this.changeEmitter.dispose();
    this.tokenEmitter.dispose();
    this.loadedEmitter.dispose();
  }
}
