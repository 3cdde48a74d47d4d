/**
 * The loss mask (docs/SPEC.md §4): which tokens of a trace are trained. One
 * implementation for what the editor shows and what the trainer learns.
 *
 * A trace is reduced to its *layout*: token-index boundaries of the stages,
 * found from the token offsets and the template's character regions. Labels,
 * trained-token counts and truncation flags all derive from the layout, so the
 * corpus audit needs no ids at all (and a cached layout is enough).
 */
import type { RenderedTrace, Span } from './template';
import { firstTokenEndingAfter, firstTokenStartingAtOrAfter } from '../tokenizer/offsets';

export const MASK_POLICIES = ['paper', 'mask-draft'] as const;
/** `paper`: everything from the `<|im_start|>` of `<|im_start|>think` through the final `<|im_end|>`; `mask-draft`: the same minus the draft. */
export type MaskPolicy = (typeof MASK_POLICIES)[number];
export const DEFAULT_POLICY: MaskPolicy = 'paper';
/** s1's block size (docs/SPEC.md §4). */
export const DEFAULT_MAX_LENGTH = 32768;
/** The label of a token that is not trained. */
export const IGNORE_INDEX = -100;

export function isMaskPolicy(x: unknown): x is MaskPolicy {
  return typeof x === 'string' && (MASK_POLICIES as readonly string[]).includes(x);
}

/** Token-index boundaries of a trace's stages; ranges are half-open [start, end). */
export interface TraceLayout {
  /** Tokens before truncation. */
  tokens: number;
  /** Index of the `<|im_start|>` token that opens `<|im_start|>think`: the first trained token. */
  thinkStart: number;
  /** Tokens that overlap the draft. */
  draft: [number, number];
  /** Tokens that overlap the verdict sentence. */
  verdict: [number, number];
  /** From the `<|im_start|>` that opens `<|im_start|>answer` to the end (the final `<|im_end|>`). */
  answer: [number, number];
}

/** The tokens that overlap a character span (empty span: an empty range where it would be). */
export function tokensOverlapping(offsets: Int32Array, span: Span): [number, number] {
  const a = firstTokenEndingAfter(offsets, span.start);
  if (span.end <= span.start) return [a, a];
  const b = firstTokenStartingAtOrAfter(offsets, span.end);
  return [a, Math.max(a, b)];
}

/** The layout of a rendered trace from its tokens' offsets. */
export function traceLayout(offsets: Int32Array, rendered: RenderedTrace): TraceLayout {
  const n = offsets.length >> 1;
  return {
    tokens: n,
    thinkStart: firstTokenStartingAtOrAfter(offsets, rendered.thinkStart, n),
    draft: tokensOverlapping(offsets, rendered.regions.draft),
    verdict: tokensOverlapping(offsets, rendered.regions.verdict),
    answer: [firstTokenStartingAtOrAfter(offsets, rendered.answerTagStart, n), n],
  };
}

export interface MaskFlags {
  /** The trace has more than max_length tokens: its end is cut. */
  truncated: boolean;
  /** Part of the verdict sentence lies beyond max_length. */
  verdict_cut: boolean;
  /** Part of the answer stage (through the final `<|im_end|>`) lies beyond max_length. */
  answer_cut: boolean;
  /** No token is trained (e.g. max_length cuts before the think tag). */
  zero_trained: boolean;
}

export type MaskFlag = keyof MaskFlags;
/** Every mask flag, in the order reports list them. */
export const MASK_FLAGS: readonly MaskFlag[] = ['truncated', 'verdict_cut', 'answer_cut', 'zero_trained'];

/** A zero count per mask flag, for tallies. */
export function maskFlagCounts(): Record<MaskFlag, number> {
  return Object.fromEntries(MASK_FLAGS.map((f) => [f, 0])) as Record<MaskFlag, number>;
}

export interface MaskSummary {
  /** Tokens after truncation. */
  tokens: number;
  trained: number;
  flags: MaskFlags;
}

function overlap(a: readonly [number, number], b0: number, b1: number): number {
  return Math.max(0, Math.min(a[1], b1) - Math.max(a[0], b0));
}

/** Token and trained-token counts and flags of a layout under a policy and max_length. */
export function summarizeMask(layout: TraceLayout, policy: MaskPolicy = DEFAULT_POLICY, maxLength = DEFAULT_MAX_LENGTH): MaskSummary {
  const kept = Math.min(layout.tokens, maxLength);
  let trained = Math.max(0, kept - layout.thinkStart);
  if (policy === 'mask-draft') trained -= overlap(layout.draft, layout.thinkStart, kept);
  return {
    tokens: kept,
    trained,
    flags: {
      truncated: layout.tokens > maxLength,
      verdict_cut: layout.verdict[1] > maxLength,
      answer_cut: layout.answer[1] > maxLength,
      zero_trained: trained === 0,
    },
  };
}

/** Labels for the kept (truncated) tokens: the id where trained, -100 elsewhere. */
export function labelsFor(ids: ArrayLike<number>, layout: TraceLayout, policy: MaskPolicy = DEFAULT_POLICY, maxLength = DEFAULT_MAX_LENGTH): Int32Array {
  const kept = Math.min(ids.length, maxLength);
  const labels = new Int32Array(kept).fill(IGNORE_INDEX);
  for (let i = layout.thinkStart; i < kept; i++) labels[i] = ids[i];
  if (policy === 'mask-draft') {
    const end = Math.min(layout.draft[1], kept);
    for (let i = Math.max(layout.draft[0], layout.thinkStart); i < end; i++) labels[i] = IGNORE_INDEX;
  }
  return labels;
}

/** The layout as 7 integers (for caches and worker messages), and back. */
export function packLayout(l: TraceLayout): Int32Array {
  return Int32Array.of(l.tokens, l.thinkStart, l.draft[0], l.draft[1], l.verdict[0], l.verdict[1], l.answer[0]);
}
export function unpackLayout(a: ArrayLike<number>): TraceLayout {
  return { tokens: a[0], thinkStart: a[1], draft: [a[2], a[3]], verdict: [a[4], a[5]], answer: [a[6], a[0]] };
}
export const PACKED_LAYOUT_LENGTH = 7;
