/**
 * Protocol of the loss-curve webview ("DCD: Show Loss Curves"): the host
 * streams each job's step points as they are read from its events file (each
 * step exactly once); the webview draws loss, learning rate, grad norm and
 * tokens/s against step, reports what it painted, and hands back CSV/PNG
 * exports for the host to write.
 */
import type { Api } from './endpoint';
import type { Measured } from '../jobs/measured';

/** One optimizer step of one run. */
export interface ChartPoint {
  step: number;
  /** A diverged step's loss is `"NaN"` (or `"Infinity"`): the chart leaves a gap and marks it. */
  loss: Measured;
  lr: number;
  grad_norm: Measured;
  tokens_per_s: number;
  elapsed_s: number;
}

/** A run (job) shown on the chart. */
export interface ChartRun {
  id: string;
  label: string;
  status: string;
  totalSteps?: number;
}

export const CHART_METRICS = ['loss', 'lr', 'grad_norm', 'tokens_per_s'] as const;
export type ChartMetric = (typeof CHART_METRICS)[number];

/** What the host serves to the chart webview. */
export interface JobsHostApi extends Api {
  requests: {
    /** Writes the CSV the webview built (save dialog, atomic write); resolves with the path or null when cancelled. */
    saveCsv: { req: { csv: string; suggestedName: string }; res: string | null };
    /** Writes a PNG given as a data: URL (canvas.toDataURL). */
    savePng: { req: { dataUrl: string; suggestedName: string }; res: string | null };
  };
  events: {
    ready: Record<string, never>;
    /** The webview drew points up to `step` of `run` (`seq` echoes the host's batch number): for latency measurements and tests. */
    painted: { run: string; step: number; seq: number; points: number };
  };
}

/** What the chart webview serves to the host. */
export interface JobsWebviewApi extends Api {
  requests: Record<string, never>;
  events: {
    /** Adds (or updates the status of) a run. */
    run: ChartRun;
    /** New points of a run, in step order, never repeated. */
    points: { run: string; points: ChartPoint[]; seq: number };
    /** Removes a run from the chart. */
    remove: { run: string };
  };
}
