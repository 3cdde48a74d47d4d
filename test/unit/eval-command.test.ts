/** Golden tests of the lm_eval command lines (docs/SPEC.md §6), the DCD task variants and the token handling. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  buildLmEvalCommand,
  buildLmEvalCommands,
  sanitizeModelName,
  vllmProbeArgv,
} from '../../src/core/eval/lmevalCommand';
import { BENCHMARKS, DCD_ANSWER_REGEX } from '../../src/core/eval/benchmarks';
import { redactSecrets } from '../../src/core/eval/redact';
import { shellJoin, shellQuote } from '../../src/core/remote/shellQuote';

const CKPT = '/runs/dcd-1/checkpoint-520';
const OUT = '/runs/dcd-1/eval';
const TOKEN = 'hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789';

test('AIME 2024: 0-shot vLLM call with every setting', () => {
  const c = buildLmEvalCommand({
    benchmark: 'aime24', model: CKPT, outputPath: OUT,
    maxGenToks: 32000, maxModelLen: 32768, tensorParallelSize: 2, gpuMemoryUtilization: 0.85, seed: 42, limit: 10,
  });
  assert.deepEqual(c.argv, [
    'lm_eval', '--model', 'vllm',
    '--model_args', `pretrained=${CKPT},dtype=auto,tensor_parallel_size=2,gpu_memory_utilization=0.85,max_model_len=32768,seed=42`,
    '--tasks', 'aime24', '--num_fewshot', '0', '--batch_size', 'auto', '--apply_chat_template',
    '--gen_kwargs', 'max_gen_toks=32000,skip_special_tokens=False',
    '--seed', '42,42,42,1234', '--limit', '10', '--output_path', OUT, '--log_samples',
  ]);
  assert.deepEqual(c.tasks, ['aime24']);
  assert.deepEqual(c.env, {});
  assert.deepEqual(c.redact, []);
  assert.equal(c.outputPath, OUT);
  assert.equal(c.resultsDir, `${OUT}/__runs__dcd-1__checkpoint-520`);
  assert.equal(c.backend, 'vllm');
  assert.deepEqual(c.warnings, []);
});

test('GSM8K: 5-shot with the harness exemplars, chat template, multi-turn few-shot', () => {
  const c = buildLmEvalCommand({ benchmark: 'gsm8k', model: 'Qwen/Qwen2.5-1.5B-Instruct', outputPath: OUT });
  assert.deepEqual(c.argv, [
    'lm_eval', '--model', 'vllm',
    '--model_args', 'pretrained=Qwen/Qwen2.5-1.5B-Instruct,dtype=auto,tensor_parallel_size=1',
    '--tasks', 'gsm8k', '--num_fewshot', '5', '--batch_size', 'auto', '--apply_chat_template', '--fewshot_as_multiturn',
    '--gen_kwargs', 'skip_special_tokens=False',
    '--output_path', OUT, '--log_samples',
  ]);
  assert.equal(c.numFewshot, 5);
  assert.equal(c.resultsDir, `${OUT}/Qwen__Qwen2.5-1.5B-Instruct`);
});

test('GPQA Diamond: 0-shot multiple choice; the token goes to HF_TOKEN and redact, never argv', () => {
  const c = buildLmEvalCommand({ benchmark: 'gpqa_diamond_zeroshot', model: CKPT, outputPath: OUT, hfToken: `  ${TOKEN}\n`, maxGenToks: 512 });
  assert.deepEqual(c.argv, [
    'lm_eval', '--model', 'vllm',
    '--model_args', `pretrained=${CKPT},dtype=auto,tensor_parallel_size=1`,
    '--tasks', 'gpqa_diamond_zeroshot', '--num_fewshot', '0', '--batch_size', 'auto', '--apply_chat_template',
    '--output_path', OUT, '--log_samples',
  ]);
  assert.deepEqual(c.env, { HF_TOKEN: TOKEN });
  assert.deepEqual(c.redact, [TOKEN]);
  for (const a of c.argv) assert.ok(!a.includes(TOKEN) && !a.includes('hf_'), `token leaked into argv: ${a}`);
  assert.ok(!shellJoin(c.argv).includes(TOKEN));
  // max_gen_toks is meaningless for a log-likelihood task: not passed, and said so
  assert.ok(c.warnings.some((w) => w.includes('max_gen_toks')));
});

test('GPQA without a token warns that the dataset is gated', () => {
  const c = buildLmEvalCommand({ benchmark: 'gpqa_diamond_zeroshot', model: CKPT, outputPath: OUT });
  assert.deepEqual(c.env, {});
  assert.ok(c.warnings.some((w) => /gated/.test(w)));
  // a non-gated benchmark gets the token too when given (model downloads may need it), still only in env
  const g = buildLmEvalCommand({ benchmark: 'gsm8k', model: CKPT, outputPath: OUT, hfToken: TOKEN });
  assert.deepEqual(g.env, { HF_TOKEN: TOKEN });
  assert.ok(!g.argv.join(' ').includes(TOKEN));
});

test('DCD runs: stock task + dcd_ variant in one call, --include_path, special tokens kept', () => {
  const a = buildLmEvalCommand({ benchmark: 'aime24', model: CKPT, outputPath: OUT, dcd: true, includePath: '/srv/dcd/python-backend/lmeval_tasks', maxGenToks: 16384 });
  assert.deepEqual(a.tasks, ['aime24', 'dcd_aime24']);
  assert.deepEqual(a.argv, [
    'lm_eval', '--model', 'vllm',
    '--model_args', `pretrained=${CKPT},dtype=auto,tensor_parallel_size=1`,
    '--tasks', 'aime24,dcd_aime24', '--num_fewshot', '0', '--batch_size', 'auto', '--apply_chat_template',
    '--gen_kwargs', 'max_gen_toks=16384,skip_special_tokens=False',
    '--include_path', '/srv/dcd/python-backend/lmeval_tasks',
    '--output_path', OUT, '--log_samples',
  ]);
  const g = buildLmEvalCommand({ benchmark: 'gsm8k', model: CKPT, outputPath: OUT, dcd: true, maxGenToks: 4096 });
  assert.deepEqual(g.tasks, ['gsm8k', 'dcd_gsm8k']);
  const i = g.argv.indexOf('--include_path');
  assert.equal(g.argv[i + 1], 'python-backend/lmeval_tasks');
  assert.deepEqual(g.warnings, []);
  // variant only
  const only = buildLmEvalCommand({ benchmark: 'gsm8k', model: CKPT, outputPath: OUT, dcd: true, includeStockTask: false, maxGenToks: 4096 });
  assert.deepEqual(only.tasks, ['dcd_gsm8k']);
  // GSM8K without max_gen_toks: 256 tokens cannot hold a DCD trace
  const short = buildLmEvalCommand({ benchmark: 'gsm8k', model: CKPT, outputPath: OUT, dcd: true });
  assert.ok(short.warnings.some((w) => w.includes('256')));
  // GPQA has no generated text: stock only, no include path, explained
  const q = buildLmEvalCommand({ benchmark: 'gpqa_diamond_zeroshot', model: CKPT, outputPath: OUT, dcd: true, hfToken: TOKEN });
  assert.deepEqual(q.tasks, ['gpqa_diamond_zeroshot']);
  assert.ok(!q.argv.includes('--include_path'));
  assert.ok(q.warnings.some((w) => w.includes('log-likelihood')));
});

test('hf fallback where vLLM is missing: --model hf, a warning, no vLLM-only args', () => {
  const c = buildLmEvalCommand({
    benchmark: 'gsm8k', model: CKPT, outputPath: OUT, vllmAvailable: false, dcd: true,
    tensorParallelSize: 2, gpuMemoryUtilization: 0.9, maxModelLen: 8192, maxGenToks: 2048, seed: 7, applyChatTemplate: false,
  });
  assert.equal(c.backend, 'hf');
  assert.deepEqual(c.argv, [
    'lm_eval', '--model', 'hf',
    '--model_args', `pretrained=${CKPT},dtype=auto,max_length=8192,parallelize=True`,
    '--tasks', 'gsm8k,dcd_gsm8k', '--num_fewshot', '5', '--batch_size', 'auto',
    '--gen_kwargs', 'max_gen_toks=2048',
    '--seed', '7,7,7,1234', '--include_path', 'python-backend/lmeval_tasks', '--output_path', OUT, '--log_samples',
  ]);
  assert.ok(c.warnings.some((w) => w.includes('falling back to `--model hf`')));
  assert.ok(c.warnings.some((w) => w.includes('bare "answer" line')));
});

test('one call per benchmark; python -m form; vLLM probe', () => {
  const cs = buildLmEvalCommands(['aime24', 'gsm8k', 'gpqa_diamond_zeroshot'], { model: CKPT, outputPath: OUT, python: '/opt/venv/bin/python' });
  assert.deepEqual(cs.map((c) => c.benchmark), ['aime24', 'gsm8k', 'gpqa_diamond_zeroshot']);
  assert.deepEqual(cs.map((c) => c.argv[c.argv.indexOf('--num_fewshot') + 1]), ['0', '5', '0']);
  for (const c of cs) assert.deepEqual(c.argv.slice(0, 3), ['/opt/venv/bin/python', '-m', 'lm_eval']);
  for (const c of cs) assert.ok(c.argv.includes('--log_samples') && c.argv.includes('--output_path'));
  assert.deepEqual(vllmProbeArgv('/opt/venv/bin/python'), ['/opt/venv/bin/python', '-c', 'import vllm']);
});

test('invalid settings are rejected', () => {
  const base = { benchmark: 'gsm8k' as const, model: CKPT, outputPath: OUT };
  assert.throws(() => buildLmEvalCommand({ ...base, model: '' }), /model is required/);
  assert.throws(() => buildLmEvalCommand({ ...base, model: '/ckpt/a,b' }), /comma/);
  assert.throws(() => buildLmEvalCommand({ ...base, outputPath: ' ' }), /outputPath/);
  assert.throws(() => buildLmEvalCommand({ ...base, gpuMemoryUtilization: 1.5 }), /gpuMemoryUtilization/);
  assert.throws(() => buildLmEvalCommand({ ...base, gpuMemoryUtilization: 0 }), /gpuMemoryUtilization/);
  assert.throws(() => buildLmEvalCommand({ ...base, tensorParallelSize: 0 }), /tensorParallelSize/);
  assert.throws(() => buildLmEvalCommand({ ...base, maxGenToks: 2.5 }), /maxGenToks/);
  assert.throws(() => buildLmEvalCommand({ ...base, maxGenToks: 4096, maxModelLen: 4096 }), /room/);
  assert.throws(() => buildLmEvalCommand({ ...base, limit: 1.5 }), /limit/);
  assert.throws(() => buildLmEvalCommand({ ...base, seed: -1 }), /seed/);
  assert.throws(() => buildLmEvalCommand({ ...base, hfToken: 'hf_a b' }), /whitespace/);
  assert.throws(() => buildLmEvalCommand({ ...base, benchmark: 'mmlu' as never }), /unknown benchmark/);
  // fractions of the dataset are a valid --limit
  const c = buildLmEvalCommand({ ...base, limit: 0.25 });
  assert.equal(c.argv[c.argv.indexOf('--limit') + 1], '0.25');
});

test('sanitizeModelName matches the folder names lm-eval wrote in the fixtures', () => {
  assert.equal(sanitizeModelName('Qwen/Qwen2.5-3B-Instruct'), 'Qwen__Qwen2.5-3B-Instruct');
  assert.equal(sanitizeModelName('simplescaling/s1.1-1.5B'), 'simplescaling__s1.1-1.5B');
  assert.equal(sanitizeModelName('gemma3:12b-it-q4_K_M'), 'gemma3__12b-it-q4_K_M');
});

test('shell quoting: a POSIX shell gets back exactly the argv', () => {
  const argv = ['printf', '%s\\n', 'plain', 'with space', "it's", '$HOME', '`id`', 'a"b', '', 'new\nline', 'semi;colon', '*'];
  assert.equal(shellQuote('plain'), 'plain');
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
  assert.equal(shellQuote(''), "''");
  assert.throws(() => shellQuote('a\0b'), /NUL/);
  const out = execFileSync('/bin/sh', ['-c', shellJoin(argv)], { encoding: 'utf8' });
  assert.deepEqual(out.split('\n').slice(0, -1), argv.slice(2).flatMap((a) => a.split('\n')));
  assert.equal(redactSecrets(`token=${TOKEN} again ${TOKEN}`, [TOKEN]), 'token=*** again ***');
});

test('the DCD task YAMLs carry the same answer regex and the stock settings', () => {
  const dir = path.join(__dirname, '../../python-backend/lmeval_tasks');
  const yamlLine = `regex_pattern: '${DCD_ANSWER_REGEX}'`;
  for (const [file, bench, filters] of [
    ['dcd_gsm8k.yaml', BENCHMARKS.gsm8k, ['strict-match', 'flexible-extract', 'dcd-strict-match', 'dcd-flexible-extract', 'dcd-extract']],
    ['dcd_aime24.yaml', BENCHMARKS.aime24, ['none', 'dcd-answer', 'dcd-extract']],
  ] as const) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    assert.ok(text.includes(`task: ${bench.dcdTask}\n`), `${file} names task ${bench.dcdTask}`);
    assert.ok(text.includes(`num_fewshot: ${bench.numFewshot}\n`), `${file} keeps ${bench.numFewshot} shots`);
    const names = [...text.matchAll(/- name: "([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(names, filters);
    // every metric key the benchmark registry expects is produced by a filter of the YAML
    for (const k of bench.dcdMetrics ?? []) assert.ok(names.includes(k.split(',')[1]), `${file} yields ${k}`);
    const count = text.split(yamlLine).length - 1;
    // the regex-based dcd- filters carry the regex; dcd-extract runs utils.dcd_extract (same regex, in utils.py)
    assert.equal(count, filters.filter((f) => f.startsWith('dcd-') && f !== 'dcd-extract').length, `${file}: DCD regex must match DCD_ANSWER_REGEX`);
    assert.ok(text.includes('filter_fn: !function utils.dcd_extract'), `${file}: dcd-extract uses utils.dcd_extract`);
  }
  const py = readFileSync(path.join(dir, 'utils.py'), 'utf8');
  assert.ok(py.includes(`DCD_ANSWER_REGEX = r"${DCD_ANSWER_REGEX}"`));
});
