/**
 * The loss-curve webview: loss, learning rate, grad norm and tokens/s against
 * step (uPlot), one series per run, EMA smoothing, ETA per run, CSV and PNG
 * export (the host writes the files). Labels are set with textContent only.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { connect, el } from '../common/bridge';
import { button } from '../common/toolkit';
import { CHART_METRICS, type ChartMetric, type ChartPoint, type ChartRun, type JobsHostApi, type JobsWebviewApi } from '../../src/core/protocols/jobs';
import { formatMeasured, isNonFinite, measuredNumber } from '../../src/core/jobs/measured';
import { isJobStatus, isTerminal } from '../../src/core/jobs/status';

const TITLES: Record<ChartMetric, string> = { loss: 'loss', lr: 'learning rate', grad_norm: 'grad norm', tokens_per_s: 'tokens/s' };
const PALETTE = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'];

interface Run { info: ChartRun; points: ChartPoint[] }
const runs = new Map<string, Run>();
let smoothing = 0;
const plots = new Map<ChartMetric, uPlot>();

const app = document.getElementById('app')!;
const legend = el('div', { className: 'runs' });
legend.id = 'runs';
const grid = el('div', { className: 'charts' });
const emaValue = el('span', { className: 'ema-value', text: '0.00' });
const slider = document.createElement('input');
slider.type = 'range'; slider.min = '0'; slider.max = '0.99'; slider.step = '0.01'; slider.value = '0'; slider.id = 'ema';
slider.title = 'EMA smoothing of every curve';
slider.addEventListener('input', () => { smoothing = Number(slider.value); emaValue.textContent = smoothing.toFixed(2); redraw(); });
const status = el('span', { className: 'export-status' });
status.id = 'export-status';

const endpoint = connect<JobsWebviewApi, JobsHostApi>({}, {
  run: (info) => {
    const r = runs.get(info.id);
    if (r) r.info = info; else runs.set(info.id, { info, points: [] });
    renderLegend();
    if (!r) redraw();
  },
  points: ({ run, points, seq }) => {
    let r = runs.get(run);
    if (!r) { r = { info: { id: run, label: run, status: 'unknown' }, points: [] }; runs.set(run, r); }
    r.points.push(...points);
    redraw();
    renderLegend();
    const last = r.points[r.points.length - 1];
    // Report once the browser has painted the frame with the new points.
    requestAnimationFrame(() => setTimeout(() => {
      document.body.dataset.points = String([...runs.values()].reduce((n, x) => n + x.points.length, 0));
      endpoint.emit('painted', { run, step: last?.step ?? -1, seq, points: r.points.length });
    }, 0));
  },
  remove: ({ run }) => { runs.delete(run); renderLegend(); redraw(); },
});

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function colorOf(i: number): string {
  return cssVar(PALETTE[i % PALETTE.length], ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'][i % 6]);
}

/** Non-finite values (a diverged loss) are null: uPlot leaves a gap there instead of drawing through them. */
export function ema(values: number[], alpha: number): Array<number | null> {
  const out: Array<number | null> = [];
  let s: number | undefined;
  for (const v of values) {
    if (!Number.isFinite(v)) { out.push(null); continue; }
    if (alpha <= 0) { out.push(v); continue; }
    s = s === undefined ? v : alpha * s + (1 - alpha) * v;
    out.push(s);
  }
  return out;
}

function eta(r: Run): string {
  const last = r.points[r.points.length - 1];
  const total = r.info.totalSteps;
  if (isJobStatus(r.info.status) && isTerminal(r.info.status)) return r.info.status;
  if (!last || !total || last.step <= 0) return 'ETA —';
  const left = (last.elapsed_s / last.step) * Math.max(0, total - last.step);
  const m = Math.floor(left / 60);
  const s = Math.round(left % 60);
  return `ETA ${m ? `${m}m ` : ''}${s}s`;
}

/** The first step whose loss is not finite (the run diverged there), if any. */
function divergedAt(r: Run): number | undefined {
  return r.points.find((p) => isNonFinite(p.loss))?.step;
}

function renderLegend(): void {
  const items = [...runs.values()].map((r, i) => {
    const last = r.points[r.points.length - 1];
    const diverged = divergedAt(r);
    const swatch = el('span', { className: 'swatch' });
    swatch.style.background = colorOf(i);
    const row = el('div', { className: `run run-${r.info.status}` },
      swatch,
      el('span', { className: 'run-label', text: r.info.label }),
      el('span', { className: 'run-progress', text: last ? `step ${last.step}${r.info.totalSteps ? `/${r.info.totalSteps}` : ''} · loss ${formatMeasured(last.loss)}${diverged !== undefined ? ` · non-finite loss from step ${diverged}` : ''}` : 'no steps yet' }),
      el('span', { className: 'run-eta', text: eta(r) }),
    );
    row.dataset.run = r.info.id;
    if (diverged !== undefined) row.dataset.diverged = String(diverged);
    return row;
  });
  legend.replaceChildren(...(items.length ? items : [el('div', { className: 'empty', text: 'No runs: select jobs in the Remote Hosts & Jobs view.' })]));
}

function tables(metric: ChartMetric): uPlot.AlignedData {
  const list = [...runs.values()];
  if (!list.length) return [[]];
  const ts: uPlot.AlignedData[] = list.map((r) => [r.points.map((p) => p.step), ema(r.points.map((p) => measuredNumber(p[metric])), smoothing)]);
  return uPlot.join(ts);
}

function chartWidth(): number {
  return Math.max(240, Math.floor((grid.clientWidth || window.innerWidth - 40) / 2) - 16);
}

function makePlot(metric: ChartMetric, host: HTMLElement): uPlot {
  const fg = cssVar('--vscode-foreground', '#ccc');
  const line = cssVar('--vscode-editorWidget-border', cssVar('--vscode-panel-border', '#8884'));
  const axis = (label: string): uPlot.Axis => ({ stroke: fg, grid: { stroke: line, width: 1 }, ticks: { stroke: line, width: 1 }, label, labelFont: '12px sans-serif', font: '11px sans-serif' });
  const series: uPlot.Series[] = [{ label: 'step' }, ...[...runs.values()].map((r, i) => ({
    // Steps missing from one run are undefined after uPlot.join and are bridged; only null (non-finite) is a gap.
    label: r.info.id, stroke: colorOf(i), width: 1.5, spanGaps: false, points: { show: false },
  }))];
  const opts: uPlot.Options = {
    title: TITLES[metric], width: chartWidth(), height: 220, series, legend: { show: false },
    scales: { x: { time: false } },
    axes: [axis('step'), { ...axis(''), size: 60, values: (_u, vals) => vals.map((v) => (metric === 'lr' ? v.toExponential(1) : String(+v.toPrecision(4)))) }],
    cursor: { drag: { x: true, y: false } },
    hooks: { draw: [(u) => markDivergence(u)] },
  };
  return new uPlot(opts, tables(metric), host);
}

/** A dashed line, in the run's colour, at the first step of each run whose loss is not finite. */
function markDivergence(u: uPlot): void {
  const ctx = u.ctx;
  [...runs.values()].forEach((r, i) => {
    const step = divergedAt(r);
    if (step === undefined) return;
    const x = Math.round(u.valToPos(step, 'x', true));
    ctx.save();
    ctx.strokeStyle = colorOf(i);
    ctx.setLineDash([4, 4]);
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.restore();
  });
}

let shape = '';
function redraw(): void {
  const key = [...runs.keys()].join('|');
  if (key !== shape) {
    // The set of runs changed: rebuild the plots (series count is fixed per plot).
    shape = key;
    for (const p of plots.values()) p.destroy();
    plots.clear();
    grid.replaceChildren();
    for (const m of CHART_METRICS) {
      const cell = el('div', { className: 'chart' });
      cell.dataset.metric = m;
      grid.appendChild(cell);
      plots.set(m, makePlot(m, cell));
    }
    return;
  }
  for (const [m, p] of plots) p.setData(tables(m));
}

function csv(): string {
  const rows = ['run,step,loss,lr,grad_norm,tokens_per_s,elapsed_s'];
  for (const r of runs.values()) for (const p of r.points) rows.push([r.info.id, p.step, p.loss, p.lr, p.grad_norm, p.tokens_per_s, p.elapsed_s].join(','));
  return rows.join('\n') + '\n';
}

function png(): string {
  const canvases = [...plots.values()].map((p) => p.ctx.canvas);
  const w = canvases[0]?.width ?? 1;
  const h = canvases[0]?.height ?? 1;
  const out = document.createElement('canvas');
  out.width = w * 2; out.height = h * 2;
  const ctx = out.getContext('2d')!;
  ctx.fillStyle = cssVar('--vscode-editor-background', '#1e1e1e');
  ctx.fillRect(0, 0, out.width, out.height);
  canvases.forEach((c, i) => ctx.drawImage(c, (i % 2) * w, Math.floor(i / 2) * h));
  return out.toDataURL('image/png');
}

async function exportWith(kind: 'csv' | 'png'): Promise<void> {
  try {
    const name = `loss-curves.${kind}`;
    const saved = kind === 'csv' ? await endpoint.request('saveCsv', { csv: csv(), suggestedName: name }) : await endpoint.request('savePng', { dataUrl: png(), suggestedName: name });
    status.textContent = saved ? `saved ${saved}` : '';
  } catch (err) {
    status.textContent = `export failed: ${(err as Error).message}`;
  }
}

const toolbar = el('div', { className: 'toolbar' },
  el('label', { className: 'ema', text: 'smoothing (EMA) ' }, slider, emaValue),
  button('Export CSV', () => void exportWith('csv'), { id: 'export-csv', appearance: 'secondary' }),
  button('Export PNG', () => void exportWith('png'), { id: 'export-png', appearance: 'secondary' }),
  status,
);
app.append(el('h2', { text: 'Loss curves' }), toolbar, legend, grid);
renderLegend();
redraw();
// A theme change swaps the CSS variables: rebuild the plots with the new colours.
new MutationObserver(() => { shape = ''; redraw(); renderLegend(); }).observe(document.body, { attributes: true, attributeFilter: ['class'] });
window.addEventListener('resize', () => { for (const p of plots.values()) p.setSize({ width: chartWidth(), height: 220 }); });
