/**
 * Corpus assembly (docs/SPEC.md §2, paper §3.2): a draft-correct sample for every s1K
 * row (draft = the Gemini attempt), and a draft-wrong sample for every student
 * draft whose answer is not equivalent to the gold answer. Both share the
 * teacher chain (DeepSeek trajectory) and final answer (DeepSeek attempt).
 * Every skipped input is counted by reason; none is dropped silently.
 */
import { createHash } from 'node:crypto';
import { extractAnswer, extractGold, verify } from '../answer';
import { renderTraceWithParts, type TraceFields } from '../trace/template';
import { normalizeQuestion, type DcdSample, type S1kRow, type StudentDraft } from '../trace/model';
import type { VerdictCounts } from './stats';

export const DEFAULT_STUDENT_MODEL = 'Qwen2.5-1.5B-Instruct';

export interface AssembleOptions {
  preset?: string;
  /** Model name for drafts that do not carry `model`. */
  studentModel?: string;
  /** Drafts with no extractable answer: `wrong` (default, docs/SPEC.md §2) or `skip`. */
  noAnswer?: 'wrong' | 'skip';
}

/** Why an input produced no sample. Counted in `skipped`. */
export type SkipReason =
  | 'draft_equivalent'      // the student's answer equals gold: no sample (docs/SPEC.md §2)
  | 'draft_undecidable'     // the verifier could not decide
  | 'draft_no_gold'         // the row has no extractable gold answer: cannot grade
  | 'draft_no_answer'       // no answer in the draft and noAnswer = skip
  | 'draft_unknown_question'// the draft's question/index matches no s1K row
  | 'draft_duplicate'       // the same draft text for the same row twice
  | 'row_empty_attempt'     // the s1K row's gemini_attempt is empty
  | 'row_empty_chain';      // the s1K row's DeepSeek trajectory is empty

export interface ReportedRow { row: number; line?: number; reason: string; detail?: string }

export interface AssembleResult {
  samples: DcdSample[];
  summary: VerdictCounts & {
    /** Draft-wrong samples whose draft had no extractable answer (docs/SPEC.md §2: counted separately). */
    draft_wrong_no_answer: number;
    rows: number;
    drafts: number;
    rows_without_gold: number;
    skipped: Record<SkipReason, number>;
    verifier_rules: Record<string, number>;
  };
  /** Rows without an extractable gold answer, and every skipped draft, with reasons. */
  reported: ReportedRow[];
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 12);
}

function slug(source: string): string {
  return source.replace(/[^A-Za-z0-9.]+/g, '-').replace(/^-|-$/g, '').toLowerCase();
}

/** Stable id: s1K row, draft source and a hash of the draft (docs/SPEC.md §2). */
export function sampleId(row: number, source: string, draft: string): string {
  return `s1k-${String(row).padStart(4, '0')}-${slug(source)}-${shortHash(draft)}`;
}

const SAMPLE_KEYS = new Set(['id', 'question', 'draft', 'draft_source', 'verdict', 'chain', 'final_answer', 'gold_answer', 'draft_answer',
  'verifier_rule', 's1k_index', 'cot_type', 'source_type', 'gemini_grade', 'deepseek_grade', 'text', 'review']);

/**
 * A sample's training text as the strings around its chain, kept (hidden from
 * JSON and from spreads) on freshly assembled samples so a corpus writer can
 * reuse the chain's encoded bytes without flattening each long text. A reader
 * must check that `text` and `chain` are still the very strings recorded.
 */
export const TEXT_PARTS = Symbol('dcd.textParts');
export interface TextParts { text: string; chain: string; before: string; after: string }

/** Renders a sample's text and records its parts on the sample. */
function withText<S extends object>(sample: S, fields: TraceFields, preset: string): S & { text: string } {
  const r = renderTraceWithParts(fields, preset);
  const out = Object.assign(sample, { text: r.text });
  if (r.aroundChain) {
    const parts: TextParts = { text: r.text, chain: fields.chain, ...r.aroundChain };
    Object.defineProperty(out, TEXT_PARTS, { value: parts, enumerable: false, writable: true, configurable: true });
  }
  return out;
}

export function assembleCorpus(rows: S1kRow[], drafts: (StudentDraft & { line?: number })[] = [], opts: AssembleOptions = {}): AssembleResult {
  const preset = opts.preset ?? 'paper';
  const skipped: Record<SkipReason, number> = {
    draft_equivalent: 0, draft_undecidable: 0, draft_no_gold: 0, draft_no_answer: 0, draft_unknown_question: 0,
    draft_duplicate: 0, row_empty_attempt: 0, row_empty_chain: 0,
  };
  const rules: Record<string, number> = {};
  const reported: ReportedRow[] = [];
  const gold = rows.map((r) => extractGold(r.solution));
  const byQuestion = new Map<string, number>();
  rows.forEach((r, i) => { if (!byQuestion.has(normalizeQuestion(r.question))) byQuestion.set(normalizeQuestion(r.question), i); });
  gold.forEach((g, i) => { if (g.answer === null) reported.push({ row: i, reason: 'no_gold_answer', detail: g.reason }); });

  const perRow: DcdSample[][] = rows.map(() => []);
  const base = (row: S1kRow, i: number) => ({
    question: row.question, chain: row.deepseek_thinking_trajectory, final_answer: row.deepseek_attempt,
    gold_answer: gold[i].answer, s1k_index: i, cot_type: row.cot_type, source_type: row.source_type,
    gemini_grade: row.gemini_grade, deepseek_grade: row.deepseek_grade,
  });
  const chainOk = rows.map((r, i) => {
    if (r.deepseek_thinking_trajectory.trim()) return true;
    skipped.row_empty_chain++;
    reported.push({ row: i, reason: 'row_empty_chain' });
    return false;
  });

  rows.forEach((row, i) => {
    if (!chainOk[i]) return;
    if (!row.gemini_attempt.trim()) { skipped.row_empty_attempt++; reported.push({ row: i, reason: 'row_empty_attempt' }); return; }
    const draftAnswer = extractAnswer(row.gemini_attempt).answer;
    const b = base(row, i);
    perRow[i].push(withText({
      id: sampleId(i, 'gemini', row.gemini_attempt), question: b.question, draft: row.gemini_attempt, draft_source: 'gemini', verdict: 'correct',
      chain: b.chain, final_answer: b.final_answer, gold_answer: b.gold_answer, draft_answer: draftAnswer, verifier_rule: 'gemini-attempt',
      s1k_index: i, cot_type: b.cot_type, source_type: b.source_type, gemini_grade: b.gemini_grade, deepseek_grade: b.deepseek_grade,
    }, { question: b.question, draft: row.gemini_attempt, chain: b.chain, verdict: 'correct', final_answer: b.final_answer }, preset));
  });

  const seen = new Set<string>();
  let draftWrongNoAnswer = 0;
  for (const d of drafts) {
    const i = typeof d.index === 'number' ? d.index : byQuestion.get(normalizeQuestion(String(d.question ?? '')));
    if (i === undefined || i < 0 || i >= rows.length) {
      skipped.draft_unknown_question++;
      reported.push({ row: -1, line: d.line, reason: 'draft_unknown_question', detail: String(d.question ?? d.index).slice(0, 80) });
      continue;
    }
    if (!chainOk[i]) continue;
    const model = typeof d.model === 'string' && d.model ? d.model : (opts.studentModel ?? DEFAULT_STUDENT_MODEL);
    const source = `student:${model}`;
    const key = `${i}\u0000${d.draft}`;
    if (seen.has(key)) { skipped.draft_duplicate++; reported.push({ row: i, line: d.line, reason: 'draft_duplicate' }); continue; }
    seen.add(key);
    if (gold[i].answer === null) { skipped.draft_no_gold++; reported.push({ row: i, line: d.line, reason: 'draft_no_gold' }); continue; }
    const v = verify(d.draft, rows[i].solution);
    rules[v.rule] = (rules[v.rule] ?? 0) + 1;
    if (v.equivalent === true) { skipped.draft_equivalent++; continue; }
    if (v.equivalent === null) { skipped.draft_undecidable++; reported.push({ row: i, line: d.line, reason: 'draft_undecidable', detail: `${v.pred_answer} vs ${v.gold_answer}` }); continue; }
    if (v.rule === 'no-pred-answer') {
      if (opts.noAnswer === 'skip') { skipped.draft_no_answer++; reported.push({ row: i, line: d.line, reason: 'draft_no_answer' }); continue; }
      draftWrongNoAnswer++;
    }
    const b = base(rows[i], i);
    const extra: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(d)) {
      if (k === 'draft' || k === 'question' || k === 'index' || k === 'line') continue;
      extra[SAMPLE_KEYS.has(k) ? `draft_${k}` : k] = val;
    }
    perRow[i].push(withText({
      ...extra,
      id: sampleId(i, source, d.draft), question: b.question, draft: d.draft, draft_source: source, verdict: 'incorrect',
      chain: b.chain, final_answer: b.final_answer, gold_answer: b.gold_answer, draft_answer: v.pred_answer, verifier_rule: v.rule,
      s1k_index: i, cot_type: b.cot_type, source_type: b.source_type, gemini_grade: b.gemini_grade, deepseek_grade: b.deepseek_grade,
    }, { question: b.question, draft: d.draft, chain: b.chain, verdict: 'incorrect', final_answer: b.final_answer }, preset));
  }
  const samples = perRow.flat();
  const draftCorrect = samples.filter((s) => s.verdict === 'correct').length;
  return {
    samples,
    summary: {
      samples: samples.length, draft_correct: draftCorrect, draft_wrong: samples.length - draftCorrect,
      draft_wrong_no_answer: draftWrongNoAnswer, rows: rows.length, drafts: drafts.length,
      rows_without_gold: gold.filter((g) => g.answer === null).length, skipped, verifier_rules: rules,
    },
    reported,
  };
}

