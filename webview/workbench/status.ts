/** The status line in the header: token-column progress, and messages that show for a few seconds. */
import { statusEl } from './dom';

export interface TokenProgress { done: number; total: number; finished: boolean; error?: string }

export let tokenProgress: TokenProgress = { done: 0, total: 0, finished: false, error: undefined };

export interface IndexProgress { bytes: number; totalBytes: number; rows: number; done: boolean }
/** The host's streaming index of a big file (null: none running). */
export let indexProgress: IndexProgress | null = null;

export function setIndexProgress(p: IndexProgress | null): void {
  indexProgress = p && !p.done ? p : null;
  document.body.dataset.indexing = indexProgress ? 'running' : 'done';
  renderStatus();
}

/** "reading 45% · 5,600 rows…" while the host indexes the file. */
export function indexText(p: IndexProgress): string {
  const pct = p.totalBytes ? Math.floor((100 * p.bytes) / p.totalBytes) : 0;
  return `reading the file: ${pct}% · ${p.rows.toLocaleString('en-US')} rows so far…`;
}

export function setTokenProgress(p: TokenProgress): void {
  tokenProgress = { ...p, error: p.error };
  renderStatus();
}

export function renderStatus(): void {
  const p = tokenProgress;
  let text = '';
  if (indexProgress) text = indexText(indexProgress);
  else if (p.error) text = `token columns failed: ${p.error}`;
  else if (p.total && !p.finished) text = `tokenizing ${p.done} / ${p.total}…`;
  else if (p.total) text = `${p.total} ${p.total === 1 ? 'sample' : 'samples'} tokenized`;
  statusEl.textContent = text;
  document.body.dataset.tokens = p.finished ? 'done' : 'pending';
}

export function flash(text: string): void {
  statusEl.textContent = text;
  setTimeout(renderStatus, 3000);
}
