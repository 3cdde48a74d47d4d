/**
 * The virtualised list: rows fetched from the host in windows of BLOCK rows,
 * a pool of row nodes placed by transform, the sortable header and the
 * selection.
 */
import { el } from '../common/bridge';
import type { RowSort, RowView, ViewInfo } from '../../src/core/protocols/workbench';
import { countEl, listEl, statusEl } from './dom';
import { BLOCK, endpoint, OVERSCAN, ROW_H, save, st, t0 } from './state';

const COLUMNS: { key: RowSort['column'] | null; label: string; cls: string }[] = [
  { key: 'line', label: '#', cls: 'c-line' },
  { key: 'id', label: 'id', cls: 'c-id' },
  { key: 'question', label: 'question', cls: 'c-question' },
  { key: 'verdict', label: 'verdict', cls: 'c-verdict' },
  { key: 'source', label: 'draft source', cls: 'c-source' },
  { key: 'cot_type', label: 'cot_type', cls: 'c-cot' },
  { key: 'tokens', label: 'tokens', cls: 'c-num' },
  { key: 'trained', label: 'trained', cls: 'c-num' },
  { key: 'flags', label: 'flags', cls: 'c-flags' },
];
const listHeader = el('div', { className: 'wb-row wb-head' });
listHeader.setAttribute('role', 'row');
export const viewport = el('div', { className: 'wb-viewport' });
viewport.id = 'viewport';
viewport.tabIndex = 0;
viewport.setAttribute('role', 'grid');
const rowsLayer = el('div', { className: 'wb-rows' });
viewport.append(rowsLayer);
const emptyEl = el('div', { className: 'wb-empty', text: '' });
listEl.append(listHeader, viewport, emptyEl);

let view: ViewInfo | null = null;
let viewSeq = 0;
const cache = new Map<number, RowView>();
const pendingBlocks = new Set<number>();
let painted = false;
let selectedPos = -1;
let openRow: (key: number) => void = () => undefined;

/** What a double click on a row does (the sample view, which itself moves the selection here). */
export function onOpenRow(open: (key: number) => void): void { openRow = open; }

function renderHeader(): void {
  listHeader.replaceChildren();
  for (const c of COLUMNS) {
    const sort = st.view.sort;
    const active = sort && sort.column === c.key && !(c.key === 'line' && !sort.descending);
    const label = c.label + (active ? (sort!.descending ? ' ▼' : ' ▲') : '');
    const cell = el('div', { className: `wb-cell ${c.cls} sortable`, text: label, title: `Sort by ${c.label}` });
    cell.setAttribute('role', 'columnheader');
    cell.dataset.column = c.key ?? '';
    cell.addEventListener('click', () => {
      if (!c.key) return;
      const s = st.view.sort;
      if (!s || s.column !== c.key) st.view.sort = { column: c.key, descending: false };
      else if (!s.descending) st.view.sort = { column: c.key, descending: true };
      else st.view.sort = null;
      void runView();
    });
    listHeader.append(cell);
  }
}

/** Runs the view of `st.view` on the host, or shows `pushed`, the answer the host sent unasked for that same view. */
export async function runView(keepScroll = false, pushed?: ViewInfo): Promise<void> {
  const seq = ++viewSeq;
  save();
  renderHeader();
  let info: ViewInfo;
  const query = st.view.filter.search?.text ?? '';
  try {
    info = pushed ?? await endpoint.request('setView', { ...st.view, firstRows: firstRowsWanted(keepScroll) });
  } catch (err) {
    if (seq === viewSeq) statusEl.textContent = (err as Error).message;
    return;
  }
  if (seq !== viewSeq) return;
  view = info;
  // The search text this view answers (tests and the benchmark wait for it).
  document.body.dataset.searched = info.search ? query : '';
  cache.clear();
  pendingBlocks.clear();
  info.first.forEach((r, i) => cache.set(i, r));
  rowsLayer.style.height = `${info.count * ROW_H}px`;
  if (!keepScroll) viewport.scrollTop = 0;
  updateCounts();
  // Keep the selection where it is in the new view, or at the same position.
  if (st.selectedKey !== null) {
    const pos = await endpoint.request('findRow', { viewId: info.viewId, key: st.selectedKey });
    if (pos >= 0) selectedPos = pos;
    else if (info.count) { selectedPos = Math.min(Math.max(selectedPos, 0), info.count - 1); st.selectedKey = null; }
    else selectedPos = -1;
  }
  renderRows();
  await ensureRows(visibleRange());
  if (st.selectedKey === null && selectedPos >= 0) { const r = cache.get(selectedPos); if (r) select(selectedPos, r.key, false); }
}

/**
 * Rows the view's answer should bring: at the top, every block the screen
 * (plus overscan) shows, so that the first paint needs no second round trip
 * to the host; scrolled down, the rows there are fetched by position anyway.
 */
function firstRowsWanted(keepScroll: boolean): number {
  if (keepScroll && viewport.scrollTop > 0) return BLOCK;
  const last = Math.ceil((viewport.clientHeight || BLOCK * ROW_H) / ROW_H) + OVERSCAN;
  return Math.ceil(last / BLOCK) * BLOCK;
}

/** The view was made before the host had indexed every line (a big file still being read). */
export function viewIncomplete(): boolean { return Boolean(view && !view.complete); }

/** While a search runs on the host: how far it is. */
export function showSearchProgress(done: number, total: number): void {
  const pct = total ? Math.floor((100 * done) / total) : 100;
  countEl.textContent = `searching… ${pct}% of ${total.toLocaleString('en-US')} rows`;
  document.body.dataset.searchProgress = String(pct);
}

function updateCounts(): void {
  if (!view) return;
  const parts = [`${view.count} of ${view.total}${view.complete ? '' : '+'} rows`];
  if (view.search) {
    parts.push(view.search.error ? view.search.error : `${view.search.occurrences} hits in ${view.search.samples} samples`);
  }
  if (view.tokensPending) parts.push(`${view.tokensPending} samples not tokenized yet`);
  countEl.textContent = parts.join(' · ');
  countEl.classList.toggle('error', Boolean(view.search?.error));
  emptyEl.textContent = view.count ? '' : 'No rows match the filters.';
  document.body.dataset.viewCount = String(view.count);
  document.body.dataset.hits = view.search ? String(view.search.occurrences) : '';
}

function visibleRange(): [number, number] {
  const count = view?.count ?? 0;
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_H) - OVERSCAN);
  const last = Math.min(count, Math.ceil((viewport.scrollTop + viewport.clientHeight) / ROW_H) + OVERSCAN);
  return [first, Math.max(first, last)];
}

async function ensureRows([from, to]: [number, number]): Promise<void> {
  if (!view) return;
  const v = view;
  const wanted: Promise<void>[] = [];
  for (let b = Math.floor(from / BLOCK); b * BLOCK < to; b++) {
    if (pendingBlocks.has(b) || cache.has(b * BLOCK)) continue;
    pendingBlocks.add(b);
    wanted.push(endpoint.request('getRows', { viewId: v.viewId, start: b * BLOCK, count: BLOCK }).then((res) => {
      if (!res || view !== v) return;
      res.rows.forEach((r, i) => cache.set(res.start + i, r));
      pendingBlocks.delete(b);
      renderRows();
    }, () => { pendingBlocks.delete(b); }));
  }
  await Promise.all(wanted);
  if (!painted && view === v) {
    painted = true;
    const shown = rowsLayer.querySelectorAll('.wb-row').length;
    document.body.dataset.painted = String(shown);
    document.body.dataset.paintedMs = String(Math.round(performance.now()));
    endpoint.emit('painted', { rows: shown, ms: performance.now() - t0 });
  }
}

const rowPool: HTMLElement[] = [];

export function renderRows(): void {
  if (!view || st.mode !== 'list') return;
  const [from, to] = visibleRange();
  let used = 0;
  for (let pos = from; pos < to; pos++) {
    const r = cache.get(pos);
    if (!r) continue;
    let node = rowPool[used];
    if (!node) {
      node = el('div', { className: 'wb-row' });
      node.setAttribute('role', 'row');
      node.addEventListener('click', () => { const k = Number(node!.dataset.key); select(Number(node!.dataset.pos), k); });
      node.addEventListener('dblclick', () => { openRow(Number(node!.dataset.key)); });
      rowPool.push(node);
      rowsLayer.append(node);
    }
    used++;
    fillRow(node, r, pos);
  }
  for (let i = used; i < rowPool.length; i++) rowPool[i].hidden = true;
  void ensureRowsLater(from, to);
}

let ensureTimer: ReturnType<typeof setTimeout> | undefined;
function ensureRowsLater(from: number, to: number): void {
  for (let b = Math.floor(from / BLOCK); b * BLOCK < to; b++) {
    if (!cache.has(b * BLOCK) && !pendingBlocks.has(b)) {
      clearTimeout(ensureTimer);
      ensureTimer = setTimeout(() => { void ensureRows(visibleRange()); }, 16);
      return;
    }
  }
}

function fillRow(node: HTMLElement, r: RowView, pos: number): void {
  node.hidden = false;
  node.style.transform = `translateY(${pos * ROW_H}px)`;
  node.dataset.key = String(r.key);
  node.dataset.pos = String(pos);
  node.dataset.id = r.id;
  node.classList.toggle('selected', st.selectedKey === r.key);
  node.classList.toggle('error-row', r.kind === 'error');
  node.classList.toggle(`review-${r.review}`, true);
  for (const s of ['unreviewed', 'accepted', 'rejected', 'flagged']) if (s !== r.review) node.classList.remove(`review-${s}`);
  node.setAttribute('aria-selected', String(st.selectedKey === r.key));
  // Rebuild the cells only when the row changed: a double click needs the same target twice.
  const sig = JSON.stringify(r);
  if (node.dataset.sig === sig) return;
  node.dataset.sig = sig;
  const cells: HTMLElement[] = [el('div', { className: 'wb-cell c-line', text: String(r.line) })];
  if (r.kind === 'error') {
    cells.push(el('div', { className: 'wb-cell c-error', text: `malformed line: ${r.error ?? ''}` }));
  } else {
    cells.push(
      el('div', { className: 'wb-cell c-id mono', text: r.id, title: r.id }),
      el('div', { className: 'wb-cell c-question', text: r.question, title: r.question }),
      el('div', { className: `wb-cell c-verdict verdict-${r.verdict}`, text: r.verdict }),
      el('div', { className: 'wb-cell c-source', text: r.source, title: r.source }),
      el('div', { className: 'wb-cell c-cot', text: r.cotType }),
      el('div', { className: 'wb-cell c-num', text: r.tokens === null ? '…' : r.tokens.toLocaleString('en-US') }),
      el('div', { className: 'wb-cell c-num', text: r.trained === null ? '…' : r.trained.toLocaleString('en-US') }),
      flagCell(r),
    );
  }
  node.replaceChildren(...cells);
}

function flagCell(r: RowView): HTMLElement {
  const cell = el('div', { className: 'wb-cell c-flags' });
  if (r.review !== 'unreviewed') cell.append(el('span', { className: `badge review-badge review-${r.review}`, text: r.review, title: r.note ?? '' }));
  for (const f of r.flags) if (f !== 'noted') cell.append(el('span', { className: `badge flag-${f}`, text: f.replace('_', ' ') }));
  return cell;
}

export function select(pos: number, key: number, scroll = true): void {
  selectedPos = pos;
  st.selectedKey = key;
  save();
  endpoint.emit('select', { key, mode: st.mode });
  if (scroll) {
    const top = pos * ROW_H;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW_H > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = top + ROW_H - viewport.clientHeight;
  }
  renderRows();
}

export async function moveSelection(delta: number): Promise<void> {
  if (!view || !view.count) return;
  const pos = Math.min(view.count - 1, Math.max(0, (selectedPos < 0 ? -1 : selectedPos) + delta));
  let r = cache.get(pos);
  if (!r) {
    await ensureRows([pos, pos + 1]);
    r = cache.get(pos);
  }
  if (r) select(pos, r.key);
}

/** Drops the fetched rows and fetches the visible ones again (their token columns changed). */
let refreshing = false;
let refreshAgain = false;

/**
 * Fetches the rows on screen anew (their token columns filled in): the rows
 * shown stay until their new versions arrive, rows off screen are dropped
 * (fetched again when scrolled to), and one refresh runs at a time, so a
 * stream of updates never empties the screen nor queues requests ahead of the
 * ones a scroll makes.
 */
export function refreshRows(): void {
  if (!view) return;
  if (refreshing) { refreshAgain = true; return; }
  const v = view;
  const [from, to] = visibleRange();
  const first = Math.floor(from / BLOCK);
  const end = Math.max(first + 1, Math.ceil(to / BLOCK));
  for (const pos of [...cache.keys()]) if (pos < first * BLOCK || pos >= end * BLOCK) cache.delete(pos);
  refreshing = true;
  const wanted: Promise<void>[] = [];
  for (let b = first; b < end && b * BLOCK < v.count; b++) {
    wanted.push(endpoint.request('getRows', { viewId: v.viewId, start: b * BLOCK, count: BLOCK }).then((res) => {
      if (res && view === v) res.rows.forEach((r, i) => cache.set(res.start + i, r));
    }, () => undefined));
  }
  void Promise.all(wanted).then(() => {
    refreshing = false;
    if (view === v) renderRows();
    if (refreshAgain) { refreshAgain = false; refreshRows(); }
  });
}

viewport.addEventListener('scroll', () => {
  st.scrollTop = viewport.scrollTop;
  renderRows();
}, { passive: true });
new ResizeObserver(() => renderRows()).observe(viewport);
