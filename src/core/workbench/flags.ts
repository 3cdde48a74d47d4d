/**
 * The flags the workbench list filters on. A module of its own, importing only
 * the mask's flag names, so that the webview can build its filter from the same
 * list without bundling the verifier.
 */
import { MASK_FLAGS, type MaskFlag } from '../trace/mask';

/** The mask audit's flags, the consistency check, malformed and incomplete lines, reviewer notes. */
export type RowFlag = MaskFlag | 'disagreement' | 'malformed' | 'incomplete' | 'noted';
export const ROW_FLAGS: readonly RowFlag[] = [...MASK_FLAGS, 'disagreement', 'malformed', 'incomplete', 'noted'];
