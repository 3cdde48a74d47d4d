/**
 * A trace's tokens, offsets and labels: what the editor overlays and what the
 * trainer learns, from one function.
 */
import { parseTrace, type RenderedTrace } from '../trace/template';
import {
  DEFAULT_MAX_LENGTH, DEFAULT_POLICY, labelsFor, summarizeMask, traceLayout,
  type MaskFlags, type MaskPolicy, type TraceLayout,
} from '../trace/mask';
import type { Encoded, TokenEngine } from './engine';

export interface TraceTokenOptions {
  policy?: MaskPolicy;
  maxLength?: number;
  /** Template preset the text was rendered with (default `paper`). */
  preset?: string;
}

export interface TokenizedTrace {
  /** Token ids, truncated to max_length. */
  ids: Int32Array;
  /** UTF-16 [start, end) in the text, two per kept token. */
  offsets: Int32Array;
  /** One per kept token: the id where trained, -100 elsewhere. */
  labels: Int32Array;
  /** Token boundaries of the stages, over the untruncated tokens. */
  layout: TraceLayout;
  /** Tokens before truncation. */
  totalTokens: number;
  trainedTokens: number;
  flags: MaskFlags;
  /** The trace's character regions (template.ts). */
  rendered: RenderedTrace;
}

/**
 * Parse → encode → layout: the one pipeline every tokenizing path (this
 * thread, the pool's workers, the corpus tokenizer) runs, so their layouts
 * cannot drift. Throws TraceStructureError when the text is not a trace of the preset.
 */
export function layoutTrace(engine: TokenEngine, text: string, preset = 'paper'): { rendered: RenderedTrace; enc: Encoded; layout: TraceLayout } {
  const { rendered } = parseTrace(text, preset);
  const enc = engine.encode(text);
  return { rendered, enc, layout: traceLayout(enc.offsets, rendered) };
}

/**
 * Tokenizes a rendered trace with an engine in this thread. The text must
 * parse as a trace of the preset (parseTrace); a TraceStructureError says why not.
 */
export function tokenizeTraceWith(engine: TokenEngine, text: string, opts: TraceTokenOptions = {}): TokenizedTrace {
  const policy = opts.policy ?? DEFAULT_POLICY;
  const maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  const { rendered, enc, layout } = layoutTrace(engine, text, opts.preset);
  const summary = summarizeMask(layout, policy, maxLength);
  const kept = summary.tokens;
  return {
    ids: kept < enc.ids.length ? enc.ids.slice(0, kept) : enc.ids,
    offsets: kept < enc.ids.length ? enc.offsets.slice(0, 2 * kept) : enc.offsets,
    labels: labelsFor(enc.ids, layout, policy, maxLength),
    layout,
    totalTokens: layout.tokens,
    trainedTokens: summary.trained,
    flags: summary.flags,
    rendered,
  };
}
