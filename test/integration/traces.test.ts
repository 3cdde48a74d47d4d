import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { activateExtension, EXTENSION_ID, waitFor, workspaceRoot } from './util';
import { tokenizeTrace, resolveTokenizerSource, TokenizerPool, WORKER_BUNDLE, type TokenizedTrace } from '../../src/core/tokenizer';
import { IGNORE_INDEX, type MaskPolicy } from '../../src/core/trace/mask';
import type { AppliedOverlay } from '../../src/traces/overlay';
import { parseTrace, renderTrace } from '../../src/core/trace/template';

const enc = new TextEncoder();

function extensionPath(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error('extension not found');
  return ext.extensionPath;
}

let referencePool: Promise<TokenizerPool> | undefined;
/** The core's tokenizeTrace in a worker of the test's own (so the extension host's heap stays as in real use). */
function reference(text: string, opts: { policy?: MaskPolicy; maxLength?: number }): Promise<TokenizedTrace> {
  referencePool ??= resolveTokenizerSource({ dir: path.join(extensionPath(), 'out', 'tokenizer', 'qwen2.5') })
    .then((source) => new TokenizerPool(source, { workers: 1, cacheRoot: null, workerFile: path.join(extensionPath(), 'out', WORKER_BUNDLE) }));
  return referencePool.then((pool) => tokenizeTrace(text, { ...opts, pool }));
}

/** The core's own answer: trained and masked token spans. */
async function coreSpans(text: string, policy: MaskPolicy): Promise<{ t: TokenizedTrace; trained: Array<[number, number]>; masked: Array<[number, number]> }> {
  const t = await reference(text, { policy });
  const trained: Array<[number, number]> = [];
  const masked: Array<[number, number]> = [];
  for (let i = 0; i < t.labels.length; i++) (t.labels[i] !== IGNORE_INDEX ? trained : masked).push([t.offsets[2 * i], t.offsets[2 * i + 1]]);
  return { t, trained, masked };
}

/** Raw byte lines of a file (terminators excluded). */
function byteLines(b: Uint8Array): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (;;) {
    const nl = b.indexOf(0x0a, start);
    if (nl < 0) { if (start < b.length) out.push(Buffer.from(b.subarray(start))); return out; }
    out.push(Buffer.from(b.subarray(start, nl)));
    start = nl + 1;
  }
}

async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor').then(undefined, () => undefined);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

describe('Trace editor', () => {
  const created: vscode.Uri[] = [];
  let corpus: vscode.Uri;
  let demoLines: string[];

  before(async () => {
    await activateExtension();
    const root = workspaceRoot();
    const demo = await vscode.workspace.fs.readFile(vscode.Uri.joinPath(root, 'demo.dcd.jsonl'));
    demoLines = Buffer.from(demo).toString('utf8').split('\n').filter((l) => l);
    corpus = vscode.Uri.joinPath(root, 'traces-edit.dcd.jsonl');
    await vscode.workspace.fs.writeFile(corpus, demo);
    created.push(corpus);
  });

  after(async () => {
    await closeAll();
    await vscode.commands.executeCommand('dcd.toggleTokenMask', false);
    await vscode.workspace.getConfiguration('dcd').update('maskPolicy', undefined, vscode.ConfigurationTarget.Workspace);
    for (const u of created) await vscode.workspace.fs.delete(u).then(undefined, () => undefined);
    await referencePool?.then((p) => p.close());
  });

  it('opens a sample as a dcd-trace document with outline, folding, CodeLens and token hovers', async () => {
    const api = await activateExtension();
    const id = JSON.parse(demoLines[1]).id as string;
    const editor = await vscode.commands.executeCommand<vscode.TextEditor>('dcd.openSampleAsTrace', corpus, id);
    const doc = editor.document;
    assert.equal(doc.uri.scheme, 'dcd-trace');
    assert.equal(doc.languageId, 'dcd-trace');
    // Saving a trace rewrites a corpus line: no auto save (code-server's default is afterDelay).
    assert.equal(vscode.workspace.getConfiguration('files', doc).get('autoSave'), 'off');
    assert.equal(doc.getText(), JSON.parse(demoLines[1]).text);
    const { fields, rendered } = parseTrace(doc.getText());

    const symbols = await vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', doc.uri);
    assert.deepEqual(symbols.map((s) => s.name), ['Question', 'Draft', 'Bridge', 'Chain', 'Verdict', 'Answer']);
    const chain = symbols.find((s) => s.name === 'Chain')!;
    assert.equal(doc.getText(chain.range), fields.chain);
    assert.equal(symbols.find((s) => s.name === 'Verdict')!.detail, 'incorrect');

    const folds = await vscode.commands.executeCommand<vscode.FoldingRange[]>('vscode.executeFoldingRangeProvider', doc.uri);
    const bridgeLine = doc.positionAt(rendered.regions.bridge.start).line;
    const chainEnd = doc.positionAt(rendered.regions.chain.end - 1).line;
    assert.ok(folds.some((f) => f.start === bridgeLine && f.end === chainEnd), `the chain folds under the bridge (${bridgeLine}–${chainEnd}); got ${JSON.stringify(folds)}`);

    const lenses = await waitFor(async () => {
      const l = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 10);
      return l.some((x) => /Trained/.test(x.command?.title ?? '')) ? l : undefined;
    }, 'the token-count CodeLens', 60_000);
    const titles = lenses.map((l) => l.command?.title ?? '');
    assert.ok(titles.some((t) => /Verdict: incorrect/.test(t)), titles.join(' | '));
    assert.ok(titles.includes('Compare with other draft'), titles.join(' | '));
    assert.ok(titles.some((t) => /Toggle mask/.test(t)), titles.join(' | '));
    const core = await coreSpans(doc.getText(), 'paper');
    const n = (x: number) => x.toLocaleString('en-US');
    assert.ok(titles.includes(`Trained ${n(core.t.trainedTokens)} / ${n(core.t.totalTokens)} tokens (paper)`), titles.join(' | '));
    assert.equal(lenses.find((l) => l.command?.title === 'Compare with other draft')!.command!.command, 'dcd.traces.compareDrafts');

    // The hover names the token under the cursor: the <|im_start|> of <|im_start|>think is trained, the question is not.
    const hoverText = async (offset: number) => {
      const hs = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, doc.positionAt(offset));
      return hs.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');
    };
    const think = await hoverText(rendered.thinkStart + 2);
    assert.match(think, /id `151644`/);
    assert.match(think, /\*\*trained\*\*/);
    const q = await hoverText(rendered.regions.question.start + 1);
    assert.match(q, /\*\*masked\*\*/);
    assert.ok(api.traces.fs.entry(doc.uri), 'the trace has an entry');
  });

  it('overlays exactly the core\'s trained and masked tokens, under both mask policies', async () => {
    const api = await activateExtension();
    const editor = await api.traces.open(corpus, 2);
    const doc = editor.document;
    const counts: Record<string, number> = {};
    for (const policy of ['paper', 'mask-draft'] as const) {
      await vscode.commands.executeCommand('dcd.switchMaskPolicy', policy);
      await vscode.commands.executeCommand('dcd.toggleTokenMask', true);
      const applied = await api.traces.overlay.whenApplied(doc, policy, 60_000);
      const core = await coreSpans(doc.getText(), policy);
      assert.deepEqual(applied.trained, core.trained, `${policy}: trained ranges`);
      assert.deepEqual(applied.masked, core.masked, `${policy}: masked ranges`);
      assert.equal(applied.trainedTokens, core.t.trainedTokens);
      assert.equal(applied.cutAt, null);
      counts[policy] = applied.trained.length;
      const { rendered } = parseTrace(doc.getText());
      assert.equal(applied.trained[0][0], rendered.thinkStart, 'training starts at the <|im_start|> of <|im_start|>think');
      const draft = rendered.regions.draft;
      const inDraft = applied.trained.filter(([s, e]) => s < draft.end && e > draft.start).length;
      if (policy === 'paper') assert.ok(inDraft > 0, 'paper trains the draft');
      else assert.equal(inDraft, 0, 'mask-draft trains no draft token');
    }
    assert.ok(counts['mask-draft'] < counts.paper);
    await vscode.commands.executeCommand('dcd.switchMaskPolicy', 'paper');
    await vscode.commands.executeCommand('dcd.toggleTokenMask', false);
    assert.equal(api.traces.overlay.appliedTo(doc.uri), undefined, 'toggling off removes the overlay');
  });

  it('marks max_length and paints an 11k-token trace within 100 ms of the worker result', async () => {
    const api = await activateExtension();
    // An 11k-token trace from real text: the AIME samples' chains and the long student drafts of the demo corpus.
    const samples = demoLines.map((l) => JSON.parse(l) as Record<string, string>);
    const base = samples[samples.length - 1];
    const pieces = [...new Set([base.chain, ...samples.map((s) => s.chain), ...samples.map((s) => s.draft)])].sort((a, b) => b.length - a.length);
    let chain = '';
    for (const p of pieces) { if (chain.length > 44_000) break; chain += (chain ? '\n\n' : '') + p; }
    const fields = { question: base.question, draft: base.draft, chain, verdict: base.verdict as 'correct', final_answer: base.final_answer };
    const long = { ...base, id: 'long-11k', chain, text: renderTrace(fields).text };
    const file = vscode.Uri.joinPath(workspaceRoot(), 'traces-long.dcd.jsonl');
    await vscode.workspace.fs.writeFile(file, enc.encode(JSON.stringify(long) + '\n'));
    created.push(file);
    const editor = await api.traces.open(file, 'long-11k');
    const doc = editor.document;

    await vscode.commands.executeCommand('dcd.toggleTokenMask', false);
    await vscode.commands.executeCommand('dcd.toggleTokenMask', true);
    const first = await api.traces.overlay.whenApplied(doc, 'paper', 90_000);
    assert.ok(first.totalTokens >= 11_000, `the trace has ${first.totalTokens} tokens`);
    // Edits, then toggles: a fresh worker tokenization of each new version (the worker is warm now).
    const afterEdit: AppliedOverlay[] = [];
    for (let k = 0; k < 5; k++) {
      await vscode.commands.executeCommand('dcd.toggleTokenMask', false);
      const { rendered } = parseTrace(doc.getText());
      const edit = new vscode.WorkspaceEdit();
      edit.insert(doc.uri, doc.positionAt(rendered.regions.chain.start), `Let me restate the problem (${k}). `);
      assert.ok(await vscode.workspace.applyEdit(edit));
      await vscode.commands.executeCommand('dcd.toggleTokenMask', true);
      afterEdit.push(await api.traces.overlay.whenApplied(doc, 'paper', 60_000));
    }
    // A policy switch: another worker run.
    await vscode.commands.executeCommand('dcd.switchMaskPolicy', 'mask-draft');
    const policySwitch = await api.traces.overlay.whenApplied(doc, 'mask-draft', 60_000);
    await vscode.commands.executeCommand('dcd.switchMaskPolicy', 'paper');

    // max_length below the trace length: the marker sits at the end of the last kept token.
    await vscode.workspace.getConfiguration('dcd').update('maxLength', 8000, vscode.ConfigurationTarget.Workspace);
    try {
      const cut = await waitFor(() => {
        const o = api.traces.overlay.appliedTo(doc.uri);
        return o && o.maxLength === 8000 && o.version === doc.version ? o : undefined;
      }, 'the overlay at max_length 8000', 60_000);
      assert.equal(cut.tokens, 8000);
      const core = await reference(doc.getText(), { maxLength: 8000 });
      assert.ok(core.flags.truncated);
      assert.equal(cut.cutAt, core.offsets[2 * 7999 + 1], 'the marker sits at the end of the last kept token');
      assert.equal(cut.trained.length + cut.masked.length, 8000);
      assert.equal(cut.trainedTokens, core.trainedTokens);
    } finally {
      await vscode.workspace.getConfiguration('dcd').update('maxLength', undefined, vscode.ConfigurationTarget.Workspace);
    }

    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
    const runs: Record<string, AppliedOverlay> = { first, policySwitch };
    afterEdit.forEach((o, k) => { runs[`edit_then_toggle_${k + 1}`] = o; });
    const out = path.join(extensionPath(), 'test-results', 'trace-overlay-timing.json');
    fs.mkdirSync(path.dirname(out), { recursive: true });
    const r1 = (x: number | undefined) => (x === undefined ? null : Math.round(x * 10) / 10);
    fs.writeFileSync(out, JSON.stringify({
      measured_at: new Date().toISOString(), where: 'in-VS Code integration test (code-server extension host)',
      total_tokens: afterEdit[0].totalTokens, text_chars: doc.getText().length,
      median_warm_result_to_applied_ms: r1(median(afterEdit.map((o) => o.timing.applyMs))),
      median_warm_apply_cpu_ms: r1(median(afterEdit.map((o) => o.timing.applyCpuMs))),
      load_average_1m: Math.round(os.loadavg()[0] * 10) / 10, cpus: os.cpus().length,
      median_warm_toggle_to_applied_ms: r1(median(afterEdit.map((o) => o.timing.toggleToAppliedMs ?? NaN))),
      runs: Object.fromEntries(Object.entries(runs).map(([k, o]) => [k, {
        policy: o.policy, toggle_to_applied_ms: r1(o.timing.toggleToAppliedMs), worker_tokenize_ms: r1(o.timing.tokenizeMs), result_to_applied_ms: r1(o.timing.applyMs), apply_cpu_ms: r1(o.timing.applyCpuMs), of_which_event_loop_wait_ms: r1(o.timing.queueMs), of_which_range_compute_ms: r1(o.timing.computeMs), of_which_set_decorations_ms: r1(o.timing.setMs),
      }])),
    }, null, 2) + '\n');
    // The 100 ms budget, result → decorations set, on the warm runs (the first run also pays the JIT warm-up).
    // Asserted on the extension host's CPU time for that work: on this shared 2-core machine the wall time
    // also counts other processes' turns (both are recorded above).
    const warmCpu = median(afterEdit.map((o) => o.timing.applyCpuMs));
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    assert.ok(warmCpu < 100, `applying the overlay took a median ${warmCpu.toFixed(1)} ms of CPU; runs (wall ms): ${afterEdit.map((o) => `${o.timing.applyMs.toFixed(0)} (cpu ${o.timing.applyCpuMs.toFixed(0)}, wait ${o.timing.queueMs.toFixed(0)}, ranges ${o.timing.computeMs.toFixed(0)}, set ${o.timing.setMs.toFixed(0)})`).join(', ')}`);
  });

  it('saving an edited draft rewrites only that JSONL line, and shows (never applies) a changed verdict', async () => {
    const api = await activateExtension();
    const before = await vscode.workspace.fs.readFile(corpus);
    const sample = JSON.parse(demoLines[1]) as Record<string, unknown>;
    const editor = await api.traces.open(corpus, sample.id as string);
    const doc = editor.document;
    const { rendered, fields } = parseTrace(doc.getText());
    const newDraft = `${fields.draft}\nWait, she also bakes with 4: 16 - 3 - 4 = 9 eggs, 9 * 2 = 18 dollars.\n#### 18`;
    const edit = new vscode.WorkspaceEdit();
    edit.replace(doc.uri, new vscode.Range(doc.positionAt(rendered.regions.draft.start), doc.positionAt(rendered.regions.draft.end)), newDraft);
    assert.ok(await vscode.workspace.applyEdit(edit));
    assert.ok(await doc.save(), 'the save succeeds');
    assert.equal(doc.isDirty, false);

    const after = await vscode.workspace.fs.readFile(corpus);
    const a = byteLines(before);
    const b = byteLines(after);
    assert.equal(b.length, a.length);
    for (let i = 0; i < a.length; i++) if (i !== 1) assert.ok(a[i].equals(b[i]), `line ${i + 1} is byte-identical`);
    assert.equal(after[after.length - 1], 0x0a);
    const written = JSON.parse(b[1].toString('utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(written), Object.keys(sample), 'key order and unknown fields kept');
    assert.equal(written.model, sample.model);
    assert.equal(written.gsm8k_test_index, sample.gsm8k_test_index);
    assert.equal(written.draft, newDraft);
    assert.equal(written.text, renderTrace({ ...fields, draft: newDraft }).text);
    assert.equal(written.verdict, 'incorrect', 'the verdict is not changed silently');
    assert.equal(written.draft_answer, '18');

    // The verifier's new view is shown: a diagnostic on the verdict and a CodeLens.
    const diag = await waitFor(() => vscode.languages.getDiagnostics(doc.uri).find((d) => d.code === 'verdict-disagrees'), 'the verdict diagnostic');
    assert.equal(doc.getText(diag.range), "The draft solution is incorrect. I'll revise it and provide the correct answer.");
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri, 10);
    assert.ok(lenses.some((l) => /Verifier: draft is correct/.test(l.command?.title ?? '')));
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, diag.range);
    assert.ok(actions.some((x) => /Set verdict to "correct"/.test(x.title)));
  });

  it('refuses a structure-breaking edit with a clear message and leaves the file unchanged', async () => {
    const api = await activateExtension();
    await closeAll();
    const before = await vscode.workspace.fs.readFile(corpus);
    const id = JSON.parse(demoLines[2]).id as string;
    const editor = await api.traces.open(corpus, id);
    const doc = editor.document;
    const at = doc.getText().indexOf('<|im_start|>answer\n');
    const edit = new vscode.WorkspaceEdit();
    edit.delete(doc.uri, new vscode.Range(doc.positionAt(at), doc.positionAt(at + '<|im_start|>answer\n'.length)));
    assert.ok(await vscode.workspace.applyEdit(edit));
    // The provider refuses with the parser's message.
    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(doc.uri, enc.encode(doc.getText()))), (err: Error) => {
      assert.match(err.message, /trace structure is broken/);
      assert.match(err.message, /<\|im_start\|>answer/);
      return true;
    });
    // Saving the document fails the same way and keeps it dirty.
    assert.equal(await doc.save(), false);
    assert.ok(doc.isDirty);
    const after = await vscode.workspace.fs.readFile(corpus);
    assert.ok(Buffer.from(after).equals(Buffer.from(before)), 'the corpus file is unchanged');
    const d = await waitFor(() => vscode.languages.getDiagnostics(doc.uri).find((x) => x.code === 'trace-structure'), 'the structure diagnostic');
    assert.equal(d.severity, vscode.DiagnosticSeverity.Error);
    await closeAll();
  });

  it('reports problems in corpus JSONL files, with a quick fix', async () => {
    const api = await activateExtension();
    const good = JSON.parse(demoLines[0]) as Record<string, unknown>;
    const stale = { ...JSON.parse(demoLines[1]), chain: 'An edited chain that the text does not have.' };
    const file = vscode.Uri.joinPath(workspaceRoot(), 'seeded-problems.dcd.jsonl');
    await vscode.workspace.fs.writeFile(file, enc.encode(`${JSON.stringify(good)}\n{"id": "broken", oops\n${JSON.stringify(stale)}\n`));
    created.push(file);
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    const diags = await waitFor(() => {
      const ds = vscode.languages.getDiagnostics(file);
      return ds.some((d) => d.code === 'malformed-json') && ds.some((d) => d.code === 'text-out-of-sync') ? ds : undefined;
    }, 'corpus diagnostics', 30_000);
    const malformed = diags.find((d) => d.code === 'malformed-json')!;
    assert.equal(malformed.range.start.line, 1);
    assert.equal(malformed.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(diags.filter((d) => d.range.start.line === 0).length, 0, 'the good line has no problem');
    const sync = diags.find((d) => d.code === 'text-out-of-sync')!;
    assert.equal(sync.range.start.line, 2);
    const stats = api.traces.corpusDiagnostics.stats(file);
    assert.equal(stats?.pass?.lines, doc.lineCount);

    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', file, sync.range);
    const fix = actions.find((a) => /Re-render "text"/.test(a.title));
    assert.ok(fix?.edit, `a re-render quick fix; got ${actions.map((a) => a.title).join(', ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    const fixed = JSON.parse(doc.lineAt(2).text) as Record<string, string>;
    assert.equal(fixed.text, renderTrace({ question: fixed.question, draft: fixed.draft, chain: fixed.chain, verdict: fixed.verdict as 'incorrect', final_answer: fixed.final_answer }).text);
    await waitFor(() => (vscode.languages.getDiagnostics(file).some((d) => d.code === 'text-out-of-sync') ? undefined : true), 'the fixed line to be clean');

    // Truncation (tokenized in worker threads): a max_length 3 tokens short of line 1's trace cuts its answer, not its verdict.
    const tokens = (await reference(good.text as string, {})).totalTokens;
    await vscode.workspace.getConfiguration('dcd').update('maxLength', tokens - 3, vscode.ConfigurationTarget.Workspace);
    try {
      const cut = await waitFor(() => vscode.languages.getDiagnostics(file).find((d) => d.code === 'truncated-answer' && d.range.start.line === 0), 'the truncation problem', 60_000);
      assert.match(cut.message, new RegExp(`${tokens} tokens, max_length ${tokens - 3}`));
      assert.ok(!vscode.languages.getDiagnostics(file).some((d) => d.code === 'truncated-verdict' && d.range.start.line === 0));
    } finally {
      await vscode.workspace.getConfiguration('dcd').update('maxLength', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
