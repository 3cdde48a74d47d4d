// Rebuilds media/demo from the real public data in ../shared/data (developers
// only; the result is committed with media/demo/PROVENANCE.md). The corpus
// itself is built by our own `dcd build`, so the demo is what a user gets.
//   node scripts/make-demo-corpus.mjs [SHARED_DATA_DIR]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './env.mjs';

const DATA = path.resolve(process.argv[2] ?? path.join(ROOT, '..', 'shared', 'data'));
const OUT = path.join(ROOT, 'media', 'demo');
const readJsonl = (f) => fs.readFileSync(path.join(DATA, f), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

const GSM8K_ROWS = 12;
const gsmTest = readJsonl('gsm8k/gsm8k_test.jsonl');
const gpt3 = readJsonl('student_drafts/gpt3_gsm8k_test_example_model_solutions.jsonl');
const qwenMath = readJsonl('student_drafts/qwen2.5-math-1.5b_r1zero_gsm8k_test_results.jsonl');
const aime = readJsonl('aime/aime24_nofigures.jsonl');
const r1 = readJsonl('student_drafts/r1-distill-qwen-1.5b_aime24_greedy.jsonl');

const s1kRows = [];
const drafts = [];
const empty = { source_type: '', metadata: '', gemini_thinking_trajectory: '', gemini_grade: '', gemini_grade_reason: '', deepseek_grade: '', deepseek_grade_reason: '' };

// GSM8K: the reference solution is the teacher chain (without its "#### N" line) and its last line the final answer;
// the first GPT-3 solution graded correct stands in for the Gemini attempt; the other GPT-3 solutions and
// Qwen2.5-Math-1.5B's response are student drafts (the verifier decides which are wrong).
const MODELS = ['6b_finetuning', '6b_verification', '175b_finetuning', '175b_verification'];
for (let i = 0; s1kRows.length < GSM8K_ROWS && i < gsmTest.length; i++) {
  const { question, answer } = gsmTest[i];
  const sols = gpt3[i];
  if (sols.question !== question) throw new Error(`GPT-3 row ${i} does not match GSM8K row ${i}`);
  const good = MODELS.find((m) => sols[m].is_correct);
  if (!good) continue;
  const lines = answer.split('\n');
  s1kRows.push({
    ...empty, question, solution: answer, cot_type: 'math', source_type: 'openai/gsm8k', metadata: JSON.stringify({ gsm8k_test_index: i, gemini_attempt_from: `gpt3 ${good}` }),
    gemini_attempt: sols[good].solution, deepseek_thinking_trajectory: lines.slice(0, -1).join('\n'), deepseek_attempt: lines[lines.length - 1],
  });
  for (const m of MODELS) if (m !== good) drafts.push({ question, draft: sols[m].solution, model: `gpt3-${m.replace('_', '-')}`, gsm8k_test_index: i });
  drafts.push({ question, draft: qwenMath[i].response, model: 'Qwen2.5-Math-1.5B', gsm8k_test_index: i });
}

// AIME 2024: R1-Distill-Qwen-1.5B's correct greedy traces are the teacher chain (before </think>) and final answer
// (after it); the official solution stands in for the Gemini attempt; the gold answer is the bare AIME answer.
for (const idx of ['9', '11']) {
  const trace = r1.find((r) => String(r.idx) === idx);
  const problem = aime[Number(idx)];
  if (!trace || trace.score[0] !== true) throw new Error(`R1 trace ${idx} is not a correct one`);
  if (String(problem.answer) !== String(trace.gt)) throw new Error(`AIME ${idx}: answers differ`);
  const [think, after] = trace.code[0].split('</think>');
  s1kRows.push({
    ...empty, question: problem.problem, solution: String(problem.answer), cot_type: 'math', source_type: 'AIME 2024',
    metadata: JSON.stringify({ aime24_id: problem.id, url: problem.url }),
    gemini_attempt: problem.solution, deepseek_thinking_trajectory: think.trim(), deepseek_attempt: after.trim(),
  });
}

fs.mkdirSync(OUT, { recursive: true });
fs.writeFileSync(path.join(OUT, 's1k-demo.jsonl'), s1kRows.map((r) => JSON.stringify(r)).join('\n') + '\n');
fs.writeFileSync(path.join(OUT, 'drafts-demo.jsonl'), drafts.map((r) => JSON.stringify(r)).join('\n') + '\n');
const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'build', '--s1k', path.join(OUT, 's1k-demo.jsonl'),
  '--drafts', path.join(OUT, 'drafts-demo.jsonl'), '--out', path.join(OUT, 'demo.dcd.jsonl'), '--json'], { cwd: ROOT, encoding: 'utf8' });
if (r.status !== 0) { process.stderr.write(r.stderr); process.exit(1); }
process.stdout.write(r.stdout);
