/**
 * A webview may ask its host to open only the URIs the host sent it: the
 * allow-set (src/core/protocols/offeredUris.ts), and the eval views' request handlers
 * (src/eval/uriRequests.ts) driven through the real protocol endpoint, as a
 * hostile webview would drive them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Endpoint, type Api, type Envelope } from '../../src/core/protocols/endpoint';
import { parseResultsJson } from '../../src/core/eval/results';
import { WORKSPACE_CORPUS, type EvalSamplesHostApi, type ResultsHostApi, type SimilarResult } from '../../src/core/protocols/eval';
import { OfferedUris, uriKey } from '../../src/core/protocols/offeredUris';
import { buildResultsView, DEFAULT_BASELINE, groupRuns } from '../../src/eval/resultsModel';
import { resultsStateUris, resultsUriHandlers, samplesUriHandlers } from '../../src/eval/uriRequests';

const OFFERED = 'file:///ws/out/run/results_2025-09-09T13-42-42.857006.json';

test('an offered URI is accepted, answered as offered', () => {
  const offered = new OfferedUris();
  assert.equal(offered.offer(OFFERED), OFFERED);
  assert.equal(offered.check(OFFERED), OFFERED);
  // Spellings of the same file resolve to the URI as offered, never to the webview's spelling.
  assert.equal(offered.check('FILE:///ws/out/run/results_2025-09-09T13-42-42.857006.json'), OFFERED);
  assert.equal(offered.check('file:///ws/out/./run/results_2025-09-09T13-42-42.857006.json'), OFFERED);
  assert.equal(offered.check('file:///ws/out/other/../run/results_2025-09-09T13-42-42.857006.json'), OFFERED);
  assert.equal(offered.check('file:///ws/out/run/results_2025-09-09T13-42-42%2E857006.json'), OFFERED);
});

test('anything else is refused: other files, .. escapes, other schemes, query and fragment variants, non-URIs', () => {
  const offered = new OfferedUris();
  offered.offerAll([OFFERED, 'file:///ws/corpus.dcd.jsonl']);
  const refused = [
    'file:///ws/out/run/samples_gsm8k.jsonl',
    'file:///etc/passwd',
    'file:///ws/out/run/../../../etc/passwd',
    'file:///ws/out/run/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
    'file:///ws/out/run/results_2025-09-09T13-42-42.857006.json/../../../../home/u/.ssh/id_rsa',
    'vscode-remote://ssh-remote+host/ws/out/run/results_2025-09-09T13-42-42.857006.json',
    'untitled:/ws/out/run/results_2025-09-09T13-42-42.857006.json',
    'https://example.com/ws/out/run/results_2025-09-09T13-42-42.857006.json',
    'file://evil/ws/out/run/results_2025-09-09T13-42-42.857006.json',
    `${OFFERED}#L1`,
    `${OFFERED}?x=1`,
    'file:///ws/Corpus.dcd.jsonl',
    '/ws/corpus.dcd.jsonl',
    'ws/corpus.dcd.jsonl',
    'file:///ws/%E0%A4%A.json',
    '',
  ];
  for (const uri of refused) assert.throws(() => offered.check(uri), /is not a file this view offered/, uri);
  for (const bad of [undefined, null, 42, { toString: () => OFFERED }]) assert.throws(() => offered.check(bad), /is not a file this view offered/);
  assert.throws(() => new OfferedUris().check(OFFERED), /is not a file this view offered/, 'a view that was sent nothing opens nothing');
});

test('URI keys: scheme case folded, path resolved, the rest kept as written', () => {
  assert.equal(uriKey('File:///a/b/../c.json'), 'file:///a/c.json');
  assert.equal(uriKey('file:///a//b.json'), 'file:///a/b.json');
  assert.equal(uriKey('file:///A/B.json'), 'file:///A/B.json');
  assert.equal(uriKey('file:///a.json?q#f'), 'file:///a.json?q#f');
  assert.equal(uriKey('vscode-remote://ssh-remote+h/a'), 'vscode-remote://ssh-remote+h/a');
  assert.equal(uriKey('/a.json'), null);
  assert.equal(uriKey('file:///%'), null);
});

/** Sends one request to `handlers` the way a webview does, and returns the host's reply envelope. */
async function ask<A extends Api>(handlers: ConstructorParameters<typeof Endpoint<A, Api>>[1], type: string, payload: unknown): Promise<Envelope> {
  const replies: Envelope[] = [];
  const host = new Endpoint<A, Api>((m) => replies.push(m), handlers);
  await host.receive({ kind: 'request', id: 1, type, payload });
  assert.equal(replies.length, 1);
  return replies[0];
}

const LMEVAL = path.resolve(__dirname, '..', 'fixtures', 'lmeval');

test('Results view: openFile, openSamples and showLineage open only what the state linked to', async () => {
  const dir = path.join(LMEVAL, 'gemma3-12b-it-q4_K_M_base_gsm8k5shot');
  const file = path.join(dir, 'results_2025-09-09T13-42-42.857006.json');
  const samples = `file://${path.join(dir, 'samples_gsm8k_2025-09-09T13-42-42.857006.jsonl')}`;
  const loaded = { result: parseResultsJson(JSON.parse(readFileSync(file, 'utf8')), file), uri: `file://${file}`, label: 'results.json', folder: `file://${dir}`, folderLabel: 'run' };
  const state = buildResultsView(groupRuns([loaded], new Map([[loaded.folder, [{ task: 'gsm8k', label: 'samples', uri: samples }]]])), DEFAULT_BASELINE, []);
  const offered = new OfferedUris();
  offered.offerAll(resultsStateUris(state));
  const opened: string[] = [];
  const handlers = resultsUriHandlers(offered, {
    samples: async (uri) => { opened.push(`samples ${uri}`); },
    file: async (uri) => { opened.push(`file ${uri}`); },
    lineage: async (uri) => { opened.push(`lineage ${uri}`); },
  });

  assert.deepEqual(await ask<ResultsHostApi>(handlers, 'openFile', { uri: `file://${file}` }), { kind: 'response', id: 1, ok: true, payload: {} });
  assert.deepEqual(await ask<ResultsHostApi>(handlers, 'openSamples', { uri: samples }), { kind: 'response', id: 1, ok: true, payload: {} });
  // The row's Show Lineage names a results file of its run: the host passes the URI as it offered it.
  assert.equal(state.runs[0].files[0].uri, `file://${file}`);
  assert.deepEqual(await ask<ResultsHostApi>(handlers, 'showLineage', { uri: `file://${dir}/./${path.basename(file)}` }), { kind: 'response', id: 1, ok: true, payload: {} });
  assert.deepEqual(opened, [`file file://${file}`, `samples ${samples}`, `lineage file://${file}`]);

  for (const [type, uri] of [['openFile', 'file:///etc/passwd'], ['openSamples', `file://${dir}/../../../../../etc/passwd`], ['openFile', `${samples}#x`], ['showLineage', `file://${dir}/dcd_lineage.json`]] as const) {
    const reply = await ask<ResultsHostApi>(handlers, type, { uri });
    assert.equal(reply.kind === 'response' && reply.ok, false, `${type} ${uri}`);
    assert.match((reply as { error: string }).error, /is not a file this view offered/);
  }
  const noUri = await ask<ResultsHostApi>(handlers, 'openFile', {});
  assert.match((noUri as { error: string }).error, /is not a file this view offered/);
  assert.equal(opened.length, 3, 'nothing refused was opened');
});

test('Eval Samples view: similar searches only offered corpora, and only its matches open', async () => {
  const corpus = 'file:///ws/picked.jsonl';
  const match = 'file:///ws/demo.dcd.jsonl';
  const offered = new OfferedUris();
  offered.offer(corpus);
  const searched: string[] = [];
  const opened: Array<[string, number]> = [];
  const handlers = samplesUriHandlers(offered, {
    similar: async (_line, c): Promise<SimilarResult> => {
      searched.push(c);
      return { corpus: c, searched: 1, n: 3, query: 'q', matches: [{ file: 'demo.dcd.jsonl', uri: match, index: 4, id: null, question: 'q', containment: 1, jaccard: 1, shared: 3, copies: 1 }] };
    },
    corpusSample: async (uri, index) => { opened.push([uri, index]); },
  });

  // A match is not openable before a search has returned it.
  const early = await ask<EvalSamplesHostApi>(handlers, 'openCorpusSample', { uri: match, index: 4 });
  assert.match((early as { error: string }).error, /is not a file this view offered/);

  for (const c of [WORKSPACE_CORPUS, corpus]) {
    const reply = await ask<EvalSamplesHostApi>(handlers, 'similar', { line: 1, corpus: c });
    assert.equal(reply.kind === 'response' && reply.ok, true, c);
  }
  assert.deepEqual(searched, [WORKSPACE_CORPUS, corpus]);
  const refusedCorpus = await ask<EvalSamplesHostApi>(handlers, 'similar', { line: 1, corpus: 'file:///home/u/.ssh/id_rsa' });
  assert.match((refusedCorpus as { error: string }).error, /is not a file this view offered/);
  assert.equal(searched.length, 2, 'an unoffered corpus is never read');

  assert.equal((await ask<EvalSamplesHostApi>(handlers, 'openCorpusSample', { uri: match, index: 4 })).kind, 'response');
  assert.deepEqual(opened, [[match, 4]]);
  for (const uri of ['file:///ws/other.dcd.jsonl', 'file:///ws/x/../../etc/passwd', `${match}?raw`]) {
    const reply = await ask<EvalSamplesHostApi>(handlers, 'openCorpusSample', { uri, index: 0 });
    assert.match((reply as { error: string }).error, /is not a file this view offered/, uri);
  }
  assert.equal(opened.length, 1, 'nothing refused was opened');
});
