/** One-line summaries of job records, for the Jobs tree view. */
import { formatMeasured } from './measured';
import type { JobRecord } from './store';

/** `running · step 3/6 · loss 4.1234 · host`; a diverged run shows `loss NaN`, and no stored value can make it throw. */
export function jobDescription(j: JobRecord): string {
  const parts: string[] = [j.status];
  if (j.lastStep !== undefined) parts.push(`step ${j.lastStep}${j.totalSteps ? `/${j.totalSteps}` : ''}`);
  else if (j.totalSteps) parts.push(`0/${j.totalSteps}`);
  if (j.lastLoss !== undefined) parts.push(`loss ${formatMeasured(j.lastLoss)}`);
  parts.push(j.host.name);
  return parts.join(' · ');
}
