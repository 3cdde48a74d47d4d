/** The page's sections, in order: header (title, status), stats, toolbar, list, sample view, side-by-side view. */
import { el } from '../common/bridge';

const app = document.getElementById('app')!;
export const header = el('header', { className: 'wb-header' });
export const titleEl = el('h2', { className: 'wb-title', text: 'Corpus' });
export const statusEl = el('span', { className: 'wb-status' });
statusEl.id = 'status';
header.append(titleEl, statusEl);

export const statsEl = el('section', { className: 'wb-stats' });
statsEl.id = 'stats';
export const toolbar = el('div', { className: 'wb-toolbar' });
toolbar.id = 'filters';
export const listEl = el('section', { className: 'wb-list' });
listEl.id = 'list';
export const sampleEl = el('section', { className: 'wb-sample' });
sampleEl.id = 'sample';
export const pairEl = el('section', { className: 'wb-pair' });
pairEl.id = 'pair';
app.append(header, statsEl, toolbar, listEl, sampleEl, pairEl);

/** The row count and search hits: written by the list, shown in the toolbar. */
export const countEl = el('span', { className: 'wb-count' });
countEl.id = 'count';
