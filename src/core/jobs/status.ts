/**
 * The life of a training job, as an ordered status with legal transitions
 * only (after SkyPilot's job_lib): preparing → uploading → queued → running →
 * succeeded | failed | cancelled. Any live status may end in failed or
 * cancelled; a terminal status never changes.
 *
 * `preparing` and `uploading` exist only on this machine; from `queued` on,
 * the host's job directory holds the status (its `status` file).
 */

export const JOB_STATUSES = ['preparing', 'uploading', 'queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];

/** The statuses a job's host-side `status` file may hold. */
export const HOST_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed', 'cancelled'];

const NEXT: Record<JobStatus, readonly JobStatus[]> = {
  preparing: ['uploading', 'failed', 'cancelled'],
  uploading: ['queued', 'failed', 'cancelled'],
  queued: ['running', 'failed', 'cancelled'],
  running: ['succeeded', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

export function isJobStatus(s: unknown): s is JobStatus {
  return typeof s === 'string' && (JOB_STATUSES as readonly string[]).includes(s);
}

export function isTerminal(s: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(s);
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return NEXT[from].includes(to);
}

export class IllegalTransitionError extends Error {
  constructor(readonly from: JobStatus, readonly to: JobStatus) {
    super(`illegal job status transition ${from} → ${to}`);
    this.name = 'IllegalTransitionError';
  }
}

/**
 * The legal steps from `from` to `to`, for catching up with a host that moved
 * on while nobody watched (queued → succeeded is queued → running →
 * succeeded). Empty when they are equal; throws when `to` is not reachable.
 */
export function transitionPath(from: JobStatus, to: JobStatus): JobStatus[] {
  if (from === to) return [];
  if (canTransition(from, to)) return [to];
  if (isTerminal(from)) throw new IllegalTransitionError(from, to);
  const order = JOB_STATUSES.indexOf(from);
  // Walk the main line forward until `to` becomes a direct step.
  const path: JobStatus[] = [];
  let cur = from;
  while (!canTransition(cur, to)) {
    const next = JOB_STATUSES[JOB_STATUSES.indexOf(cur) + 1];
    if (!next || isTerminal(next) || JOB_STATUSES.indexOf(next) <= order) throw new IllegalTransitionError(from, to);
    path.push(next);
    cur = next;
  }
  path.push(to);
  return path;
}
