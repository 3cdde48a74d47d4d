/** Review actions (accept, reject, flag, …) on one sample, from buttons or keys. */
import { el } from '../common/bridge';
import { button } from '../common/toolkit';
import type { CurateAction } from '../../src/core/protocols/workbench';
import { endpoint, st } from './state';
import { flash } from './status';

export async function curate(action: CurateAction, key = st.selectedKey): Promise<void> {
  if (key === null) return;
  try {
    const r = await endpoint.request('curate', { action, keys: [key] });
    if (!r.changed && r.message) flash(r.message);
  } catch (err) { flash((err as Error).message); }
}

export function curationButtons(key: number): HTMLElement {
  return el('div', { className: 'wb-actions' },
    button('Accept (a)', () => { void curate('accept', key); }, { id: 'accept' }),
    button('Reject (r)', () => { void curate('reject', key); }, { id: 'reject', appearance: 'secondary' }),
    button('Flag… (f)', () => { void curate('flag', key); }, { id: 'flag', appearance: 'secondary' }),
    button('Clear (u)', () => { void curate('unreview', key); }, { id: 'unreview', appearance: 'secondary' }),
    button('Duplicate (d)', () => { void curate('duplicate', key); }, { id: 'duplicate', appearance: 'secondary' }),
    button('Delete (Del)', () => { void curate('delete', key); }, { id: 'delete', appearance: 'secondary' }),
  );
}
