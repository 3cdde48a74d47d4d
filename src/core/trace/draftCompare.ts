/**
 * Side-by-side comparison of two samples of one question (the Corpus
 * workbench's compare view and `dcd.compareDrafts`): the trace
 * stages aligned (question, draft, bridge, chain, verdict, answer), identical
 * stages marked, a word-level diff of the two drafts and where each draft's
 * extracted answer lies.
 *
 * The word diff is jsdiff's `diffWordsWithSpace` (npm `diff`): words, whitespace
 * and punctuation are the units, so joining one side's pieces gives its text back.
 */
import { diffWordsWithSpace } from 'diff';
import { getPreset, parseTrace, type Span } from './template';
import type { DcdSample, Verdict } from './model';

export type DiffOp = { op: 'equal' | 'delete' | 'insert'; text: string };

function pushOp(out: DiffOp[], op: DiffOp['op'], text: string): void {
  if (!text) return;
  const last = out[out.length - 1];
  if (last && last.op === op) last.text += text;
  else out.push({ op, text });
}

/** Word-level diff of two texts. Joining the non-insert ops gives `a`, the non-delete ops give `b`. */
export function wordDiff(a: string, b: string): DiffOp[] {
  const out: DiffOp[] = [];
  for (const change of diffWordsWithSpace(a, b)) {
    pushOp(out, change.added ? 'insert' : change.removed ? 'delete' : 'equal', change.value);
  }
  return out;
}

/** A side of a diff as text pieces, `changed` where that side differs. */
export interface DiffPiece { text: string; changed: boolean }

export function diffSide(ops: readonly DiffOp[], side: 'left' | 'right'): DiffPiece[] {
  const skip = side === 'left' ? 'insert' : 'delete';
  return ops.filter((o) => o.op !== skip).map((o) => ({ text: o.text, changed: o.op !== 'equal' }));
}

export const STAGE_NAMES = ['question', 'draft', 'bridge', 'chain', 'verdict', 'answer'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export interface PairStage {
  name: StageName;
  left: string;
  right: string;
  identical: boolean;
}

export interface PairComparison {
  stages: PairStage[];
  /** Word diff of the drafts (left → right). */
  draftDiff: DiffOp[];
  /** Where each draft's extracted answer lies in its draft text. */
  leftAnswer: Span | null;
  rightAnswer: Span | null;
  /** Whether each side's stages came from parsing its `text` (else from its fields). */
  parsed: { left: boolean; right: boolean };
}

interface StageTexts { question: string; draft: string; bridge: string; chain: string; verdict: string; answer: string; parsed: boolean }

const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

/** A sample's stages: from its rendered `text` when it parses as a trace, else from its fields. */
export function sampleStages(s: Partial<DcdSample>, presetName = 'paper'): StageTexts {
  const preset = getPreset(presetName);
  if (typeof s.text === 'string') {
    try {
      const { fields } = parseTrace(s.text, presetName);
      return {
        question: fields.question, draft: fields.draft, bridge: preset.bridge, chain: fields.chain,
        verdict: preset.verdicts[fields.verdict], answer: fields.final_answer, parsed: true,
      };
    } catch { /* fall back to the fields */ }
  }
  const verdict = s.verdict === 'correct' || s.verdict === 'incorrect' ? preset.verdicts[s.verdict as Verdict] : str(s.verdict);
  return {
    question: str(s.question), draft: str(s.draft), bridge: preset.bridge, chain: str(s.chain),
    verdict, answer: str(s.final_answer), parsed: false,
  };
}

/** Where an extracted answer lies in a draft: its last occurrence, or null. */
export function locateAnswer(draft: string, answer: string | null | undefined): Span | null {
  if (typeof answer !== 'string' || !answer.trim()) return null;
  const a = answer.trim();
  const at = draft.lastIndexOf(a);
  return at < 0 ? null : { start: at, end: at + a.length };
}

/** Aligns two samples stage by stage and diffs their drafts. */
export function compareSamples(left: Partial<DcdSample>, right: Partial<DcdSample>, presetName = 'paper'): PairComparison {
  const l = sampleStages(left, presetName);
  const r = sampleStages(right, presetName);
  const stages = STAGE_NAMES.map((name) => ({ name, left: l[name], right: r[name], identical: l[name] === r[name] }));
  return {
    stages,
    draftDiff: wordDiff(l.draft, r.draft),
    leftAnswer: locateAnswer(l.draft, left.draft_answer),
    rightAnswer: locateAnswer(r.draft, right.draft_answer),
    parsed: { left: l.parsed, right: r.parsed },
  };
}
