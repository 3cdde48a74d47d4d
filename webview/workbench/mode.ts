/** Which of the three views shows: the list (with stats and toolbar), one sample, or a pair side by side. */
import { listEl, pairEl, sampleEl, statsEl, toolbar } from './dom';
import { renderRows, viewport } from './list';
import { endpoint, save, st, type Mode } from './state';

export function setMode(mode: Mode): void {
  st.mode = mode;
  save();
  listEl.hidden = mode !== 'list';
  statsEl.hidden = mode !== 'list';
  toolbar.hidden = mode !== 'list';
  sampleEl.hidden = mode !== 'sample';
  pairEl.hidden = mode !== 'pair';
  document.body.dataset.mode = mode;
  endpoint.emit('select', { key: st.selectedKey, mode });
  if (mode === 'list') { renderRows(); viewport.focus({ preventScroll: true }); }
}
