/**
 * The Corpus workbench webview: a virtualised list of rows fetched in windows
 * from the host, filters and search, a stats header, the sample view (stage
 * colours, KaTeX, mask overlay) and the side-by-side view of two drafts.
 *
 * Security: every piece of sample text is set with textContent (through `el`
 * or text nodes); KaTeX renders formulas with `trust: false` into DOM nodes.
 * Nothing from a sample is ever parsed as HTML.
 */
import katex from 'katex';
import 'katex/dist/katex.min.css';
import './style.css';
import { connect, el, getState, setState } from '../common/bridge';
import { button, checkbox, dropdown, tag, textField } from '../common/toolkit';
import type {
  CurateAction, FacetValues, InitInfo, MaskOverlay, PairView, RowFilter, RowFlag, RowSort, RowView, SampleDetail, ViewInfo,
  WorkbenchHostApi, WorkbenchStats, WorkbenchViewState, WorkbenchWebviewApi, ReviewStatus,
} from '../../src/core/protocols/workbench';
import { REGION_NAMES, type RegionName } from '../../src/core/template';
import { splitMath } from './math';

type Mode = 'list' | 'sample' | 'pair';

interface Persisted {
  view: WorkbenchViewState;
  mode: Mode;
  selectedKey: number | null;
  scrollTop: number;
  latex: boolean;
  mask: boolean;
  statsOpen: boolean;
  pairFrom: string | null;
  wrongKey: number | null;
}

const ROW_H = 26;
/** Rows per request: the first one is about a screenful (bench/workbench.ts measures this window). */
const BLOCK = 40;
const OVERSCAN = 10;
const t0 = performance.now();
document.body.dataset.scriptMs = String(Math.round(t0));

const defaults: Persisted = {
  view: { filter: {}, sort: null }, mode: 'list', selectedKey: null, scrollTop: 0, latex: true, mask: false, statsOpen: true, pairFrom: null, wrongKey: null,
};
const restored = getState<Persisted | null>(null);
const st: Persisted = { ...defaults, ...(restored ?? {}) };
const save = (): void => setState(st);

let onInit: ((info: InitInfo) => void) | undefined;
const initInfo = new Promise<InitInfo>((resolve) => { onInit = resolve; });

const endpoint = connect<WorkbenchWebviewApi, WorkbenchHostApi>({}, {
  init: (info) => onInit?.(info),
  changed: () => { void refreshAll(); },
  tokens: (p) => onTokens(p),
  loaded: () => { void loadFacets(); void loadStats(); },
  showPair: (pair) => showPair(pair),
  showSample: ({ key }) => { void openSample(key); },
  navigatePair: ({ delta }) => { void navigatePair(delta); },
});

// ---------------------------------------------------------------------------
// Layout

const app = document.getElementById('app')!;
const header = el('header', { className: 'wb-header' });
const titleEl = el('h2', { className: 'wb-title', text: 'Corpus' });
const statusEl = el('span', { className: 'wb-status' });
statusEl.id = 'status';
header.append(titleEl, statusEl);

const statsEl = el('section', { className: 'wb-stats' });
statsEl.id = 'stats';
const toolbar = el('div', { className: 'wb-toolbar' });
toolbar.id = 'filters';
const listEl = el('section', { className: 'wb-list' });
listEl.id = 'list';
const sampleEl = el('section', { className: 'wb-sample' });
sampleEl.id = 'sample';
const pairEl = el('section', { className: 'wb-pair' });
pairEl.id = 'pair';
app.append(header, statsEl, toolbar, listEl, sampleEl, pairEl);

// List: header row, viewport, rows layer.
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
const viewport = el('div', { className: 'wb-viewport' });
viewport.id = 'viewport';
viewport.tabIndex = 0;
viewport.setAttribute('role', 'grid');
const rowsLayer = el('div', { className: 'wb-rows' });
viewport.append(rowsLayer);
const emptyEl = el('div', { className: 'wb-empty', text: '' });
listEl.append(listHeader, viewport, emptyEl);

// ---------------------------------------------------------------------------
// State of the list

let view: ViewInfo | null = null;
let viewSeq = 0;
const cache = new Map<number, RowView>();
const pendingBlocks = new Set<number>();
let painted = false;
let facetValues: FacetValues = { sources: [], cotTypes: [], fields: [] };
let stats: WorkbenchStats | null = null;
let currentSample: SampleDetail | null = null;
let currentPair: PairView | null = null;
let selectedPos = -1;

function setMode(mode: Mode): void {
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

async function runView(keepScroll = false): Promise<void> {
  const seq = ++viewSeq;
  save();
  renderHeader();
  let info: ViewInfo;
  try {
    info = await endpoint.request('setView', { ...st.view, firstRows: BLOCK });
  } catch (err) {
    if (seq === viewSeq) statusEl.textContent = (err as Error).message;
    return;
  }
  if (seq !== viewSeq) return;
  view = info;
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

function updateCounts(): void {
  if (!view) return;
  const parts = [`${view.count} of ${view.total} rows`];
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

function renderRows(): void {
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
      node.addEventListener('dblclick', () => { void openSample(Number(node!.dataset.key)); });
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

function select(pos: number, key: number, scroll = true): void {
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

async function moveSelection(delta: number): Promise<void> {
  if (!view || !view.count) return;
  const pos = Math.min(view.count - 1, Math.max(0, (selectedPos < 0 ? -1 : selectedPos) + delta));
  let r = cache.get(pos);
  if (!r) {
    await ensureRows([pos, pos + 1]);
    r = cache.get(pos);
  }
  if (r) select(pos, r.key);
}

viewport.addEventListener('scroll', () => {
  st.scrollTop = viewport.scrollTop;
  renderRows();
}, { passive: true });
new ResizeObserver(() => renderRows()).observe(viewport);

// ---------------------------------------------------------------------------
// Filters and search

const countEl = el('span', { className: 'wb-count' });
countEl.id = 'count';
let searchTimer: ReturnType<typeof setTimeout> | undefined;

function filterChanged(debounce = 0): void {
  clearTimeout(searchTimer);
  const go = (): void => { void runView(); };
  if (debounce) searchTimer = setTimeout(go, debounce); else go();
}

function optionList(all: string, values: readonly string[]): { value: string; label: string }[] {
  return [{ value: '', label: all }, ...values.map((v) => ({ value: v, label: v }))];
}

const FLAG_OPTIONS: RowFlag[] = ['truncated', 'verdict_cut', 'answer_cut', 'zero_trained', 'disagreement', 'malformed', 'incomplete', 'noted'];

function renderToolbar(): void {
  const f: RowFilter = st.view.filter;
  const search = f.search ?? { text: '' };
  const searchField = textField('Search (any field)…', (value) => {
    st.view.filter.search = { ...(st.view.filter.search ?? {}), text: value };
    filterChanged(250);
  }, { id: 'search', value: search.text });
  const fieldMenu = dropdown(optionList('any field', facetValues.fields).map((o) => (o.value === '' ? { value: 'any', label: o.label } : o)),
    search.field ?? 'any', (value) => { st.view.filter.search = { ...(st.view.filter.search ?? { text: '' }), field: value }; filterChanged(); }, { id: 'search-field' });
  const regex = checkbox('Regex', Boolean(search.regex), (on) => { st.view.filter.search = { ...(st.view.filter.search ?? { text: '' }), regex: on }; filterChanged(); }, { id: 'search-regex' });
  const cs = checkbox('Match case', Boolean(search.caseSensitive), (on) => { st.view.filter.search = { ...(st.view.filter.search ?? { text: '' }), caseSensitive: on }; filterChanged(); }, { id: 'search-case' });
  const verdict = dropdown([{ value: '', label: 'all verdicts' }, { value: 'correct', label: 'draft correct' }, { value: 'incorrect', label: 'draft incorrect' }],
    f.verdict ?? '', (value) => { st.view.filter.verdict = (value || null) as RowFilter['verdict']; filterChanged(); }, { id: 'filter-verdict' });
  const source = dropdown(optionList('all sources', facetValues.sources), f.sources?.[0] ?? '', (value) => { st.view.filter.sources = value ? [value] : []; filterChanged(); }, { id: 'filter-source' });
  const cot = dropdown(optionList('all cot_types', facetValues.cotTypes), f.cotTypes?.[0] ?? '', (value) => { st.view.filter.cotTypes = value ? [value] : []; filterChanged(); }, { id: 'filter-cot' });
  const review = dropdown(optionList('any review', ['unreviewed', 'accepted', 'rejected', 'flagged']), f.review?.[0] ?? '',
    (value) => { st.view.filter.review = value ? [value as ReviewStatus] : []; filterChanged(); }, { id: 'filter-review' });
  const flags = dropdown(optionList('any flags', FLAG_OPTIONS), f.flags?.[0] ?? '', (value) => { st.view.filter.flags = value ? [value as RowFlag] : []; filterChanged(); }, { id: 'filter-flags' });
  const num = (v: string): number | null => (v.trim() && Number.isFinite(Number(v)) ? Number(v) : null);
  const tmin = textField('min tokens', (v) => { st.view.filter.tokenMin = num(v); filterChanged(400); }, { id: 'filter-tmin', value: f.tokenMin != null ? String(f.tokenMin) : '' });
  const tmax = textField('max tokens', (v) => { st.view.filter.tokenMax = num(v); filterChanged(400); }, { id: 'filter-tmax', value: f.tokenMax != null ? String(f.tokenMax) : '' });
  tmin.classList.add('narrow');
  tmax.classList.add('narrow');
  const reset = button('Reset', () => { st.view = { filter: {}, sort: null }; renderToolbar(); void runView(); }, { id: 'filter-reset', appearance: 'secondary' });
  toolbar.replaceChildren(
    el('div', { className: 'wb-toolbar-line' }, searchField, fieldMenu, regex, cs, countEl),
    el('div', { className: 'wb-toolbar-line' }, verdict, source, cot, review, flags, tmin, tmax, reset),
  );
}

async function loadFacets(): Promise<void> {
  facetValues = await endpoint.request('getFacets', {});
  renderToolbar();
}

// ---------------------------------------------------------------------------
// Stats header

let tokenProgress = { done: 0, total: 0, finished: false, error: undefined as string | undefined };
let statsTimer: ReturnType<typeof setTimeout> | undefined;

function onTokens(p: { done: number; total: number; finished: boolean; error?: string }): void {
  tokenProgress = { ...p, error: p.error };
  renderStatus();
  // Token columns arrived: refresh the visible rows and, now and then, the stats.
  if (view) { cache.clear(); pendingBlocks.clear(); void ensureRows(visibleRange()); }
  clearTimeout(statsTimer);
  statsTimer = setTimeout(() => { void loadStats(); }, p.finished ? 0 : 1000);
  if (currentSample && st.mode === 'sample' && currentSample.tokens === null) void openSample(currentSample.key, true);
}

function renderStatus(): void {
  const p = tokenProgress;
  let text = '';
  if (p.error) text = `token columns failed: ${p.error}`;
  else if (p.total && !p.finished) text = `tokenizing ${p.done} / ${p.total}…`;
  else if (p.total) text = `${p.total} ${p.total === 1 ? 'sample' : 'samples'} tokenized`;
  statusEl.textContent = text;
  document.body.dataset.tokens = p.finished ? 'done' : 'pending';
}

async function loadStats(): Promise<void> {
  stats = await endpoint.request('getStats', {});
  renderStats();
}

function pct(n: number): string { return `${(100 * n).toFixed(1)}%`; }

function renderStats(): void {
  const s = stats;
  if (!s) { statsEl.replaceChildren(el('p', { className: 'muted', text: 'Reading the corpus…' })); return; }
  const toggle = button(st.statsOpen ? 'Hide stats' : 'Show stats', () => { st.statsOpen = !st.statsOpen; save(); renderStats(); renderRows(); }, { appearance: 'secondary', id: 'stats-toggle' });
  const counts = el('div', { className: 'wb-counts' },
    el('span', { text: `${s.samples} samples` }),
    el('span', { className: 'verdict-correct', text: `${s.verdicts.correct} draft-correct` }),
    el('span', { className: 'verdict-incorrect', text: `${s.verdicts.incorrect} draft-wrong` }),
    el('span', { text: `${s.malformed} malformed` }),
    el('span', { text: `${s.questions} questions (${s.questionsWithBoth} with both)` }),
    el('span', { text: `reviewed: ${s.review.accepted} accepted, ${s.review.rejected} rejected, ${s.review.flagged} flagged, ${s.review.unreviewed} open` }),
    toggle,
  );
  counts.id = 'stats-counts';
  if (!st.statsOpen) { statsEl.replaceChildren(counts); return; }
  // Balance bar.
  const total = s.verdicts.correct + s.verdicts.incorrect;
  const bar = el('div', { className: 'wb-balance', title: 'draft-correct : draft-wrong' });
  const c = el('div', { className: 'bal-correct' });
  const w = el('div', { className: 'bal-wrong' });
  c.style.width = total ? pct(s.verdicts.correct / total) : '0';
  w.style.width = total ? pct(s.verdicts.incorrect / total) : '0';
  bar.append(c, w);
  const balance = el('div', { className: 'wb-stat' }, el('h3', { text: 'Balance' }), bar,
    el('div', { className: 'muted', text: s.balance === null ? '—' : `${pct(s.balance)} correct · ${pct(1 - s.balance)} wrong (paper: 1,000 : 675 = 59.7%)` }));
  // Token histogram.
  const histo = el('div', { className: 'wb-stat' }, el('h3', { text: 'Token lengths' }));
  histo.id = 'histogram';
  const h = s.tokens.histogram;
  if (h) {
    const max = Math.max(...h.counts, 1);
    const bars = el('div', { className: 'wb-histo' });
    h.counts.forEach((n, i) => {
      const b = el('div', { className: 'histo-bar', title: `${h.edges[i].toLocaleString('en-US')}–${h.edges[i + 1].toLocaleString('en-US')} tokens: ${n}` });
      b.style.height = `${Math.max(n ? 4 : 0, (100 * n) / max)}%`;
      bars.append(b);
    });
    histo.append(bars, el('div', { className: 'histo-axis' },
      el('span', { text: '0' }), el('span', { text: `${h.edges[h.edges.length - 1].toLocaleString('en-US')} tokens` })),
    el('div', { className: 'muted', text: `${s.tokens.done} of ${s.tokens.total} tokenized · mean ${Math.round(s.tokens.mean).toLocaleString('en-US')} · max ${s.tokens.max.toLocaleString('en-US')} · trained ${s.tokens.sum ? pct(s.tokens.trained / s.tokens.sum) : '—'}` }));
  } else {
    histo.append(el('div', { className: 'muted', text: tokenProgress.error ? `No token lengths: ${tokenProgress.error}` : 'Tokenizing in the background…' }));
  }
  // Consistency check.
  const cons = el('div', { className: 'wb-stat wb-consistency' }, el('h3', { text: 'Consistency: tag vs gemini_grade vs verifier' }));
  cons.id = 'consistency';
  const d = s.consistency.disagreements;
  cons.append(el('div', { className: d.length ? 'warn' : 'muted', text: `${s.consistency.checked} checked · ${s.consistency.consistent} consistent · ${d.length} disagreements` }));
  if (d.length) {
    const list = el('ul', { className: 'wb-disagreements' });
    for (const x of d.slice(0, 200)) {
      const li = el('li', { className: 'link', text: `line ${x.line} · ${x.id} · tag ${x.tag} · ${x.reasons.join('; ')}` });
      li.addEventListener('click', () => { void openSample(x.key); });
      list.append(li);
    }
    if (d.length > 200) list.append(el('li', { className: 'muted', text: `… and ${d.length - 200} more (filter by the "disagreement" flag)` }));
    cons.append(list);
  }
  statsEl.replaceChildren(counts, el('div', { className: 'wb-stat-grid' }, balance, histo, cons));
}

// ---------------------------------------------------------------------------
// Curation

async function curate(action: CurateAction, key = st.selectedKey): Promise<void> {
  if (key === null) return;
  try {
    const r = await endpoint.request('curate', { action, keys: [key] });
    if (!r.changed && r.message) flash(r.message);
  } catch (err) { flash((err as Error).message); }
}

function flash(text: string): void {
  statusEl.textContent = text;
  setTimeout(renderStatus, 3000);
}

function curationButtons(key: number): HTMLElement {
  return el('div', { className: 'wb-actions' },
    button('Accept (a)', () => { void curate('accept', key); }, { id: 'accept' }),
    button('Reject (r)', () => { void curate('reject', key); }, { id: 'reject', appearance: 'secondary' }),
    button('Flag… (f)', () => { void curate('flag', key); }, { id: 'flag', appearance: 'secondary' }),
    button('Clear (u)', () => { void curate('unreview', key); }, { id: 'unreview', appearance: 'secondary' }),
    button('Duplicate (d)', () => { void curate('duplicate', key); }, { id: 'duplicate', appearance: 'secondary' }),
    button('Delete (Del)', () => { void curate('delete', key); }, { id: 'delete', appearance: 'secondary' }),
  );
}

// ---------------------------------------------------------------------------
// Sample view

// Formulas in view render first; the rest render in idle time, a batch at a time.
const katexObserver = new IntersectionObserver((entries) => {
  for (const e of entries) {
    if (!e.isIntersecting) continue;
    const node = e.target as HTMLElement;
    katexObserver.unobserve(node);
    renderMath(node);
  }
}, { root: sampleEl, rootMargin: '600px 0px' });
let pendingMath: HTMLElement[] = [];
let idleScheduled = false;

function renderPendingMath(deadline?: IdleDeadline): void {
  idleScheduled = false;
  let n = 0;
  while (pendingMath.length && (deadline ? deadline.timeRemaining() > 2 : n < 20)) { renderMath(pendingMath.shift()!); n++; }
  if (pendingMath.length) scheduleMath();
}

function scheduleMath(): void {
  if (idleScheduled) return;
  idleScheduled = true;
  if (typeof requestIdleCallback === 'function') requestIdleCallback(renderPendingMath, { timeout: 200 });
  else setTimeout(() => renderPendingMath(), 16);
}

function renderMath(node: HTMLElement): void {
  if (node.classList.contains('rendered') || !node.isConnected) return;
  katexObserver.unobserve(node);
  const tex = node.dataset.tex ?? '';
  try {
    katex.render(tex, node, { displayMode: node.classList.contains('display'), throwOnError: false, trust: false, strict: 'ignore', maxExpand: 500, maxSize: 20 });
    node.classList.add('rendered');
  } catch {
    node.textContent = node.dataset.raw ?? tex;
  }
}

/** Text with formulas: text nodes, and placeholders that show the raw TeX until KaTeX renders them in view. */
function mathText(text: string, into: HTMLElement): void {
  for (const seg of splitMath(text)) {
    if (seg.kind === 'text') { into.append(document.createTextNode(seg.text)); continue; }
    const span = el('span', { className: `math${seg.display ? ' display' : ''}`, text: seg.raw });
    span.dataset.tex = seg.tex;
    span.dataset.raw = seg.raw;
    into.append(span);
    katexObserver.observe(span);
    pendingMath.push(span);
  }
  scheduleMath();
}

const MATH_REGIONS = new Set<RegionName>(['question', 'draft', 'chain', 'final_answer']);

function renderTrace(s: SampleDetail, mask: MaskOverlay | null): HTMLElement {
  const trace = el('pre', { className: `trace${mask ? ' masked' : ''}` });
  trace.id = 'trace';
  const cuts: { at: number; region?: RegionName }[] = [];
  for (const name of REGION_NAMES) {
    const span = s.regions[name];
    if (span) cuts.push({ at: span.start, region: name }, { at: span.end });
  }
  cuts.sort((a, b) => a.at - b.at || (a.region ? 1 : -1));
  const pieces: { start: number; end: number; region?: RegionName }[] = [];
  let pos = 0;
  let region: RegionName | undefined;
  for (const cut of cuts) {
    if (cut.at > pos) pieces.push({ start: pos, end: cut.at, region });
    pos = Math.max(pos, cut.at);
    region = cut.region;
  }
  if (pos < s.text.length) pieces.push({ start: pos, end: s.text.length });
  const cls = (r?: RegionName): string => (r === 'verdict' ? `region region-verdict verdict-${s.verdict}` : r ? `region region-${r}` : 'region-tag');
  if (mask) {
    // One span per token (or part of a token within a stage): trained tokens lit, masked ones dimmed, boundaries alternate.
    const tokenCount = mask.trained.length;
    const keptEnd = tokenCount ? mask.offsets[2 * tokenCount - 1] : 0;
    for (const p of pieces) {
      const box = el('span', { className: cls(p.region) });
      let i = firstTokenAt(mask.offsets, p.start);
      let at = p.start;
      while (at < p.end) {
        if (i >= tokenCount || at >= keptEnd) {
          box.append(el('span', { className: 'tok cut', text: s.text.slice(at, p.end), title: `beyond max_length ${mask.maxLength}` }));
          break;
        }
        const ts = mask.offsets[2 * i], te = mask.offsets[2 * i + 1];
        if (at < ts) { box.append(document.createTextNode(s.text.slice(at, Math.min(ts, p.end)))); at = Math.min(ts, p.end); continue; }
        const end = Math.min(te, p.end);
        if (end > at) box.append(el('span', { className: `tok ${mask.trained[i] ? 'trained' : 'ignored'} ${i % 2 ? 'odd' : 'even'}`, text: s.text.slice(at, end) }));
        at = Math.max(end, at);
        if (te <= p.end) i++;
        else break;
      }
      trace.append(box);
    }
    return trace;
  }
  for (const p of pieces) {
    const box = el('span', { className: cls(p.region) });
    const text = s.text.slice(p.start, p.end);
    if (st.latex && p.region && MATH_REGIONS.has(p.region)) mathText(text, box);
    else box.textContent = text;
    trace.append(box);
  }
  return trace;
}

function firstTokenAt(offsets: number[], pos: number): number {
  let lo = 0, hi = offsets.length >> 1;
  while (lo < hi) { const mid = (lo + hi) >>> 1; if (offsets[2 * mid + 1] <= pos) lo = mid + 1; else hi = mid; }
  return lo;
}

let sampleSeq = 0;

async function openSample(key: number, keepScroll = false): Promise<void> {
  const seq = ++sampleSeq;
  let s: SampleDetail;
  try { s = await endpoint.request('getSample', { key }); } catch (err) { flash((err as Error).message); return; }
  if (seq !== sampleSeq) return;
  st.selectedKey = key;
  currentSample = s;
  const scroll = keepScroll ? sampleEl.scrollTop : 0;
  if (st.mode !== 'sample') setMode('sample'); else endpoint.emit('select', { key, mode: 'sample' });
  renderSample(s, null);
  sampleEl.scrollTop = scroll;
  if (st.mask) {
    document.body.dataset.mask = 'loading';
    try {
      const m = await endpoint.request('getMask', { key });
      if (seq === sampleSeq && st.mask) { renderSample(s, m); sampleEl.scrollTop = scroll; document.body.dataset.mask = 'shown'; }
    } catch (err) {
      document.body.dataset.mask = 'error';
      flash(`Mask overlay: ${(err as Error).message}`);
    }
  } else delete document.body.dataset.mask;
}

function renderSample(s: SampleDetail, mask: MaskOverlay | null): void {
  const back = button('← List (Esc)', () => setMode('list'), { id: 'back', appearance: 'secondary' });
  const prev = button('Previous (k)', () => { void stepSample(-1); }, { id: 'prev', appearance: 'secondary' });
  const next = button('Next (j)', () => { void stepSample(1); }, { id: 'next', appearance: 'secondary' });
  const latex = checkbox('LaTeX (l)', st.latex, (on) => { st.latex = on; save(); void openSample(s.key, true); }, { id: 'toggle-latex' });
  const maskBox = checkbox('Mask overlay (m)', st.mask, (on) => { st.mask = on; save(); void openSample(s.key, true); }, { id: 'toggle-mask' });
  const asText = button('Open as text (t)', () => { void endpoint.request('openAsText', { key: s.key }).catch((e: Error) => flash(e.message)); }, { id: 'open-text', appearance: 'secondary' });
  const compare = button('Side by side (c)', () => { void openPair(s.key); }, { id: 'compare', appearance: 'secondary' });
  if (!s.hasPair) compare.setAttribute('disabled', '');
  const head = el('div', { className: 'sample-header' },
    back, prev, next,
    el('h2', { text: `Line ${s.line}` }),
    tag(s.verdict, `verdict verdict-${s.verdict}`),
    tag(s.source, 'source'),
    tag(s.review.status, `review-badge review-${s.review.status}`),
    latex, maskBox, asText, compare,
  );
  const facts = el('dl', { className: 'facts' });
  const fact = (name: string, value: string, cls = ''): void => { facts.append(el('dt', { text: name }), el('dd', { text: value, className: cls })); };
  fact('id', s.id, 'mono');
  fact('cot_type', s.cotType || '—');
  fact('gold answer', s.goldAnswer ?? '—', 'mono answer-gold');
  fact('draft answer', s.draftAnswer ?? '—', 'mono answer-draft');
  fact('tokens', s.tokens === null ? 'tokenizing…' : `${s.tokens.toLocaleString('en-US')} (${(s.trained ?? 0).toLocaleString('en-US')} trained)`);
  fact('flags', s.flags.length ? s.flags.join(', ') : '—');
  if (s.review.note || s.review.at) fact('review', `${s.review.status}${s.review.note ? `: ${s.review.note}` : ''}${s.review.at ? ` (${s.review.at})` : ''}`);
  if (s.consistency) {
    fact('consistency', s.consistency.reasons.length ? s.consistency.reasons.join('; ')
      : `consistent (verifier ${s.consistency.verifier ?? 'n/a'}, ${s.consistency.rule}; gemini_grade ${s.consistency.grade ?? 'n/a'})`, s.consistency.reasons.length ? 'warn' : '');
  }
  for (const x of s.extra) fact(x.name, x.value, 'mono');
  const notes: HTMLElement[] = [];
  if (s.parseError) notes.push(el('p', { className: 'warn', text: `The text does not parse as a trace: ${s.parseError} (shown without stage colours).` }));
  if (mask) {
    notes.push(el('p', { className: 'muted', text: `Mask overlay (${mask.policy}, max_length ${mask.maxLength}): ${mask.trainedTokens.toLocaleString('en-US')} of ${mask.totalTokens.toLocaleString('en-US')} tokens trained; dimmed tokens get label -100.${mask.flags.length ? ` Flags: ${mask.flags.join(', ')}.` : ''}` }));
  }
  pendingMath = [];
  sampleEl.replaceChildren(head, curationButtons(s.key), facts, ...notes, renderTrace(s, mask));
  document.body.dataset.rendered = s.id;
}

async function stepSample(delta: number): Promise<void> {
  await moveSelection(delta);
  if (st.selectedKey !== null) await openSample(st.selectedKey);
}

// ---------------------------------------------------------------------------
// Side by side

async function openPair(key: number | null, wrongKey?: number): Promise<void> {
  if (key === null) return;
  const pair = await endpoint.request('getPair', { key, wrongKey });
  if (!pair) { flash('This question has no draft-correct/draft-wrong pair.'); return; }
  showPair(pair);
}

async function navigatePair(delta: number): Promise<void> {
  if (st.mode !== 'pair' || !currentPair) { await openPair(st.selectedKey); return; }
  const pair = await endpoint.request('getPair', { from: currentPair.questionKey, delta });
  if (pair) showPair(pair);
}

function showPair(pair: PairView): void {
  currentPair = pair;
  st.pairFrom = pair.questionKey;
  st.selectedKey = pair.right.key;
  st.wrongKey = pair.right.key;
  if (st.mode !== 'pair') setMode('pair'); else endpoint.emit('select', { key: pair.right.key, mode: 'pair' });
  renderPair(pair);
  pairEl.scrollTop = 0;
}

function diffNodes(pieces: { text: string; changed: boolean }[], answer: { start: number; end: number } | null, side: 'left' | 'right'): Node[] {
  const out: Node[] = [];
  let pos = 0;
  for (const p of pieces) {
    const end = pos + p.text.length;
    const cuts = [pos, end];
    if (answer) for (const a of [answer.start, answer.end]) if (a > pos && a < end) cuts.push(a);
    cuts.sort((a, b) => a - b);
    for (let k = 0; k + 1 < cuts.length; k++) {
      const [a, b] = [cuts[k], cuts[k + 1]];
      if (b <= a) continue;
      const text = p.text.slice(a - pos, b - pos);
      const inAnswer = answer !== null && a >= answer.start && b <= answer.end;
      const cls = [p.changed ? `diff-${side === 'left' ? 'del' : 'ins'}` : '', inAnswer ? 'answer-mark' : ''].filter(Boolean).join(' ');
      out.push(cls ? el('span', { className: cls, text, title: inAnswer ? 'extracted answer' : '' }) : document.createTextNode(text));
    }
    pos = end;
  }
  return out;
}

const STAGE_LABELS: Record<string, string> = { question: 'Question', draft: 'Draft', bridge: 'Bridge', chain: 'Chain', verdict: 'Verdict', answer: 'Final answer' };

function renderPair(pair: PairView): void {
  const back = button('← List (Esc)', () => setMode('list'), { id: 'pair-back', appearance: 'secondary' });
  const prev = button('Previous question (p)', () => { void navigatePair(-1); }, { id: 'pair-prev', appearance: 'secondary' });
  const next = button('Next question (n)', () => { void navigatePair(1); }, { id: 'pair-next', appearance: 'secondary' });
  const head = el('div', { className: 'sample-header' }, back, prev, next,
    el('h2', { text: `Question ${pair.position + 1} of ${pair.pairs} with both kinds` }));
  if (pair.wrongChoices.length > 1) {
    head.append(dropdown(pair.wrongChoices.map((w) => ({ value: String(w.key), label: `${w.source} · answer ${w.draftAnswer ?? '—'}` })), String(pair.right.key),
      (value) => { void endpoint.request('getPair', { from: pair.questionKey, delta: 0, wrongKey: Number(value) }).then((p) => { if (p) showPair(p); }); }, { id: 'pair-wrong' }));
  }
  const sideHead = (s: PairView['left'], cls: string): HTMLElement => el('div', { className: `pair-col-head ${cls}` },
    tag(s.verdict === 'correct' ? 'draft correct' : 'draft wrong', `verdict verdict-${s.verdict}`),
    el('span', { className: 'mono', text: s.source }),
    el('span', { className: 'muted', text: `line ${s.line} · answer ` }),
    el('span', { className: 'mono answer-mark', text: s.draftAnswer ?? '—' }),
    tag(s.review, `review-badge review-${s.review}`));
  const grid = el('div', { className: 'pair-grid' });
  grid.append(el('div', { className: 'pair-cells pair-heads' }, sideHead(pair.left, 'left'), sideHead(pair.right, 'right')));
  for (const stage of pair.stages) {
    const label = el('div', { className: 'pair-stage-label' }, el('span', { text: STAGE_LABELS[stage.name] ?? stage.name }));
    if (stage.identical) {
      label.append(el('span', { className: 'badge identical', text: 'identical' }));
      const body = el('div', { className: 'pair-identical collapsed' });
      body.dataset.stage = stage.name;
      const preview = stage.left.length > 240 ? `${stage.left.slice(0, 240)}…` : stage.left;
      const text = el('pre', { className: `trace region-${stage.name === 'answer' ? 'final_answer' : stage.name}`, text: preview });
      const more = el('span', { className: 'link', text: stage.left.length > 240 ? `show all ${stage.left.length.toLocaleString('en-US')} characters` : '' });
      more.addEventListener('click', () => {
        const open = body.classList.toggle('collapsed');
        text.textContent = open ? preview : stage.left;
        more.textContent = open ? `show all ${stage.left.length.toLocaleString('en-US')} characters` : 'collapse';
      });
      body.append(text, more);
      grid.append(label, body);
      continue;
    }
    const cls = stage.name === 'verdict' ? '' : `region-${stage.name === 'answer' ? 'final_answer' : stage.name}`;
    const left = el('pre', { className: `trace pair-cell left ${cls}` });
    const right = el('pre', { className: `trace pair-cell right ${cls}` });
    left.dataset.stage = stage.name;
    right.dataset.stage = stage.name;
    if (stage.name === 'draft') {
      left.append(...diffNodes(pair.draftDiff.filter((o) => o.op !== 'insert').map((o) => ({ text: o.text, changed: o.op !== 'equal' })), pair.leftAnswer, 'left'));
      right.append(...diffNodes(pair.draftDiff.filter((o) => o.op !== 'delete').map((o) => ({ text: o.text, changed: o.op !== 'equal' })), pair.rightAnswer, 'right'));
    } else {
      left.textContent = stage.left;
      right.textContent = stage.right;
      if (stage.name === 'verdict') { left.classList.add('verdict-correct', 'region-verdict'); right.classList.add('verdict-incorrect', 'region-verdict'); }
    }
    grid.append(label, el('div', { className: 'pair-cells' }, left, right));
  }
  pairEl.replaceChildren(head, el('p', { className: 'muted', text: `gold answer: ${pair.goldAnswer ?? '—'} · a/r/f act on the draft-wrong sample on the right` }), grid);
  document.body.dataset.pair = pair.questionKey;
}

// ---------------------------------------------------------------------------
// Keys (plain keys only; with modifiers, VS Code's keybindings take over)

function typing(e: KeyboardEvent): boolean {
  return e.composedPath().some((n) => n instanceof HTMLElement && (n.tagName === 'INPUT' || n.tagName === 'TEXTAREA' || n.isContentEditable));
}

document.addEventListener('keydown', (e) => {
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (typing(e)) {
    if (e.key === 'Escape') { (document.activeElement as HTMLElement | null)?.blur(); viewport.focus(); e.stopPropagation(); }
    return;
  }
  const handled = handleKey(e.key);
  if (handled) { e.preventDefault(); e.stopPropagation(); }
});

function handleKey(key: string): boolean {
  const sel = st.selectedKey;
  const common: Record<string, () => void> = {
    a: () => { void curate('accept'); }, r: () => { void curate('reject'); }, f: () => { void curate('flag'); },
    u: () => { void curate('unreview'); }, d: () => { void curate('duplicate'); }, Delete: () => { void curate('delete'); },
  };
  if (st.mode === 'list') {
    const keys: Record<string, () => void> = {
      ...common,
      ArrowDown: () => { void moveSelection(1); }, j: () => { void moveSelection(1); },
      ArrowUp: () => { void moveSelection(-1); }, k: () => { void moveSelection(-1); },
      PageDown: () => { void moveSelection(Math.floor(viewport.clientHeight / ROW_H)); },
      PageUp: () => { void moveSelection(-Math.floor(viewport.clientHeight / ROW_H)); },
      Home: () => { void moveSelection(-Infinity); }, End: () => { void moveSelection(Infinity); },
      Enter: () => { if (sel !== null) void openSample(sel); }, o: () => { if (sel !== null) void openSample(sel); },
      c: () => { void openPair(sel); },
      '/': () => { (document.querySelector('#search') as HTMLElement | null)?.focus(); },
    };
    const fn = keys[key];
    if (fn) { fn(); return true; }
    return false;
  }
  if (st.mode === 'sample') {
    const keys: Record<string, () => void> = {
      ...common,
      Escape: () => setMode('list'), Backspace: () => setMode('list'),
      j: () => { void stepSample(1); }, k: () => { void stepSample(-1); },
      l: () => { st.latex = !st.latex; save(); if (sel !== null) void openSample(sel, true); },
      m: () => { st.mask = !st.mask; save(); if (sel !== null) void openSample(sel, true); },
      t: () => { if (sel !== null) void endpoint.request('openAsText', { key: sel }).catch((err: Error) => flash(err.message)); },
      c: () => { void openPair(sel); },
    };
    const fn = keys[key];
    if (fn) { fn(); return true; }
    return false;
  }
  const keys: Record<string, () => void> = {
    ...common,
    Escape: () => setMode('list'), Backspace: () => setMode('list'),
    n: () => { void navigatePair(1); }, ']': () => { void navigatePair(1); }, ArrowRight: () => { void navigatePair(1); },
    p: () => { void navigatePair(-1); }, '[': () => { void navigatePair(-1); }, ArrowLeft: () => { void navigatePair(-1); },
    w: () => {
      if (!currentPair || currentPair.wrongChoices.length < 2) return;
      const i = currentPair.wrongChoices.findIndex((x) => x.key === currentPair!.right.key);
      const nextWrong = currentPair.wrongChoices[(i + 1) % currentPair.wrongChoices.length];
      void endpoint.request('getPair', { from: currentPair.questionKey, delta: 0, wrongKey: nextWrong.key }).then((p) => { if (p) showPair(p); });
    },
  };
  const fn = keys[key];
  if (fn) { fn(); return true; }
  return false;
}

// ---------------------------------------------------------------------------
// Refresh after edits, start-up

async function refreshAll(): Promise<void> {
  await runView(true);
  void loadStats();
  if (st.mode === 'sample' && st.selectedKey !== null) {
    try { await openSample(st.selectedKey, true); } catch { setMode('list'); }
  }
  if (st.mode === 'pair' && currentPair) {
    const p = await endpoint.request('getPair', { from: currentPair.questionKey, delta: 0, wrongKey: st.wrongKey ?? undefined });
    if (p) { currentPair = p; renderPair(p); } else setMode('list');
  }
}

async function start(): Promise<void> {
  const info = await initInfo;
  document.body.dataset.initMs = String(Math.round(performance.now()));
  titleEl.textContent = info.fileName;
  document.title = info.fileName;
  if (!restored && info.saved) st.view = info.saved;
  const mode = st.mode;
  setMode('list');
  // Ask for the first rows before building the toolbar (its web components take a while to register).
  const first = runView(true);
  if (info.readOnly) header.append(tag('read-only', 'muted'));
  renderToolbar();
  renderStats();
  await first;
  viewport.scrollTop = st.scrollTop;
  void loadFacets();
  void loadStats();
  if (mode === 'sample' && st.selectedKey !== null) await openSample(st.selectedKey);
  else if (mode === 'pair' && st.pairFrom) {
    const p = await endpoint.request('getPair', { from: st.pairFrom, delta: 0, wrongKey: st.wrongKey ?? undefined });
    if (p) showPair(p);
  }
}

void start();
