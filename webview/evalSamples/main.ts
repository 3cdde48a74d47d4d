/**
 * The Eval Samples webview: one lm-eval sample log. Left, the rows (filter by
 * grading filter, right/wrong, text); right, the chosen row: grade, extracted
 * and gold answers, the prompt, the output as a stage-coloured trace (the
 * grammar's region colours) and the most similar training-corpus questions.
 * Compared with another run's log of the same task: the questions that
 * flipped (wrong → right, right → wrong) and, for the chosen one, both
 * generations side by side.
 * Everything from the files is set with textContent.
 */
import './style.css';
import { connect, el, getState, setState } from '../common/bridge';
import { button, dropdown, tag, textField } from '../common/toolkit';
import type {
  EvalComparedPair, EvalComparison, EvalFlipItem, EvalPairSide, EvalSampleDetail, EvalSampleItem, EvalSamplesHostApi, EvalSamplesInit,
  EvalSamplesWebviewApi, OutputSegment, SimilarResult,
} from '../../src/core/protocols/eval';

type Grade = 'all' | 'wrong' | 'right';
interface ViewState { uri?: string; filter: string; grade: Grade; search: string; line?: number; corpus?: string }

const app = document.getElementById('app')!;
let init: EvalSamplesInit | undefined;
let state: ViewState = getState<ViewState>({ filter: '', grade: 'all', search: '' });
let listNode: HTMLElement | undefined;
let detailNode: HTMLElement | undefined;
let countNode: HTMLElement | undefined;
let requestSeq = 0;
let comparison: EvalComparison | null = null;
let compareNode: HTMLElement | undefined;

const endpoint = connect<EvalSamplesWebviewApi, EvalSamplesHostApi>({}, {
  init: (i) => start(i),
  select: ({ line }) => void choose(line),
  comparison: (c) => showComparison(c),
});
// A webview that was hidden is created anew: ask for the file again (the host only sends it once).
endpoint.request('getInit', {}).then((i) => { if (!init || init.uri !== i.uri) start(i); }, () => undefined);

function save(patch: Partial<ViewState>): void {
  state = { ...state, ...patch };
  setState(state);
}

function start(i: EvalSamplesInit): void {
  const sameFile = state.uri === i.uri;
  init = i;
  if (!sameFile) comparison = null;
  if (!sameFile) save({ uri: i.uri, filter: i.filters[0] ?? '', grade: 'all', search: '', line: undefined });
  else if (state.filter && !i.filters.includes(state.filter)) save({ filter: i.filters[0] ?? '' });
  if (!state.corpus || !i.corpora.some((c) => c.id === state.corpus)) save({ corpus: i.corpus });
  renderShell();
  const items = visible();
  const keep = state.line !== undefined && items.some((x) => x.line === state.line) ? state.line : items[0]?.line;
  if (keep !== undefined) void choose(keep);
  else detailNode?.replaceChildren(el('p', { className: 'sub', text: 'No sample matches the filters.' }));
}

function visible(): EvalSampleItem[] {
  if (!init) return [];
  const q = state.search.trim().toLowerCase();
  return init.items.filter((r) => {
    if (state.filter && r.filter !== null && r.filter !== state.filter) return false;
    if (state.grade === 'wrong' && r.correct !== false) return false;
    if (state.grade === 'right' && r.correct !== true) return false;
    if (q && !`${r.docId ?? ''} ${r.preview} ${r.extracted ?? ''} ${r.gold}`.toLowerCase().includes(q)) return false;
    return true;
  });
}

function renderShell(): void {
  if (!init) return;
  app.replaceChildren();
  const i = init;
  const filterOptions = i.filters.map((f) => ({ value: f, label: `filter: ${f}` }));
  countNode = el('span', { className: 'sub counts' });
  const header = el('header', { className: 'toolbar' },
    el('h2', { text: i.task ?? 'Eval samples' }),
    i.benchmark ? tag(i.benchmark, 'bench-tag') : el('span'),
    el('span', { className: 'sub file', text: i.label }),
  );
  const controls = el('div', { className: 'controls' });
  if (filterOptions.length > 1) controls.append(dropdown(filterOptions, state.filter, (v) => { save({ filter: v }); refreshList(); }, { id: 'filter' }));
  else if (filterOptions.length === 1) controls.append(el('span', { className: 'sub', text: filterOptions[0].label }));
  controls.append(
    dropdown([
      { value: 'all', label: 'Right and wrong' },
      { value: 'wrong', label: 'Wrong only' },
      { value: 'right', label: 'Right only' },
    ], state.grade, (v) => { save({ grade: v as Grade }); refreshList(); }, { id: 'grade' }),
    textField('Search question, answer, doc id', (v) => { save({ search: v }); refreshList(); }, { id: 'search', value: state.search }),
    countNode,
  );
  app.append(header, controls);
  if (i.errors.length) {
    app.append(el('details', { className: 'errors' },
      el('summary', { className: 'error', text: `${i.errors.length} malformed line${i.errors.length === 1 ? '' : 's'} (kept, not shown as samples)` }),
      el('ul', {}, ...i.errors.map((e) => el('li', { className: 'mono', text: `line ${e.line}: ${e.message}` })))));
  }
  compareNode = el('section', { className: 'compare' });
  compareNode.id = 'compare';
  app.append(compareNode);
  renderCompare();
  listNode = el('ul', { className: 'sample-list' });
  listNode.id = 'sample-list';
  detailNode = el('div', { className: 'detail' });
  detailNode.id = 'detail';
  app.append(el('div', { className: 'panes' }, listNode, detailNode));
  refreshList();
}

function refreshList(): void {
  if (!init || !listNode || !countNode) return;
  const items = visible();
  const inFilter = init.items.filter((r) => !state.filter || r.filter === null || r.filter === state.filter);
  const right = inFilter.filter((r) => r.correct === true).length;
  const graded = inFilter.filter((r) => r.correct !== null).length;
  countNode.textContent = `${items.length} shown · ${right}/${graded} right${graded ? ` (${((100 * right) / graded).toFixed(1)}%)` : ''}`;
  listNode.replaceChildren(...items.map((r) => {
    const mark = r.correct === null ? '·' : r.correct ? '✓' : '✗';
    const li = el('li', { className: `item ${r.correct === null ? 'ungraded' : r.correct ? 'right' : 'wrong'}${r.line === state.line ? ' selected' : ''}` },
      el('span', { className: 'mark', text: mark, title: r.correct === null ? 'not graded' : r.correct ? 'correct' : 'wrong' }),
      el('span', { className: 'doc', text: r.docId === null ? `line ${r.line}` : `#${r.docId}` }),
      el('span', { className: 'preview', text: r.preview }),
    );
    li.dataset.line = String(r.line);
    li.title = `extracted: ${r.extracted ?? '—'}\ngold: ${r.gold}`;
    li.tabIndex = 0;
    li.addEventListener('click', () => void choose(r.line));
    li.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        const sib = (e.key === 'ArrowDown' ? li.nextElementSibling : li.previousElementSibling) as HTMLElement | null;
        if (sib?.dataset.line) { void choose(Number(sib.dataset.line)); sib.focus(); }
      }
    });
    return li;
  }));
  document.body.dataset.shown = String(items.length);
}

async function choose(line: number): Promise<void> {
  save({ line });
  for (const li of listNode?.querySelectorAll('li.item') ?? []) li.classList.toggle('selected', (li as HTMLElement).dataset.line === String(line));
  const seq = ++requestSeq;
  try {
    const d = await endpoint.request('getSample', { line });
    if (seq !== requestSeq) return;
    renderDetail(d);
  } catch (err) {
    detailNode?.replaceChildren(el('p', { className: 'error', text: (err as Error).message }));
  }
}

function traceNode(output: string, segments: OutputSegment[], id = 'output'): HTMLElement {
  const pre = el('pre', { className: 'trace' });
  pre.id = id;
  let pos = 0;
  for (const s of segments) {
    if (s.start > pos) pre.append(el('span', { text: output.slice(pos, s.start) }));
    const cls = s.region === 'tag' ? 'region-tag'
      : s.region === 'text' ? 'region-text'
        : s.region === 'verdict' ? `region region-verdict verdict-${s.verdict ?? 'correct'}`
          : `region region-${s.region}`;
    const span = el('span', { className: cls, text: output.slice(s.start, s.end) });
    if (s.region !== 'tag' && s.region !== 'text') span.title = s.region.replace('_', ' ');
    pre.append(span);
    pos = Math.max(pos, s.end);
  }
  if (pos < output.length) pre.append(el('span', { text: output.slice(pos) }));
  if (!output) pre.append(el('span', { className: 'sub', text: '(empty output)' }));
  return pre;
}

function renderDetail(d: EvalSampleDetail): void {
  if (!detailNode || !init) return;
  const verdict = d.correct === null ? tag('not graded') : tag(d.correct ? 'correct' : 'wrong', `verdict ${d.correct ? 'verdict-correct' : 'verdict-incorrect'}`);
  const head = el('div', { className: 'detail-head' },
    el('h3', { text: `${d.docId === null ? `Line ${d.line}` : `Doc ${d.docId}`}${d.filter ? ` · ${d.filter}` : ''}` }),
    verdict,
  );
  const facts = el('dl', { className: 'facts' },
    el('dt', { text: 'extracted answer' }), el('dd', { className: 'mono', text: d.extracted ?? '—' }),
    el('dt', { text: 'gold answer' }), el('dd', { className: 'mono', text: d.gold }),
  );
  if (d.answerSection !== null) facts.append(el('dt', { text: 'after the answer tag' }), el('dd', { className: 'mono answer-section', text: d.answerSection || '(empty)' }));
  if (d.metric) facts.append(el('dt', { text: 'metric' }), el('dd', { className: 'mono', text: `${d.metric} = ${d.score}` }));
  const others = Object.entries(d.metrics).filter(([k]) => k !== d.metric);
  if (others.length) facts.append(el('dt', { text: 'other metrics' }), el('dd', { className: 'mono', text: others.map(([k, v]) => `${k} = ${v}`).join(', ') }));

  const prompt = el('details', { className: 'prompt' }, el('summary', { text: d.messages ? `Prompt (${d.messages.length} chat messages)` : 'Prompt' }));
  if (d.messages) {
    for (const m of d.messages) prompt.append(el('div', { className: `msg role-${m.role}` }, el('div', { className: 'role', text: m.role }), el('pre', { className: 'msg-text', text: m.content })));
  } else {
    prompt.append(el('pre', { className: 'msg-text', text: d.prompt }));
  }
  if (d.question) prompt.open = false;

  const question = d.question ? el('div', { className: 'question' }, el('h4', { text: 'Question' }), el('pre', { className: 'msg-text', text: d.question })) : el('span');
  const legend = el('div', { className: 'legend sub' }, ...(['draft', 'bridge', 'chain', 'verdict', 'final_answer'] as const).map((r) =>
    el('span', { className: r === 'verdict' ? 'region region-verdict verdict-correct' : `region region-${r}`, text: r.replace('_', ' ') })));
  const similar = el('section', { className: 'similar' });
  similar.id = 'similar';
  const staged = d.segments.some((x) => x.region !== 'text' && x.region !== 'tag');
  detailNode.replaceChildren(head, facts, question, prompt, el('h4', { text: 'Output' }), staged ? legend : el('span'), traceNode(d.output, d.segments), similar);
  document.body.dataset.selected = String(d.line);
  void loadSimilar(d.line, similar);
}

async function loadSimilar(line: number, box: HTMLElement): Promise<void> {
  if (!init) return;
  const corpora = init.corpora;
  const header = el('div', { className: 'similar-head' },
    el('h4', { text: 'Most similar training questions' }),
    dropdown(corpora.map((c) => ({ value: c.id, label: c.label })), state.corpus ?? init.corpus, (v) => { save({ corpus: v }); void loadSimilar(line, box); }, { id: 'corpus' }),
    button('Pick Corpus…', async () => {
      const r = await endpoint.request('pickCorpus', {});
      if (init) init.corpora = r.corpora;
      save({ corpus: r.corpus });
      void loadSimilar(line, box);
    }, { appearance: 'secondary' }),
  );
  const results = el('div', { className: 'sub', text: 'Searching…' });
  box.replaceChildren(header, results);
  let r: SimilarResult;
  try {
    r = await endpoint.request('similar', { line, corpus: state.corpus ?? init.corpus });
  } catch (err) {
    results.replaceWith(el('p', { className: 'error', text: (err as Error).message }));
    return;
  }
  if (state.line !== line) return;
  const list = el('ol', { className: 'matches' });
  list.id = 'matches';
  for (const m of r.matches) {
    const li = el('li', {},
      el('div', { className: 'match-head' },
        el('span', { className: `score ${m.containment >= 0.5 ? 'high' : ''}`, text: `${(m.containment * 100).toFixed(0)}%` }),
        el('span', { className: 'sub', text: ` of the eval question's ${r.n}-grams · Jaccard ${m.jaccard.toFixed(2)} · ${m.file} #${m.index + 1}${m.copies > 1 ? ` (×${m.copies} samples)` : ''}` }),
      ),
      el('div', { className: 'match-q', text: m.question }),
    );
    if (m.file.endsWith('.dcd.jsonl')) {
      li.querySelector('.match-head')!.append(button('Open Sample', () => void endpoint.request('openCorpusSample', { uri: m.uri, index: m.index }), { appearance: 'secondary' }));
    }
    list.append(li);
  }
  const summary = el('div', { className: 'sub', text: r.matches.length
    ? `Word ${r.n}-gram containment against ${r.searched} distinct questions of ${r.corpus}.`
    : `No question of ${r.corpus} (${r.searched} distinct) shares a word ${r.n}-gram with this one.` });
  results.replaceWith(summary, list);
}

// ---------------------------------------------------------------------------
// Comparing with another run

async function call<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    compareNode?.append(el('p', { className: 'error', text: (err as Error).message }));
    return undefined;
  }
}

function showComparison(c: EvalComparison | null): void {
  comparison = c;
  renderCompare();
}

function renderCompare(): void {
  if (!compareNode) return;
  if (!comparison) {
    const pick = el('div', { className: 'compare-bar' });
    pick.append(button('Compare with Another Run…', async () => {
      const list = await call(endpoint.request('compareCandidates', {}));
      if (!list) return;
      const choose = el('div', { className: 'compare-bar' });
      if (list.length) {
        let uri = list[0].uri;
        choose.append(
          dropdown(list.map((x) => ({ value: x.uri, label: `${x.label}${x.task !== init?.task ? ` (${x.task})` : ''}` })), uri, (v) => { uri = v; }, { id: 'compare-with' }),
          button('Compare', async () => { const c = await call(endpoint.request('compareWith', { uri })); if (c) showComparison(c); }, { id: 'compare-go' }),
        );
      } else {
        choose.append(el('span', { className: 'sub', text: 'No other log of this benchmark in the workspace.' }));
      }
      choose.append(button('Pick File…', async () => { const c = await call(endpoint.request('pickComparison', {})); if (c) showComparison(c); }, { appearance: 'secondary' }));
      pick.replaceWith(choose);
    }, { appearance: 'secondary', id: 'compare-open' }));
    compareNode.replaceChildren(pick);
    delete document.body.dataset.flips;
    return;
  }
  const c = comparison;
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
  const how = (g: string, f: string | null) => (g === 'dcd-verify' ? 'DCD verifier (after the last answer tag)' : `as logged${f ? ` (${f})` : ''}`);
  const head = el('div', { className: 'compare-bar' },
    el('strong', { text: `Compared with ${c.b.label}` }),
    button('Close Comparison', async () => { await call(endpoint.request('clearComparison', {})); showComparison(null); }, { appearance: 'secondary' }),
  );
  const summary = el('div', { className: 'sub' , text:
    `${c.matched} questions in both · this run ${pct(c.accuracyA)}, graded ${how(c.gradingA, c.filterA)} · ` +
    `other run ${pct(c.accuracyB)}, graded ${how(c.gradingB, c.filterB)} · both right ${c.bothRight}, both wrong ${c.bothWrong}` +
    `${c.onlyA || c.onlyB ? ` · only here ${c.onlyA}, only there ${c.onlyB}` : ''}` +
    `${c.hashMismatch.length ? ` · ${c.hashMismatch.length} ids name different documents (not compared)` : ''}` });
  const group = (title: string, cls: string, items: EvalFlipItem[]) => {
    const list = el('ul', { className: `flip-list ${cls}` });
    for (const f of items) {
      const li = el('li', { className: 'flip' },
        el('span', { className: 'doc', text: `#${f.docId}` }),
        el('span', { className: 'preview', text: f.preview }),
        el('span', { className: 'mono answers', text: `${f.a.answer ?? '—'} → ${f.b.answer ?? '—'} (gold ${f.gold})` }),
      );
      li.dataset.docId = String(f.docId);
      li.tabIndex = 0;
      li.addEventListener('click', () => void showPair(f.docId));
      li.addEventListener('keydown', (e) => { if (e.key === 'Enter') void showPair(f.docId); });
      list.append(li);
    }
    return el('details', { className: 'flips' },
      el('summary', { text: `${title}: ${items.length}` }),
      items.length ? list : el('p', { className: 'sub', text: 'none' }));
  };
  const w2r = group('Wrong here → right there', 'wrong-to-right', c.wrongToRight);
  const r2w = group('Right here → wrong there', 'right-to-wrong', c.rightToWrong);
  (w2r as HTMLDetailsElement).open = true;
  (r2w as HTMLDetailsElement).open = true;
  compareNode.replaceChildren(head, summary, w2r, r2w);
  document.body.dataset.flips = String(c.wrongToRight.length + c.rightToWrong.length);
}

function pairColumn(title: string, side: EvalPairSide, id: string): HTMLElement {
  const verdict = tag(side.correct ? 'correct' : 'wrong', `verdict ${side.correct ? 'verdict-correct' : 'verdict-incorrect'}`);
  const col = el('div', { className: 'pair-col' },
    el('div', { className: 'detail-head' }, el('h4', { text: title }), verdict),
    el('div', { className: 'sub', text: `${side.label}${side.model ? ` · ${side.model}` : ''} · line ${side.line}` }),
    el('dl', { className: 'facts' },
      el('dt', { text: side.grading === 'dcd-verify' ? 'answer (verifier)' : 'answer (logged)' }),
      el('dd', { className: 'mono', text: `${side.answer ?? '—'}${side.rule ? `  [${side.rule}]` : ''}` }),
      el('dt', { text: 'after the answer tag' }),
      el('dd', { className: 'mono answer-section', text: side.answerSection === null ? '(no answer tag)' : side.answerSection || '(empty)' }),
    ),
    traceNode(side.output, side.segments, id),
  );
  return col;
}

async function showPair(docId: number): Promise<void> {
  if (!detailNode) return;
  for (const li of compareNode?.querySelectorAll('li.flip') ?? []) li.classList.toggle('selected', (li as HTMLElement).dataset.docId === String(docId));
  const seq = ++requestSeq;
  let p: EvalComparedPair;
  try {
    p = await endpoint.request('getPair', { docId });
  } catch (err) {
    detailNode.replaceChildren(el('p', { className: 'error', text: (err as Error).message }));
    return;
  }
  if (seq !== requestSeq) return;
  const head = el('div', { className: 'detail-head' }, el('h3', { text: `Doc ${p.docId} · gold ${p.gold}` }));
  const question = p.question ? el('div', { className: 'question' }, el('h4', { text: 'Question' }), el('pre', { className: 'msg-text', text: p.question })) : el('span');
  const cols = el('div', { className: 'pair' }, pairColumn('This run', p.a, 'output-a'), pairColumn('Other run', p.b, 'output-b'));
  detailNode.replaceChildren(head, question, cols);
  document.body.dataset.pair = String(p.docId);
}
