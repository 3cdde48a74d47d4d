/**
 * Corpus workbench benchmark (a paper-scale corpus must open and scroll
 * without waiting): the host-side document model on a
 * generated 70 MB / 1,675-sample corpus (paper scale: 1,000 draft-correct +
 * 675 draft-wrong, ~42 KB per line).
 *
 * - first rows: read the file, index its lines, summarise the first visible
 *   window (what the webview paints first); as a ratio to a plain read plus a
 *   '\n' scan of the same file. Floor: <= 1.5.
 * - full stats: read, summarise every row (parse each line), counts, balance
 *   and the consistency check (the verifier on every draft); as a ratio to a
 *   plain readFile + JSON.parse of every line. Floor: <= 2.
 * Also: search (plain and regex), a review edit, a save (serialize), a pair.
 *
 * The corpus is generated from the demo corpus in the repository
 * (media/demo/demo.dcd.jsonl, real GSM8K/AIME text): its questions, drafts and
 * chains are cycled, chains concatenated to reach the size; texts are rendered
 * with the paper template. Draft-wrong drafts are cycled over questions too, so
 * a few of them match their new question's gold answer: the consistency check
 * reports those as disagreements, as it should. Written once to os.tmpdir() and reused. Each timing
 * is the median of REPEATS runs (page cache warm after the first); minima
 * and the load average are reported too, as the machine may be shared.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CorpusDocument } from '../src/core/workbench';
import { renderTrace } from '../src/core/trace/template';
import { rowWindow, findPair } from '../src/workbench/views';

const TARGET_BYTES = 70 * 1024 * 1024;
const CORRECT = 1000;
const WRONG = 675;
/** The webview's first row request (webview/workbench/state.ts BLOCK). */
const VISIBLE_ROWS = 40;
const REPEATS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function generate(file: string): { bytes: number; samples: number } {
  const demoFile = path.join(__dirname, '..', 'media', 'demo', 'demo.dcd.jsonl');
  const demo = fs.readFileSync(demoFile, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, string | number | null>);
  const correct = demo.filter((s) => s.verdict === 'correct');
  const wrong = demo.filter((s) => s.verdict === 'incorrect');
  const chains = demo.map((s) => String(s.chain));
  // Per line: the text repeats question, draft, chain and answer, and JSON escapes add more: a line is about 3.1 chains.
  const perLine = TARGET_BYTES / (CORRECT + WRONG);
  const chainChars = Math.round(perLine / 3.1);
  const lines: string[] = [];
  let w = 0;
  for (let q = 0; q < CORRECT; q++) {
    const base = correct[q % correct.length];
    let chain = '';
    for (let k = q; chain.length < chainChars; k++) chain += chains[k % chains.length] + '\n\n';
    const question = `${base.question} [${q}]`;
    const mk = (src: Record<string, string | number | null>, verdict: 'correct' | 'incorrect', id: string): string => {
      const sample = {
        id, question, draft: String(src.draft), draft_source: src.draft_source, verdict, chain, final_answer: base.final_answer,
        gold_answer: base.gold_answer, draft_answer: src.draft_answer, verifier_rule: src.verifier_rule, s1k_index: q,
        cot_type: base.cot_type, source_type: base.source_type, gemini_grade: 'Yes', deepseek_grade: 'Yes',
        text: renderTrace({ question, draft: String(src.draft), chain, verdict, final_answer: String(base.final_answer) }).text,
      };
      return JSON.stringify(sample);
    };
    lines.push(mk(base, 'correct', `s1k-${q}-gemini`));
    // 675 draft-wrong samples over the first questions, one or two each.
    const extra = q < WRONG / 2 ? 2 : q < WRONG ? 1 : 0;
    for (let j = 0; j < extra && w < WRONG; j++, w++) {
      const src = wrong[w % wrong.length];
      lines.push(mk({ ...src, draft_answer: src.draft_answer }, 'incorrect', `s1k-${q}-student-${j}`));
    }
  }
  const text = lines.join('\n') + '\n';
  fs.writeFileSync(file, text);
  return { bytes: Buffer.byteLength(text), samples: lines.length };
}

export async function run(): Promise<Record<string, unknown>> {
  const file = path.join(os.tmpdir(), 'dcd-bench-workbench-70mb-v3.dcd.jsonl');
  if (!fs.existsSync(file)) generate(file);
  const size = fs.statSync(file).size;

  // Baselines.
  const readIndex: number[] = [];
  const readParse: number[] = [];
  let lineCount = 0;
  for (let r = 0; r < REPEATS; r++) {
    let t = performance.now();
    const buf = fs.readFileSync(file);
    const offsets: number[] = [];
    for (let p = 0; p < buf.length;) { offsets.push(p); const nl = buf.indexOf(10, p); p = nl < 0 ? buf.length : nl + 1; }
    readIndex.push(performance.now() - t);
    lineCount = offsets.length;
    t = performance.now();
    const text = fs.readFileSync(file, 'utf8');
    let parsed = 0;
    for (const line of text.split('\n')) if (line) { JSON.parse(line); parsed++; }
    readParse.push(performance.now() - t);
    if (parsed !== lineCount) throw new Error(`parsed ${parsed} of ${lineCount} lines`);
  }

  // The workbench: first rows, then full stats.
  const firstRows: number[] = [];
  const fullStats: number[] = [];
  let stats: ReturnType<CorpusDocument['stats']> | undefined;
  let doc: CorpusDocument | undefined;
  for (let r = 0; r < REPEATS; r++) {
    let t = performance.now();
    doc = new CorpusDocument(fs.readFileSync(file));
    const rows = rowWindow(doc, doc.rows(), 0, VISIBLE_ROWS);
    firstRows.push(performance.now() - t);
    if (rows.length !== VISIBLE_ROWS || !rows[0].id) throw new Error('first rows missing');
    t = performance.now();
    const d2 = new CorpusDocument(fs.readFileSync(file));
    await d2.summarizeAll();
    stats = d2.stats();
    fullStats.push(performance.now() - t);
  }
  const d = doc!;
  await d.summarizeAll();

  // Search, edits, save, pair.
  let t = performance.now();
  const plain = await d.view({ search: { text: 'eggs' } });
  const searchPlainMs = performance.now() - t;
  t = performance.now();
  const plainAgain = await d.view({ verdict: 'incorrect', search: { text: 'eggs' } });
  const searchCachedMs = performance.now() - t;
  t = performance.now();
  const regex = await d.view({ search: { text: 'answer is \\d+', regex: true } });
  const searchRegexMs = performance.now() - t;
  t = performance.now();
  const edit = d.reviewEdit([d.rows()[5].key], { status: 'accepted', at: new Date().toISOString() });
  d.apply(edit);
  const editMs = performance.now() - t;
  t = performance.now();
  const bytes = d.serialize();
  const serializeMs = performance.now() - t;
  t = performance.now();
  const pair = findPair(d, { key: d.rows()[1].key });
  const pairMs = performance.now() - t;

  const ri = median(readIndex), rp = median(readParse), fr = median(firstRows), fs_ = median(fullStats);
  const min = (xs: number[]) => +Math.min(...xs).toFixed(1);
  return {
    corpus: { file, bytes: size, mb: +(size / 2 ** 20).toFixed(1), lines: lineCount, samples: stats?.samples, correct: stats?.verdicts.correct, wrong: stats?.verdicts.incorrect },
    repeats: REPEATS,
    baseline_read_index_ms: +ri.toFixed(1),
    baseline_read_parse_ms: +rp.toFixed(1),
    first_rows_ms: +fr.toFixed(1),
    min_ms: { read_index: min(readIndex), read_parse: min(readParse), first_rows: min(firstRows), full_stats: min(fullStats) },
    load_average: os.loadavg().map((x) => +x.toFixed(1)),
    first_rows_visible: VISIBLE_ROWS,
    first_rows_ratio: +(fr / ri).toFixed(2),
    first_rows_floor: 1.5,
    first_rows_ok: fr / ri <= 1.5,
    full_stats_ms: +fs_.toFixed(1),
    full_stats_ratio: +(fs_ / rp).toFixed(2),
    full_stats_floor: 2,
    full_stats_ok: fs_ / rp <= 2,
    consistency: { checked: stats?.consistency.checked, disagreements: stats?.consistency.disagreements.length },
    search_plain_ms: +searchPlainMs.toFixed(1),
    search_plain_hits: plain.search?.occurrences,
    search_cached_filtered_ms: +searchCachedMs.toFixed(1),
    search_cached_filtered_rows: plainAgain.entries.length,
    search_regex_ms: +searchRegexMs.toFixed(1),
    search_regex_hits: regex.search?.occurrences,
    review_edit_ms: +editMs.toFixed(2),
    serialize_ms: +serializeMs.toFixed(1),
    serialize_bytes_delta: bytes.length - size,
    pair_ms: +pairMs.toFixed(1),
    pair_chain_identical: pair?.stages.find((s) => s.name === 'chain')?.identical,
  };
}
