/**
 * Extra sections of `dcd stats --json`, contributed by other features (the
 * token audit adds `tokens`). Each returns keys merged into the stats object.
 */
import type { DcdSample } from '../../core/model';

export type StatsExtension = (samples: DcdSample[], opts: { maxLength?: number }) => Promise<Record<string, unknown>>;

export const statsExtensions: StatsExtension[] = [];
