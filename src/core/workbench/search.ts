/** Searching the workbench rows: a query compiled once, counted per parsed sample. */

export interface SearchQuery {
  text: string;
  regex?: boolean;
  caseSensitive?: boolean;
  /** A top-level field name, or `any`: every value of every field but `text` (the rendered trace repeats the others), nested ones included. */
  field?: string;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Query text that any JSON writer leaves unescaped, so the raw line must contain it. */
const RAW_SAFE = /^[A-Za-z0-9 _.,:;!?()[\]{}+=*#%$@^~|-]+$/;

export interface CompiledSearch {
  key: string;
  re: RegExp;
  field: string;
  /** The raw line can be tested first (the query survives JSON escaping unchanged). */
  rawPrefilter: boolean;
}

export function compileSearch(q: SearchQuery): CompiledSearch | { error: string } {
  const field = q.field && q.field !== 'any' ? q.field : 'any';
  const flags = q.caseSensitive ? 'gu' : 'giu';
  let re: RegExp;
  try {
    re = new RegExp(q.regex ? q.text : escapeRegExp(q.text), flags);
  } catch (err) {
    return { error: `Invalid regular expression: ${(err as Error).message}` };
  }
  if (re.test('')) return { error: 'The expression matches the empty string.' };
  return { key: `${field}\u0000${flags}\u0000${q.regex ? 're' : 'text'}\u0000${q.text}`, re, field, rawPrefilter: !q.regex && RAW_SAFE.test(q.text) };
}

/** Matches of a global regular expression in a text. */
export function countMatches(re: RegExp, text: string): number {
  re.lastIndex = 0;
  let n = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    n++;
    if (m[0].length === 0) re.lastIndex++;
  }
  return n;
}

/** Occurrences of a compiled query in one parsed sample. */
export function countInSample(c: CompiledSearch, v: Record<string, unknown>): number {
  if (c.field !== 'any') {
    const val = v[c.field];
    if (val === undefined) return 0;
    return countMatches(c.re, typeof val === 'string' ? val : JSON.stringify(val));
  }
  let n = 0;
  const walk = (val: unknown): void => {
    if (typeof val === 'string') n += countMatches(c.re, val);
    else if (typeof val === 'number' || typeof val === 'boolean') n += countMatches(c.re, String(val));
    else if (val && typeof val === 'object') for (const x of Object.values(val)) walk(x);
  };
  for (const [k, val] of Object.entries(v)) if (k !== 'text') walk(val);
  return n;
}

export interface SearchResult {
  /** Hits per matching entry (by key). */
  hits: Map<number, number>;
  samples: number;
  occurrences: number;
  error?: string;
}

/** Occurrences of a compiled query in one line: the raw text first when the query survives JSON escaping. */
export function countLine(c: CompiledSearch, text: string, parse: () => { value: Record<string, unknown> } | { error: string }): number {
  c.re.lastIndex = 0;
  if (c.rawPrefilter && !c.re.test(text)) return 0;
  const r = parse();
  return 'value' in r ? countInSample(c, r.value) : (c.field === 'any' ? countMatches(c.re, text) : 0);
}
