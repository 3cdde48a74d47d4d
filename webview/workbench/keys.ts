/** Keyboard shortcuts per view (plain keys only; with modifiers, VS Code's keybindings take over). */
import { curate } from './curation';
import { moveSelection, viewport } from './list';
import { setMode } from './mode';
import { cycleWrong, navigatePair, openPair } from './pairView';
import { openSample, stepSample } from './sampleView';
import { endpoint, ROW_H, save, st } from './state';
import { flash } from './status';

function typing(e: KeyboardEvent): boolean {
  return e.composedPath().some((n) => n instanceof HTMLElement && (n.tagName === 'INPUT' || n.tagName === 'TEXTAREA' || n.isContentEditable));
}

export function bindKeys(): void {
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typing(e)) {
      if (e.key === 'Escape') { (document.activeElement as HTMLElement | null)?.blur(); viewport.focus(); e.stopPropagation(); }
      return;
    }
    const handled = handleKey(e.key);
    if (handled) { e.preventDefault(); e.stopPropagation(); }
  });
}

function handleKey(key: string): boolean {
  const sel = st.selectedKey;
  const common: Record<string, () => void> = {
    a: () => { void curate('accept'); }, r: () => { void curate('reject'); }, f: () => { void curate('flag'); },
    u: () => { void curate('unreview'); }, d: () => { void curate('duplicate'); }, Delete: () => { void curate('delete'); },
  };
  if (st.mode === 'list') {
    const keys: Record<string, () => void> = {
      ...common,
      ArrowDown: () => { void moveSelection(1); }, j: () => { void moveSelection(1); },
      ArrowUp: () => { void moveSelection(-1); }, k: () => { void moveSelection(-1); },
      PageDown: () => { void moveSelection(Math.floor(viewport.clientHeight / ROW_H)); },
      PageUp: () => { void moveSelection(-Math.floor(viewport.clientHeight / ROW_H)); },
      Home: () => { void moveSelection(-Infinity); }, End: () => { void moveSelection(Infinity); },
      Enter: () => { if (sel !== null) void openSample(sel); }, o: () => { if (sel !== null) void openSample(sel); },
      c: () => { void openPair(sel); },
      '/': () => { (document.querySelector('#search') as HTMLElement | null)?.focus(); },
    };
    const fn = keys[key];
    if (fn) { fn(); return true; }
    return false;
  }
  if (st.mode === 'sample') {
    const keys: Record<string, () => void> = {
      ...common,
      Escape: () => setMode('list'), Backspace: () => setMode('list'),
      j: () => { void stepSample(1); }, k: () => { void stepSample(-1); },
      l: () => { st.latex = !st.latex; save(); if (sel !== null) void openSample(sel, true); },
      m: () => { st.mask = !st.mask; save(); if (sel !== null) void openSample(sel, true); },
      t: () => { if (sel !== null) void endpoint.request('openAsText', { key: sel }).catch((err: Error) => flash(err.message)); },
      c: () => { void openPair(sel); },
    };
    const fn = keys[key];
    if (fn) { fn(); return true; }
    return false;
  }
  const keys: Record<string, () => void> = {
    ...common,
    Escape: () => setMode('list'), Backspace: () => setMode('list'),
    n: () => { void navigatePair(1); }, ']': () => { void navigatePair(1); }, ArrowRight: () => { void navigatePair(1); },
    p: () => { void navigatePair(-1); }, '[': () => { void navigatePair(-1); }, ArrowLeft: () => { void navigatePair(-1); },
    w: () => cycleWrong(),
  };
  const fn = keys[key];
  if (fn) { fn(); return true; }
  return false;
}
