import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import {
  CorpusDiagnoser, diagnoseCorpusFile, diagnoseCorpusLine, rawIndexOfDecoded, topLevelSpans,
  type Diagnostic, type DiagnosticContext, type TruncationReport, type VerifyFn,
} from '../../src/core/corpus/diagnostics';
import { splitLines } from '../../src/core/io/jsonl';
import { parseTrace, renderTrace, TraceStructureError, type TraceFields } from '../../src/core/trace/template';

// Three real corpus lines (GSM8K #0, MATH-500 #42 and #33; see test/fixtures/diagnostics/PROVENANCE.md).
// Line 0 is written Python-style (", " separators, \u2019 escapes); lines 1 and 2 are compact.
const LINES = splitLines(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'diagnostics', 'samples.dcd.jsonl'), 'utf8'));
const [GSM, MATH42, MATH33] = LINES;
type Sample = Record<string, unknown> & { text: string; question: string; draft: string; chain: string; final_answer: string; verdict: 'correct' | 'incorrect' };
const parse = (raw: string) => JSON.parse(raw) as Sample;
const fieldsOf = (s: Sample): TraceFields => ({ question: s.question, draft: s.draft, chain: s.chain, verdict: s.verdict, final_answer: s.final_answer });

/**
 * A stand-in for the answer verifier (src/core/answer): compares the last \boxed{…}
 * (or GSM8K "A: N" / "#### N") of the draft with the gold answer as strings.
 */
function lastAnswer(text: string): string | null {
  const at = text.lastIndexOf('\\boxed{');
  if (at >= 0) {
    let depth = 1;
    let i = at + 7;
    for (; i < text.length && depth; i++) depth += text[i] === '{' ? 1 : text[i] === '}' ? -1 : 0;
    return text.slice(at + 7, i - 1);
  }
  const m = /(?:^|\n)(?:A:|####)\s*(.+?)\s*$/.exec(text);
  return m ? m[1] : null;
}
const verifyDouble: VerifyFn = (pred, gold) => {
  const answer = lastAnswer(pred);
  if (answer === null) return { equivalent: null, rule: 'no-answer' };
  return { equivalent: answer.replace(/\s+/g, '') === gold.replace(/\s+/g, ''), rule: 'exact-string' };
};
const noCut = (): TruncationReport => ({ verdictCut: false, answerCut: false });
const FULL: DiagnosticContext = { verify: verifyDouble, tokenCount: noCut };

/** The decoded text of raw[from, to) inside the JSON string whose opening quote is at `quote`. */
function decodedBetween(raw: string, from: number, to: number): string {
  return JSON.parse('"' + raw.slice(from, to) + '"') as string;
}
function textQuote(raw: string): number {
  const span = topLevelSpans(raw).get('text');
  assert.ok(span, 'line has a text value');
  return span.start;
}
const codes = (ds: Diagnostic[]) => ds.map((d) => d.code);

describe('diagnoseCorpusLine: clean lines', () => {
  it('finds nothing wrong in the three real lines, with verifier and tokenizer hooks', () => {
    for (const raw of LINES) assert.deepEqual(diagnoseCorpusLine(raw, 0, FULL), []);
  });

  it('skips blank lines and tolerates CRLF endings and a BOM', () => {
    assert.deepEqual(diagnoseCorpusLine('', 3), []);
    assert.deepEqual(diagnoseCorpusLine('   \t', 3), []);
    assert.deepEqual(diagnoseCorpusLine(MATH42 + '\r', 0, FULL), []);
    assert.deepEqual(diagnoseCorpusLine('\uFEFF' + MATH42, 0, FULL), []);
  });
});

describe('diagnoseCorpusLine: JSON shape', () => {
  it('reports a line cut in the middle as malformed JSON, at the end of the line', () => {
    const raw = GSM.slice(0, 200);
    const ds = diagnoseCorpusLine(raw, 7);
    assert.deepEqual(codes(ds), ['malformed-json']);
    assert.equal(ds[0].line, 7);
    assert.equal(ds[0].severity, 'error');
    assert.match(ds[0].message, /JSON/);
    assert.ok(ds[0].startChar >= 190 && ds[0].endChar <= raw.length && ds[0].startChar < ds[0].endChar);
  });

  it('points at the offending character of a trailing comma', () => {
    const raw = MATH33.slice(0, -1) + ',}';
    const [d] = diagnoseCorpusLine(raw, 0);
    assert.equal(d.code, 'malformed-json');
    assert.equal(raw[d.startChar], '}');
    assert.equal(d.startChar, raw.length - 1);
  });

  it('reports JSON that is not an object', () => {
    assert.deepEqual(codes(diagnoseCorpusLine('[1, 2]', 0)), ['not-an-object']);
    assert.deepEqual(codes(diagnoseCorpusLine('"text"', 0)), ['not-an-object']);
  });

  it('lists missing required fields (absent or null) in one error', () => {
    const s = parse(MATH42);
    delete (s as Record<string, unknown>).chain;
    (s as Record<string, unknown>).text = null;
    const ds = diagnoseCorpusLine(JSON.stringify(s), 0, FULL);
    assert.deepEqual(codes(ds), ['missing-field']);
    assert.match(ds[0].message, /chain, text/);
    assert.equal(ds[0].severity, 'error');
  });

  it('flags wrong field types and verdict values on the value itself', () => {
    const raw = MATH33.replace('"verdict":"incorrect"', '"verdict":"maybe"');
    const ds = diagnoseCorpusLine(raw, 0);
    assert.deepEqual(codes(ds), ['invalid-field']);
    assert.equal(raw.slice(ds[0].startChar, ds[0].endChar), '"maybe"');

    const s = parse(MATH33);
    (s as Record<string, unknown>).question = 42;
    const raw2 = JSON.stringify(s);
    const ds2 = diagnoseCorpusLine(raw2, 0);
    assert.ok(codes(ds2).includes('invalid-field'));
    const d = ds2.find((x) => x.code === 'invalid-field') as Diagnostic;
    assert.equal(raw2.slice(d.startChar, d.endChar), '42');
    assert.match(d.message, /"question" must be a string, not a number/);
  });
});

describe('diagnoseCorpusLine: text against fields', () => {
  it('finds an edited chain, points at the old chain inside "text", and re-renders it', () => {
    const original = parse(MATH33);
    const raw = MATH33.replace('= \\\\frac{3^5}{5^4}', '= \\\\frac{3^5}{5^3}');
    assert.notEqual(raw, MATH33);
    const edited = parse(raw);
    assert.notEqual(edited.chain, original.chain);
    assert.equal(edited.text, original.text);

    const ds = diagnoseCorpusLine(raw, 4, FULL);
    assert.deepEqual(codes(ds), ['text-out-of-sync']);
    const [d] = ds;
    assert.equal(d.severity, 'error');
    assert.match(d.message, /field chain\b/);
    assert.ok(d.startChar > textQuote(raw));
    assert.equal(decodedBetween(raw, d.startChar, d.endChar), original.chain);

    assert.ok(d.fix);
    assert.match(d.fix.title, /Re-render "text"/);
    const fixed = d.fix.newLine;
    assert.equal(parse(fixed).text, renderTrace(fieldsOf(edited)).text);
    const q = textQuote(raw);
    assert.equal(fixed.slice(0, q), raw.slice(0, q), 'bytes before "text" are untouched');
    assert.equal(fixed.slice(fixed.length - (raw.length - topLevelSpans(raw).get('text')!.end)), raw.slice(topLevelSpans(raw).get('text')!.end));
    assert.deepEqual(diagnoseCorpusLine(fixed, 4, FULL), []);
  });

  it('names the verdict when only the verdict field changed', () => {
    const raw = MATH42.replace('"verdict":"correct"', '"verdict":"incorrect"');
    const ds = diagnoseCorpusLine(raw, 0);
    assert.deepEqual(codes(ds), ['text-out-of-sync']);
    assert.match(ds[0].message, /field verdict\b/);
    assert.equal(decodedBetween(raw, ds[0].startChar, ds[0].endChar), "The draft solution is correct. I'll now generate the final answer.");
  });

  it('reports a removed answer tag as a stage-order error at the right offset, keeping ASCII escapes in the fix', () => {
    const s = parse(GSM);
    const brokenText = s.text.replace('<|im_start|>answer\n', '');
    const raw = GSM.replace(JSON.stringify(s.text).replace(/’/g, '\\u2019'), JSON.stringify(brokenText).replace(/’/g, '\\u2019'));
    assert.equal(parse(raw).text, brokenText);

    let expected: TraceStructureError | undefined;
    try { parseTrace(brokenText); } catch (err) { expected = err as TraceStructureError; }
    assert.ok(expected instanceof TraceStructureError);

    const ds = diagnoseCorpusLine(raw, 0, FULL);
    assert.deepEqual(codes(ds), ['stage-order']);
    const [d] = ds;
    assert.equal(d.message, `Trace structure: ${expected.message}`);
    // The range starts at the decoded offset the parser reported, past the \u2019 escapes of the text.
    assert.equal(decodedBetween(raw, textQuote(raw) + 1, d.startChar).length, expected.offset);

    const fixed = (d.fix as NonNullable<Diagnostic['fix']>).newLine;
    assert.equal(parse(fixed).text, s.text);
    assert.ok(!/[^\x00-\x7f]/.test(fixed), 'the ASCII-only line stays ASCII-only');
    assert.equal(fixed, GSM);
  });

  it('reports swapped stage tags', () => {
    const s = parse(MATH42);
    s.text = s.text.replace('<|im_start|>think', '<|im_start|>TMP').replace('<|im_start|>answer', '<|im_start|>think').replace('<|im_start|>TMP', '<|im_start|>answer');
    const ds = diagnoseCorpusLine(JSON.stringify(s), 0);
    assert.deepEqual(codes(ds), ['stage-order']);
  });

  it('recognises text rendered with another template preset', () => {
    const s = parse(MATH42);
    s.text = renderTrace(fieldsOf(s), 'paper-now-i-will').text;
    const raw = JSON.stringify(s);
    const ds = diagnoseCorpusLine(raw, 0);
    assert.deepEqual(codes(ds), ['preset-mismatch']);
    assert.equal(ds[0].severity, 'warning');
    assert.match(ds[0].message, /"paper-now-i-will" template, not the "paper"/);
    assert.equal(parse(ds[0].fix!.newLine).text, renderTrace(fieldsOf(s), 'paper').text);
    assert.deepEqual(diagnoseCorpusLine(raw, 0, { preset: 'paper-now-i-will' }), []);

    // Regions come from the preset the text really uses, so a cut answer is still located.
    const cut = diagnoseCorpusLine(raw, 0, { tokenCount: () => ({ verdictCut: false, answerCut: true }) });
    assert.deepEqual(codes(cut), ['preset-mismatch', 'truncated-answer']);
    assert.equal(decodedBetween(raw, cut[1].startChar, cut[1].endChar), s.final_answer);
  });
});

describe('diagnoseCorpusLine: gold answer and verifier', () => {
  it('warns about a null, empty or absent gold answer without calling the verifier', () => {
    let calls = 0;
    const verify: VerifyFn = (p, g, o) => { calls++; return verifyDouble(p, g, o); };
    const rawNull = MATH33.replace('"gold_answer":"\\\\frac{243}{625}"', '"gold_answer":null');
    assert.notEqual(rawNull, MATH33);
    const [d] = diagnoseCorpusLine(rawNull, 0, { verify });
    assert.equal(d.code, 'missing-gold');
    assert.equal(d.severity, 'warning');
    assert.equal(rawNull.slice(d.startChar, d.endChar), 'null');

    const rawEmpty = MATH33.replace('"gold_answer":"\\\\frac{243}{625}"', '"gold_answer":"  "');
    assert.deepEqual(codes(diagnoseCorpusLine(rawEmpty, 0, { verify })), ['missing-gold']);

    const s = parse(MATH33);
    delete (s as Record<string, unknown>).gold_answer;
    const rawAbsent = JSON.stringify(s);
    const [a] = diagnoseCorpusLine(rawAbsent, 0, { verify });
    assert.equal(a.code, 'missing-gold');
    assert.deepEqual([a.startChar, a.endChar], [0, rawAbsent.length]);
    assert.equal(calls, 0);
  });

  it('flags a draft-wrong sample whose draft the verifier finds correct, and fixes verdict, text and rule', () => {
    const s = parse(MATH42);
    s.verdict = 'incorrect';
    s.text = renderTrace(fieldsOf(s)).text;
    const raw = JSON.stringify(s);
    const seen: unknown[][] = [];
    const verify: VerifyFn = (...args) => { seen.push(args); return verifyDouble(...args); };

    const ds = diagnoseCorpusLine(raw, 2, { verify });
    assert.deepEqual(codes(ds), ['verdict-disagrees']);
    assert.deepEqual(seen, [[s.draft, '4', { goldIsAnswer: true }]]);
    const [d] = ds;
    assert.equal(raw.slice(d.startChar, d.endChar), '"incorrect"');
    assert.match(d.message, /equivalent to the gold answer \(rule: exact-string\)/);
    const fixed = parse(d.fix!.newLine);
    assert.equal(fixed.verdict, 'correct');
    assert.equal(fixed.verifier_rule, 'exact-string');
    assert.equal(fixed.text, parse(MATH42).text);
    assert.deepEqual(diagnoseCorpusLine(d.fix!.newLine, 2, { verify }), []);
  });

  it('flags a draft-correct sample whose draft the verifier finds wrong', () => {
    const s = parse(GSM);
    s.verdict = 'correct';
    s.text = renderTrace(fieldsOf(s)).text;
    const ds = diagnoseCorpusLine(JSON.stringify(s), 0, { verify: verifyDouble });
    assert.deepEqual(codes(ds), ['verdict-disagrees']);
    assert.match(ds[0].message, /not equivalent/);
    assert.equal(parse(ds[0].fix!.newLine).verdict, 'incorrect');
  });

  it('notes an undecided verifier only when the verdict says correct, and survives a verifier that throws', () => {
    const undecided: VerifyFn = () => ({ equivalent: null, rule: 'no-answer' });
    assert.deepEqual(codes(diagnoseCorpusLine(MATH42, 0, { verify: undecided })), ['verifier-undecided']);
    assert.equal(diagnoseCorpusLine(MATH42, 0, { verify: undecided })[0].severity, 'info');
    assert.deepEqual(diagnoseCorpusLine(MATH33, 0, { verify: undecided }), []);
    const broken: VerifyFn = () => { throw new Error('sympy timeout'); };
    const ds = diagnoseCorpusLine(MATH33, 0, { verify: broken });
    assert.deepEqual(codes(ds), ['verifier-failed']);
    assert.match(ds[0].message, /sympy timeout/);
  });
});

describe('diagnoseCorpusLine: truncation', () => {
  it('flags a cut verdict on the verdict sentence and a cut answer on the final answer', () => {
    const texts: string[] = [];
    const verdictCut = (t: string): TruncationReport => { texts.push(t); return { verdictCut: true, answerCut: true, tokens: 40000, maxLength: 32768 }; };
    const [v] = diagnoseCorpusLine(GSM, 0, { tokenCount: verdictCut });
    assert.deepEqual(texts, [parse(GSM).text]);
    assert.equal(v.code, 'truncated-verdict');
    assert.equal(v.severity, 'warning');
    assert.match(v.message, /40000 tokens, max_length 32768/);
    assert.equal(decodedBetween(GSM, v.startChar, v.endChar), "The draft solution is incorrect. I'll revise it and provide the correct answer.");

    const [a] = diagnoseCorpusLine(GSM, 0, { tokenCount: () => ({ verdictCut: false, answerCut: true }) });
    assert.equal(a.code, 'truncated-answer');
    assert.equal(decodedBetween(GSM, a.startChar, a.endChar), parse(GSM).final_answer);
  });
});

describe('raw-line geometry', () => {
  it('finds every top-level value of a Python-style and a compact line', () => {
    for (const raw of [GSM, MATH33]) {
      const obj = parse(raw);
      const spans = topLevelSpans(raw);
      assert.deepEqual([...spans.keys()], Object.keys(obj));
      for (const [key, span] of spans) assert.deepEqual(JSON.parse(raw.slice(span.start, span.end)), obj[key], key);
    }
  });

  it('maps decoded string offsets to raw offsets across escapes and surrogate pairs', () => {
    const value = 'a\n’b😀"c\\d';
    const raw = `{"k": ${JSON.stringify(value).replace('’', '\\u2019')}}`;
    const quote = raw.indexOf('"', 5);
    for (let i = 0; i <= value.length; i++) {
      assert.equal(decodedBetween(raw, quote + 1, rawIndexOfDecoded(raw, quote, i)), value.slice(0, i), `offset ${i}`);
    }
  });
});

describe('CorpusDiagnoser', () => {
  const broken = MATH33.replace('= \\\\frac{3^5}{5^4}', '= \\\\frac{3^5}{5^3}');
  const corpus = () => [GSM, broken, MATH42, '', GSM.slice(0, 120), MATH33];
  const summary = (ds: Diagnostic[]) => ds.map((d) => `${d.line}:${d.code}:${d.startChar}-${d.endChar}:${d.message}`);

  it('gives the same diagnostics as diagnoseCorpusLine, line by line', async () => {
    const lines = corpus();
    const expected = lines.flatMap((raw, i) => diagnoseCorpusLine(raw, i, FULL));
    const got = await new CorpusDiagnoser(FULL).diagnoseAll(lines);
    assert.deepEqual(summary(got), summary(expected));
    assert.deepEqual(got.map((d) => d.line), [1, 4]);
  });

  it('diagnoses a file on disk streamed, as it diagnoses its lines (fixes aside), duplicate ids included', async () => {
    const lines = [...corpus(), GSM, '{"id": 1'];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-diag-file-'));
    try {
      const file = path.join(dir, 'c.dcd.jsonl');
      fs.writeFileSync(file, lines.join('\r\n'));
      const d = new CorpusDiagnoser(FULL);
      const expected = [...await d.diagnoseAll(lines), ...d.duplicateIds(lines)].sort((a, b) => a.line - b.line);
      for (const chunkBytes of [7, undefined]) {
        const got: Diagnostic[] = [];
        const r = await diagnoseCorpusFile(file, FULL, (ds) => got.push(...ds), { chunkBytes });
        assert.deepEqual(summary(got), summary(expected));
        assert.ok(got.every((g) => g.fix === undefined));
        assert.deepEqual(r, { lines: lines.length, diagnostics: expected.length });
      }
      assert.ok(expected.some((e) => e.code === 'duplicate-id') && expected.some((e) => e.code === 'malformed-json'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('re-analyses only changed lines, including after lines move', async () => {
    const d = new CorpusDiagnoser(FULL);
    const lines = corpus();
    let chunk = d.diagnoseChunk(lines, 0, Infinity);
    assert.deepEqual([chunk.computed, chunk.reused, chunk.done, chunk.next], [6, 0, true, 6]);

    chunk = d.diagnoseChunk(lines, 0, Infinity);
    assert.deepEqual([chunk.computed, chunk.reused], [0, 6]);

    const edited = [...lines];
    edited[1] = MATH33; // the user applied the fix
    chunk = d.diagnoseChunk(edited, 0, Infinity);
    assert.deepEqual([chunk.computed, chunk.reused], [0, 6], 'the fixed line equals a line already seen');
    assert.deepEqual(chunk.diagnostics.map((x) => x.line), [4]);

    const moved = [MATH42.replace('Find the value', 'Compute the value'), ...edited];
    chunk = d.diagnoseChunk(moved, 0, Infinity);
    assert.equal(chunk.computed, 1, 'only the new first line is analysed');
    assert.deepEqual(chunk.diagnostics.map((x) => `${x.line}:${x.code}`), ['0:text-out-of-sync', '5:malformed-json']);

    // The broken line left the file in the last pass, so its result was dropped: it is analysed again.
    chunk = d.diagnoseChunk(lines, 0, Infinity);
    assert.deepEqual([chunk.computed, chunk.reused], [1, 5]);
  });

  it('keeps only the results of lines in the file after a full pass', () => {
    const d = new CorpusDiagnoser();
    const lines = corpus();
    d.diagnoseChunk(lines, 0, Infinity);
    assert.equal(d.stats.cachedLines, 6);
    const fixed = [GSM, MATH33, MATH42, '', MATH33];
    d.diagnoseChunk(fixed, 0, Infinity);
    assert.equal(d.stats.cachedLines, 4, 'the broken lines are gone, the duplicate is one entry');
  });

  it('works in time slices of at least one line', () => {
    const d = new CorpusDiagnoser(FULL);
    const lines = corpus();
    const nexts: number[] = [];
    const all: Diagnostic[] = [];
    let next = 0;
    for (;;) {
      const r = d.diagnoseChunk(lines, next, 0);
      all.push(...r.diagnostics);
      nexts.push(r.next);
      next = r.next;
      if (r.done) break;
    }
    assert.deepEqual(nexts, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(all.map((x) => x.line), [1, 4]);
  });

  it('yields between slices, reports progress and can be aborted', async () => {
    let yields = 0;
    const progress: number[] = [];
    await new CorpusDiagnoser().diagnoseAll(corpus(), { sliceMs: 0, yieldFn: async () => { yields++; }, onProgress: (done) => progress.push(done) });
    assert.equal(yields, 5);
    assert.deepEqual(progress, [1, 2, 3, 4, 5, 6]);

    const abort = new AbortController();
    await assert.rejects(
      new CorpusDiagnoser().diagnoseAll(corpus(), { sliceMs: 0, signal: abort.signal, onProgress: () => abort.abort() }),
      { name: 'AbortError' },
    );
  });

  it('starts over when the context changes', () => {
    const d = new CorpusDiagnoser();
    const lines = [GSM, MATH42, MATH33];
    assert.deepEqual(d.diagnoseChunk(lines, 0, Infinity).diagnostics, []);
    d.setContext({ preset: 'paper-bold-incorrect' });
    assert.equal(d.stats.cachedLines, 0);
    const r = d.diagnoseChunk(lines, 0, Infinity);
    assert.equal(r.computed, 3);
    // The two draft-wrong lines render differently under the bold preset; the draft-correct one does not.
    assert.deepEqual(r.diagnostics.map((x) => `${x.line}:${x.code}`), ['0:preset-mismatch', '2:preset-mismatch']);
  });

  it('builds a fix from the current line even when the result came from the cache', () => {
    const d = new CorpusDiagnoser();
    d.diagnoseChunk([broken], 0, Infinity);
    const r = d.diagnoseChunk(['', broken], 0, Infinity);
    assert.deepEqual([r.computed, r.reused], [1, 1], 'the blank line is new, the broken line comes from the cache');
    const [diag] = r.diagnostics;
    assert.equal(diag.line, 1);
    assert.equal(parse(diag.fix!.newLine).text, renderTrace(fieldsOf(parse(broken))).text);
  });
});

describe('diagnostics and the CLI input layer agree', () => {
  it('reports too-deep and too-long lines as the input layer classifies them', () => {
    const deep = `{"a":${'['.repeat(300)}${']'.repeat(300)}}`;
    const [d] = diagnoseCorpusLine(deep, 2);
    assert.equal(d.code, 'too-deep');
    assert.equal(d.severity, 'error');
    assert.match(d.message, /deeper than 256 levels/);

    const long = `{"id":"x","pad":"${'é'.repeat(9 * 1024 * 1024)}"}`;
    const ds = diagnoseCorpusLine(long, 0);
    assert.deepEqual(ds.map((x) => x.code), ['too-long']);
    assert.equal(ds[0].severity, 'error');
    assert.match(ds[0].message, /over the 16777216-byte limit/);
  });

  it('warns on a repeated id, naming the first line, on the id itself', async () => {
    const d = new CorpusDiagnoser();
    const lines = [GSM, MATH42, '', GSM, MATH33];
    const perLine = await d.diagnoseAll(lines);
    assert.ok(!perLine.some((x) => x.code === 'duplicate-id'), 'line results stay per line');
    const dups = d.duplicateIds(lines);
    assert.equal(dups.length, 1);
    const [dup] = dups;
    assert.deepEqual([dup.line, dup.code, dup.severity], [3, 'duplicate-id', 'warning']);
    assert.equal(dup.message, `Duplicate id ${JSON.stringify(parse(GSM).id)} (also on line 1).`);
    assert.equal(GSM.slice(dup.startChar, dup.endChar), JSON.stringify(parse(GSM).id));
  });
});
