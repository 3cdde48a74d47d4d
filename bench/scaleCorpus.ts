/**
 * Scale corpora for the benchmarks: DCD corpora of a given size, generated
 * deterministically from real text in the fixtures, with numbers and words
 * perturbed per sample so that no two lines are equal.
 *
 * - samples: the questions, drafts, answers and verdicts of
 *   test/fixtures/workbench/pairs.dcd.jsonl (GSM8K, real drafts) and
 *   test/fixtures/tokenizer/corpus.dcd.jsonl, cycled; every question index
 *   gets one draft-correct and, for 2 of 5, a draft-wrong sample (so pairs
 *   exist);
 * - chains (~38 KB each, so a line with its rendered `text` is ~83 KB, like
 *   s1K-scale traces): paragraphs of the real s1.1-1.5B reasoning outputs in
 *   test/fixtures/lmeval/simplescaling__s1.1-1.5B/samples_*.jsonl, picked by a
 *   seeded generator, every number shifted and a few common words swapped by
 *   the sample's own seed;
 * - `text`: rendered with the paper template (renderTrace), as `dcd build` does.
 *
 * `ensureScaleCorpus(bytes, dir)` writes `<dir>/dcd-scale-<bytes>-v1.dcd.jsonl`
 * once (to a temporary name, then renamed) and reuses it while its size is
 * right. Not a benchmark itself (bench/run.ts skips files without `run`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { renderTrace } from '../src/core/trace/template';
import { seededRandom } from '../src/core/random';

const ROOT = path.resolve(__dirname, '..');
const VERSION = 1;
/** Characters of chain per sample. */
const CHAIN_CHARS = 38_000;

export interface ScaleCorpus { file: string; bytes: number; samples: number; reused: boolean }

type Sample = Record<string, unknown>;

function readJsonl(rel: string): Sample[] {
  return fs.readFileSync(path.join(ROOT, rel), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Sample);
}

const rng = seededRandom;

const SWAPS: Array<[string, string]> = [['Let', 'Now let'], ['we', 'I'], ['number', 'value'], ['find', 'determine'], ['So', 'Thus'], ['the answer', 'the result'], ['Wait', 'Hmm'], ['check', 'verify']];

function perturb(text: string, seed: number): string {
  const r = rng(seed);
  const shift = 1 + Math.floor(r() * 9);
  const swaps = SWAPS.filter(() => r() < 0.5);
  let out = text.replace(/\d+/g, (d) => (d.length > 6 ? d : String((Number(d) + shift) % 10 ** d.length)));
  for (const [a, b] of swaps) out = out.split(` ${a} `).join(` ${b} `);
  return out;
}

function sources(): { samples: Sample[]; paragraphs: string[] } {
  const samples = [...readJsonl('test/fixtures/workbench/pairs.dcd.jsonl'), ...readJsonl('test/fixtures/tokenizer/corpus.dcd.jsonl')];
  const dir = 'test/fixtures/lmeval/simplescaling__s1.1-1.5B';
  const paragraphs: string[] = [];
  for (const f of fs.readdirSync(path.join(ROOT, dir)).filter((n) => n.startsWith('samples_')).sort()) {
    for (const row of readJsonl(`${dir}/${f}`)) {
      const resps = row.resps as string[][];
      for (const r of resps.flat()) for (const p of r.split(/\n\s*\n/)) if (p.trim().length > 40) paragraphs.push(p.trim());
    }
  }
  return { samples, paragraphs };
}

/** The i-th line of the scale corpus (deterministic). */
function line(i: number, src: { samples: Sample[]; paragraphs: string[] }): string {
  const q = Math.floor(i / 2);
  const wrong = i % 2 === 1;
  const r = rng(0x5eed + i);
  const correct = src.samples.filter((s) => s.verdict === 'correct');
  const incorrect = src.samples.filter((s) => s.verdict === 'incorrect');
  const base = correct[q % correct.length];
  const draftFrom = wrong ? incorrect[(q + i) % incorrect.length] : base;
  const parts: string[] = [];
  let n = 0;
  while (n < CHAIN_CHARS) {
    const p = src.paragraphs[Math.floor(r() * src.paragraphs.length)];
    parts.push(p);
    n += p.length + 2;
  }
  const chain = perturb(parts.join('\n\n'), i);
  const question = `${perturb(String(base.question), q)} (variant ${q})`;
  const draft = perturb(String(draftFrom.draft), i);
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
export async function ensureScaleCorpus(bytes: number, dir: string): Promise<ScaleCorpus> {
  const file = path.join(dir, `dcd-scale-${bytes}-v${VERSION}.dcd.jsonl`);
  const meta = `${file}.json`;
  if (fs.existsSync(file) && fs.existsSync(meta)) {
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as ScaleCorpus;
    if (fs.statSync(file).size === m.bytes) return { ...m, file, reused: true };
  }
  fs.mkdirSync(dir, { recursive: true });
  const src = sources();
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  let written = 0;
  let samples = 0;
  try {
    let batch: string[] = [];
    let batchBytes = 0;
    while (written + batchBytes < bytes) {
      const l = `${line(samples++, src)}\n`;
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
