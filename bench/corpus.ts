/**
 * Corpus-engine bench (a build must feel instant at paper scale): build time
 * for 1,000 s1K rows plus 2,000 student drafts, at s1K-1.1's real text
 * sizes. Floor: ≤ 3 s on this machine.
 * The rows are the real fixture rows (test/fixtures/corpus) replicated to
 * size, with chains lengthened to ~32 KB (s1K-1.1's DeepSeek trajectories
 * average ~10k tokens) from the real R1-Distill traces of the AIME rows.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildCorpus } from '../src/core/corpus/build';
import { clearVerifierCaches } from '../src/core/answer';

const FIX = path.join(__dirname, '..', 'test', 'fixtures', 'corpus');

export async function run(): Promise<Record<string, unknown>> {
  const base = fs.readFileSync(path.join(FIX, 's1k-mini.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const baseDrafts = fs.readFileSync(path.join(FIX, 'drafts-mini.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const longChain = base.filter((r) => r.deepseek_thinking_trajectory.length > 5000).map((r) => r.deepseek_thinking_trajectory).join('\n\n');
  const rows = Array.from({ length: 1000 }, (_, i) => {
    const r = base[i % base.length];
    let chain = r.deepseek_thinking_trajectory;
    while (chain.length < 32_000) chain += `\n\n${longChain}`;
    return { ...r, question: `${r.question} [variant ${i}]`, deepseek_thinking_trajectory: chain.slice(0, 32_000 + (i % 97)) };
  });
  const drafts = Array.from({ length: 2000 }, (_, j) => {
    const i = j % 1000;
    const candidates = baseDrafts.filter((d) => d.question === base[i % base.length].question);
    const d = candidates.length ? candidates[j % candidates.length] : { draft: `The answer is \\boxed{${j}}.` };
    return { index: i, draft: `${d.draft}\n(attempt ${j})`, model: 'bench-student' };
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-bench-corpus-'));
  const s1k = path.join(dir, 's1k.jsonl');
  const draftFile = path.join(dir, 'drafts.jsonl');
  fs.writeFileSync(s1k, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  fs.writeFileSync(draftFile, drafts.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const times: number[] = [];
  let summary: Record<string, unknown> = {};
  for (let rep = 0; rep < 3; rep++) {
    clearVerifierCaches();
    const t0 = performance.now();
    const res = await buildCorpus({ s1k, drafts: draftFile, out: path.join(dir, 'corpus.dcd.jsonl') });
    times.push((performance.now() - t0) / 1000);
    summary = { samples: res.summary.samples, draft_correct: res.summary.draft_correct, draft_wrong: res.summary.draft_wrong };
  }
  const outBytes = fs.statSync(path.join(dir, 'corpus.dcd.jsonl')).size;
  fs.rmSync(dir, { recursive: true, force: true });
  const best = Math.min(...times);
  return {
    rows: rows.length, drafts: drafts.length, ...summary, corpus_mb: +(outBytes / 1e6).toFixed(1),
    build_s_best: +best.toFixed(3), build_s_runs: times.map((t) => +t.toFixed(3)), floor_s: 3, meets_floor: best <= 3,
  };
}
