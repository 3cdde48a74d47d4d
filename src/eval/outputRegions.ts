/**
 * Stages of a model's eval output, for the drill-down's trace colouring
 * (pure). A DCD-trained model writes what follows `<|im_start|>assistant\n`
 * in the training template (docs/SPEC.md §3):
 *
 *   <|im_start|>think\n{draft}\n{bridge}\n{chain}\n{verdict}\n<|im_start|>answer\n{final_answer}<|im_end|>
 *
 * but a generation may stop anywhere, skip stages, or (s1-style models) have
 * only think/answer. This is lenient: each stage is found where it is, and
 * whatever is left is `chain` inside the think stage or `text` outside it.
 * The answer stage starts at the LAST answer tag, as the DCD-aware grader cuts
 * (DCD_ANSWER_REGEX). With the `hf` backend the special token is decoded away
 * and the tags are bare `think` / `answer` lines; those are recognised when
 * the output has no `<|im_start|>` tag at all.
 */
import { PRESETS } from '../core/trace/template';
import type { OutputRegion, OutputSegment } from '../core/protocols/eval';

const THINK = '<|im_start|>think';
const ANSWER = '<|im_start|>answer';
const END = '<|im_end|>';

/** Every bridge and verdict sentence of the known presets (the model may have been trained on any). */
function sentences(): { bridges: string[]; verdicts: Array<{ text: string; verdict: 'correct' | 'incorrect' }> } {
  const bridges = new Set<string>();
  const verdicts = new Map<string, 'correct' | 'incorrect'>();
  for (const p of Object.values(PRESETS)) {
    bridges.add(p.bridge);
    verdicts.set(p.verdicts.correct, 'correct');
    verdicts.set(p.verdicts.incorrect, 'incorrect');
  }
  return { bridges: [...bridges], verdicts: [...verdicts].map(([text, verdict]) => ({ text, verdict })) };
}

interface Tag { start: number; end: number }

/** The tag at `at` plus the newline right after it, if any. */
function tagSpan(text: string, at: number, len: number): Tag {
  let end = at + len;
  if (text[end] === '\n') end++;
  return { start: at, end };
}

function bareLine(text: string, word: string, last: boolean): Tag | undefined {
  const re = new RegExp(`(^|\\n)${word}[ \\t]*(?=\\n|$)`, 'g');
  let found: Tag | undefined;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index + m[1].length;
    found = tagSpan(text, start, m[0].length - m[1].length);
    if (!last) break;
  }
  return found;
}

/** Cuts an output into stage segments that cover it exactly, in order. */
export function segmentOutput(text: string): OutputSegment[] {
  const out: OutputSegment[] = [];
  const push = (start: number, end: number, region: OutputRegion, verdict?: 'correct' | 'incorrect') => {
    if (end <= start) return;
    const prev = out[out.length - 1];
    if (prev && prev.region === region && prev.end === start && prev.verdict === verdict) { prev.end = end; return; }
    out.push(verdict ? { start, end, region, verdict } : { start, end, region });
  };
  /** Free text of a region, with any `<|im_end|>` / `<|im_start|>` tokens in it shown as tags. */
  const pushText = (start: number, end: number, region: OutputRegion) => {
    const re = /<\|im_(?:start|end)\|>[a-z]*/g;
    re.lastIndex = start;
    let pos = start;
    for (let m = re.exec(text); m && m.index < end; m = re.exec(text)) {
      const tagEnd = Math.min(end, m.index + m[0].length);
      push(pos, m.index, region);
      push(m.index, tagEnd, 'tag');
      pos = tagEnd;
    }
    push(pos, end, region);
  };

  const special = text.includes('<|im_start|>');
  let think: Tag | undefined;
  let answer: Tag | undefined;
  if (special) {
    const t = text.indexOf(THINK);
    if (t >= 0) think = tagSpan(text, t, THINK.length);
    const a = text.lastIndexOf(ANSWER);
    if (a >= 0 && (!think || a >= think.end)) answer = tagSpan(text, a, ANSWER.length);
  } else {
    think = bareLine(text, 'think', false);
    answer = bareLine(text, 'answer', true);
    if (think && answer && answer.start < think.end) answer = undefined;
  }

  const thinkStart = think ? think.start : answer ? answer.start : text.length;
  pushText(0, thinkStart, 'text');
  if (think) {
    push(think.start, think.end, 'tag');
    const bodyEnd = answer ? answer.start : text.length;
    segmentThink(text, think.end, bodyEnd, push, pushText);
  }
  if (answer) {
    push(answer.start, answer.end, 'tag');
    const end = text.indexOf(END, answer.end);
    if (end >= 0) {
      pushText(answer.end, end, 'final_answer');
      push(end, end + END.length, 'tag');
      pushText(end + END.length, text.length, 'text');
    } else {
      pushText(answer.end, text.length, 'final_answer');
    }
  }
  return out;
}

function segmentThink(
  text: string, from: number, to: number,
  push: (s: number, e: number, r: OutputRegion, v?: 'correct' | 'incorrect') => void,
  pushText: (s: number, e: number, r: OutputRegion) => void,
): void {
  const { bridges, verdicts } = sentences();
  const body = text.slice(from, to);
  // The bridge: the first one found ends the draft.
  let bridge: { at: number; len: number } | undefined;
  for (const b of bridges) {
    const at = body.indexOf(b);
    if (at >= 0 && (!bridge || at < bridge.at)) bridge = { at, len: b.length };
  }
  // The verdict: the last one found (after the bridge) ends the chain.
  const chainFrom = bridge ? bridge.at + bridge.len : 0;
  let verdict: { at: number; len: number; verdict: 'correct' | 'incorrect' } | undefined;
  for (const v of verdicts) {
    const at = body.lastIndexOf(v.text);
    if (at >= chainFrom && (!verdict || at > verdict.at)) verdict = { at, len: v.text.length, verdict: v.verdict };
  }
  // The template's single newlines between stages are separators (plain text), as in renderTrace's regions.
  const nl = (at: number) => text[at] === '\n';
  let pos = from;
  if (bridge) {
    const b = from + bridge.at;
    const draftEnd = b > pos && nl(b - 1) ? b - 1 : b;
    pushText(pos, draftEnd, 'draft');
    push(draftEnd, b, 'text');
    push(b, b + bridge.len, 'bridge');
    pos = b + bridge.len;
    if (pos < to && nl(pos)) { push(pos, pos + 1, 'text'); pos++; }
  }
  if (verdict) {
    const v = from + verdict.at;
    const chainEnd = v > pos && nl(v - 1) ? v - 1 : v;
    pushText(pos, chainEnd, 'chain');
    push(chainEnd, v, 'text');
    push(v, v + verdict.len, 'verdict', verdict.verdict);
    pos = v + verdict.len;
    // What follows the verdict inside the think stage: the template's newline, or more reasoning.
    if (pos < to && nl(pos) && pos + 1 === to) push(pos, to, 'text');
    else pushText(pos, to, 'chain');
  } else {
    pushText(pos, to, 'chain');
  }
}
