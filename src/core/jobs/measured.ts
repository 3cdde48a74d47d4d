/**
 * Measured floats of the training events (loss, grad norm) as the views show
 * them. Apart from the event parser so that webviews can use it without
 * bundling the schema validator.
 */

/** How the trainer spells a non-finite float: JSON has no NaN or Infinity. */
export type NonFinite = 'NaN' | 'Infinity' | '-Infinity';
/** A measured float: a number, a non-finite one spelled out, or null (not measured; earlier trainers' NaN). */
export type Measured = number | NonFinite | null;

/** A measured value as a number for charts: non-finite and unmeasured values (and anything malformed) are NaN. */
export function measuredNumber(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : Number.NaN;
}

/** Whether a value is a spelled-out (or JavaScript) non-finite float, as opposed to a number or "not measured". */
export function isNonFinite(v: unknown): boolean {
  return v === 'NaN' || v === 'Infinity' || v === '-Infinity' || (typeof v === 'number' && !Number.isFinite(v));
}

/** A measured value for labels: `4.1234`, `NaN`, `+Inf`, `-Inf`, or `n/a`; never throws, whatever the value. */
export function formatMeasured(v: unknown, digits = 4): string {
  if (typeof v === 'number') return Number.isFinite(v) ? v.toFixed(digits) : Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
  if (v === 'NaN') return 'NaN';
  if (v === 'Infinity') return '+Inf';
  if (v === '-Infinity') return '-Inf';
  return 'n/a';
}
