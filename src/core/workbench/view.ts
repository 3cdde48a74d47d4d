/** The workbench list: which rows pass a filter, and in which order. */
import type { CorpusDocument, LineEntry } from './document';
import { REVIEW_STATUSES, type ReviewStatus, type RowFlag } from './rows';
import type { SearchQuery } from './search';

export interface RowFilter {
  verdict?: 'correct' | 'incorrect' | null;
  sources?: string[];
  cotTypes?: string[];
  tokenMin?: number | null;
  tokenMax?: number | null;
  /** Rows with any of these flags. */
  flags?: RowFlag[];
  review?: ReviewStatus[];
  search?: SearchQuery | null;
}

export const SORT_COLUMNS = ['line', 'id', 'question', 'verdict', 'source', 'cot_type', 'tokens', 'trained', 'flags', 'review'] as const;
export type SortColumn = (typeof SORT_COLUMNS)[number];
export interface RowSort { column: SortColumn; descending?: boolean }

export interface ViewResult {
  entries: LineEntry[];
  search: { samples: number; occurrences: number; error?: string } | null;
}

/** The rows that pass a filter, in sort order (file order by default). */
export async function viewRows(doc: CorpusDocument, filter: RowFilter = {}, sort: RowSort | null = null, opts: { signal?: AbortSignal; onSearchProgress?: (done: number, total: number) => void } = {}): Promise<ViewResult> {
  await doc.summarizeAll({ signal: opts.signal });
  let search: ViewResult['search'] = null;
  let searchHits: WeakMap<LineEntry, number> | null = null;
  if (filter.search && filter.search.text) {
    const r = await doc.search(filter.search, { signal: opts.signal, onProgress: opts.onSearchProgress });
    search = { samples: r.samples, occurrences: r.occurrences, error: r.error };
    searchHits = new WeakMap();
    for (const e of doc.rows()) { const n = r.hits.get(e.key); if (n) searchHits.set(e, n); }
  }
  const entries = doc.rows().filter((e) => matches(doc, e, filter, searchHits));
  if (search && searchHits) {
    // Hits among the rows the other filters let through: what the list shows.
    let occurrences = 0;
    for (const e of entries) occurrences += searchHits.get(e) ?? 0;
    search = { ...search, samples: entries.length, occurrences };
  }
  if (sort && sort.column !== 'line') {
    const dir = sort.descending ? -1 : 1;
    const keyed = entries.map((e) => ({ e, v: sortValue(doc, e, sort.column), line: doc.lineNumber(e.key) }));
    keyed.sort((a, b) => (a.v < b.v ? -dir : a.v > b.v ? dir : a.line - b.line));
    return { entries: keyed.map((k) => k.e), search };
  }
  if (sort?.descending) entries.reverse();
  return { entries, search };
}

function matches(doc: CorpusDocument, e: LineEntry, f: RowFilter, search: WeakMap<LineEntry, number> | null): boolean {
  const s = doc.info(e);
  if (search && !search.get(e)) return false;
  if (f.flags?.length) {
    const flags = doc.flagsOf(e);
    if (!f.flags.some((x) => flags.includes(x))) return false;
  }
  if (s.kind === 'error') {
    // Error rows have no sample columns: only a flag or search filter can select them, and column filters hide them.
    return !(f.verdict || f.sources?.length || f.cotTypes?.length || f.review?.length || f.tokenMin != null || f.tokenMax != null);
  }
  if (f.verdict && s.verdict !== f.verdict) return false;
  if (f.sources?.length && !f.sources.includes(s.source)) return false;
  if (f.cotTypes?.length && !f.cotTypes.includes(s.cotType)) return false;
  if (f.review?.length && !f.review.includes(s.review)) return false;
  if (f.tokenMin != null || f.tokenMax != null) {
    const t = doc.tokensOf(e.key);
    if (!t || t.error) return false;
    if (f.tokenMin != null && t.tokens < f.tokenMin) return false;
    if (f.tokenMax != null && t.tokens > f.tokenMax) return false;
  }
  return true;
}

function sortValue(doc: CorpusDocument, e: LineEntry, column: SortColumn): string | number {
  const s = doc.info(e);
  switch (column) {
    case 'line': return doc.lineNumber(e.key);
    case 'id': return s.id;
    case 'question': return s.questionSort; // the first QUESTION_SORT_CHARS characters (rowInfo.ts); file order breaks ties
    case 'verdict': return s.verdict;
    case 'source': return s.source;
    case 'cot_type': return s.cotType;
    case 'tokens': return doc.tokensOf(e.key)?.tokens ?? -1;
    case 'trained': return doc.tokensOf(e.key)?.trained ?? -1;
    case 'flags': return doc.flagsOf(e).length;
    case 'review': return REVIEW_STATUSES.indexOf(s.review);
  }
}
