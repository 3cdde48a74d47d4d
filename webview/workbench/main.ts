/**
 * The Corpus workbench webview: a virtualised list of rows fetched in windows
 * from the host, filters and search, a stats header, the sample view (stage
 * colours, KaTeX, mask overlay) and the side-by-side view of two drafts.
 * This file wires them together: the host's events, refresh after edits and
 * start-up. One module per part: state (persisted state, endpoint), dom (the
 * page's sections), list, toolbar, stats, status, curation, sampleView
 * (formulas: KaTeX), pairView, mode (which view shows), keys.
 *
 * Security: every piece of sample text is set with textContent (through `el`
 * or text nodes); KaTeX renders formulas with `trust: false` into DOM nodes.
 * Nothing from a sample is ever parsed as HTML.
 */
// KaTeX's styles come before ours, so that ours win where both apply.
import 'katex/dist/katex.min.css';
import './style.css';
import { tag } from '../common/toolkit';
import { endpoint, firstView, hostEvents, initInfo, restored, st } from './state';
import type { WorkbenchViewState } from '../../src/core/protocols/workbench';
import { header, titleEl } from './dom';
import { bindKeys } from './keys';
import { onOpenRow, refreshRows, runView, showSearchProgress, viewIncomplete, viewport } from './list';
import { setMode } from './mode';
import { navigatePair, refreshPair, showPair } from './pairView';
import { openSample, refreshTokenizingSample } from './sampleView';
import { loadStats, loadStatsSoon, renderStats } from './stats';
import { setIndexProgress, setTokenProgress, type TokenProgress } from './status';
import { loadFacets, renderToolbar } from './toolbar';

hostEvents.changed = () => { void refreshAll(); };
hostEvents.tokens = (p) => onTokens(p);
hostEvents.loaded = () => {
  setIndexProgress(null);
  if (viewIncomplete()) void runView(true);
  void loadFacets(); void loadStats();
};
hostEvents.searchProgress = ({ done, total }) => showSearchProgress(done, total);
// A big file is read in the background: show how far, and let the unfiltered list grow (at most twice a second).
let growTimer: ReturnType<typeof setTimeout> | undefined;
hostEvents.progress = (p) => {
  setIndexProgress(p);
  renderStats();
  if (!growTimer && viewIncomplete()) growTimer = setTimeout(() => { growTimer = undefined; if (viewIncomplete()) void runView(true); }, 500);
};
hostEvents.showPair = (pair) => showPair(pair);
hostEvents.showSample = ({ key }) => { void openSample(key); };
hostEvents.navigatePair = ({ delta }) => { void navigatePair(delta); };

onOpenRow((key) => { void openSample(key); });
bindKeys();

function onTokens(p: TokenProgress): void {
  setTokenProgress(p);
  // Token columns arrived: refresh the visible rows and, now and then, the stats.
  refreshRows();
  loadStatsSoon(p.finished);
  refreshTokenizingSample();
}

async function refreshAll(): Promise<void> {
  await runView(true);
  void loadStats();
  if (st.mode === 'sample' && st.selectedKey !== null) {
    try { await openSample(st.selectedKey, true); } catch { setMode('list'); }
  }
  await refreshPair();
}

async function start(): Promise<void> {
  const info = await initInfo;
  document.body.dataset.initMs = String(Math.round(performance.now()));
  titleEl.textContent = info.fileName;
  document.title = info.fileName;
  if (!restored && info.saved) st.view = info.saved;
  const mode = st.mode;
  setMode('list');
  // The first rows: the host pushes the saved view's right after init (no round trip) — taken when this page shows that view,
  // else asked for; either before building the toolbar (its web components take a while to register).
  const sameView = (a: WorkbenchViewState) => JSON.stringify({ filter: a.filter ?? {}, sort: a.sort ?? null }) === JSON.stringify({ filter: st.view.filter ?? {}, sort: st.view.sort ?? null });
  const first = sameView(info.saved ?? { filter: {}, sort: null })
    ? firstView.then((v) => runView(true, sameView(v.view) ? v.info ?? undefined : undefined))
    : runView(true);
  if (info.readOnly) header.append(tag('read-only', 'muted'));
  renderToolbar();
  renderStats();
  await first;
  viewport.scrollTop = st.scrollTop;
  void loadFacets();
  void loadStats();
  if (mode === 'sample' && st.selectedKey !== null) await openSample(st.selectedKey);
  else if (mode === 'pair' && st.pairFrom) {
    const p = await endpoint.request('getPair', { from: st.pairFrom, delta: 0, wrongKey: st.wrongKey ?? undefined });
    if (p) showPair(p);
  }
}

void start();
