/**
 * The sample view: one sample's facts, its text in stage colours (formulas
 * through KaTeX) and, on demand, the mask overlay of trained and ignored
 * tokens. Sample text is only ever set as text.
 */
import { el } from '../common/bridge';
import { firstTokenEndingAfter } from '../../src/core/tokenizer/offsets';
import { button, checkbox, tag } from '../common/toolkit';
import type { MaskOverlay, SampleDetail } from '../../src/core/protocols/workbench';
import { REGION_NAMES, type RegionName } from '../../src/core/trace/template';
import { curationButtons } from './curation';
import { sampleEl } from './dom';
import { clearPendingMath, mathText } from './formulas';
import { moveSelection } from './list';
import { setMode } from './mode';
import { openPair } from './pairView';
import { endpoint, save, st } from './state';
import { flash } from './status';

let currentSample: SampleDetail | null = null;

const MATH_REGIONS = new Set<RegionName>(['question', 'draft', 'chain', 'final_answer']);

function renderTrace(s: SampleDetail, mask: MaskOverlay | null): HTMLElement {
  const trace = el('pre', { className: `trace${mask ? ' masked' : ''}` });
  trace.id = 'trace';
  const cuts: { at: number; region?: RegionName }[] = [];
  for (const name of REGION_NAMES) {
    const span = s.regions[name];
    if (span) cuts.push({ at: span.start, region: name }, { at: span.end });
  }
  cuts.sort((a, b) => a.at - b.at || (a.region ? 1 : -1));
  const pieces: { start: number; end: number; region?: RegionName }[] = [];
  let pos = 0;
  let region: RegionName | undefined;
  for (const cut of cuts) {
    if (cut.at > pos) pieces.push({ start: pos, end: cut.at, region });
    pos = Math.max(pos, cut.at);
    region = cut.region;
  }
  if (pos < s.text.length) pieces.push({ start: pos, end: s.text.length });
  const cls = (r?: RegionName): string => (r === 'verdict' ? `region region-verdict verdict-${s.verdict}` : r ? `region region-${r}` : 'region-tag');
  if (mask) {
    // One span per token (or part of a token within a stage): trained tokens lit, masked ones dimmed, boundaries alternate.
    const tokenCount = mask.trained.length;
    const keptEnd = tokenCount ? mask.offsets[2 * tokenCount - 1] : 0;
    for (const p of pieces) {
      const box = el('span', { className: cls(p.region) });
      let i = firstTokenEndingAfter(mask.offsets, p.start);
      let at = p.start;
      while (at < p.end) {
        if (i >= tokenCount || at >= keptEnd) {
          box.append(el('span', { className: 'tok cut', text: s.text.slice(at, p.end), title: `beyond max_length ${mask.maxLength}` }));
          break;
        }
        const ts = mask.offsets[2 * i], te = mask.offsets[2 * i + 1];
        if (at < ts) { box.append(document.createTextNode(s.text.slice(at, Math.min(ts, p.end)))); at = Math.min(ts, p.end); continue; }
        const end = Math.min(te, p.end);
        if (end > at) box.append(el('span', { className: `tok ${mask.trained[i] ? 'trained' : 'ignored'} ${i % 2 ? 'odd' : 'even'}`, text: s.text.slice(at, end) }));
        at = Math.max(end, at);
        if (te <= p.end) i++;
        else break;
      }
      trace.append(box);
    }
    return trace;
  }
  for (const p of pieces) {
    const box = el('span', { className: cls(p.region) });
    const text = s.text.slice(p.start, p.end);
    if (st.latex && p.region && MATH_REGIONS.has(p.region)) mathText(text, box);
    else box.textContent = text;
    trace.append(box);
  }
  return trace;
}

let sampleSeq = 0;

export async function openSample(key: number, keepScroll = false): Promise<void> {
  const seq = ++sampleSeq;
  let s: SampleDetail;
  try { s = await endpoint.request('getSample', { key }); } catch (err) { flash((err as Error).message); return; }
  if (seq !== sampleSeq) return;
  st.selectedKey = key;
  currentSample = s;
  const scroll = keepScroll ? sampleEl.scrollTop : 0;
  if (st.mode !== 'sample') setMode('sample'); else endpoint.emit('select', { key, mode: 'sample' });
  renderSample(s, null);
  sampleEl.scrollTop = scroll;
  if (st.mask) {
    document.body.dataset.mask = 'loading';
    try {
      const m = await endpoint.request('getMask', { key });
      if (seq === sampleSeq && st.mask) { renderSample(s, m); sampleEl.scrollTop = scroll; document.body.dataset.mask = 'shown'; }
    } catch (err) {
      document.body.dataset.mask = 'error';
      flash(`Mask overlay: ${(err as Error).message}`);
    }
  } else delete document.body.dataset.mask;
}

function renderSample(s: SampleDetail, mask: MaskOverlay | null): void {
  const back = button('← List (Esc)', () => setMode('list'), { id: 'back', appearance: 'secondary' });
  const prev = button('Previous (k)', () => { void stepSample(-1); }, { id: 'prev', appearance: 'secondary' });
  const next = button('Next (j)', () => { void stepSample(1); }, { id: 'next', appearance: 'secondary' });
  const latex = checkbox('LaTeX (l)', st.latex, (on) => { st.latex = on; save(); void openSample(s.key, true); }, { id: 'toggle-latex' });
  const maskBox = checkbox('Mask overlay (m)', st.mask, (on) => { st.mask = on; save(); void openSample(s.key, true); }, { id: 'toggle-mask' });
  const asText = button('Open as text (t)', () => { void endpoint.request('openAsText', { key: s.key }).catch((e: Error) => flash(e.message)); }, { id: 'open-text', appearance: 'secondary' });
  const compare = button('Side by side (c)', () => { void openPair(s.key); }, { id: 'compare', appearance: 'secondary' });
  if (!s.hasPair) compare.setAttribute('disabled', '');
  const head = el('div', { className: 'sample-header' },
    back, prev, next,
    el('h2', { text: `Line ${s.line}` }),
    tag(s.verdict, `verdict verdict-${s.verdict}`),
    tag(s.source, 'source'),
    tag(s.review.status, `review-badge review-${s.review.status}`),
    latex, maskBox, asText, compare,
  );
  const facts = el('dl', { className: 'facts' });
  const fact = (name: string, value: string, cls = ''): void => { facts.append(el('dt', { text: name }), el('dd', { text: value, className: cls })); };
  fact('id', s.id, 'mono');
  fact('cot_type', s.cotType || '—');
  fact('gold answer', s.goldAnswer ?? '—', 'mono answer-gold');
  fact('draft answer', s.draftAnswer ?? '—', 'mono answer-draft');
  fact('tokens', s.tokens === null ? 'tokenizing…' : `${s.tokens.toLocaleString('en-US')} (${(s.trained ?? 0).toLocaleString('en-US')} trained)`);
  fact('flags', s.flags.length ? s.flags.join(', ') : '—');
  if (s.review.note || s.review.at) fact('review', `${s.review.status}${s.review.note ? `: ${s.review.note}` : ''}${s.review.at ? ` (${s.review.at})` : ''}`);
  if (s.consistency) {
    fact('consistency', s.consistency.reasons.length ? s.consistency.reasons.join('; ')
      : `consistent (verifier ${s.consistency.verifier ?? 'n/a'}, ${s.consistency.rule}; gemini_grade ${s.consistency.grade ?? 'n/a'})`, s.consistency.reasons.length ? 'warn' : '');
  }
  for (const x of s.extra) fact(x.name, x.value, 'mono');
  const notes: HTMLElement[] = [];
  if (s.parseError) notes.push(el('p', { className: 'warn', text: `The text does not parse as a trace: ${s.parseError} (shown without stage colours).` }));
  if (mask) {
    notes.push(el('p', { className: 'muted', text: `Mask overlay (${mask.policy}, max_length ${mask.maxLength}): ${mask.trainedTokens.toLocaleString('en-US')} of ${mask.totalTokens.toLocaleString('en-US')} tokens trained; dimmed tokens get label -100.${mask.flags.length ? ` Flags: ${mask.flags.join(', ')}.` : ''}` }));
  }
  clearPendingMath();
  sampleEl.replaceChildren(head, curationButtons(s.key), facts, ...notes, renderTrace(s, mask));
  document.body.dataset.rendered = s.id;
}

export async function stepSample(delta: number): Promise<void> {
  await moveSelection(delta);
  if (st.selectedKey !== null) await openSample(st.selectedKey);
}

/** Shows the current sample again once the token columns have reached it. */
export function refreshTokenizingSample(): void {
  if (currentSample && st.mode === 'sample' && currentSample.tokens === null) void openSample(currentSample.key, true);
}
