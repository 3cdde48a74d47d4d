/**
 * What the workbench webview is sent, built from the core document. No
 * vscode import: the unit tests and the benchmark use these too.
 */
import type { CorpusDocument, LineEntry, PairGroup } from '../core/workbench';
import { compareSamples } from '../core/trace/draftCompare';
import { parseTrace, type RegionName, type Span } from '../core/trace/template';
import type { FacetValues, PairSide, PairView, RowView, SampleDetail } from '../core/protocols/workbench';

/** A list row: the held RowInfo plus the question's first line, read back from the file (only its bytes). */
export function rowView(doc: CorpusDocument, e: LineEntry): RowView {
  const s = doc.info(e);
  const t = s.kind === 'sample' ? doc.tokensOf(e.key) : undefined;
  // Only the question's bytes are read for a sample row; the full summary only for a note or an error message.
  const full = s.noted || s.kind === 'error' ? doc.summary(e) : undefined;
  return {
    key: e.key, line: doc.lineNumber(e.key), kind: s.kind, id: s.id, question: doc.questionLine(e), verdict: s.verdict, source: s.source,
    cotType: s.cotType, tokens: t && !t.error ? t.tokens : null, trained: t && !t.error ? t.trained : null,
    flags: doc.flagsOf(e), review: s.review, note: full?.note, error: full?.error,
  };
}

/** The rows [start, start + count) of a view, following entries replaced by edits since the view was made. */
export function rowWindow(doc: CorpusDocument, view: readonly LineEntry[], start: number, count: number): RowView[] {
  const out: RowView[] = [];
  const end = Math.min(view.length, start + Math.max(0, count));
  for (let i = Math.max(0, start); i < end; i++) out.push(rowView(doc, doc.entryByKey(view[i].key) ?? view[i]));
  return out;
}

const MAIN_FIELDS = new Set(['id', 'question', 'draft', 'chain', 'final_answer', 'text', 'verdict', 'draft_source', 'cot_type', 'gold_answer', 'draft_answer', 'review']);

export function sampleDetail(doc: CorpusDocument, key: number): SampleDetail {
  const e = doc.entryByKey(key);
  if (!e) throw new Error(`No row ${key}: it was deleted.`);
  const s = doc.summary(e);
  const v = doc.parsed(e);
  if (!v || s.kind !== 'sample') throw new Error(`Line ${doc.lineNumber(key)} is malformed: ${s.error ?? 'not a sample'}`);
  const text = typeof v.text === 'string' ? v.text : '';
  let regions: Partial<Record<RegionName, Span>> = {};
  let parseError: string | undefined;
  try { regions = parseTrace(text).rendered.regions; } catch (err) { parseError = (err as Error).message; }
  const t = doc.tokensOf(key);
  const review = v.review && typeof v.review === 'object' ? v.review as { note?: unknown; at?: unknown } : {};
  const extra = Object.entries(v).filter(([k]) => !MAIN_FIELDS.has(k)).map(([name, val]) => {
    const value = typeof val === 'string' ? val : JSON.stringify(val);
    return { name, value: value.length > 400 ? `${value.slice(0, 399)}…` : value };
  });
  const c = s.consistency;
  return {
    key, line: doc.lineNumber(key), sampleIndex: doc.sampleIndexOf(key), id: s.id, verdict: s.verdict, source: s.source, cotType: s.cotType,
    goldAnswer: s.goldAnswer, draftAnswer: s.draftAnswer,
    review: { status: s.review, note: typeof review.note === 'string' ? review.note : undefined, at: typeof review.at === 'string' ? review.at : undefined },
    text, regions, parseError,
    tokens: t && !t.error ? t.tokens : null, trained: t && !t.error ? t.trained : null, flags: doc.flagsOf(e),
    consistency: c ? { grade: c.grade, verifier: c.verifier, rule: c.rule, reasons: c.reasons } : null,
    extra, hasPair: doc.pairGroups().some((g) => g.questionKey === s.questionKey),
  };
}

function pairSide(doc: CorpusDocument, key: number): PairSide {
  const e = doc.entryByKey(key)!;
  const s = doc.summary(e);
  return { key, line: doc.lineNumber(key), id: s.id, source: s.source, verdict: s.verdict, draftAnswer: s.draftAnswer, review: s.review };
}

/**
 * The side-by-side view of a question: its (first) draft-correct sample on
 * the left, a draft-wrong one on the right (`wrongKey`, or the row asked
 * for, or the first).
 */
export function pairView(doc: CorpusDocument, groups: readonly PairGroup[], position: number, prefer?: number): PairView {
  const g = groups[position];
  const leftKey = prefer !== undefined && g.correct.includes(prefer) ? prefer : g.correct[0];
  const rightKey = prefer !== undefined && g.wrong.includes(prefer) ? prefer : g.wrong[0];
  const left = doc.parsed(doc.entryByKey(leftKey)!) ?? {};
  const right = doc.parsed(doc.entryByKey(rightKey)!) ?? {};
  const cmp = compareSamples(left, right);
  return {
    questionKey: g.questionKey, question: doc.summary(doc.entryByKey(g.correct[0])!).question, position, pairs: groups.length,
    left: pairSide(doc, leftKey), right: pairSide(doc, rightKey), wrongChoices: g.wrong.map((k) => pairSide(doc, k)),
    goldAnswer: typeof left.gold_answer === 'string' ? left.gold_answer : null,
    stages: cmp.stages.map((st) => ({ ...st, right: st.identical ? '' : st.right })),
    draftDiff: cmp.draftDiff, leftAnswer: cmp.leftAnswer, rightAnswer: cmp.rightAnswer,
  };
}

/** Finds the pair for a row (its question) or relative to a question key. */
export function findPair(doc: CorpusDocument, req: { key?: number; from?: string; delta?: number; wrongKey?: number }): PairView | null {
  const groups = doc.pairGroups();
  if (!groups.length) return null;
  if (req.from !== undefined) {
    const at = groups.findIndex((g) => g.questionKey === req.from);
    const pos = Math.min(groups.length - 1, Math.max(0, (at < 0 ? 0 : at) + (req.delta ?? 0)));
    return pairView(doc, groups, pos, pos === at ? req.wrongKey : undefined);
  }
  if (req.key !== undefined) {
    const e = doc.entryByKey(req.key);
    if (!e) return null;
    const qk = doc.summary(e).questionKey;
    const pos = groups.findIndex((g) => g.questionKey === qk);
    if (pos < 0) return null;
    return pairView(doc, groups, pos, req.wrongKey ?? req.key);
  }
  return pairView(doc, groups, 0);
}

export function facets(doc: CorpusDocument): FacetValues {
  const sources = new Set<string>();
  const cotTypes = new Set<string>();
  const fields = new Set<string>(['id', 'question', 'draft', 'chain', 'final_answer', 'gold_answer', 'draft_answer', 'draft_source', 'verdict', 'cot_type', 'text']);
  let parsed = 0;
  for (const e of doc.rows()) {
    const s = doc.info(e);
    if (s.kind !== 'sample') continue;
    if (s.source) sources.add(s.source);
    if (s.cotType) cotTypes.add(s.cotType);
    if (parsed < 50) {
      parsed++;
      for (const k of Object.keys(doc.parsed(e) ?? {})) fields.add(k);
    }
  }
  return { sources: [...sources].sort(), cotTypes: [...cotTypes].sort(), fields: [...fields] };
}
