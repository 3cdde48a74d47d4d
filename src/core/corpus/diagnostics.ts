/**
 * Corpus diagnostics: what is wrong with one line of a `*.dcd.jsonl` corpus,
 * where in the line, and (where there is one) the edit that fixes it.
 *
 * Pure: no `vscode`. `diagnoseCorpusLine` checks one line; `CorpusDiagnoser`
 * checks a whole file incrementally (results cached by line-content hash, so
 * an edit to a 70 MB file re-checks only the changed lines) and in time
 * slices (so the editor never freezes).
 *
 * Character ranges are UTF-16 offsets into the raw line, like VS Code's
 * columns; ranges inside a JSON string value point at the raw (escaped)
 * characters of the decoded offset.
 */
import * as nodeCrypto from 'node:crypto';
import type { Verdict } from '../trace/model';
import { classifyJsonlText, type JsonlErrorCode } from '../io/jsonl';
import { duplicateIdProblem, INPUT_OUTCOMES, sampleFieldProblems, sampleIdOf } from '../io/corpusInput';
import { PRESETS, parseTrace, renderTrace, TraceStructureError, type RegionName, type TraceFields } from '../trace/template';
import { rawIndexOfDecoded, topLevelSpans, type ValueSpan } from '../io/jsonMembers';
import { forEachJsonlRow } from '../io/jsonlFile';

export { rawIndexOfDecoded, topLevelSpans };

export type Severity = 'error' | 'warning' | 'info';

/** Every diagnostic code this module emits. */
export const DIAGNOSTIC_CODES = [
  'malformed-json', // the line is not JSON
  'not-an-object', // JSON, but not an object
  'invalid-utf8', // the line's bytes are not UTF-8 (only where lines are read as bytes)
  'too-long', // the line is over MAX_LINE_BYTES
  'too-deep', // the JSON nests deeper than MAX_JSON_DEPTH
  'missing-field', // a SAMPLE_REQUIRED_FIELDS entry is absent or null
  'invalid-field', // a field has the wrong type or value
  'stage-order', // `text` does not parse as a trace (TraceStructureError)
  'text-out-of-sync', // `text` parses but differs from the fields
  'preset-mismatch', // `text` was rendered with another template preset
  'missing-gold', // `gold_answer` null, empty or absent
  'verdict-disagrees', // the verifier contradicts `verdict`
  'verifier-undecided', // verdict "correct" but the verifier could not decide
  'verifier-failed', // the injected verifier threw
  'truncated-verdict', // truncation to max_length cuts the verdict (and the answer)
  'truncated-answer', // truncation cuts the final answer
  'duplicate-id', // another line has the same id (CorpusDiagnoser.duplicateIds)
] as const;
export type DiagnosticCode = (typeof DIAGNOSTIC_CODES)[number];

export interface DiagnosticFix {
  title: string;
  /** The whole corrected line. Computed on first read (a getter), then kept. */
  readonly newLine: string;
}

export interface Diagnostic {
  /** 0-based line number in the file. */
  line: number;
  startChar: number;
  endChar: number;
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  fix?: DiagnosticFix;
}

/** What the answer verifier (src/core/answer) returns; only these fields are read. */
export interface VerifyOutcome {
  equivalent: boolean | null;
  rule?: string;
}
export type VerifyFn = (pred: string, gold: string, options: { goldIsAnswer: boolean }) => VerifyOutcome;

/** What the tokenizer hook reports for a rendered text at the trainer's max_length. */
export interface TruncationReport {
  verdictCut: boolean;
  answerCut: boolean;
  /** Optional detail for the message. */
  tokens?: number;
  maxLength?: number;
}
export type TokenCountFn = (text: string) => TruncationReport;

export interface DiagnosticContext {
  /** Template preset the corpus should use (default `paper`). */
  preset?: string;
  /** The answer verifier; without it the verdict check is skipped. */
  verify?: VerifyFn;
  /** The tokenizer's truncation check; without it the truncation check is skipped. */
  tokenCount?: TokenCountFn;
}

// ---------------------------------------------------------------------------
// Line analysis (line-number-free, cacheable)

type FixSpec =
  | { kind: 'rerender'; title: string }
  | { kind: 'set-verdict'; title: string; verdict: Verdict; rule?: string };

/** A diagnostic without its line number and with its fix described, not built. */
interface LineFinding {
  startChar: number;
  endChar: number;
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  fix?: FixSpec;
}

const TRACE_FIELDS = ['question', 'draft', 'chain', 'final_answer'] as const;

/** What one line says, independent of its position: its findings, and its id for the duplicate check. */
interface LineAnalysis {
  findings: LineFinding[];
  id: string | null;
}

const NOTHING: LineAnalysis = { findings: [], id: null };

/** An input-layer message as a diagnostic sentence. */
const sentence = (message: string): string => `${message.charAt(0).toUpperCase()}${message.slice(1)}.`;

/** Checks one raw line; returns findings with offsets into `raw`. Pure and line-number-free. */
function analyzeLine(raw: string, ctx: DiagnosticContext): LineAnalysis {
  const bom = raw.charCodeAt(0) === 0xfeff ? 1 : 0;
  // The line is classified as every corpus reader classifies it (src/core/io/jsonl.ts), so the editor and the CLI agree.
  const row = classifyJsonlText<Record<string, unknown>>(bom ? raw.slice(1) : raw, 0);
  if (!row) return NOTHING;
  if (row.kind === 'error') return { findings: [lineError(raw, bom, row.code, row.message)], id: null };
  return { findings: analyzeSample(raw, row.value, ctx), id: sampleIdOf(row.value) };
}

function lineError(raw: string, bom: number, code: JsonlErrorCode, message: string): LineFinding {
  const wholeLine = { startChar: 0, endChar: raw.length, severity: INPUT_OUTCOMES[code] };
  switch (code) {
    case 'malformed-json': {
      const m = /position (\d+)/.exec(message);
      let start = m ? Number(m[1]) + bom : raw.length - 1;
      start = Math.max(0, Math.min(start, raw.length - 1));
      return { ...wholeLine, startChar: start, endChar: Math.min(start + 1, raw.length), code, message: `Malformed JSON: ${message}` };
    }
    case 'not-an-object':
      return { ...wholeLine, code, message: 'The line is valid JSON but not an object; a corpus line is one sample object.' };
    default:
      return { ...wholeLine, code, message: sentence(message) };
  }
}

function analyzeSample(raw: string, sample: Record<string, unknown>, ctx: DiagnosticContext): LineFinding[] {
  const out: LineFinding[] = [];
  let spans: Map<string, ValueSpan> | undefined;
  const span = (key: string): ValueSpan | undefined => (spans ??= topLevelSpans(raw)).get(key);
  const wholeLine = { startChar: 0, endChar: raw.length };
  const valueRange = (key: string) => {
    const s = span(key);
    return s ? { startChar: s.start, endChar: s.end } : wholeLine;
  };

  // The input layer's field rules; the missing fields are one finding, each wrong value points at itself.
  const problems = sampleFieldProblems(sample, '', 0);
  const missing = problems.filter((p) => p.code === 'missing-field').map((p) => p.field as string);
  if (missing.length) {
    out.push({ ...wholeLine, severity: INPUT_OUTCOMES['missing-field'], code: 'missing-field', message: `Missing required field${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}.` });
  }
  for (const p of problems) {
    if (p.code === 'invalid-field') out.push({ ...valueRange(p.field as string), severity: p.severity, code: 'invalid-field', message: sentence(p.message) });
  }
  const verdictOk = sample.verdict === 'correct' || sample.verdict === 'incorrect';
  const gold = sample.gold_answer;
  const goldOk = typeof gold === 'string' && gold.trim() !== '';
  if (gold !== undefined && gold !== null && typeof gold !== 'string') {
    out.push({ ...valueRange('gold_answer'), severity: 'error', code: 'invalid-field', message: `Field "gold_answer" must be a string or null, not ${jsonType(gold)}.` });
  } else if (!goldOk) {
    out.push({
      ...(span('gold_answer') ? valueRange('gold_answer') : wholeLine), severity: 'warning', code: 'missing-gold',
      message: 'No gold answer: the verdict of this sample cannot be checked against a_gt.',
    });
  }

  const fieldsOk = verdictOk && TRACE_FIELDS.every((f) => typeof sample[f] === 'string');
  const text = typeof sample.text === 'string' ? sample.text : undefined;
  const preset = ctx.preset ?? 'paper';
  const fields: TraceFields | undefined = fieldsOk
    ? { question: sample.question as string, draft: sample.draft as string, chain: sample.chain as string, verdict: sample.verdict as Verdict, final_answer: sample.final_answer as string }
    : undefined;

  // Trace structure and sync. The fast path is one render and one string compare.
  let textRegions: Record<RegionName, { start: number; end: number }> | undefined;
  if (text !== undefined) {
    const expected = fields ? renderTrace(fields, preset) : undefined;
    if (expected && expected.text === text) {
      textRegions = expected.regions;
    } else {
      const textSpan = span('text');
      const at = (offset: number, length = 1) => {
        if (!textSpan) return wholeLine;
        const s = rawIndexOfDecoded(raw, textSpan.start, offset);
        const e = rawIndexOfDecoded(raw, textSpan.start, Math.min(offset + Math.max(length, 1), text.length));
        return { startChar: s, endChar: Math.max(e, s + 1) };
      };
      const rerender: FixSpec | undefined = fields ? { kind: 'rerender', title: `Re-render "text" from the fields (${preset} template)` } : undefined;
      let parsed: ReturnType<typeof parseTrace> | undefined;
      let structureError: TraceStructureError | undefined;
      try {
        parsed = parseTrace(text, preset);
      } catch (err) {
        if (!(err instanceof TraceStructureError)) throw err;
        structureError = err;
      }
      if (parsed) {
        textRegions = parsed.rendered.regions;
        if (fields) {
          const differing = (['question', 'draft', 'chain', 'verdict', 'final_answer'] as const).filter((f) => parsed.fields[f] !== fields[f]);
          if (differing.length) {
            const region = parsed.rendered.regions[differing[0]];
            out.push({
              ...at(region.start, region.end - region.start), severity: 'error', code: 'text-out-of-sync',
              message: `"text" is out of sync with the sample's field${differing.length > 1 ? 's' : ''} ${differing.join(', ')}: training would use the text, not the fields.`,
              fix: rerender,
            });
          }
        }
      } else {
        let other: string | undefined;
        for (const name of Object.keys(PRESETS)) {
          if (name === preset) continue;
          const regions = tryParse(text, name);
          if (regions) { other = name; textRegions = regions; break; }
        }
        if (other) {
          out.push({
            ...at(0, 0), severity: 'warning', code: 'preset-mismatch',
            message: `"text" uses the "${other}" template, not the "${preset}" template the settings select.`,
            fix: rerender,
          });
        } else {
          const err = structureError as TraceStructureError;
          out.push({ ...at(err.offset), severity: 'error', code: 'stage-order', message: `Trace structure: ${err.message}`, fix: rerender });
        }
      }
    }
  }

  // Verdict against the verifier.
  if (ctx.verify && verdictOk && goldOk && typeof sample.draft === 'string') {
    const verdict = sample.verdict as Verdict;
    let outcome: VerifyOutcome | undefined;
    try {
      outcome = ctx.verify(sample.draft, gold as string, { goldIsAnswer: true });
    } catch (err) {
      out.push({ ...valueRange('verdict'), severity: 'warning', code: 'verifier-failed', message: `The answer verifier failed on this sample: ${(err as Error).message}` });
    }
    if (outcome) {
      const ruleName = outcome.rule;
      const rule = ruleName ? ` (rule: ${ruleName})` : '';
      const flip = (to: Verdict): FixSpec | undefined => (fields ? { kind: 'set-verdict', title: `Set verdict to "${to}" and re-render "text"`, verdict: to, rule: ruleName } : undefined);
      if (outcome.equivalent === true && verdict === 'incorrect') {
        out.push({
          ...valueRange('verdict'), severity: 'warning', code: 'verdict-disagrees',
          message: `The verifier finds the draft's answer equivalent to the gold answer${rule}, but the verdict is "incorrect": a correct draft must not become a draft-wrong sample.`,
          fix: flip('correct'),
        });
      } else if (outcome.equivalent === false && verdict === 'correct') {
        out.push({
          ...valueRange('verdict'), severity: 'warning', code: 'verdict-disagrees',
          message: `The verifier finds the draft's answer not equivalent to the gold answer${rule}, but the verdict is "correct".`,
          fix: flip('incorrect'),
        });
      } else if (outcome.equivalent === null && verdict === 'correct') {
        out.push({ ...valueRange('verdict'), severity: 'info', code: 'verifier-undecided', message: `The verifier could not decide whether the draft's answer matches the gold answer${rule}; the verdict "correct" is unchecked.` });
      }
    }
  }

  // Truncation at the trainer's max_length.
  if (ctx.tokenCount && text !== undefined) {
    const report = ctx.tokenCount(text);
    if (report.verdictCut || report.answerCut) {
      const textSpan = span('text');
      const region = textRegions ? (report.verdictCut ? textRegions.verdict : textRegions.final_answer) : undefined;
      const range = textSpan && region
        ? { startChar: rawIndexOfDecoded(raw, textSpan.start, region.start), endChar: Math.max(rawIndexOfDecoded(raw, textSpan.start, region.end), rawIndexOfDecoded(raw, textSpan.start, region.start) + 1) }
        : textSpan ? { startChar: textSpan.start, endChar: textSpan.end } : wholeLine;
      const size = report.tokens !== undefined && report.maxLength !== undefined ? ` (${report.tokens} tokens, max_length ${report.maxLength})` : '';
      out.push(report.verdictCut
        ? { ...range, severity: 'warning', code: 'truncated-verdict', message: `Truncation to max_length cuts the verdict and the final answer${size}: this sample must not be trained as is.` }
        : { ...range, severity: 'warning', code: 'truncated-answer', message: `Truncation to max_length cuts the final answer${size}: this sample must not be trained as is.` });
    }
  }
  return out;
}

/** The regions of `text` parsed with `preset`, or undefined if it does not parse. */
function tryParse(text: string, preset: string): Record<RegionName, { start: number; end: number }> | undefined {
  try {
    return parseTrace(text, preset).rendered.regions;
  } catch {
    return undefined;
  }
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

// ---------------------------------------------------------------------------
// Fixes: splice new values into the raw line, leaving every other byte alone.

function buildFix(raw: string, spec: FixSpec, ctx: DiagnosticContext): string {
  const bom = raw.charCodeAt(0) === 0xfeff ? 1 : 0;
  const sample = JSON.parse(bom ? raw.slice(1) : raw) as Record<string, unknown>;
  const verdict = spec.kind === 'set-verdict' ? spec.verdict : (sample.verdict as Verdict);
  const fields: TraceFields = {
    question: sample.question as string, draft: sample.draft as string, chain: sample.chain as string,
    verdict, final_answer: sample.final_answer as string,
  };
  const newText = renderTrace(fields, ctx.preset ?? 'paper').text;
  const spans = topLevelSpans(raw);
  const asciiOnly = !/[^\x00-\x7f]/.test(raw);
  const edits: Array<{ start: number; end: number; value: string }> = [];
  const replace = (key: string, value: string) => {
    const s = spans.get(key);
    if (s) edits.push({ start: s.start, end: s.end, value: encodeJsonString(value, asciiOnly) });
  };
  replace('text', newText);
  if (spec.kind === 'set-verdict') {
    replace('verdict', spec.verdict);
    if (spec.rule !== undefined) replace('verifier_rule', spec.rule);
  }
  edits.sort((a, b) => b.start - a.start);
  let line = raw;
  for (const e of edits) line = line.slice(0, e.start) + e.value + line.slice(e.end);
  return line;
}

/** JSON-encodes a string; escapes non-ASCII when the line it goes into is ASCII-only (Python's ensure_ascii style). */
function encodeJsonString(value: string, asciiOnly: boolean): string {
  const json = JSON.stringify(value);
  return asciiOnly ? json.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')) : json;
}

function materialize(findings: readonly LineFinding[], line: number, raw: string, ctx: DiagnosticContext): Diagnostic[] {
  return findings.map((f) => {
    const d: Diagnostic = { line, startChar: f.startChar, endChar: f.endChar, severity: f.severity, code: f.code, message: f.message };
    const spec = f.fix;
    if (spec) {
      let cached: string | undefined;
      d.fix = { title: spec.title, get newLine() { return (cached ??= buildFix(raw, spec, ctx)); } };
    }
    return d;
  });
}

/** Diagnoses one corpus line. `lineNumber` is 0-based and only stamped on the results. */
export function diagnoseCorpusLine(raw: string, lineNumber: number, ctx: DiagnosticContext = {}): Diagnostic[] {
  return materialize(analyzeLine(raw, ctx).findings, lineNumber, raw, ctx);
}

// ---------------------------------------------------------------------------
// Whole-file, incremental, time-sliced diagnosis.

/** Content key of a line: one-shot `crypto.hash` (Node ≥ 20.12) where present, else createHash. */
const hashLine: (s: string) => string = typeof nodeCrypto.hash === 'function'
  ? (s) => nodeCrypto.hash('sha1', s, 'base64')
  : (s) => nodeCrypto.createHash('sha1').update(s).digest('base64');

export interface ChunkResult {
  /** Diagnostics of lines [start, next). */
  diagnostics: Diagnostic[];
  /** First line not yet diagnosed; equals lines.length when done. */
  next: number;
  done: boolean;
  /** Lines analysed afresh in this chunk. */
  computed: number;
  /** Lines whose cached result was reused. */
  reused: number;
}

export interface DiagnoseAllOptions {
  /** Longest stretch of synchronous work, in ms, before yielding (default 12). */
  sliceMs?: number;
  signal?: AbortSignal;
  /** Called after each slice with the lines done so far. */
  onProgress?: (done: number, total: number) => void;
  /** How to yield between slices (default: setImmediate). */
  yieldFn?: () => Promise<void>;
}

export interface DiagnoserStats {
  cachedLines: number;
  computed: number;
  reused: number;
}

/**
 * Diagnoses a corpus file line by line, keeping each line's findings keyed by a
 * hash of its content. Lines that did not change (even if they moved) are not
 * re-analysed. A pass is `diagnoseChunk(lines, 0, …)`, then `diagnoseChunk(lines,
 * next, …)` until `done`; results that no line of the finished pass used are dropped.
 *
 * The context is fixed per instance: results depend on the preset, verifier and
 * tokenizer, so call `setContext` (which clears the cache) when they change.
 * Pass the same `lines` array through one pass, and start a new pass at 0 after
 * an edit. The diagnoser keeps a reference to each line string of the last pass
 * (so an unchanged line is recognised by one string compare, without hashing);
 * those are normally the editor's own line strings, not copies.
 */
export class CorpusDiagnoser {
  private ctx: DiagnosticContext;
  private byHash = new Map<string, LineAnalysis>();
  /** The id of each line of the current pass, for the duplicate check. */
  private passIds: Array<string | null> = [];
  private seen = new Set<string>();
  /** Last pass's line strings and hashes by index: an unchanged line skips hashing. */
  private lastLines: Array<string | undefined> = [];
  private lastHashes: string[] = [];
  private totals = { computed: 0, reused: 0 };

  constructor(ctx: DiagnosticContext = {}) {
    this.ctx = ctx;
  }

  setContext(ctx: DiagnosticContext): void {
    this.ctx = ctx;
    this.clear();
  }

  clear(): void {
    this.byHash.clear();
    this.seen.clear();
    this.lastLines = [];
    this.lastHashes = [];
    this.passIds = [];
  }

  get stats(): DiagnoserStats {
    return { cachedLines: this.byHash.size, ...this.totals };
  }

  /** Diagnoses lines from `start` until `budgetMs` has passed (at least one line). */
  diagnoseChunk(lines: readonly string[], start: number, budgetMs: number): ChunkResult {
    if (start === 0) this.seen.clear();
    const t0 = performance.now();
    const diagnostics: Diagnostic[] = [];
    let computed = 0;
    let reused = 0;
    let i = start;
    while (i < lines.length) {
      const raw = lines[i];
      let key: string;
      if (this.lastLines[i] === raw) key = this.lastHashes[i];
      else {
        key = hashLine(raw);
        this.lastLines[i] = raw;
        this.lastHashes[i] = key;
      }
      let analysis = this.byHash.get(key);
      if (analysis) reused++;
      else {
        analysis = analyzeLine(raw, this.ctx);
        this.byHash.set(key, analysis);
        computed++;
      }
      this.seen.add(key);
      this.passIds[i] = analysis.id;
      if (analysis.findings.length) diagnostics.push(...materialize(analysis.findings, i, raw, this.ctx));
      i++;
      if (performance.now() - t0 >= budgetMs) break;
    }
    const done = i >= lines.length;
    if (done) {
      for (const key of this.byHash.keys()) if (!this.seen.has(key)) this.byHash.delete(key);
      this.lastLines.length = lines.length;
      this.lastHashes.length = lines.length;
      this.passIds.length = lines.length;
    }
    this.totals.computed += computed;
    this.totals.reused += reused;
    return { diagnostics, next: i, done, computed, reused };
  }

  /**
   * The duplicate-id warnings of the last finished pass over `lines`, as the
   * CLI words them (src/core/io/corpusInput.ts): one on every line whose id an
   * earlier line already has, naming that line. They span lines, so they are
   * not part of any line's cached findings or of diagnoseChunk's results.
   */
  duplicateIds(lines: readonly string[]): Diagnostic[] {
    const out: Diagnostic[] = [];
    const firstLineOfId = new Map<string, number>();
    const n = Math.min(lines.length, this.passIds.length);
    for (let i = 0; i < n; i++) {
      const id = this.passIds[i];
      if (id === null || id === undefined) continue;
      const first = firstLineOfId.get(id);
      if (first === undefined) { firstLineOfId.set(id, i); continue; }
      const p = duplicateIdProblem('', id, i + 1, first + 1);
      const span = topLevelSpans(lines[i]).get('id');
      out.push({
        line: i, startChar: span ? span.start : 0, endChar: span ? span.end : lines[i].length,
        severity: p.severity, code: 'duplicate-id', message: sentence(p.message),
      });
    }
    return out;
  }

  /** A full pass in slices, yielding to the event loop between them. */
  async diagnoseAll(lines: readonly string[], options: DiagnoseAllOptions = {}): Promise<Diagnostic[]> {
    const sliceMs = options.sliceMs ?? 12;
    const yieldFn = options.yieldFn ?? (() => new Promise<void>((resolve) => setImmediate(resolve)));
    const all: Diagnostic[] = [];
    let next = 0;
    do {
      options.signal?.throwIfAborted();
      const r = this.diagnoseChunk(lines, next, sliceMs);
      for (const d of r.diagnostics) all.push(d);
      next = r.next;
      options.onProgress?.(next, lines.length);
      if (next < lines.length) await yieldFn();
    } while (next < lines.length);
    return all;
  }
}

/**
 * Diagnoses a corpus file on disk, streamed through the one JSONL reader
 * (src/core/io/jsonlFile.ts), for a file too big to hold as lines: each
 * line's diagnostics go to `onDiagnostics` as soon as it is read, without
 * fixes (a fix keeps its whole line alive; an editor that offers fixes
 * diagnoses its own lines with CorpusDiagnoser). Duplicate ids are reported
 * on the later line, as CorpusDiagnoser.duplicateIds words them. Memory: the
 * longest line and one map entry per distinct id. Resolves with the counts.
 */
export async function diagnoseCorpusFile(
  file: string, ctx: DiagnosticContext, onDiagnostics: (d: Diagnostic[]) => void, opts: { signal?: AbortSignal; chunkBytes?: number } = {},
): Promise<{ lines: number; diagnostics: number }> {
  const firstLineOfId = new Map<string, number>();
  let lines = 0;
  let count = 0;
  await forEachJsonlRow<Record<string, unknown>>(file, (row) => {
    opts.signal?.throwIfAborted();
    lines = row.line;
    const line = row.line - 1;
    const analysis: LineAnalysis = row.kind === 'error'
      ? { findings: [lineError(row.raw, 0, row.code, row.message)], id: null }
      : { findings: analyzeSample(row.raw, row.value, ctx), id: sampleIdOf(row.value) };
    const out: Diagnostic[] = analysis.findings.map((f) => ({ line, startChar: f.startChar, endChar: f.endChar, severity: f.severity, code: f.code, message: f.message }));
    if (analysis.id !== null) {
      const first = firstLineOfId.get(analysis.id);
      if (first === undefined) firstLineOfId.set(analysis.id, line);
      else {
        const p = duplicateIdProblem('', analysis.id, line + 1, first + 1);
        const span = topLevelSpans(row.raw).get('id');
        out.push({ line, startChar: span ? span.start : 0, endChar: span ? span.end : row.raw.length, severity: p.severity, code: 'duplicate-id', message: sentence(p.message) });
      }
    }
    if (out.length) { count += out.length; onDiagnostics(out); }
  }, { chunkBytes: opts.chunkBytes });
  return { lines, diagnostics: count };
}
