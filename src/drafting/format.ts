/**
 * Pure helpers of the local-model commands (no `vscode` import, unit-tested):
 * progress and summary texts, durations, model-path resolution, file names.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { BatchProgress, BatchSummary } from '../core/drafting/batch';
import type { DownloadProgress } from '../core/drafting/download';
import { formatBytes } from '../core/display/bytes';

/** "42s", "3m 05s", "1h 02m". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export { formatBytes };

/** The batch notification's message: "3/28 drafts · 41.2 tok/s · ETA 1m 05s". */
export function batchProgressMessage(p: BatchProgress): string {
  const parts = [`${p.done}/${p.total} drafts`];
  if (p.skipped) parts.push(`${p.skipped} already done`);
  if (p.tokensPerSecond > 0) parts.push(`${p.tokensPerSecond.toFixed(1)} tok/s`);
  parts.push(`ETA ${p.etaMs === null ? '…' : formatDuration(p.etaMs)}`);
  return parts.join(' · ');
}

/** The message shown when a batch ends (or is cancelled). */
export function batchSummaryMessage(s: BatchSummary): string {
  const v = s.verified;
  const head = s.cancelled
    ? `Drafting cancelled: ${s.written} draft(s) written, ${s.skipped + s.written}/${s.total} done (run it again to resume).`
    : `Wrote ${s.written} draft(s)${s.skipped ? ` (${s.skipped} already there)` : ''} to ${path.basename(s.out)}.`;
  const graded = `Verified: ${v.correct} correct, ${v.wrong} wrong, ${v.undecided} undecided, ${v.unverified} without gold${v.model_decided ? ` (${v.model_decided} decided by the model)` : ''}.`;
  return `${head} ${graded}`;
}

/** The download notification's message. */
export function downloadProgressMessage(p: DownloadProgress): string {
  if (p.phase === 'listing') return 'listing files…';
  if (p.phase === 'checking') return 'checking the model folder…';
  if (p.phase === 'done') return 'done';
  const total = p.total === null ? '' : ` / ${formatBytes(p.total)}`;
  const rate = p.bytesPerSecond > 0 ? ` · ${formatBytes(p.bytesPerSecond)}/s` : '';
  const file = p.file ? `${p.file} (${Math.min(p.filesDone + 1, p.filesTotal)}/${p.filesTotal}) · ` : '';
  return `${file}${formatBytes(p.loaded)}${total}${rate}`;
}

/**
 * The model folder a `dcd.local.modelPath` value names: `~` expanded, a
 * relative path taken from the first workspace folder. Undefined when empty.
 */
export function resolveModelPath(value: string | undefined, workspaceFolder?: string): string | undefined {
  const v = (value ?? '').trim();
  if (!v) return undefined;
  const home = v === '~' || v.startsWith('~/') ? path.join(os.homedir(), v.slice(1)) : v;
  if (path.isAbsolute(home)) return path.normalize(home);
  return path.resolve(workspaceFolder ?? process.cwd(), home);
}

/** Default drafts file beside a question list: `s1k.jsonl` → `s1k.local-drafts.jsonl`. */
export function defaultDraftsPath(questionsFile: string): string {
  const stem = path.basename(questionsFile).replace(/\.(jsonl|json|parquet)$/i, '');
  return path.join(path.dirname(questionsFile), `${stem}.local-drafts.jsonl`);
}
