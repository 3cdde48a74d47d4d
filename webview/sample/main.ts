/**
 * The Sample webview: one corpus sample, its trace coloured by stage. All
 * sample text goes through textContent: nothing from a sample is parsed as HTML.
 */
import { connect, el } from '../common/bridge';
import { button, tag, divider } from '../common/toolkit';
import type { SampleHostApi, SampleView, SampleWebviewApi } from '../../src/core/protocols/sample';
import { REGION_NAMES } from '../../src/core/trace/template';

const app = document.getElementById('app')!;
let current: SampleView | undefined;

const endpoint = connect<SampleWebviewApi, SampleHostApi>({}, {
  show: (sample) => render(sample),
});

async function go(delta: number): Promise<void> {
  if (!current) return;
  const index = current.index + delta;
  if (index < 0 || index >= current.total) return;
  render(await endpoint.request('getSample', { index }));
}

function render(sample: SampleView): void {
  current = sample;
  app.replaceChildren();
  const header = el('header', { className: 'sample-header' },
    el('h2', { text: `Sample ${sample.index + 1} of ${sample.total}` }),
    tag(sample.verdict, `verdict verdict-${sample.verdict}`),
    tag(sample.draft_source, 'source'),
    button('Previous', () => void go(-1), { id: 'prev', appearance: 'secondary' }),
    button('Next', () => void go(1), { id: 'next', appearance: 'secondary' }),
  );
  const facts = el('dl', { className: 'facts' },
    el('dt', { text: 'id' }), el('dd', { text: sample.id, className: 'mono' }),
    el('dt', { text: 'gold answer' }), el('dd', { text: sample.gold_answer ?? '—', className: 'mono' }),
    el('dt', { text: 'draft answer' }), el('dd', { text: sample.draft_answer ?? '—', className: 'mono' }),
  );
  const trace = el('pre', { className: 'trace' });
  trace.id = 'trace';
  // Colour by region: cut the text at region boundaries and wrap each piece.
  const cuts: { at: number; region?: string }[] = [];
  for (const name of REGION_NAMES) {
    const span = sample.regions[name];
    if (span) cuts.push({ at: span.start, region: name }, { at: span.end });
  }
  cuts.sort((a, b) => a.at - b.at);
  let pos = 0;
  let region: string | undefined;
  for (const cut of cuts) {
    const cls = region === 'verdict' ? `region region-verdict verdict-${sample.verdict}` : region ? `region region-${region}` : 'region-tag';
    if (cut.at > pos) trace.appendChild(el('span', { className: cls, text: sample.text.slice(pos, cut.at) }));
    pos = Math.max(pos, cut.at);
    region = cut.region;
  }
  if (pos < sample.text.length) trace.appendChild(el('span', { className: 'region-tag', text: sample.text.slice(pos) }));
  app.append(header, facts, divider(), trace);
  document.body.dataset.rendered = sample.id;
}
