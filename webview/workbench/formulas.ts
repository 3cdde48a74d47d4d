/**
 * Formulas in sample text: placeholders that show the raw TeX until KaTeX
 * renders them (trust: false, into DOM nodes; nothing is parsed as HTML).
 * Formulas in view render first; the rest render in idle time, a batch at a time.
 */
import katex from 'katex';
import { el } from '../common/bridge';
import { sampleEl } from './dom';
import { splitMath } from './math';

const katexObserver = new IntersectionObserver((entries) => {
  for (const e of entries) {
    if (!e.isIntersecting) continue;
    const node = e.target as HTMLElement;
    katexObserver.unobserve(node);
    renderMath(node);
  }
}, { root: sampleEl, rootMargin: '600px 0px' });
let pendingMath: HTMLElement[] = [];
let idleScheduled = false;

function renderPendingMath(deadline?: IdleDeadline): void {
  idleScheduled = false;
  let n = 0;
  while (pendingMath.length && (deadline ? deadline.timeRemaining() > 2 : n < 20)) { renderMath(pendingMath.shift()!); n++; }
  if (pendingMath.length) scheduleMath();
}

function scheduleMath(): void {
  if (idleScheduled) return;
  idleScheduled = true;
  if (typeof requestIdleCallback === 'function') requestIdleCallback(renderPendingMath, { timeout: 200 });
  else setTimeout(() => renderPendingMath(), 16);
}

function renderMath(node: HTMLElement): void {
  if (node.classList.contains('rendered') || !node.isConnected) return;
  katexObserver.unobserve(node);
  const tex = node.dataset.tex ?? '';
  try {
    katex.render(tex, node, { displayMode: node.classList.contains('display'), throwOnError: false, trust: false, strict: 'ignore', maxExpand: 500, maxSize: 20 });
    node.classList.add('rendered');
  } catch {
    node.textContent = node.dataset.raw ?? tex;
  }
}

/** Text with formulas: text nodes, and placeholders that show the raw TeX until KaTeX renders them in view. */
export function mathText(text: string, into: HTMLElement): void {
  for (const seg of splitMath(text)) {
    if (seg.kind === 'text') { into.append(document.createTextNode(seg.text)); continue; }
    const span = el('span', { className: `math${seg.display ? ' display' : ''}`, text: seg.raw });
    span.dataset.tex = seg.tex;
    span.dataset.raw = seg.raw;
    into.append(span);
    katexObserver.observe(span);
    pendingMath.push(span);
  }
  scheduleMath();
}

/** Forgets the formulas of the sample shown before (the view is about to be replaced). */
export function clearPendingMath(): void { pendingMath = []; }
