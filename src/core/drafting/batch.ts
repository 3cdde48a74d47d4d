/**
 * Batch drafting: N student drafts per question from the local model,
 * appended to a drafts JSONL (docs/SPEC.md §1 format, which "Build Corpus" reads
 * directly), each verified at once against the gold answer when it is known.
 *
 * Resumable and kill-safe: every draft is one complete line written with a
 * single write; on start the file is read, a torn last line (a kill during
 * that write) is cut off, and every (question, sample) already present is
 * skipped. Progress (with ETA) and cancel go through callbacks and an
 * AbortSignal; a cancelled draft is not written.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { extractGold, verify } from '../answer';
import { parseJsonl } from '../io/jsonl';
import { parseYesNo, studentPrompt, verifyPrompt, type StudentPrompt, DEFAULT_STUDENT_PROMPT } from './prompts';
import type { DraftQuestion } from './questions';
import { deriveSeed } from './sampling';
import type { DraftModel, GenerateParams, TokenEvent } from './types';

/** The `verified` tag of a draft line. `rule: "model"` when the verification assistant decided. */
export interface DraftVerification {
  equivalent: boolean | null;
  rule: string;
  pred_answer: string | null;
  gold_answer: string | null;
  /** The assistant's raw reply, when it was asked. */
  model_reply?: string;
  /** The rule-based verifier's rule when the assistant decided instead. */
  rule_based?: string;
}

/** One line of the drafts JSONL. `question`/`draft`/`index`/`model` are what docs/SPEC.md §1 reads. */
export interface DraftRecord {
  question: string;
  draft: string;
  /** The s1K row, only when the question came with one (see {@link DraftQuestion.index}). */
  index?: number;
  /** Position of the question in the list drafted from. */
  row: number;
  /** 0-based draft number for this question (N drafts per question). */
  sample: number;
  model: string;
  seed: number;
  dtype: string;
  params: { temperature: number; top_p: number; top_k?: number; max_new_tokens: number; repetition_penalty?: number };
  finish_reason: string;
  tokens: number;
  ms: number;
  verified?: DraftVerification;
  /** Why the draft could not be verified (no gold answer given or extractable). */
  unverified_reason?: string;
  created_at: string;
}

export interface BatchProgress {
  /** Drafts finished (written now or found done), of `total`. */
  done: number;
  total: number;
  written: number;
  skipped: number;
  elapsedMs: number;
  /** null until one draft has been timed. */
  etaMs: number | null;
  tokensPerSecond: number;
  current?: { row: number; sample: number };
  last?: DraftRecord;
}

export interface VerifiedCounts { correct: number; wrong: number; undecided: number; unverified: number; model_decided: number }

export interface BatchSummary {
  out: string;
  model: string;
  total: number;
  written: number;
  skipped: number;
  cancelled: boolean;
  /** A torn last line left by an interrupted run was cut off. */
  repaired_torn_line: boolean;
  /** Complete lines in the file that are not valid JSON objects (left as they are). */
  malformed_lines: number;
  verified: VerifiedCounts;
  tokens: number;
  ms: number;
  tokens_per_second: number;
}

export interface BatchOptions {
  questions: DraftQuestion[];
  /** Drafts per question. */
  n: number;
  out: string;
  model: DraftModel;
  /** `seed` is the run's base seed; each draft gets {@link deriveSeed}(seed, index ?? row, sample). */
  params: GenerateParams;
  prompt?: StudentPrompt;
  /** Ask the same model (paper §3.1) about pairs the rule-based verifier leaves undecided. */
  verifyWithModel?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: BatchProgress) => void;
  onToken?: (ev: TokenEvent, at: { row: number; sample: number }) => void;
}

const ws = (s: string) => s.replace(/\s+/g, ' ').trim();
/** A draft's identity for resuming: position in the list, question text (whitespace-normalised) and draft number. */
const keyOf = (row: number, question: string, sample: number) => `${row}\u0000${ws(question)}\u0000${sample}`;

/** Reads an existing drafts file for resuming: cuts a torn last line, returns the done keys. */
export async function scanDraftsFile(file: string): Promise<{ done: Set<string>; repairedTornLine: boolean; malformed: number }> {
  const done = new Set<string>();
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { done, repairedTornLine: false, malformed: 0 };
    throw err;
  }
  let repairedTornLine = false;
  if (text.length > 0 && !text.endsWith('\n')) {
    const cut = text.lastIndexOf('\n') + 1;
    await fs.truncate(file, Buffer.byteLength(text.slice(0, cut), 'utf8'));
    text = text.slice(0, cut);
    repairedTornLine = true;
  }
  let malformed = 0;
  for (const row of parseJsonl<Record<string, unknown>>(text)) {
    if (row.kind === 'error') { malformed++; continue; }
    const r = row.value;
    if (typeof r.question === 'string' && typeof r.draft === 'string' && Number.isInteger(r.sample) && Number.isInteger(r.row)) {
      done.add(keyOf(r.row as number, r.question, r.sample as number));
    }
  }
  return { done, repairedTornLine, malformed };
}

interface Gold { source: string; isAnswer: boolean }

function goldOf(q: DraftQuestion): Gold | null {
  if (typeof q.gold === 'string' && q.gold.trim()) return { source: q.gold, isAnswer: true };
  if (typeof q.solution === 'string' && q.solution.trim()) return { source: q.solution, isAnswer: false };
  return null;
}

/** Grades a draft; asks the model only when the rules leave the pair undecided. */
async function grade(
  draft: string, gold: Gold | null, model: DraftModel, verifyWithModel: boolean, signal?: AbortSignal,
): Promise<{ verified?: DraftVerification; unverified_reason?: string }> {
  if (!gold) return { unverified_reason: 'no gold answer given' };
  if (!gold.isAnswer) {
    const g = extractGold(gold.source);
    if (g.answer === null) return { unverified_reason: `no gold answer in the solution: ${g.reason ?? g.rule}` };
  }
  const v = verify(draft, gold.source, { goldIsAnswer: gold.isAnswer });
  const verified: DraftVerification = { equivalent: v.equivalent, rule: v.rule, pred_answer: v.pred_answer, gold_answer: v.gold_answer };
  if (v.equivalent === null && verifyWithModel && v.pred_answer !== null && v.gold_answer !== null && !signal?.aborted) {
    const r = await model.generate(verifyPrompt(v.pred_answer, v.gold_answer),
      { maxNewTokens: 4, temperature: 0, topP: 1, seed: 0, repetitionPenalty: 1 }, { signal });
    if (r.finishReason !== 'cancelled') {
      verified.model_reply = r.text;
      const yes = parseYesNo(r.text);
      if (yes !== null) {
        verified.equivalent = yes;
        verified.rule_based = v.rule;
        verified.rule = 'model';
      }
    }
  }
  return { verified };
}

/** Runs (or resumes) a batch; resolves with the summary, also when cancelled. */
export async function runDraftBatch(opts: BatchOptions): Promise<BatchSummary> {
  const t0 = performance.now();
  const n = Math.max(1, Math.floor(opts.n));
  const prompt = opts.prompt ?? DEFAULT_STUDENT_PROMPT;
  const model = opts.model;
  await fs.mkdir(path.dirname(path.resolve(opts.out)), { recursive: true });
  const scan = await scanDraftsFile(opts.out);

  const jobs: { q: DraftQuestion; row: number; sample: number; done: boolean }[] = [];
  opts.questions.forEach((q, row) => {
    for (let s = 0; s < n; s++) jobs.push({ q, row, sample: s, done: scan.done.has(keyOf(row, q.question, s)) });
  });
  const total = jobs.length;
  const skipped = jobs.filter((j) => j.done).length;
  const counts: VerifiedCounts = { correct: 0, wrong: 0, undecided: 0, unverified: 0, model_decided: 0 };
  let written = 0;
  let tokens = 0;
  let draftMs = 0;
  let cancelled = false;

  const progress = (current?: { row: number; sample: number }, last?: DraftRecord) => {
    if (!opts.onProgress) return;
    const elapsedMs = performance.now() - t0;
    const remaining = total - skipped - written;
    opts.onProgress({
      done: skipped + written, total, written, skipped, elapsedMs,
      etaMs: written > 0 ? (draftMs / written) * remaining : remaining === 0 ? 0 : null,
      tokensPerSecond: draftMs > 0 ? tokens / (draftMs / 1000) : 0,
      current, last,
    });
  };
  progress();

  const fh = await fs.open(opts.out, 'a');
  try {
    for (const job of jobs) {
      if (job.done) continue;
      if (opts.signal?.aborted) { cancelled = true; break; }
      const at = { row: job.row, sample: job.sample };
      progress(at);
      const seed = deriveSeed(opts.params.seed, job.q.index ?? job.row, job.sample);
      const tDraft = performance.now();
      const r = await model.generate(studentPrompt(job.q.question, prompt), { ...opts.params, seed }, {
        signal: opts.signal,
        onToken: opts.onToken ? (ev) => opts.onToken!(ev, at) : undefined,
      });
      if (r.finishReason === 'cancelled') { cancelled = true; break; }
      const g = await grade(r.text, goldOf(job.q), model, !!opts.verifyWithModel, opts.signal);
      const rec: DraftRecord = {
        question: job.q.question,
        draft: r.text,
        ...(job.q.index !== undefined ? { index: job.q.index } : {}),
        row: job.row,
        sample: job.sample,
        model: model.info.name,
        seed,
        dtype: model.info.dtype,
        params: {
          temperature: opts.params.temperature, top_p: opts.params.topP, max_new_tokens: opts.params.maxNewTokens,
          ...(opts.params.topK !== undefined ? { top_k: opts.params.topK } : {}),
          ...(opts.params.repetitionPenalty !== undefined ? { repetition_penalty: opts.params.repetitionPenalty } : {}),
        },
        finish_reason: r.finishReason,
        tokens: r.tokenIds.length,
        ms: r.ms,
        ...g,
        created_at: new Date().toISOString(),
      };
      // One complete line per draft, in one write: a kill loses at most this line.
      await fh.write(JSON.stringify(rec) + '\n');
      written++;
      tokens += r.tokenIds.length;
      draftMs += performance.now() - tDraft;
      if (!rec.verified) counts.unverified++;
      else if (rec.verified.equivalent === true) counts.correct++;
      else if (rec.verified.equivalent === false) counts.wrong++;
      else counts.undecided++;
      if (rec.verified?.rule === 'model') counts.model_decided++;
      progress(undefined, rec);
    }
  } finally {
    await fh.close();
  }
  if (!cancelled && opts.signal?.aborted && skipped + written < total) cancelled = true;
  const ms = performance.now() - t0;
  return {
    out: path.resolve(opts.out), model: model.info.name, total, written, skipped, cancelled,
    repaired_torn_line: scan.repairedTornLine, malformed_lines: scan.malformed,
    verified: counts, tokens, ms: Math.round(ms),
    tokens_per_second: draftMs > 0 ? tokens / (draftMs / 1000) : 0,
  };
}
