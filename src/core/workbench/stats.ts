/**
 * The workbench's statistics: the corpus counts of `dcd stats` (countSamples,
 * so the two agree) plus what only the workbench has: review states, token
 * columns and the consistency check.
 */
import { histogram, type AuditFlag } from '../training/audit';
import { maskFlagCounts } from '../trace/mask';
import { countSamples, type SampleKeys } from '../corpus/stats';
import type { CorpusDocument } from './document';
import type { ReviewStatus } from './rows';

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

// countSamples reads only whether `missing` is empty.
const NONE: string[] = [];
const INCOMPLETE = ['?'];

/** Every row must be summarised (summarizeAll); works on the held RowInfo only, so it reads no line. */
export function workbenchStats(doc: CorpusDocument, bins = 20): WorkbenchStats {
  const st: WorkbenchStats = {
    rows: 0, samples: 0, malformed: 0, incomplete: 0, verdicts: { correct: 0, incorrect: 0, other: 0 }, balance: null,
    bySource: {}, byCotType: {}, review: { unreviewed: 0, accepted: 0, rejected: 0, flagged: 0 }, questions: 0, questionsWithBoth: 0,
    tokens: { done: 0, total: 0, failed: 0, sum: 0, trained: 0, min: 0, max: 0, mean: 0, histogram: null, flags: maskFlagCounts() },
    consistency: { checked: 0, consistent: 0, disagreements: [] },
  };
  const lengths: number[] = [];
  const keys: SampleKeys[] = [];
  for (const e of doc.rows()) {
    st.rows++;
    const s = doc.info(e);
    if (s.kind === 'error') { st.malformed++; continue; }
    keys.push({ verdict: s.verdict, source: s.source, cotType: s.cotType, questionKey: s.questionKey, missing: s.incomplete ? INCOMPLETE : NONE });
    st.review[s.review]++;
    st.tokens.total++;
    const t = doc.tokensOf(e.key);
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
          key: e.key, line: doc.lineNumber(e.key), id: s.id, tag: c.tag, grade: c.grade, verifier: c.verifier, rule: c.rule, reasons: c.reasons,
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
