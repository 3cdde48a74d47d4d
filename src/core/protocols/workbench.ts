/**
 * Protocol of the Corpus workbench (custom editor for DCD corpora).
 *
 * The host holds the document; the webview asks for what it shows: a view
 * (filter + sort) gives a view id and a row count, then row windows of that
 * view carry only the short column values. Sample text, pairs and the mask
 * overlay are fetched one sample at a time. The host tells the webview when
 * the document changed (edits, undo, revert) or token columns arrived.
 */
import type { Api } from './endpoint';
import type { RowFilter, RowFlag, RowSort, ReviewStatus, WorkbenchStats } from '../workbench';
import type { DiffOp, StageName } from '../trace/draftCompare';
import type { RegionName, Span } from '../trace/template';

export type { RowFilter, RowSort, RowFlag, ReviewStatus, WorkbenchStats } from '../workbench';

/** What the webview persists (webview state) and the host keeps per file (workspaceState). */
export interface WorkbenchViewState {
  filter: RowFilter;
  sort: RowSort | null;
}

/** One list row: short column values only. */
export interface RowView {
  key: number;
  /** 1-based line in the file. */
  line: number;
  kind: 'sample' | 'error';
  id: string;
  question: string;
  verdict: string;
  source: string;
  cotType: string;
  /** null while the token columns are being computed. */
  tokens: number | null;
  trained: number | null;
  flags: RowFlag[];
  review: ReviewStatus;
  note?: string;
  /** Why an error row is malformed. */
  error?: string;
}

export interface InitInfo {
  file: string;
  fileName: string;
  /** Saved view state of this file (workspaceState), if any. */
  saved: WorkbenchViewState | null;
  /** The file system cannot be written: curation is off. */
  readOnly: boolean;
}

export interface FacetValues {
  sources: string[];
  cotTypes: string[];
  /** Top-level field names seen, for the search field menu. */
  fields: string[];
}

export interface ViewInfo {
  viewId: number;
  count: number;
  /** Rows in the document. */
  total: number;
  search: { samples: number; occurrences: number; error?: string } | null;
  /** Rows whose token columns are still pending (a token filter excludes them). */
  tokensPending: number;
  /** The first rows of the view (saves a round trip before the first paint). */
  first: RowView[];
  /** Every line of the file was indexed when the view was made (else more rows are coming: `progress`). */
  complete: boolean;
}

export interface SampleDetail {
  key: number;
  line: number;
  /** 0-based index among the well-formed samples. */
  sampleIndex: number;
  id: string;
  verdict: string;
  source: string;
  cotType: string;
  goldAnswer: string | null;
  draftAnswer: string | null;
  review: { status: ReviewStatus; note?: string; at?: string };
  text: string;
  /** Stage regions of `text` when it parses as a trace (else empty). */
  regions: Partial<Record<RegionName, Span>>;
  parseError?: string;
  tokens: number | null;
  trained: number | null;
  flags: RowFlag[];
  consistency: { grade: string | null; verifier: string | null; rule: string; reasons: string[] } | null;
  /** Other fields (unknown ones included), stringified, for the facts table. */
  extra: Array<{ name: string; value: string }>;
  /** The question has both kinds of draft: side by side is available. */
  hasPair: boolean;
}

export interface MaskOverlay {
  key: number;
  /** Token [start, end) UTF-16 offsets, two per token (kept tokens only). */
  offsets: number[];
  /** One per kept token: 1 trained, 0 masked (-100). */
  trained: number[];
  totalTokens: number;
  trainedTokens: number;
  flags: string[];
  policy: string;
  maxLength: number;
}

export interface PairSide {
  key: number;
  line: number;
  id: string;
  source: string;
  verdict: string;
  draftAnswer: string | null;
  review: ReviewStatus;
}

export interface PairView {
  questionKey: string;
  question: string;
  /** Position among the questions with both kinds (0-based) and their number. */
  position: number;
  pairs: number;
  left: PairSide;
  right: PairSide;
  /** Every draft-wrong sample of the question (the right side is one of them). */
  wrongChoices: PairSide[];
  goldAnswer: string | null;
  /** Aligned stages; an identical stage carries its text in `left` only (`right` is empty). */
  stages: Array<{ name: StageName; left: string; right: string; identical: boolean }>;
  draftDiff: DiffOp[];
  leftAnswer: Span | null;
  rightAnswer: Span | null;
}

export type CurateAction = 'accept' | 'reject' | 'flag' | 'unreview' | 'delete' | 'duplicate';

/** What the host serves to the workbench webview. */
export interface WorkbenchHostApi extends Api {
  requests: {
    /** Runs a view; `firstRows` of it come back with the answer. */
    setView: { req: WorkbenchViewState & { firstRows?: number }; res: ViewInfo };
    getRows: { req: { viewId: number; start: number; count: number }; res: { viewId: number; start: number; rows: RowView[] } | null };
    /** Position of a row in a view (-1 when filtered out). */
    findRow: { req: { viewId: number; key: number }; res: number };
    getStats: { req: Record<string, never>; res: WorkbenchStats };
    getFacets: { req: Record<string, never>; res: FacetValues };
    getSample: { req: { key: number }; res: SampleDetail };
    getMask: { req: { key: number }; res: MaskOverlay };
    /** The pair of a row's question (`key`), or the next/previous question with both kinds (`from` + `delta`). */
    getPair: { req: { key?: number; from?: string; delta?: number; wrongKey?: number }; res: PairView | null };
    curate: { req: { action: CurateAction; keys: number[]; note?: string }; res: { changed: number; message?: string } };
    openAsText: { req: { key: number }; res: void };
  };
  events: {
    ready: Record<string, never>;
    /** The selected row (for keybinding commands and dcd.compareDrafts). */
    select: { key: number | null; mode: 'list' | 'sample' | 'pair' };
    /** The first rows are on screen (ms since the page started). */
    painted: { rows: number; ms: number };
  };
}

/** What the workbench webview serves to the host. */
export interface WorkbenchWebviewApi extends Api {
  requests: Record<string, never>;
  events: {
    /** Sent once, right after the webview's `ready`. */
    init: InitInfo;
    /**
     * Sent unasked after `init`: the view of the saved state (`view`, the
     * default when none is saved) with its first rows, so that the page
     * paints them without a round trip of its own; `info` null: it failed
     * or was superseded (the page asks for its view itself).
     */
    firstView: { view: WorkbenchViewState; info: ViewInfo | null };
    /** The document changed: re-run the view and refetch what is shown. */
    changed: { version: number; reason: string };
    /** Token columns progressed (done of total samples). */
    tokens: { done: number; total: number; finished: boolean; error?: string };
    /** The document finished loading (all rows summarised). */
    loaded: { rows: number };
    /** The streaming index of a big file progressed: bytes read of the file, rows found so far. */
    progress: { bytes: number; totalBytes: number; rows: number; done: boolean };
    /** The running search (a worker thread on the host): rows searched of rows to search. */
    searchProgress: { done: number; total: number };
    showPair: PairView;
    showSample: { key: number };
    /** Move to the next/previous question with both kinds. */
    navigatePair: { delta: number };
  };
}
