/** Parsing of every real lm-eval results file in the fixtures (older and newer layouts), and `dcd results`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, readFileSync, mkdtempSync, copyFileSync, mkdirSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  findResultsFiles,
  newestPerModel,
  parseModelArgs,
  parseResultsJson,
  timestampFromFileName,
  toSummary,
} from '../../src/core/eval/results';
import { main } from '../../src/cli/main';

const FIX = path.join(__dirname, '../fixtures/lmeval');
const read = (rel: string) => parseResultsJson(readFileSync(path.join(FIX, rel), 'utf8'), rel);

test('newer layout: Qwen2.5-3B-Instruct, gsm8k 0-shot --limit 250 + minerva_math500', () => {
  const r = read('Qwen__Qwen2.5-3B-Instruct/results_2026-04-22T23-33-28.586080.json');
  assert.equal(r.layout, 'newer');
  assert.equal(r.model, 'Qwen/Qwen2.5-3B-Instruct');
  assert.deepEqual(r.tasks.gsm8k, {
    'exact_match,strict-match': 0.0,
    'exact_match_stderr,strict-match': 0.0,
    'exact_match,flexible-extract': 0.74,
    'exact_match_stderr,flexible-extract': 0.027797315752644294,
  });
  assert.equal(r.tasks.minerva_math500['math_verify,none'], 0.648);
  assert.equal(r.tasks.minerva_math500['exact_match,none'], 0.0);
  assert.deepEqual(r.n_shot, { gsm8k: 0, minerva_math500: 0 });
  assert.deepEqual(r.n_samples, { minerva_math500: { original: 500, effective: 250 }, gsm8k: { original: 1319, effective: 250 } });
  assert.deepEqual(r.versions, { gsm8k: 3.0, minerva_math500: 3.0 });
  assert.equal(r.backend, 'vllm');
  assert.deepEqual(r.modelArgs, { pretrained: 'Qwen/Qwen2.5-3B-Instruct' });
  assert.deepEqual(r.genKwargs, { max_gen_toks: 4096 });
  assert.equal(r.limit, 250);
  assert.equal(r.date, new Date(1776925754.880123 * 1000).toISOString());
});

test('newer layout: the budget-forcing run of the same model', () => {
  const r = read('Qwen__Qwen2.5-3B-Instruct_bf3wait/results_2026-04-29T22-06-51.848056.json');
  assert.equal(r.layout, 'newer');
  assert.equal(r.model, 'Qwen/Qwen2.5-3B-Instruct');
  assert.deepEqual(Object.keys(r.tasks), ['minerva_math500']);
  assert.equal(r.tasks.minerva_math500['math_verify,none'], 0.658);
  assert.deepEqual(r.n_samples.minerva_math500, { original: 500, effective: 500 });
  assert.equal(r.limit, null);
});

test('older layout: gemma3 gsm8k 5-shot (local-chat-completions, string model_args)', () => {
  const base = read('gemma3-12b-it-q4_K_M_base_gsm8k5shot/results_2025-09-09T13-42-42.857006.json');
  assert.equal(base.layout, 'older');
  assert.equal(base.model, 'gemma3:12b-it-q4_K_M');
  assert.equal(base.tasks.gsm8k['exact_match,strict-match'], 0.77);
  assert.equal(base.tasks.gsm8k['exact_match,flexible-extract'], 0.81);
  assert.equal(base.tasks.gsm8k['exact_match_stderr,strict-match'], 0.04229525846816505);
  assert.ok(!('alias' in base.tasks.gsm8k));
  assert.deepEqual(base.n_shot, { gsm8k: 5 });
  assert.deepEqual(base.n_samples, { gsm8k: { original: 1319, effective: 100 } });
  assert.deepEqual(base.versions, { gsm8k: 3.0 });
  assert.equal(base.backend, 'local-chat-completions');
  assert.equal(base.modelArgs.base_url, 'http://localhost:11434/v1/chat/completions');
  const tuned = read('gemma3-12b-u1_tuned_gsm8k5shot/results_2025-09-09T13-31-53.431753.json');
  assert.equal(tuned.model, 'gemma3:12b-u1');
  assert.equal(tuned.tasks.gsm8k['exact_match,strict-match'], 0.75);
  assert.equal(tuned.tasks.gsm8k['exact_match,flexible-extract'], 0.78);
});

test('older layout: s1.1-1.5B (s1 fork), "N/A" stderr becomes null', () => {
  const a = read('simplescaling__s1.1-1.5B/results_2025-04-13T02-32-46.369989.json');
  assert.equal(a.layout, 'older');
  assert.equal(a.model, 'simplescaling/s1.1-1.5B');
  assert.deepEqual(a.tasks.aime24_nofigures, {
    'exact_match,none': 0.0,
    'exact_match_stderr,none': null,
    'extracted_answers,none': -1,
    'extracted_answers_stderr,none': null,
  });
  assert.equal(a.tasks.openai_math['exact_match,none'], 0.444);
  assert.deepEqual(a.n_shot, { aime24_nofigures: 0, openai_math: 0 });
  assert.deepEqual(a.modelArgs, { pretrained: 'simplescaling/s1.1-1.5B', dtype: 'float16', tensor_parallel_size: '1' });
  assert.deepEqual(a.genKwargs, { max_gen_toks: 32768, max_tokens_thinking: 'auto' });

  const b = read('simplescaling__s1.1-1.5B/results_2025-05-19T00-02-54.892679.json');
  assert.equal(b.tasks.aime24_nofigures['exact_match,none'], 0.03333333333333333);
  assert.equal(b.tasks.gsm8k['exact_match,strict-match'], 0.003032600454890068);
  assert.equal(b.tasks.gsm8k['exact_match,flexible-extract'], 0.31766489764973466);
  assert.equal(b.tasks.openai_math['exact_match,none'], 0.348);
  assert.deepEqual(b.n_shot, { aime24_nofigures: 0, gsm8k: 5, openai_math: 0 });
  assert.deepEqual(b.n_samples.gsm8k, { original: 1319, effective: 1319 });
  assert.deepEqual(b.versions, { aime24_nofigures: 1.0, gsm8k: 3.0, openai_math: 1.0 });
  assert.equal(b.modelArgs.gpu_memory_utilization, '0.85');

  const c = read('simplescaling__s1.1-1.5B/results_2025-05-27T18-21-06.794292.json');
  assert.equal(c.tasks.openai_math['exact_match,none'], 0.6666666666666666);
  assert.deepEqual(c.n_samples.openai_math, { original: 500, effective: 3 });
  assert.equal(c.limit, 3);
});

test('summary shape is exactly the contract', () => {
  const r = read('gemma3-12b-u1_tuned_gsm8k5shot/results_2025-09-09T13-31-53.431753.json');
  assert.deepEqual(Object.keys(toSummary(r)), ['model', 'tasks', 'n_shot', 'n_samples', 'versions']);
});

test('helpers: model_args strings, file-name timestamps, rejection of foreign JSON', () => {
  assert.deepEqual(parseModelArgs('pretrained=/a/b=c,dtype=auto'), { pretrained: '/a/b=c', dtype: 'auto' });
  assert.equal(timestampFromFileName('results_2025-05-19T00-02-54.892679.json'), '2025-05-19T00:02:54.892');
  assert.equal(timestampFromFileName('results.json'), null);
  assert.throws(() => parseResultsJson('{"foo": 1}', 'x.json'), /not an lm-eval results file/);
  assert.throws(() => parseResultsJson('{not json', 'x.json'));
});

test('folder: every results file found, sorted; newest per model', async () => {
  const all = await findResultsFiles(FIX);
  assert.equal(all.length, 7);
  assert.deepEqual(
    all.map((r) => r.file).sort(),
    [
      'Qwen__Qwen2.5-3B-Instruct/results_2026-04-22T23-33-28.586080.json',
      'Qwen__Qwen2.5-3B-Instruct_bf3wait/results_2026-04-29T22-06-51.848056.json',
      'gemma3-12b-it-q4_K_M_base_gsm8k5shot/results_2025-09-09T13-42-42.857006.json',
      'gemma3-12b-u1_tuned_gsm8k5shot/results_2025-09-09T13-31-53.431753.json',
      'simplescaling__s1.1-1.5B/results_2025-04-13T02-32-46.369989.json',
      'simplescaling__s1.1-1.5B/results_2025-05-19T00-02-54.892679.json',
      'simplescaling__s1.1-1.5B/results_2025-05-27T18-21-06.794292.json',
    ],
  );
  for (let i = 1; i < all.length; i++) {
    if (all[i].model === all[i - 1].model) assert.ok((all[i].date ?? '') >= (all[i - 1].date ?? ''), 'dates ascend within a model');
  }
  const latest = newestPerModel(all);
  assert.deepEqual(
    latest.map((r) => [r.model, r.file]).sort(),
    [
      ['Qwen/Qwen2.5-3B-Instruct', 'Qwen__Qwen2.5-3B-Instruct_bf3wait/results_2026-04-29T22-06-51.848056.json'],
      ['gemma3:12b-it-q4_K_M', 'gemma3-12b-it-q4_K_M_base_gsm8k5shot/results_2025-09-09T13-42-42.857006.json'],
      ['gemma3:12b-u1', 'gemma3-12b-u1_tuned_gsm8k5shot/results_2025-09-09T13-31-53.431753.json'],
      ['simplescaling/s1.1-1.5B', 'simplescaling__s1.1-1.5B/results_2025-05-27T18-21-06.794292.json'],
    ],
  );
});

test('folder in the 0.4.0–0.4.2 layout (output_path/results.json) is found too', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dcd-eval-'));
  try {
    mkdirSync(path.join(dir, 'run'));
    copyFileSync(path.join(FIX, 'gemma3-12b-u1_tuned_gsm8k5shot/results_2025-09-09T13-31-53.431753.json'), path.join(dir, 'run', 'results.json'));
    await fs.writeFile(path.join(dir, 'run', 'notes.json'), '{"results": "not a results file"}');
    await fs.writeFile(path.join(dir, 'run', 'broken.json'), '{');
    const found = await findResultsFiles(dir);
    assert.equal(found.length, 1);
    assert.equal(found[0].file, path.join('run', 'results.json'));
    assert.equal(found[0].tasks.gsm8k['exact_match,strict-match'], 0.75);
    assert.equal(found[0].date, new Date(1757424333.1103032 * 1000).toISOString());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  // Only the CLI's text is captured: the test runner's own (binary) reports pass through.
  process.stdout.write = ((s: string | Uint8Array, ...rest: never[]) => (typeof s === 'string' ? ((out += s), true) : ow(s, ...rest))) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array, ...rest: never[]) => (typeof s === 'string' ? ((err += s), true) : ew(s, ...rest))) as typeof process.stderr.write;
  const saved = process.exitCode;
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
    process.exitCode = saved;
  }
}

test('dcd results FILE --json prints the single-file object', async () => {
  const file = path.join(FIX, 'simplescaling__s1.1-1.5B/results_2025-05-19T00-02-54.892679.json');
  const { code, out } = await runCli(['results', file, '--json']);
  assert.equal(code, 0);
  const v = JSON.parse(out);
  assert.deepEqual(Object.keys(v), ['model', 'tasks', 'n_shot', 'n_samples', 'versions']);
  assert.equal(v.model, 'simplescaling/s1.1-1.5B');
  assert.equal(v.tasks.gsm8k['exact_match,flexible-extract'], 0.31766489764973466);
  assert.equal(v.tasks.gsm8k['exact_match_stderr,flexible-extract'], null);
  assert.deepEqual(v.n_samples.aime24_nofigures, { original: 30, effective: 30 });
});

test('dcd results FOLDER --json prints an array; --latest one per model; human output', async () => {
  const all = JSON.parse((await runCli(['results', FIX, '--json'])).out);
  assert.ok(Array.isArray(all));
  assert.equal(all.length, 7);
  for (const e of all) assert.deepEqual(Object.keys(e), ['model', 'tasks', 'n_shot', 'n_samples', 'versions', 'file', 'date']);
  const latest = JSON.parse((await runCli(['results', FIX, '--json', '--latest'])).out);
  assert.equal(latest.length, 4);
  const h = await runCli(['results', path.join(FIX, 'gemma3-12b-it-q4_K_M_base_gsm8k5shot/results_2025-09-09T13-42-42.857006.json')]);
  assert.match(h.out, /gsm8k {2}5-shot {2}n=100\/1319/);
  assert.match(h.out, /exact_match,strict-match\s+0\.7700 ± 0\.0423/);
  const missing = await runCli(['results', path.join(FIX, 'nope.json'), '--json']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.err, /no such file/);
});
