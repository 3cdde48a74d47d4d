/**
 * The corpus workbench's document model, pure: no vscode, no DOM.
 *
 * A corpus file is held as its original bytes plus an index of its lines.
 * Lines are parsed lazily (the first visible rows need only their own lines)
 * and reduced to short *row summaries* (the list's columns); parsed objects
 * are not kept. Edits (review, delete, duplicate) replace, remove or insert
 * whole line entries; a line that no edit touched is written back as its
 * original bytes, terminator included, and an edited line changes only the
 * field the edit sets (see `setTopLevelField`). Malformed lines are error rows
 * and are written back unchanged.
 *
 * Every line entry has a `key` that survives review edits, undo and redo, so
 * selections and caches can follow a sample through edits.
 */
import { Buffer } from 'node:buffer';
import type { DcdSample, ReviewState } from './model';
import { verify } from './answer';
import { AUDIT_FLAGS, histogram, type AuditFlag } from './audit';
import { classifyJsonlBytes, classifyJsonlLine } from './jsonl';
import { maskFlagCounts } from './mask';
import { countSamples, sampleKeys, type SampleKeys } from './stats';
import { skipWs, topLevelMembers } from './jsonMembers';

export type ReviewStatus = ReviewState['status'];
export const REVIEW_STATUSES: readonly ReviewStatus[] = ['unreviewed', 'accepted', 'rejected', 'flagged'];

/** One line of the file: original bytes of the source, or new text. Immutable. */
export interface LineEntry {
  readonly key: number;
  /** Original line: content is source[start, end), terminator source[end, lineEnd). */
  readonly start: number;
  readonly end: number;
  readonly lineEnd: number;
  /** Edited or inserted line (then start = end = lineEnd = -1). */
  readonly text?: string;
  /** Terminator of an edited or inserted line: '\n', '\r\n' or '' (last line). */
  readonly eol?: string;
  readonly blank: boolean;
}

/** How the draft tag, the s1K grade column and the verifier agree (the consistency check). */
export interface Consistency {
  /** The sample's verdict. */
  tag: 'correct' | 'incorrect' | 'unknown';
  /** `gemini_grade` Yes/No for a Gemini draft (the column grades the Gemini attempt); null otherwise. */
  grade: 'correct' | 'incorrect' | null;
  /** verify(draft, gold_answer, {goldIsAnswer: true}): null when undecidable or no gold answer. */
  verifier: 'correct' | 'incorrect' | null;
  rule: string;
  /** The signals that disagree with the tag (or with each other): empty when consistent. */
  reasons: string[];
}

/** The short column values of a row: what the list shows, filters and sorts on. */
export interface RowSummary {
  kind: 'sample' | 'error';
  id: string;
  /** First non-empty line of the question, at most QUESTION_CHARS characters. */
  question: string;
  /** Groups the samples of one question: `s1k:<index>` or `q:<normalised question>`. */
  questionKey: string;
  verdict: string;
  source: string;
  cotType: string;
  review: ReviewStatus;
  note?: string;
  draftAnswer: string | null;
  goldAnswer: string | null;
  /** Required fields the line lacks. */
  missing: string[];
  /** Why the line is malformed (error rows). */
  error?: string;
  consistency: Consistency | null;
  /** Characters of the line. */
  chars: number;
}

/** Token columns of a row (from the tokenizer and mask core). */
export interface TokenInfo {
  tokens: number;
  trained: number;
  flags: AuditFlag[];
  error?: string;
}

export const QUESTION_CHARS = 200;

/** Flags the list can filter on: the mask audit's, the consistency check, malformed and incomplete lines. */
export type RowFlag = AuditFlag | 'disagreement' | 'malformed' | 'incomplete' | 'noted';
export const ROW_FLAGS: readonly RowFlag[] = [...AUDIT_FLAGS, 'disagreement', 'malformed', 'incomplete', 'noted'];

export interface SearchQuery {
  text: string;
  regex?: boolean;
  caseSensitive?: boolean;
  /** A top-level field name, or `any`: every value of every field but `text` (the rendered trace repeats the others), nested ones included. */
  field?: string;
}

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

/** One edit step: line entries replaced, removed or inserted, located by key. */
export type LineChange =
  | { kind: 'replace'; before: LineEntry; after: LineEntry }
  | { kind: 'insert'; entry: LineEntry; afterKey: number | null }
  | { kind: 'remove'; entry: LineEntry; afterKey: number | null };

export interface DocumentEdit {
  label: string;
  changes: LineChange[];
}

let nextKey = 1;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

function firstLine(q: string): string {
  const line = q.split('\n').find((l) => l.trim()) ?? '';
  const t = line.trim();
  return t.length > QUESTION_CHARS ? `${t.slice(0, QUESTION_CHARS - 1)}…` : t;
}

function gradeOf(v: unknown): 'correct' | 'incorrect' | null {
  if (typeof v !== 'string') return null;
  const t = v.trim().toLowerCase();
  if (t === 'yes' || t === 'true' || t === 'correct') return 'correct';
  if (t === 'no' || t === 'false' || t === 'incorrect') return 'incorrect';
  return null;
}

/** The consistency check of one sample: draft tag vs `gemini_grade` vs the verifier. */
export function checkConsistency(s: Partial<DcdSample>): Consistency {
  const tag = s.verdict === 'correct' || s.verdict === 'incorrect' ? s.verdict : 'unknown';
  const grade = s.draft_source === 'gemini' ? gradeOf(s.gemini_grade) : null;
  let verifier: Consistency['verifier'] = null;
  let rule = 'no-gold-answer';
  if (typeof s.draft === 'string' && typeof s.gold_answer === 'string' && s.gold_answer.trim()) {
    const v = verify(s.draft, s.gold_answer, { goldIsAnswer: true });
    rule = v.rule;
    verifier = v.equivalent === null ? null : v.equivalent ? 'correct' : 'incorrect';
  }
  const reasons: string[] = [];
  if (tag === 'unknown') reasons.push('verdict is neither correct nor incorrect');
  if (tag !== 'unknown' && verifier && verifier !== tag) reasons.push(`verifier says ${verifier} (${rule})`);
  if (tag !== 'unknown' && grade && grade !== tag) reasons.push(`gemini_grade says ${grade}`);
  if (grade && verifier && grade !== verifier && !reasons.length) reasons.push(`gemini_grade (${grade}) and verifier (${verifier}) differ`);
  return { tag, grade, verifier, rule, reasons };
}

/** Reduces a parsed sample line to its row summary. */
export function summarizeSample(v: Record<string, unknown>, chars: number): RowSummary {
  const s = v as Partial<DcdSample>;
  const review = s.review && typeof s.review === 'object' && REVIEW_STATUSES.includes((s.review as ReviewState).status)
    ? (s.review as ReviewState) : null;
  const { verdict, source, cotType, questionKey, missing } = sampleKeys(v);
  return {
    kind: 'sample',
    id: str(s.id),
    question: firstLine(str(s.question)),
    questionKey, verdict, source, cotType,
    review: review?.status ?? 'unreviewed',
    note: typeof review?.note === 'string' && review.note ? review.note : undefined,
    draftAnswer: typeof s.draft_answer === 'string' ? s.draft_answer : null,
    goldAnswer: typeof s.gold_answer === 'string' ? s.gold_answer : null,
    missing,
    consistency: checkConsistency(s),
    chars,
  };
}

function errorSummary(message: string, chars: number): RowSummary {
  return {
    kind: 'error', id: '', question: '', questionKey: '', verdict: '', source: '', cotType: '', review: 'unreviewed',
    draftAnswer: null, goldAnswer: null, missing: [], error: message, consistency: null, chars,
  };
}

/** Parses one line's text: the object, or why it is not a sample line. */
export function parseLine(text: string): { value: Record<string, unknown> } | { error: string } {
  const row = classifyJsonlLine<Record<string, unknown>>(text, 0);
  if (!row) return { error: 'blank line' };
  return row.kind === 'value' ? { value: row.value } : { error: row.message };
}

// ---------------------------------------------------------------------------
// Editing one field of a JSON line without touching its other bytes.

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Sets (or, with `undefined`, removes) a top-level field of a JSON object
 * line. Only that member's text changes: key order, spacing, escapes and
 * number spellings of every other member stay byte for byte. A new member is
 * appended in the line's own separator style. Falls back to re-serialising
 * the parsed object when the line cannot be edited textually.
 */
export function setTopLevelField(line: string, key: string, value: unknown): string {
  const parsed = topLevelMembers(line);
  let out: string | null = null;
  if (parsed) {
    const { members, open, close } = parsed;
    // JSON.parse keeps the last of duplicate keys.
    let idx = -1;
    for (let k = members.length - 1; k >= 0; k--) if (members[k].key === key) { idx = k; break; }
    const spaced = members.length > 0 && line[skipWs(line, members[0].keyStart + JSON.stringify(members[0].key).length) + 1] === ' ';
    const colon = spaced ? ': ' : ':';
    const comma = members.length > 1 && /^\s*,\s/.test(line.slice(members[0].valueEnd, members[1].keyStart)) ? ', ' : ',';
    if (value === undefined) {
      if (idx < 0) return line;
      const m = members[idx];
      if (members.length === 1) out = line.slice(0, open + 1) + line.slice(close);
      else if (idx > 0) out = line.slice(0, members[idx - 1].valueEnd) + line.slice(m.valueEnd);
      else out = line.slice(0, m.keyStart) + line.slice(members[1].keyStart);
    } else {
      const json = JSON.stringify(value);
      if (idx >= 0) {
        const m = members[idx];
        out = line.slice(0, m.valueStart) + json + line.slice(m.valueEnd);
      } else if (members.length) {
        const last = members[members.length - 1];
        out = `${line.slice(0, last.valueEnd)}${comma}${JSON.stringify(key)}${colon}${json}${line.slice(last.valueEnd)}`;
      } else {
        out = `${line.slice(0, open + 1)}${JSON.stringify(key)}${colon}${json}${line.slice(open + 1)}`;
      }
    }
    // Check the textual edit against its meaning.
    try {
      const a = JSON.parse(out) as Record<string, unknown>;
      const b = JSON.parse(line) as Record<string, unknown>;
      if (value === undefined) delete b[key]; else b[key] = value;
      if (!sameJson(a, b)) out = null;
    } catch { out = null; }
  }
  if (out !== null) return out;
  const obj = JSON.parse(line) as Record<string, unknown>;
  if (value === undefined) delete obj[key]; else obj[key] = value;
  return JSON.stringify(obj);
}

// ---------------------------------------------------------------------------
// Search.

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

function countMatches(re: RegExp, text: string): number {
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

// ---------------------------------------------------------------------------
// The document.

export interface ViewResult {
  entries: LineEntry[];
  search: { samples: number; occurrences: number; error?: string } | null;
}

export interface WorkbenchStats {
  rows: number;
  samples: number;
  malformed: number;
  incomplete: number;
  verdicts: { correct: number; incorrect: number; other: number };
  /** correct / (correct + incorrect); null when neither. */
  balance: number | null;
  bySource: Record<string, number>;
  byCotType: Record<string, number>;
  review: Record<ReviewStatus, number>;
  questions: number;
  questionsWithBoth: number;
  tokens: {
    done: number;
    total: number;
    failed: number;
    sum: number;
    trained: number;
    min: number;
    max: number;
    mean: number;
    histogram: { bin_width: number; edges: number[]; counts: number[] } | null;
    flags: Record<AuditFlag, number>;
  };
  consistency: {
    checked: number;
    consistent: number;
    /** Every disagreement, in file order. */
    disagreements: Array<{ key: number; line: number; id: string; tag: string; grade: string | null; verifier: string | null; rule: string; reasons: string[] }>;
  };
}

export interface PairGroup {
  questionKey: string;
  question: string;
  correct: number[];
  wrong: number[];
}

export class CorpusDocument {
  /** The bytes the original line entries point into. */
  readonly source: Buffer;
  private entries: LineEntry[];
  private readonly bom: boolean;
  /** The terminator for lines that need one and have none: the file's first. */
  readonly defaultEol: string;
  private readonly summaries = new WeakMap<LineEntry, RowSummary>();
  private readonly tokens = new Map<number, TokenInfo>();
  private rowsCache: { rows: LineEntry[]; lines: Map<number, number>; rowIndex: Map<number, number> } | null = null;
  private readonly searchCache = new Map<string, WeakMap<LineEntry, number>>();
  /** Bumped by every change of the lines. */
  version = 0;

  constructor(bytes: Uint8Array) {
    this.source = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.bom = this.source.length >= 3 && this.source[0] === 0xef && this.source[1] === 0xbb && this.source[2] === 0xbf;
    this.entries = CorpusDocument.indexLines(this.source, this.bom ? 3 : 0);
    const first = this.entries.find((e) => e.lineEnd > e.end);
    this.defaultEol = first && first.lineEnd - first.end === 2 ? '\r\n' : '\n';
  }

  /** Line entries by scanning for '\n': no parsing. */
  static indexLines(buf: Buffer, from = 0): LineEntry[] {
    const out: LineEntry[] = [];
    let pos = from;
    while (pos < buf.length) {
      const nl = buf.indexOf(10, pos);
      const lineEnd = nl < 0 ? buf.length : nl + 1;
      let end = nl < 0 ? buf.length : nl;
      if (end > pos && buf[end - 1] === 13) end--;
      out.push({ key: nextKey++, start: pos, end, lineEnd, blank: isBlank(buf, pos, end) });
      pos = lineEnd;
    }
    return out;
  }

  // --- lines and rows ---

  /** Every line entry, blank lines included, in file order. */
  lines(): readonly LineEntry[] { return this.entries; }

  /** The text of a line (without its terminator). */
  lineText(e: LineEntry): string {
    return e.text !== undefined ? e.text : this.source.toString('utf8', e.start, e.end);
  }

  private rowsIndex(): NonNullable<CorpusDocument['rowsCache']> {
    if (!this.rowsCache) {
      const rows: LineEntry[] = [];
      const lines = new Map<number, number>();
      const rowIndex = new Map<number, number>();
      this.entries.forEach((e, i) => {
        lines.set(e.key, i + 1);
        if (!e.blank) { rowIndex.set(e.key, rows.length); rows.push(e); }
      });
      this.rowsCache = { rows, lines, rowIndex };
    }
    return this.rowsCache;
  }

  /** The rows: every non-blank line (samples and malformed lines), in file order. */
  rows(): readonly LineEntry[] { return this.rowsIndex().rows; }

  entryByKey(key: number): LineEntry | undefined {
    const i = this.rowsIndex().rowIndex.get(key);
    return i === undefined ? undefined : this.rowsIndex().rows[i];
  }

  /** 1-based line number of an entry in the current document. */
  lineNumber(key: number): number { return this.rowsIndex().lines.get(key) ?? 0; }

  /** 0-based index among the well-formed sample rows (what `dcd.openSampleAsTrace` takes), or -1. */
  sampleIndexOf(key: number): number {
    let n = 0;
    for (const e of this.rows()) {
      const isSample = this.summary(e).kind === 'sample';
      if (e.key === key) return isSample ? n : -1;
      if (isSample) n++;
    }
    return -1;
  }

  /** The key of the n-th well-formed sample row, or undefined. */
  keyOfSampleIndex(index: number): number | undefined {
    let n = 0;
    for (const e of this.rows()) {
      if (this.summary(e).kind !== 'sample') continue;
      if (n === index) return e.key;
      n++;
    }
    return undefined;
  }

  keyOfId(id: string): number | undefined {
    return this.rows().find((e) => this.summary(e).kind === 'sample' && this.summary(e).id === id)?.key;
  }

  /** The parsed object of a row (parsed anew: objects are not kept). */
  parsed(e: LineEntry): Record<string, unknown> | null {
    const r = this.parseEntry(e);
    return 'value' in r ? r.value : null;
  }

  /**
   * An original line is classified from its bytes, as every corpus reader does
   * (src/core/corpusInput.ts): a line with invalid UTF-8 is an error row, so
   * no edit ever re-encodes it and saving writes its bytes back unchanged.
   */
  private parseEntry(e: LineEntry): ReturnType<typeof parseLine> {
    if (e.text !== undefined) return parseLine(e.text);
    const row = classifyJsonlBytes<Record<string, unknown>>(this.source, e.start, e.end, 0);
    if (!row) return { error: 'blank line' };
    return row.kind === 'value' ? { value: row.value } : { error: row.message };
  }

  /** The row summary of an entry, parsing its line on first use. */
  summary(e: LineEntry): RowSummary {
    let s = this.summaries.get(e);
    if (!s) {
      const chars = e.text !== undefined ? e.text.length : this.lineText(e).length;
      const r = this.parseEntry(e);
      s = 'value' in r ? summarizeSample(r.value, chars) : errorSummary(r.error, chars);
      this.summaries.set(e, s);
    }
    return s;
  }

  isSummarized(e: LineEntry): boolean { return this.summaries.has(e); }

  /**
   * Summarises every row, yielding to the event loop every `sliceChars`
   * characters so the host stays responsive.
   */
  async summarizeAll(opts: { sliceChars?: number; onProgress?: (done: number, total: number) => void; signal?: AbortSignal } = {}): Promise<void> {
    const slice = opts.sliceChars ?? 4_000_000;
    let budget = 0;
    const rows = this.rows();
    for (let i = 0; i < rows.length; i++) {
      const e = rows[i];
      if (!this.summaries.has(e)) {
        budget += this.summary(e).chars;
        if (budget >= slice) {
          budget = 0;
          opts.onProgress?.(i + 1, rows.length);
          await yieldToLoop();
          opts.signal?.throwIfAborted();
        }
      }
    }
    opts.onProgress?.(rows.length, rows.length);
  }

  // --- tokens ---

  setTokens(key: number, info: TokenInfo): void { this.tokens.set(key, info); }
  tokensOf(key: number): TokenInfo | undefined { return this.tokens.get(key); }
  /** Forgets every token column (e.g. the mask policy or max_length changed). */
  clearTokens(): void { this.tokens.clear(); }

  // --- flags, filter, sort ---

  flagsOf(e: LineEntry): RowFlag[] {
    const s = this.summary(e);
    const out: RowFlag[] = [];
    if (s.kind === 'error') return ['malformed'];
    const t = this.tokens.get(e.key);
    if (t) out.push(...t.flags);
    if (s.consistency?.reasons.length) out.push('disagreement');
    if (s.missing.length) out.push('incomplete');
    if (s.note) out.push('noted');
    return out;
  }

  private matches(e: LineEntry, f: RowFilter, search: WeakMap<LineEntry, number> | null): boolean {
    const s = this.summary(e);
    if (search && !search.get(e)) return false;
    if (f.flags?.length) {
      const flags = this.flagsOf(e);
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
      const t = this.tokens.get(e.key);
      if (!t || t.error) return false;
      if (f.tokenMin != null && t.tokens < f.tokenMin) return false;
      if (f.tokenMax != null && t.tokens > f.tokenMax) return false;
    }
    return true;
  }

  private sortValue(e: LineEntry, column: SortColumn): string | number {
    const s = this.summary(e);
    switch (column) {
      case 'line': return this.lineNumber(e.key);
      case 'id': return s.id;
      case 'question': return s.question.toLowerCase();
      case 'verdict': return s.verdict;
      case 'source': return s.source;
      case 'cot_type': return s.cotType;
      case 'tokens': return this.tokens.get(e.key)?.tokens ?? -1;
      case 'trained': return this.tokens.get(e.key)?.trained ?? -1;
      case 'flags': return this.flagsOf(e).length;
      case 'review': return REVIEW_STATUSES.indexOf(s.review);
    }
  }

  /**
   * Searches every row. Hits are cached per query and line entry, so after
   * an edit only the changed lines are searched again.
   */
  async search(q: SearchQuery, opts: { sliceChars?: number; signal?: AbortSignal } = {}): Promise<SearchResult> {
    const c = compileSearch(q);
    if ('error' in c) return { hits: new Map(), samples: 0, occurrences: 0, error: c.error };
    let cache = this.searchCache.get(c.key);
    if (!cache) {
      if (this.searchCache.size >= 8) this.searchCache.delete(this.searchCache.keys().next().value as string);
      cache = new WeakMap();
      this.searchCache.set(c.key, cache);
    }
    const slice = opts.sliceChars ?? 4_000_000;
    let budget = 0;
    const hits = new Map<number, number>();
    let occurrences = 0;
    for (const e of this.rows()) {
      let n = cache.get(e);
      if (n === undefined) {
        const text = this.lineText(e);
        budget += text.length;
        c.re.lastIndex = 0;
        if (c.rawPrefilter && !c.re.test(text)) n = 0;
        else {
          const r = this.parseEntry(e);
          n = 'value' in r ? countInSample(c, r.value) : (c.field === 'any' ? countMatches(c.re, text) : 0);
        }
        cache.set(e, n);
        if (budget >= slice) { budget = 0; await yieldToLoop(); opts.signal?.throwIfAborted(); }
      }
      if (n > 0) { hits.set(e.key, n); occurrences += n; }
    }
    return { hits, samples: hits.size, occurrences };
  }

  /** The rows that pass a filter, in sort order (file order by default). */
  async view(filter: RowFilter = {}, sort: RowSort | null = null, opts: { signal?: AbortSignal } = {}): Promise<ViewResult> {
    await this.summarizeAll({ signal: opts.signal });
    let search: ViewResult['search'] = null;
    let searchHits: WeakMap<LineEntry, number> | null = null;
    if (filter.search && filter.search.text) {
      const r = await this.search(filter.search, { signal: opts.signal });
      search = { samples: r.samples, occurrences: r.occurrences, error: r.error };
      searchHits = new WeakMap();
      for (const e of this.rows()) { const n = r.hits.get(e.key); if (n) searchHits.set(e, n); }
    }
    const entries = this.rows().filter((e) => this.matches(e, filter, searchHits));
    if (search && searchHits) {
      // Hits among the rows the other filters let through: what the list shows.
      let occurrences = 0;
      for (const e of entries) occurrences += searchHits.get(e) ?? 0;
      search = { ...search, samples: entries.length, occurrences };
    }
    if (sort && sort.column !== 'line') {
      const dir = sort.descending ? -1 : 1;
      const keyed = entries.map((e) => ({ e, v: this.sortValue(e, sort.column), line: this.lineNumber(e.key) }));
      keyed.sort((a, b) => (a.v < b.v ? -dir : a.v > b.v ? dir : a.line - b.line));
      return { entries: keyed.map((k) => k.e), search };
    }
    if (sort?.descending) entries.reverse();
    return { entries, search };
  }

  // --- stats and pairs ---

  /** Counts, balance, token histogram and the consistency check. Every row must be summarised (summarizeAll). */
  stats(bins = 20): WorkbenchStats {
    const st: WorkbenchStats = {
      rows: 0, samples: 0, malformed: 0, incomplete: 0, verdicts: { correct: 0, incorrect: 0, other: 0 }, balance: null,
      bySource: {}, byCotType: {}, review: { unreviewed: 0, accepted: 0, rejected: 0, flagged: 0 }, questions: 0, questionsWithBoth: 0,
      tokens: { done: 0, total: 0, failed: 0, sum: 0, trained: 0, min: 0, max: 0, mean: 0, histogram: null, flags: maskFlagCounts() },
      consistency: { checked: 0, consistent: 0, disagreements: [] },
    };
    const lengths: number[] = [];
    const keys: SampleKeys[] = [];
    for (const e of this.rows()) {
      st.rows++;
      const s = this.summary(e);
      if (s.kind === 'error') { st.malformed++; continue; }
      keys.push(s);
      st.review[s.review]++;
      st.tokens.total++;
      const t = this.tokens.get(e.key);
      if (t) {
        if (t.error) st.tokens.failed++;
        else {
          st.tokens.done++;
          st.tokens.sum += t.tokens;
          st.tokens.trained += t.trained;
          lengths.push(t.tokens);
          for (const f of t.flags) st.tokens.flags[f]++;
        }
      }
      const c = s.consistency;
      if (c) {
        st.consistency.checked++;
        if (c.reasons.length) {
          st.consistency.disagreements.push({
            key: e.key, line: this.lineNumber(e.key), id: s.id, tag: c.tag, grade: c.grade, verifier: c.verifier, rule: c.rule, reasons: c.reasons,
          });
        } else st.consistency.consistent++;
      }
    }
    const counts = countSamples(keys);
    st.samples = counts.samples;
    st.incomplete = counts.incomplete;
    const correct = counts.byVerdict.correct ?? 0;
    const incorrect = counts.byVerdict.incorrect ?? 0;
    st.verdicts = { correct, incorrect, other: counts.samples - correct - incorrect };
    st.bySource = counts.bySource;
    st.byCotType = counts.byCotType;
    st.questions = counts.questions;
    st.questionsWithBoth = counts.questionsWithBoth;
    st.balance = correct + incorrect ? correct / (correct + incorrect) : null;
    if (lengths.length) {
      st.tokens.min = lengths.reduce((a, b) => Math.min(a, b), Infinity);
      st.tokens.max = lengths.reduce((a, b) => Math.max(a, b), 0);
      st.tokens.mean = st.tokens.sum / lengths.length;
      st.tokens.histogram = histogram(lengths, bins);
    }
    return st;
  }

  /** Questions with a draft-correct and a draft-wrong sample, in order of first appearance. */
  pairGroups(): PairGroup[] {
    const groups = new Map<string, PairGroup>();
    for (const e of this.rows()) {
      const s = this.summary(e);
      if (s.kind !== 'sample' || (s.verdict !== 'correct' && s.verdict !== 'incorrect')) continue;
      let g = groups.get(s.questionKey);
      if (!g) groups.set(s.questionKey, (g = { questionKey: s.questionKey, question: s.question, correct: [], wrong: [] }));
      (s.verdict === 'correct' ? g.correct : g.wrong).push(e.key);
    }
    return [...groups.values()].filter((g) => g.correct.length && g.wrong.length);
  }

  // --- edits ---

  private newEntry(text: string, eol: string, key = nextKey++): LineEntry {
    return { key, start: -1, end: -1, lineEnd: -1, text, eol, blank: text.trim() === '' };
  }

  private eolOf(e: LineEntry): string {
    return e.text !== undefined ? (e.eol ?? '') : this.source.toString('latin1', e.end, e.lineEnd);
  }

  /** Sets (status given) or clears (null) the `review` field of sample rows. Error rows are left alone. */
  reviewEdit(keys: readonly number[], review: ReviewState | null, label?: string): DocumentEdit {
    const changes: LineChange[] = [];
    for (const key of new Set(keys)) {
      const before = this.entryByKey(key);
      if (!before || this.summary(before).kind !== 'sample') continue;
      const text = setTopLevelField(this.lineText(before), 'review', review ?? undefined);
      if (text === this.lineText(before)) continue;
      changes.push({ kind: 'replace', before, after: this.newEntry(text, this.eolOf(before), key) });
    }
    const what = review ? (review.status === 'accepted' ? 'Accept' : review.status === 'rejected' ? 'Reject' : review.status === 'flagged' ? 'Flag' : 'Mark unreviewed') : 'Clear review';
    return { label: label ?? `${what} ${changes.length === 1 ? 'sample' : `${changes.length} samples`}`, changes };
  }

  /** Removes rows (samples or malformed lines). */
  deleteEdit(keys: readonly number[]): DocumentEdit {
    const set = new Set(keys);
    const changes: LineChange[] = [];
    // Last first, so every afterKey names a line that is still there when the change is applied.
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i];
      if (!set.has(e.key)) continue;
      changes.push({ kind: 'remove', entry: e, afterKey: i > 0 ? this.entries[i - 1].key : null });
    }
    return { label: `Delete ${changes.length === 1 ? 'sample' : `${changes.length} samples`}`, changes };
  }

  /** Inserts a copy of each sample row right after it, with a new unique id. */
  duplicateEdit(keys: readonly number[]): DocumentEdit {
    const ids = new Set(this.rows().map((e) => this.summary(e).id));
    const changes: LineChange[] = [];
    for (const key of new Set(keys)) {
      const e = this.entryByKey(key);
      if (!e || this.summary(e).kind !== 'sample') continue;
      const id = this.summary(e).id;
      let copyId = `${id}-copy`;
      for (let n = 2; ids.has(copyId); n++) copyId = `${id}-copy${n}`;
      ids.add(copyId);
      const entry = this.newEntry(setTopLevelField(this.lineText(e), 'id', copyId), this.eolOf(e));
      const t = this.tokens.get(key);
      if (t) this.tokens.set(entry.key, t);
      changes.push({ kind: 'insert', entry, afterKey: key });
    }
    return { label: `Duplicate ${changes.length === 1 ? 'sample' : `${changes.length} samples`}`, changes };
  }

  private indexOfKey(key: number): number {
    return this.entries.findIndex((e) => e.key === key);
  }

  private changed(): void {
    this.rowsCache = null;
    this.version++;
  }

  private applyChange(c: LineChange, forward: boolean): void {
    const insert = (entry: LineEntry, afterKey: number | null): void => {
      if (this.indexOfKey(entry.key) >= 0) return;
      const at = afterKey === null ? 0 : this.indexOfKey(afterKey) + 1;
      if (afterKey !== null && at === 0) return; // the anchor is gone (e.g. after a revert): nothing to do
      this.entries.splice(at, 0, entry);
    };
    const remove = (entry: LineEntry): void => {
      const i = this.entries.indexOf(entry);
      if (i >= 0) this.entries.splice(i, 1);
    };
    switch (c.kind) {
      case 'replace': {
        const [from, to] = forward ? [c.before, c.after] : [c.after, c.before];
        const i = this.entries.indexOf(from);
        if (i >= 0) this.entries[i] = to;
        return;
      }
      case 'insert': if (forward) insert(c.entry, c.afterKey); else remove(c.entry); return;
      case 'remove': if (forward) remove(c.entry); else insert(c.entry, c.afterKey); return;
    }
  }

  /** Applies an edit (also its redo). */
  apply(edit: DocumentEdit): void {
    for (const c of edit.changes) this.applyChange(c, true);
    this.changed();
  }

  /** Reverts an edit (its undo). */
  revert(edit: DocumentEdit): void {
    for (let i = edit.changes.length - 1; i >= 0; i--) this.applyChange(edit.changes[i], false);
    this.changed();
  }

  // --- saving ---

  /** The file's bytes: untouched lines exactly as read, edited lines re-encoded. */
  serialize(): Buffer {
    const parts: Buffer[] = [];
    if (this.bom) parts.push(BOM);
    const n = this.entries.length;
    let runStart = -1, runEnd = -1;
    const flush = (): void => { if (runStart >= 0) parts.push(this.source.subarray(runStart, runEnd)); runStart = runEnd = -1; };
    for (let i = 0; i < n; i++) {
      const e = this.entries[i];
      const last = i === n - 1;
      if (e.text === undefined && (e.lineEnd > e.end || last)) {
        if (runStart >= 0 && runEnd === e.start) runEnd = e.lineEnd;
        else { flush(); runStart = e.start; runEnd = e.lineEnd; }
        continue;
      }
      flush();
      if (e.text === undefined) {
        // An original last line without a terminator that is no longer last.
        parts.push(this.source.subarray(e.start, e.end), Buffer.from(this.defaultEol));
      } else {
        const eol = e.eol || (last ? '' : this.defaultEol);
        parts.push(Buffer.from(e.text + eol, 'utf8'));
      }
    }
    flush();
    return Buffer.concat(parts);
  }
}

function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A linear undo/redo history of document edits with a saved point, for
 * callers without VS Code's edit stack (the CLI, tests).
 */
export class EditHistory {
  private done: DocumentEdit[] = [];
  private undone: DocumentEdit[] = [];
  private savedAt = 0;

  constructor(private readonly doc: CorpusDocument) {}

  push(edit: DocumentEdit): void {
    this.doc.apply(edit);
    this.done.push(edit);
    if (this.savedAt > this.done.length - 1) this.savedAt = -1; // the saved state can no longer be reached by redo
    this.undone = [];
  }

  undo(): DocumentEdit | undefined {
    const e = this.done.pop();
    if (e) { this.doc.revert(e); this.undone.push(e); }
    return e;
  }

  redo(): DocumentEdit | undefined {
    const e = this.undone.pop();
    if (e) { this.doc.apply(e); this.done.push(e); }
    return e;
  }

  markSaved(): void { this.savedAt = this.done.length; }
  get dirty(): boolean { return this.savedAt !== this.done.length; }
  get canUndo(): boolean { return this.done.length > 0; }
  get canRedo(): boolean { return this.undone.length > 0; }
}
