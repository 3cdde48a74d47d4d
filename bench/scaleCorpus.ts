/**
 * Scale corpora for the benchmarks (bench/scale.ts, bench/workbenchScale.ts):
 * DCD corpora of a given size, generated deterministically from real text in
 * the fixtures, perturbed per sample so that no two lines (and few
 * paragraphs) are equal: the tokenizer's caches get no free hits.
 *
 * - samples: the questions, drafts, answers and verdicts of
 *   test/fixtures/workbench/pairs.dcd.jsonl (GSM8K, real drafts) and
 *   test/fixtures/tokenizer/corpus.dcd.jsonl, cycled; question q gets one
 *   draft-correct and one draft-wrong sample (so pairs exist);
 * - chains (30–50 KB each, so a line with its rendered `text` is ~85 KB, like
 *   s1K-scale traces): paragraphs of every string of ≥ 300 characters in the
 *   JSON and JSONL fixtures (s1K rows, lm-eval outputs of s1.1, drafts, …),
 *   picked by a generator seeded with the sample's index;
 * - perturbation, per sample: its digits remapped by a seeded permutation and
 *   about one word in twelve swapped for another word of the fixtures;
 * - `text`: rendered with the paper template (renderTrace), as `dcd build` does.
 *
 * `ensureScaleCorpus(bytes, dir)` writes `<dir>/dcd-scale-<bytes>-v2.dcd.jsonl`
 * once (to a temporary name, then renamed) and reuses it while its size is
 * the one recorded beside it. Not a benchmark itself (bench/run.ts skips it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderTrace } from '../src/core/trace/template';
import { seededRandom } from '../src/core/random';

const ROOT = path.resolve(__dirname, '..');
const VERSION = 2;

export interface ScaleCorpus { file: string; bytes: number; samples: number; reused: boolean }

type Sample = Record<string, unknown>;

interface Sources { samples: Sample[]; paragraphs: string[]; words: string[] }

function readJsonl(rel: string): Sample[] {
  return fs.readFileSync(path.join(ROOT, rel), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Sample);
}

/** The samples to cycle, and every paragraph (≥ 80 characters) of the fixtures' long strings, in path order, de-duplicated. */
function sources(): Sources {
  const samples = [...readJsonl('test/fixtures/workbench/pairs.dcd.jsonl'), ...readJsonl('test/fixtures/tokenizer/corpus.dcd.jsonl')];
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.jsonl?$/.test(e.name)) files.push(p);
    }
  };
  walk(path.join(ROOT, 'test', 'fixtures'));
  const seen = new Set<string>();
  const collect = (v: unknown): void => {
    if (typeof v === 'string') { if (v.length >= 300) seen.add(v); }
    else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') Object.values(v).forEach(collect);
  };
  for (const f of files) {
    const text = fs.readFileSync(f, 'utf8');
    try {
      if (f.endsWith('.jsonl')) for (const l of text.split('\n')) { if (l.trim()) collect(JSON.parse(l)); }
      else collect(JSON.parse(text));
    } catch { /* a fixture that is deliberately broken */ }
  }
  const paragraphs = [...new Set([...seen].flatMap((s) => s.split(/\n\s*\n/)).map((p) => p.trim()).filter((p) => p.length >= 80))];
  const words = [...new Set(paragraphs.join(' ').match(/[A-Za-z]{4,12}/g) ?? [])].sort();
  return { samples, paragraphs, words };
}

/** A text with its digits remapped by `digits` and about one word in twelve swapped for another. */
function perturb(s: string, digits: string[], words: string[], r: () => number): string {
  return s.replace(/\d/g, (d) => digits[d.charCodeAt(0) - 48]).replace(/[A-Za-z]{4,12}/g, (w) => (r() < 1 / 12 ? words[Math.floor(r() * words.length)] : w));
}

/** The i-th line of the scale corpus (deterministic). */
function line(i: number, src: Sources, correct: Sample[], incorrect: Sample[]): string {
  const q = Math.floor(i / 2);
  const wrong = i % 2 === 1;
  const r = seededRandom(0x5eed + i);
  const digits = '0123456789'.split('');
  for (let k = 9; k > 0; k--) { const j = Math.floor(r() * (k + 1)); [digits[k], digits[j]] = [digits[j], digits[k]]; }
  const base = correct[q % correct.length];
  const draftFrom = wrong ? incorrect[(q + i) % incorrect.length] : base;
  const target = 30_000 + Math.floor(r() * 20_000);
  const parts: string[] = [];
  for (let n = 0; n < target;) {
    const p = perturb(src.paragraphs[Math.floor(r() * src.paragraphs.length)], digits, src.words, r);
    parts.push(p);
    n += p.length + 2;
  }
  const chain = parts.join('\n\n');
  const question = `${perturb(String(base.question), digits, src.words, r)} (variant ${q})`;
  const draft = perturb(String(draftFrom.draft), digits, src.words, r);
  const verdict = wrong ? 'incorrect' : 'correct';
  const finalAnswer = String(base.final_answer ?? base.gold_answer);
  const sample = {
    id: `scale-${q}-${wrong ? 'student' : 'gemini'}-${i}`, question, draft, draft_source: wrong ? String(draftFrom.draft_source) : 'gemini',
    verdict, chain, final_answer: finalAnswer, gold_answer: base.gold_answer, draft_answer: draftFrom.draft_answer, verifier_rule: 'scale-bench',
    s1k_index: q, cot_type: 'math', source_type: 'openai/gsm8k',
    text: renderTrace({ question, draft, chain, verdict, final_answer: finalAnswer }).text,
  };
  return JSON.stringify(sample);
}

/** Writes (once) a corpus of at least `bytes` bytes in `dir`, whole lines only. */
export function ensureScaleCorpus(bytes: number, dir: string): ScaleCorpus {
  const file = path.join(dir, `dcd-scale-${bytes}-v${VERSION}.dcd.jsonl`);
  const meta = `${file}.json`;
  if (fs.existsSync(file) && fs.existsSync(meta)) {
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as ScaleCorpus;
    if (fs.statSync(file).size === m.bytes) return { ...m, file, reused: true };
  }
  fs.mkdirSync(dir, { recursive: true });
  const src = sources();
  const correct = src.samples.filter((s) => s.verdict === 'correct');
  const incorrect = src.samples.filter((s) => s.verdict === 'incorrect');
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  let written = 0;
  let samples = 0;
  try {
    let batch: string[] = [];
    let batchBytes = 0;
    while (written + batchBytes < bytes) {
      const l = `${line(samples++, src, correct, incorrect)}\n`;
      batch.push(l);
      batchBytes += Buffer.byteLength(l);
      if (batchBytes >= 8 << 20) { fs.writeSync(fd, batch.join('')); written += batchBytes; batch = []; batchBytes = 0; }
    }
    if (batch.length) { fs.writeSync(fd, batch.join('')); written += batchBytes; }
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const result: ScaleCorpus = { file, bytes: written, samples, reused: false };
  fs.writeFileSync(meta, JSON.stringify(result));
  return result;
}
