/**
 * The DCD trace template (docs/SPEC.md §3). Presets are data files in ./templates;
 * this module renders a sample's fields into the training text and parses a
 * text back into fields, both with the character ranges of every region.
 */
import paper from './templates/paper.json';
import paperNowIWill from './templates/paper-now-i-will.json';
import paperBoldIncorrect from './templates/paper-bold-incorrect.json';
import type { Verdict } from './model';

export interface TemplatePreset {
  name: string;
  description: string;
  system: string;
  bridge: string;
  verdicts: Record<Verdict, string>;
  /** Literal text with the placeholders {system} {question} {draft} {bridge} {chain} {verdict} {final_answer}. */
  layout: string;
}

export const PRESETS: Readonly<Record<string, TemplatePreset>> = {
  paper, 'paper-now-i-will': paperNowIWill, 'paper-bold-incorrect': paperBoldIncorrect,
};

export function getPreset(name = 'paper'): TemplatePreset {
  const preset = PRESETS[name];
  if (!preset) throw new Error(`Unknown template preset "${name}". Known presets: ${Object.keys(PRESETS).join(', ')}.`);
  return preset;
}

/** The regions of a trace, in text order. */
export const REGION_NAMES = ['system', 'question', 'draft', 'bridge', 'chain', 'verdict', 'final_answer'] as const;
export type RegionName = (typeof REGION_NAMES)[number];

/** A half-open UTF-16 range [start, end) in the rendered text. */
export interface Span { start: number; end: number }

export interface TraceFields {
  question: string;
  draft: string;
  chain: string;
  verdict: Verdict;
  final_answer: string;
}

export interface RenderedTrace {
  text: string;
  regions: Record<RegionName, Span>;
  /** Offset of the `<|im_start|>` that opens `<|im_start|>think`: the first trained character (docs/SPEC.md §4). */
  thinkStart: number;
  /** Offset of the `<|im_start|>` that opens `<|im_start|>answer`. */
  answerTagStart: number;
}

type Piece = { literal: string } | { field: RegionName };

const layoutCache = new Map<string, Piece[]>();
function pieces(preset: TemplatePreset): Piece[] {
  let cached = layoutCache.get(preset.layout);
  if (!cached) {
    cached = [];
    const re = /\{(system|question|draft|bridge|chain|verdict|final_answer)\}/g;
    let last = 0;
    for (let m = re.exec(preset.layout); m; m = re.exec(preset.layout)) {
      if (m.index > last) cached.push({ literal: preset.layout.slice(last, m.index) });
      cached.push({ field: m[1] as RegionName });
      last = re.lastIndex;
    }
    if (last < preset.layout.length) cached.push({ literal: preset.layout.slice(last) });
    layoutCache.set(preset.layout, cached);
  }
  return cached;
}

const THINK_TAG = '<|im_start|>think';
const ANSWER_TAG = '<|im_start|>answer';

function regionValue(fields: TraceFields, preset: TemplatePreset, name: RegionName): string {
  switch (name) {
    case 'system': return preset.system;
    case 'bridge': return preset.bridge;
    case 'verdict': return preset.verdicts[fields.verdict];
    default: return fields[name];
  }
}

/** Renders a sample's fields into the training text, byte for byte as docs/SPEC.md §3 says. */
export function renderTrace(fields: TraceFields, presetName = 'paper'): RenderedTrace {
  const { aroundChain: _unused, ...rendered } = renderTraceWithParts(fields, presetName);
  return rendered;
}

/**
 * renderTrace plus the text on either side of the chain (`text === before +
 * chain + after`; absent when the layout has no chain), which lets a writer
 * reuse the chain's encoded bytes without ever flattening the long text.
 */
export function renderTraceWithParts(fields: TraceFields, presetName = 'paper'): RenderedTrace & { aroundChain?: { before: string; after: string } } {
  const preset = getPreset(presetName);
  let text = '';
  const regions = {} as Record<RegionName, Span>;
  let thinkStart = -1;
  let answerTagStart = -1;
  let before: string | undefined;
  let after = '';
  for (const piece of pieces(preset)) {
    if ('literal' in piece) {
      const t = piece.literal.indexOf(THINK_TAG);
      if (t >= 0 && thinkStart < 0) thinkStart = text.length + t;
      const a = piece.literal.indexOf(ANSWER_TAG);
      if (a >= 0 && answerTagStart < 0) answerTagStart = text.length + a;
      text += piece.literal;
      if (before !== undefined) after += piece.literal;
    } else {
      const value = regionValue(fields, preset, piece.field);
      regions[piece.field] = { start: text.length, end: text.length + value.length };
      if (piece.field === 'chain' && before === undefined) before = text;
      else if (before !== undefined) after += value;
      text += value;
    }
  }
  return { text, regions, thinkStart, answerTagStart, aroundChain: before === undefined ? undefined : { before, after } };
}

/** Why a text does not parse as a trace of the preset. */
export class TraceStructureError extends Error {
  constructor(message: string, readonly offset: number) { super(message); this.name = 'TraceStructureError'; }
}

/**
 * Parses a rendered trace back into its fields. Stage tags and fixed sentences
 * must be present and in order; otherwise a TraceStructureError says which.
 */
export function parseTrace(text: string, presetName = 'paper'): { fields: TraceFields; rendered: RenderedTrace } {
  const preset = getPreset(presetName);
  const ps = pieces(preset);
  const values: Partial<Record<RegionName, string>> = {};
  let pos = 0;
  for (let i = 0; i < ps.length; i++) {
    const piece = ps[i];
    if ('literal' in piece) {
      if (!text.startsWith(piece.literal, pos)) {
        throw new TraceStructureError(`Expected ${JSON.stringify(piece.literal)} at offset ${pos}: a stage tag or fixed line was removed or moved.`, pos);
      }
      pos += piece.literal.length;
      continue;
    }
    const field = piece.field;
    if (field === 'system' || field === 'bridge') {
      const fixed = field === 'system' ? preset.system : preset.bridge;
      if (!text.startsWith(fixed, pos)) {
        throw new TraceStructureError(`Expected the ${field} text ${JSON.stringify(fixed)} at offset ${pos}.`, pos);
      }
      values[field] = fixed;
      pos += fixed.length;
      continue;
    }
    if (field === 'verdict') {
      const v = (['correct', 'incorrect'] as const).find((k) => text.startsWith(preset.verdicts[k], pos));
      if (!v) throw new TraceStructureError(`Expected a verdict sentence at offset ${pos}.`, pos);
      values.verdict = v;
      pos += preset.verdicts[v].length;
      continue;
    }
    // A free field runs to the next anchor: the next literal, extended by the fixed text that follows it.
    const anchor = anchorAfter(ps, i + 1, preset);
    let end: number;
    if (i + 1 >= ps.length) end = text.length;
    else if (field === 'chain') end = lastAnchor(text, anchor, pos, preset);
    else if (i + 2 >= ps.length && 'literal' in ps[i + 1]) {
      end = text.endsWith(anchor) ? text.length - anchor.length : -1;
      if (end < pos) end = -1;
    } else end = text.indexOf(anchor, pos);
    if (end < 0) {
      const after = ps[i + 2];
      const next = after && 'field' in after ? `the ${after.field} sentence` : 'the closing tag';
      throw new TraceStructureError(`Could not find the end of the ${field}: ${next} (${JSON.stringify(anchor)}) is missing or moved after offset ${pos}.`, pos);
    }
    values[field] = text.slice(pos, end);
    pos = end;
  }
  if (pos !== text.length) throw new TraceStructureError(`Unexpected text after the final <|im_end|> at offset ${pos}.`, pos);
  const fields: TraceFields = {
    question: values.question ?? '', draft: values.draft ?? '', chain: values.chain ?? '',
    verdict: (values.verdict as Verdict | undefined) ?? 'correct', final_answer: values.final_answer ?? '',
  };
  return { fields, rendered: renderTrace(fields, presetName) };
}

/** The literal after index i, plus the fixed text (system/bridge) right after it. */
function anchorAfter(ps: Piece[], i: number, preset: TemplatePreset): string {
  const next = ps[i];
  if (!next) return '';
  if ('literal' in next) {
    const after = ps[i + 1];
    if (after && 'field' in after && (after.field === 'bridge' || after.field === 'system')) {
      return next.literal + (after.field === 'bridge' ? preset.bridge : preset.system);
    }
    return next.literal;
  }
  return '';
}

/** The chain ends at the last "\n<verdict>\n<|im_start|>answer" that is followed by the answer stage. */
function lastAnchor(text: string, anchor: string, from: number, preset: TemplatePreset): number {
  let best = -1;
  for (const v of ['correct', 'incorrect'] as const) {
    const probe = anchor + preset.verdicts[v];
    const at = text.lastIndexOf(probe);
    if (at >= from && at > best) best = at;
  }
  return best;
}
