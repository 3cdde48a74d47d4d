/**
 * The Results webview: runs × benchmarks (value ± stderr), the paper's Table 1
 * for reference, deltas against a chosen baseline row, and each run's files,
 * metrics and sample logs. Every string from a results file is set as text.
 */
import './style.css';
import { connect, el, getState, setState } from '../common/bridge';
import { button, checkbox, dropdown, tag } from '../common/toolkit';
import type { EvalCell, EvalColumn, EvalRunView, EvalTableRow, ResultsHostApi, ResultsViewState, ResultsWebviewApi } from '../../src/core/protocols/eval';

interface ViewState { showDeltas: boolean }
const app = document.getElementById('app')!;
let view: ViewState = getState<ViewState>({ showDeltas: true });
let current: ResultsViewState | undefined;

const endpoint = connect<ResultsWebviewApi, ResultsHostApi>({}, {
  state: (s) => render(s),
});
// A webview that was hidden is created anew: ask for the state (the host sends it only when it changes).
endpoint.request('getState', {}).then((s) => { if (!current) render(s); }, () => undefined);

const pct = (x: number) => (x * 100).toFixed(2);
const signed = (x: number) => {
  const t = Math.abs(x * 100).toFixed(2);
  return Number(t) === 0 ? t : `${x > 0 ? '+' : '−'}${t}`;
};

async function call<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    showError((err as Error).message);
    return undefined;
  }
}

function showError(message: string): void {
  const box = document.getElementById('error') ?? app.insertBefore(el('p', { className: 'error' }), app.firstChild);
  box.id = 'error';
  box.textContent = message;
}

function cellNode(col: EvalColumn, cell: EvalCell | null, delta: number | null, isBaseline: boolean): HTMLTableCellElement {
  const td = el('td', { className: 'num' });
  td.dataset.col = col.id;
  if (!cell) {
    td.append(el('span', { className: 'missing', text: '–', title: 'not reported' }));
    return td;
  }
  td.dataset.value = String(cell.value);
  const main = el('div', { className: 'value' }, el('span', { text: pct(cell.value) }));
  if (cell.stderr !== null && cell.stderr !== undefined) main.append(el('span', { className: 'stderr', text: ` ± ${pct(cell.stderr)}` }));
  if (cell.spread) {
    const sp = cell.spread;
    if (sp.sd !== null) main.append(el('span', { className: 'stderr spread', text: ` ± ${pct(sp.sd)}` }));
    td.append(main, el('div', {
      className: 'sub spread', text: `${sp.n} seeds · ${pct(sp.min)}–${pct(sp.max)}`,
      title: `mean over seeds ${sp.seeds.join(', ')}; ± is the standard deviation over seeds, the range is min–max`,
    }));
  } else td.append(main);
  if (cell.correct !== undefined && cell.total !== undefined) td.append(el('div', { className: 'sub', text: `${cell.correct}/${cell.total} solved` }));
  if (cell.stockOnSameOutputs !== undefined && cell.stockOnSameOutputs !== null) {
    td.append(el('div', { className: 'sub', text: `stock filter: ${pct(cell.stockOnSameOutputs)}`, title: 'The stock extraction on the same generations (the dcd_ task\'s stock filter)' }));
  }
  if (view.showDeltas && !isBaseline && delta !== null) {
    td.append(el('div', { className: `delta ${delta > 0 ? 'up' : delta < 0 ? 'down' : 'flat'}`, text: `${signed(delta)} pp` }));
  }
  const tips = [col.hint];
  if (cell.source) tips.push(`from ${cell.source.task} · ${cell.source.metric}`);
  if (cell.file) tips.push(cell.file);
  if (cell.n !== null && cell.n !== undefined) tips.push(`n = ${cell.n}${cell.nOriginal && cell.nOriginal !== cell.n ? ` of ${cell.nOriginal} (limited)` : ''}`);
  if (cell.n !== null && cell.n !== undefined && cell.nOriginal && cell.n < cell.nOriginal) td.append(el('div', { className: 'sub warn', text: `n = ${cell.n}/${cell.nOriginal}` }));
  td.title = tips.join('\n');
  return td;
}

function table(s: ResultsViewState): HTMLElement {
  const t = el('table', { className: 'results' });
  t.id = 'results-table';
  const head = el('tr', {}, el('th', { text: 'Model / run' }), el('th', { text: 'Grading' }));
  for (const c of s.columns) {
    const th = el('th', { className: c.kind === 'task' ? 'num other' : 'num', text: c.label, title: c.hint });
    th.dataset.col = c.id;
    head.append(th);
  }
  t.append(el('thead', {}, head));
  const body = el('tbody');
  const group = (label: string, cls: string) => {
    const td = el('td', { text: label });
    td.colSpan = s.columns.length + 2;
    body.append(el('tr', { className: `group ${cls}` }, td));
  };
  const paper = s.rows.filter((r) => r.origin === 'paper');
  const runs = s.rows.filter((r) => r.origin === 'run');
  group('DCD paper, Table 1 (Qwen2.5-1.5B-Instruct; for reference)', 'paper');
  for (const r of paper) body.append(rowNode(s, r));
  group(runs.length ? 'Your runs' : 'Your runs: none loaded yet (Add Results…)', 'runs');
  for (const r of runs) body.append(rowNode(s, r));
  t.append(body);
  return t;
}

function rowNode(s: ResultsViewState, r: EvalTableRow): HTMLTableRowElement {
  const isBaseline = r.id === s.baselineId;
  const tr = el('tr', { className: `row ${r.origin}${isBaseline ? ' baseline' : ''}${r.grading === 'dcd' ? ' dcd' : ''}` });
  tr.dataset.rowId = r.id;
  const name = el('td', { className: 'label' }, el('span', { text: r.label }));
  if (isBaseline) name.append(tag('baseline', 'baseline-tag'));
  if (r.note) name.append(el('div', { className: 'sub', text: r.note }));
  if (r.seeds) name.append(el('div', { className: 'sub', text: `seeds ${r.seeds.join(', ')}` }));
  if (r.runId) {
    name.classList.add('link');
    name.title = 'Show this run\'s files, metrics and sample logs';
    name.addEventListener('click', () => document.getElementById(`run-${cssId(r.runId!)}`)?.scrollIntoView({ behavior: 'smooth' }));
  }
  const file = r.runId ? s.runs.find((x) => x.id === r.runId)?.files[0] : undefined;
  if (file) {
    const actions = el('div', { className: 'row-actions' }, button('Show Lineage', () => void call(endpoint.request('showLineage', { uri: file.uri })), {
      appearance: 'secondary', title: 'Walk up from this result to the model, the training run, the export and the corpus (Lineage view)',
    }));
    actions.addEventListener('click', (e) => e.stopPropagation()); // not the row label's "scroll to the run"
    name.append(actions);
  }
  tr.append(name, el('td', { className: 'grading', text: r.origin === 'paper' ? 'paper' : r.grading === 'dcd' ? 'DCD-aware' : 'stock' }));
  for (const c of s.columns) tr.append(cellNode(c, r.cells[c.id] ?? null, s.deltas[r.id]?.[c.id] ?? null, isBaseline));
  return tr;
}

function cssId(id: string): string {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
  return (h >>> 0).toString(36);
}

function runSection(run: EvalRunView): HTMLElement {
  const sec = el('section', { className: 'run' });
  sec.id = `run-${cssId(run.id)}`;
  sec.append(el('h3', {}, el('span', { text: run.label }), run.hasDcd ? tag('DCD-aware tasks', 'dcd-tag') : document.createTextNode('')));
  sec.append(el('div', { className: 'sub', text: `folder ${run.folder || '.'}` }));
  const files = el('ul', { className: 'files' });
  for (const f of run.files) {
    const link = el('a', { text: f.label, className: 'link' });
    link.addEventListener('click', () => void call(endpoint.request('openFile', { uri: f.uri })));
    const meta = [f.date ? f.date.replace('T', ' ').slice(0, 19) : 'no date', f.backend ?? '', f.limit !== null ? `limit ${f.limit}` : '', f.lmEvalVersion ? `lm-eval ${f.lmEvalVersion}` : '', f.tasks.join(', ')]
      .filter(Boolean).join(' · ');
    files.append(el('li', {}, link, el('span', { className: 'sub', text: `  ${meta}` })));
  }
  sec.append(files);
  if (run.samples.length) {
    const bar = el('div', { className: 'samples-bar' }, el('span', { className: 'sub', text: 'Sample logs: ' }));
    for (const smp of run.samples) {
      bar.append(button(smp.task, () => void call(endpoint.request('openSamples', { uri: smp.uri })), { appearance: 'secondary', title: `Drill down into ${smp.label}` }));
    }
    sec.append(bar);
  }
  const mt = el('table', { className: 'metrics' });
  mt.append(el('thead', {}, el('tr', {}, ...['task', 'metric', 'value', '± stderr', 'shots', 'n', 'file'].map((h) => el('th', { text: h })))));
  const body = el('tbody');
  for (const m of run.metrics) {
    body.append(el('tr', {},
      el('td', { text: m.task }),
      el('td', { text: m.metric, className: 'mono' }),
      el('td', { className: 'num', text: m.value === null ? 'n/a' : m.value.toFixed(4) }),
      el('td', { className: 'num', text: m.stderr === null ? '' : m.stderr.toFixed(4) }),
      el('td', { className: 'num', text: m.nShot === null ? '' : String(m.nShot) }),
      el('td', { className: 'num', text: m.n === null ? '' : `${m.n}${m.nOriginal !== null && m.nOriginal !== m.n ? `/${m.nOriginal}` : ''}` }),
      el('td', { className: 'sub', text: m.file }),
    ));
  }
  mt.append(body);
  sec.append(el('details', {}, el('summary', { text: `All metrics (${run.metrics.length})` }), mt));
  sec.append(button('Remove from view', () => void call(endpoint.request('removeRun', { id: run.id })), { appearance: 'secondary' }));
  return sec;
}

function render(s: ResultsViewState): void {
  current = s;
  app.replaceChildren();
  const options = s.rows.map((r) => ({ value: r.id, label: r.origin === 'paper' ? `Paper: ${r.label}` : `${r.label} (${r.grading === 'dcd' ? 'DCD-aware' : 'stock'})` }));
  const header = el('header', { className: 'toolbar' },
    el('h2', { text: 'Eval results' }),
    button('Add Results…', () => void call(endpoint.request('addResults', {})), { id: 'add', appearance: 'secondary' }),
    button('Export CSV…', () => void call(endpoint.request('exportCsv', { baselineId: s.baselineId })), { id: 'export', appearance: 'primary' }),
    el('span', { className: 'spacer' }),
    el('label', { text: 'Δ against' }),
    dropdown(options, s.baselineId, (id) => void call(endpoint.request('setBaseline', { id })), { id: 'baseline' }),
    checkbox('Show Δ', view.showDeltas, (on) => { view = { ...view, showDeltas: on }; setState(view); if (current) render(current); }, { id: 'show-deltas' }),
  );
  app.append(header);
  for (const w of s.warnings) app.append(el('p', { className: 'warning', text: w }));
  app.append(el('p', { className: 'sub', text: 'Accuracy in percent (± standard error where the harness computed one); Δ in percentage points against the baseline row. DCD-aware rows grade only the text after the answer tag.' }));
  app.append(el('div', { className: 'table-wrap' }, table(s)));
  if (s.runs.length) {
    app.append(el('h2', { text: 'Runs' }));
    for (const run of s.runs) app.append(runSection(run));
  }
  document.body.dataset.rendered = String(s.runs.length);
  document.body.dataset.baseline = s.baselineId;
}
