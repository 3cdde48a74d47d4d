/**
 * The side-by-side view of one question's draft-correct and draft-wrong
 * samples, stage by stage, with the drafts diffed and the extracted answers
 * marked.
 */
import { el } from '../common/bridge';
import { button, dropdown, tag } from '../common/toolkit';
import type { PairView } from '../../src/core/protocols/workbench';
import { pairEl } from './dom';
import { setMode } from './mode';
import { endpoint, st } from './state';
import { flash } from './status';

let currentPair: PairView | null = null;

export async function openPair(key: number | null, wrongKey?: number): Promise<void> {
  if (key === null) return;
  const pair = await endpoint.request('getPair', { key, wrongKey });
  if (!pair) { flash('This question has no draft-correct/draft-wrong pair.'); return; }
  showPair(pair);
}

export async function navigatePair(delta: number): Promise<void> {
  if (st.mode !== 'pair' || !currentPair) { await openPair(st.selectedKey); return; }
  const pair = await endpoint.request('getPair', { from: currentPair.questionKey, delta });
  if (pair) showPair(pair);
}

export function showPair(pair: PairView): void {
  currentPair = pair;
  st.pairFrom = pair.questionKey;
  st.selectedKey = pair.right.key;
  st.wrongKey = pair.right.key;
  if (st.mode !== 'pair') setMode('pair'); else endpoint.emit('select', { key: pair.right.key, mode: 'pair' });
  renderPair(pair);
  pairEl.scrollTop = 0;
}

function diffNodes(pieces: { text: string; changed: boolean }[], answer: { start: number; end: number } | null, side: 'left' | 'right'): Node[] {
  const out: Node[] = [];
  let pos = 0;
  for (const p of pieces) {
    const end = pos + p.text.length;
    const cuts = [pos, end];
    if (answer) for (const a of [answer.start, answer.end]) if (a > pos && a < end) cuts.push(a);
    cuts.sort((a, b) => a - b);
    for (let k = 0; k + 1 < cuts.length; k++) {
      const [a, b] = [cuts[k], cuts[k + 1]];
      if (b <= a) continue;
      const text = p.text.slice(a - pos, b - pos);
      const inAnswer = answer !== null && a >= answer.start && b <= answer.end;
      const cls = [p.changed ? `diff-${side === 'left' ? 'del' : 'ins'}` : '', inAnswer ? 'answer-mark' : ''].filter(Boolean).join(' ');
      out.push(cls ? el('span', { className: cls, text, title: inAnswer ? 'extracted answer' : '' }) : document.createTextNode(text));
    }
    pos = end;
  }
  return out;
}

const STAGE_LABELS: Record<string, string> = { question: 'Question', draft: 'Draft', bridge: 'Bridge', chain: 'Chain', verdict: 'Verdict', answer: 'Final answer' };

function renderPair(pair: PairView): void {
  const back = button('← List (Esc)', () => setMode('list'), { id: 'pair-back', appearance: 'secondary' });
  const prev = button('Previous question (p)', () => { void navigatePair(-1); }, { id: 'pair-prev', appearance: 'secondary' });
  const next = button('Next question (n)', () => { void navigatePair(1); }, { id: 'pair-next', appearance: 'secondary' });
  const head = el('div', { className: 'sample-header' }, back, prev, next,
    el('h2', { text: `Question ${pair.position + 1} of ${pair.pairs} with both kinds` }));
  if (pair.wrongChoices.length > 1) {
    head.append(dropdown(pair.wrongChoices.map((w) => ({ value: String(w.key), label: `${w.source} · answer ${w.draftAnswer ?? '—'}` })), String(pair.right.key),
      (value) => { void endpoint.request('getPair', { from: pair.questionKey, delta: 0, wrongKey: Number(value) }).then((p) => { if (p) showPair(p); }); }, { id: 'pair-wrong' }));
  }
  const sideHead = (s: PairView['left'], cls: string): HTMLElement => el('div', { className: `pair-col-head ${cls}` },
    tag(s.verdict === 'correct' ? 'draft correct' : 'draft wrong', `verdict verdict-${s.verdict}`),
    el('span', { className: 'mono', text: s.source }),
    el('span', { className: 'muted', text: `line ${s.line} · answer ` }),
    el('span', { className: 'mono answer-mark', text: s.draftAnswer ?? '—' }),
    tag(s.review, `review-badge review-${s.review}`));
  const grid = el('div', { className: 'pair-grid' });
  grid.append(el('div', { className: 'pair-cells pair-heads' }, sideHead(pair.left, 'left'), sideHead(pair.right, 'right')));
  for (const stage of pair.stages) {
    const label = el('div', { className: 'pair-stage-label' }, el('span', { text: STAGE_LABELS[stage.name] ?? stage.name }));
    if (stage.identical) {
      label.append(el('span', { className: 'badge identical', text: 'identical' }));
      const body = el('div', { className: 'pair-identical collapsed' });
      body.dataset.stage = stage.name;
      const preview = stage.left.length > 240 ? `${stage.left.slice(0, 240)}…` : stage.left;
      const text = el('pre', { className: `trace region-${stage.name === 'answer' ? 'final_answer' : stage.name}`, text: preview });
      const more = el('span', { className: 'link', text: stage.left.length > 240 ? `show all ${stage.left.length.toLocaleString('en-US')} characters` : '' });
      more.addEventListener('click', () => {
        const open = body.classList.toggle('collapsed');
        text.textContent = open ? preview : stage.left;
        more.textContent = open ? `show all ${stage.left.length.toLocaleString('en-US')} characters` : 'collapse';
      });
      body.append(text, more);
      grid.append(label, body);
      continue;
    }
    const cls = stage.name === 'verdict' ? '' : `region-${stage.name === 'answer' ? 'final_answer' : stage.name}`;
    const left = el('pre', { className: `trace pair-cell left ${cls}` });
    const right = el('pre', { className: `trace pair-cell right ${cls}` });
    left.dataset.stage = stage.name;
    right.dataset.stage = stage.name;
    if (stage.name === 'draft') {
      left.append(...diffNodes(pair.draftDiff.filter((o) => o.op !== 'insert').map((o) => ({ text: o.text, changed: o.op !== 'equal' })), pair.leftAnswer, 'left'));
      right.append(...diffNodes(pair.draftDiff.filter((o) => o.op !== 'delete').map((o) => ({ text: o.text, changed: o.op !== 'equal' })), pair.rightAnswer, 'right'));
    } else {
      left.textContent = stage.left;
      right.textContent = stage.right;
      if (stage.name === 'verdict') { left.classList.add('verdict-correct', 'region-verdict'); right.classList.add('verdict-incorrect', 'region-verdict'); }
    }
    grid.append(label, el('div', { className: 'pair-cells' }, left, right));
  }
  pairEl.replaceChildren(head, el('p', { className: 'muted', text: `gold answer: ${pair.goldAnswer ?? '—'} · a/r/f act on the draft-wrong sample on the right` }), grid);
  document.body.dataset.pair = pair.questionKey;
}

/** Fetches the shown pair again (the document changed); back to the list when it is gone. */
export async function refreshPair(): Promise<void> {
  if (st.mode === 'pair' && currentPair) {
    const p = await endpoint.request('getPair', { from: currentPair.questionKey, delta: 0, wrongKey: st.wrongKey ?? undefined });
    if (p) { currentPair = p; renderPair(p); } else setMode('list');
  }
}

/** Shows the next draft-wrong sample of the same question, when it has more than one. */
export function cycleWrong(): void {
  if (!currentPair || currentPair.wrongChoices.length < 2) return;
  const i = currentPair.wrongChoices.findIndex((x) => x.key === currentPair!.right.key);
  const nextWrong = currentPair.wrongChoices[(i + 1) % currentPair.wrongChoices.length];
  void endpoint.request('getPair', { from: currentPair.questionKey, delta: 0, wrongKey: nextWrong.key }).then((p) => { if (p) showPair(p); });
}
