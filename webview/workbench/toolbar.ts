/** Filters and search above the list: every change re-runs the view on the host. */
import { el } from '../common/bridge';
import { button, checkbox, dropdown, textField } from '../common/toolkit';
import type { FacetValues, ReviewStatus, RowFilter, RowFlag } from '../../src/core/protocols/workbench';
import { ROW_FLAGS } from '../../src/core/workbench/flags';
import { countEl, toolbar } from './dom';
import { runView } from './list';
import { endpoint, st } from './state';

let facetValues: FacetValues = { sources: [], cotTypes: [], fields: [] };
let searchTimer: ReturnType<typeof setTimeout> | undefined;

function filterChanged(debounce = 0): void {
  clearTimeout(searchTimer);
  const go = (): void => { void runView(); };
  if (debounce) searchTimer = setTimeout(go, debounce); else go();
}

function optionList(all: string, values: readonly string[]): { value: string; label: string }[] {
  return [{ value: '', label: all }, ...values.map((v) => ({ value: v, label: v }))];
}


export function renderToolbar(): void {
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
  const flags = dropdown(optionList('any flags', ROW_FLAGS), f.flags?.[0] ?? '', (value) => { st.view.filter.flags = value ? [value as RowFlag] : []; filterChanged(); }, { id: 'filter-flags' });
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

export async function loadFacets(): Promise<void> {
  facetValues = await endpoint.request('getFacets', {});
  renderToolbar();
}
