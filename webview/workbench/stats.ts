/** The stats header: counts, the verdict balance, the token-length histogram and the consistency check. */
import { el } from '../common/bridge';
import { button } from '../common/toolkit';
import type { WorkbenchStats } from '../../src/core/protocols/workbench';
import { statsEl } from './dom';
import { renderRows } from './list';
import { openSample } from './sampleView';
import { endpoint, save, st } from './state';
import { indexProgress, indexText, tokenProgress } from './status';

let stats: WorkbenchStats | null = null;
let statsTimer: ReturnType<typeof setTimeout> | undefined;

/** Loads the stats again, at once or (while tokenizing) after a second. */
export function loadStatsSoon(now: boolean): void {
  clearTimeout(statsTimer);
  statsTimer = setTimeout(() => { void loadStats(); }, now ? 0 : 1000);
}

export async function loadStats(): Promise<void> {
  stats = await endpoint.request('getStats', {});
  renderStats();
}

function pct(n: number): string { return `${(100 * n).toFixed(1)}%`; }

export function renderStats(): void {
  const s = stats;
  if (!s) { statsEl.replaceChildren(el('p', { className: 'muted', text: indexProgress ? `Stats once the file is read: ${indexText(indexProgress)}` : 'Reading the corpus…' })); return; }
  const toggle = button(st.statsOpen ? 'Hide stats' : 'Show stats', () => { st.statsOpen = !st.statsOpen; save(); renderStats(); renderRows(); }, { appearance: 'secondary', id: 'stats-toggle' });
  const counts = el('div', { className: 'wb-counts' },
    el('span', { text: `${s.samples} samples` }),
    el('span', { className: 'verdict-correct', text: `${s.verdicts.correct} draft-correct` }),
    el('span', { className: 'verdict-incorrect', text: `${s.verdicts.incorrect} draft-wrong` }),
    el('span', { text: `${s.malformed} malformed` }),
    el('span', { text: `${s.questions} questions (${s.questionsWithBoth} with both)` }),
    el('span', { text: `reviewed: ${s.review.accepted} accepted, ${s.review.rejected} rejected, ${s.review.flagged} flagged, ${s.review.unreviewed} open` }),
    toggle,
  );
  counts.id = 'stats-counts';
  if (!st.statsOpen) { statsEl.replaceChildren(counts); return; }
  // Balance bar.
  const total = s.verdicts.correct + s.verdicts.incorrect;
  const bar = el('div', { className: 'wb-balance', title: 'draft-correct : draft-wrong' });
  const c = el('div', { className: 'bal-correct' });
  const w = el('div', { className: 'bal-wrong' });
  c.style.width = total ? pct(s.verdicts.correct / total) : '0';
  w.style.width = total ? pct(s.verdicts.incorrect / total) : '0';
  bar.append(c, w);
  const balance = el('div', { className: 'wb-stat' }, el('h3', { text: 'Balance' }), bar,
    el('div', { className: 'muted', text: s.balance === null ? '—' : `${pct(s.balance)} correct · ${pct(1 - s.balance)} wrong (paper: 1,000 : 675 = 59.7%)` }));
  // Token histogram.
  const histo = el('div', { className: 'wb-stat' }, el('h3', { text: 'Token lengths' }));
  histo.id = 'histogram';
  const h = s.tokens.histogram;
  if (h) {
    const max = Math.max(...h.counts, 1);
    const bars = el('div', { className: 'wb-histo' });
    h.counts.forEach((n, i) => {
      const b = el('div', { className: 'histo-bar', title: `${h.edges[i].toLocaleString('en-US')}–${h.edges[i + 1].toLocaleString('en-US')} tokens: ${n}` });
      b.style.height = `${Math.max(n ? 4 : 0, (100 * n) / max)}%`;
      bars.append(b);
    });
    histo.append(bars, el('div', { className: 'histo-axis' },
      el('span', { text: '0' }), el('span', { text: `${h.edges[h.edges.length - 1].toLocaleString('en-US')} tokens` })),
    el('div', { className: 'muted', text: `${s.tokens.done} of ${s.tokens.total} tokenized · mean ${Math.round(s.tokens.mean).toLocaleString('en-US')} · max ${s.tokens.max.toLocaleString('en-US')} · trained ${s.tokens.sum ? pct(s.tokens.trained / s.tokens.sum) : '—'}` }));
  } else {
    histo.append(el('div', { className: 'muted', text: tokenProgress.error ? `No token lengths: ${tokenProgress.error}` : 'Tokenizing in the background…' }));
  }
  // Consistency check.
  const cons = el('div', { className: 'wb-stat wb-consistency' }, el('h3', { text: 'Consistency: tag vs gemini_grade vs verifier' }));
  cons.id = 'consistency';
  const d = s.consistency.disagreements;
  cons.append(el('div', { className: d.length ? 'warn' : 'muted', text: `${s.consistency.checked} checked · ${s.consistency.consistent} consistent · ${d.length} disagreements` }));
  if (d.length) {
    const list = el('ul', { className: 'wb-disagreements' });
    for (const x of d.slice(0, 200)) {
      const li = el('li', { className: 'link', text: `line ${x.line} · ${x.id} · tag ${x.tag} · ${x.reasons.join('; ')}` });
      li.addEventListener('click', () => { void openSample(x.key); });
      list.append(li);
    }
    if (d.length > 200) list.append(el('li', { className: 'muted', text: `… and ${d.length - 200} more (filter by the "disagreement" flag)` }));
    cons.append(list);
  }
  statsEl.replaceChildren(counts, el('div', { className: 'wb-stat-grid' }, balance, histo, cons));
}
