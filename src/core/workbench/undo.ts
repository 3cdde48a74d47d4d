/**
 * Document edits as line-entry changes, and a linear undo/redo history of
 * them for callers without VS Code's edit stack.
 */
import type { CorpusDocument, LineEntry } from './document';

/** One edit step: line entries replaced, removed or inserted, located by key. */
export type LineChange =
  | { kind: 'replace'; before: LineEntry; after: LineEntry }
  | { kind: 'insert'; entry: LineEntry; afterKey: number | null }
  | { kind: 'remove'; entry: LineEntry; afterKey: number | null };

export interface DocumentEdit {
  label: string;
  changes: LineChange[];
}

/**
 * A linear undo/redo history of document edits with a saved point, for
 * callers without VS Code's edit stack (the CLI, tests).
 */
export class EditHistory {
  private done: DocumentEdit[] = [];
  private undone: DocumentEdit[] = [];
  private savedAt = 0;

  constructor(private readonly doc: CorpusDocument) {}

  push(edit: DocumentEdit): void {
    this.doc.apply(edit);
    this.done.push(edit);
    if (this.savedAt > this.done.length - 1) this.savedAt = -1; // the saved state can no longer be reached by redo
    this.undone = [];
  }

  undo(): DocumentEdit | undefined {
    const e = this.done.pop();
    if (e) { this.doc.revert(e); this.undone.push(e); }
    return e;
  }

  redo(): DocumentEdit | undefined {
    const e = this.undone.pop();
    if (e) { this.doc.apply(e); this.done.push(e); }
    return e;
  }

  markSaved(): void { this.savedAt = this.done.length; }
  get dirty(): boolean { return this.savedAt !== this.done.length; }
  get canUndo(): boolean { return this.done.length > 0; }
  get canRedo(): boolean { return this.undone.length > 0; }
}
