/** Offline benchmark data (core/eval/offlineData.ts): the data dir layout, its checks, the task overrides, and the offline lm_eval command. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildLmEvalCommand } from '../../src/core/eval/lmevalCommand';
import { DATA_LAYOUT, firstRowColumns, readDataDir, scanDataDir, taskOverrides } from '../../src/core/eval/offlineData';
import { evalRunnerScript, evalSidecarCommand, overrideEvalSettings, parseProbe, probeCommand } from '../../src/core/jobs/evalDispatch';
import { parseTasks } from '../../src/cli/commands/eval';

const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'lmeval-data');

test('the fixture data dir holds all three benchmarks, in their Hub schemas', async () => {
  const scan = await readDataDir(FIXTURE, ['aime24', 'gsm8k', 'gpqa_diamond_zeroshot']);
  assert.deepEqual(scan.problems, []);
  assert.deepEqual(scan.found.gsm8k, { benchmark: 'gsm8k', format: 'json', files: { test: 'gsm8k/test.jsonl', train: 'gsm8k/train.jsonl' } });
  assert.deepEqual(scan.found.aime24, { benchmark: 'aime24', format: 'json', files: { train: 'aime24/train.jsonl' } });
  assert.deepEqual(scan.found.gpqa_diamond_zeroshot, { benchmark: 'gpqa_diamond_zeroshot', format: 'csv', files: { train: 'gpqa_diamond/train.csv' } });
});

test('scan: absent folders are not offered; incomplete, ambiguous or mixed ones are problems', () => {
  assert.deepEqual(scanDataDir([]).found, {});
  const s = scanDataDir(['gsm8k/test.jsonl', 'aime24/train.jsonl', 'aime24/train.csv', 'gpqa_diamond/README.md', 'notes.txt']);
  assert.deepEqual(Object.keys(s.found), []);
  assert.deepEqual(s.problems, [
    'aime24/: more than one file for the train split (aime24/train.jsonl, aime24/train.csv)',
    'gsm8k/: no train split (expected gsm8k/train.jsonl, .json, .csv or .parquet in the schema of openai/gsm8k (main))',
    'gpqa_diamond/: no train split (expected gpqa_diamond/train.jsonl, .json, .csv or .parquet in the schema of Idavidrein/gpqa (gpqa_diamond))',
  ]);
  assert.match(scanDataDir(['gsm8k/test.jsonl', 'gsm8k/train.parquet']).problems[0], /one format \(found json and parquet\)/);
  assert.equal(scanDataDir(['gsm8k/test.parquet', 'gsm8k/train.parquet']).found.gsm8k?.format, 'parquet');
});

test('readDataDir names every problem, with the file and line', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dcd-offline-'));
  try {
    mkdirSync(path.join(dir, 'gsm8k'));
    writeFileSync(path.join(dir, 'gsm8k', 'test.jsonl'), '{"problem": "1+1", "answer": "#### 2"}\n');
    writeFileSync(path.join(dir, 'gsm8k', 'train.jsonl'), 'not json\n');
    mkdirSync(path.join(dir, 'gpqa_diamond'));
    writeFileSync(path.join(dir, 'gpqa_diamond', 'train.csv'), 'Question,Correct Answer\nq,a\n');
    await assert.rejects(readDataDir(dir, ['gsm8k', 'aime24', 'gpqa_diamond_zeroshot']), (err: Error) => {
      const lines = err.message.split('\n').slice(1).map((l) => l.trim());
      assert.deepEqual(lines, [
        'gsm8k/test.jsonl:1: missing column "question" (the schema of openai/gsm8k (main))',
        lines[1],
        'aime24/: missing: AIME 2024 needs aime24/train.jsonl (rows in the schema of Maxwell-Jia/AIME_2024)',
        'gpqa_diamond/train.csv:1: missing columns "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3" (the schema of Idavidrein/gpqa (gpqa_diamond))',
      ]);
      assert.match(lines[1], /^gsm8k\/train\.jsonl:1: not valid JSON/);
      return true;
    });
    await assert.rejects(readDataDir(path.join(dir, 'nope'), ['gsm8k']), /benchmark data dir .*nope: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('first-row columns: JSON Lines, a JSON array, CSV with quoted commas', () => {
  assert.deepEqual(firstRowColumns('{"a": 1, "b": 2}\n{"c": 3}\n', 'json'), ['a', 'b']);
  assert.deepEqual(firstRowColumns('[{"x": 1}]', 'json'), ['x']);
  assert.deepEqual(firstRowColumns('"Record ID","Correct, Answer",Question\r\n1,2,3\n', 'csv'), ['Record ID', 'Correct, Answer', 'Question']);
  assert.equal(firstRowColumns('PAR1', 'parquet'), undefined);
});

test('overrides include the stock YAML (or the dcd_ one) and swap only where the rows come from', async () => {
  const { found } = await readDataDir(FIXTURE, ['aime24', 'gsm8k', 'gpqa_diamond_zeroshot']);
  const o = taskOverrides({
    tasks: ['gsm8k', 'dcd_gsm8k', 'aime24', 'gpqa_diamond_zeroshot'], data: found, hostDataDir: '/h/data/abc/',
    lmEvalTasksDir: '/venv/lm_eval/tasks', dcdTasksDir: '/h/backend/k/lmeval_tasks',
  });
  assert.deepEqual(o.map((x) => [x.file, x.includes]), [
    ['gsm8k.yaml', '/venv/lm_eval/tasks/gsm8k/gsm8k.yaml'],
    ['dcd_gsm8k.yaml', '/h/backend/k/lmeval_tasks/dcd_gsm8k.yaml'],
    ['aime24.yaml', '/venv/lm_eval/tasks/aime/aime24.yaml'],
    ['gpqa_diamond_zeroshot.yaml', '/venv/lm_eval/tasks/gpqa/zeroshot/gpqa_diamond_zeroshot.yaml'],
  ]);
  assert.equal(o[0].text, [
    '# Offline copy of gsm8k (generated by DCD Studio): the task as included, its rows from the uploaded data dir.',
    'include: "/venv/lm_eval/tasks/gsm8k/gsm8k.yaml"',
    'task: gsm8k',
    'dataset_path: json',
    'dataset_name: null',
    'dataset_kwargs:',
    '  data_files:',
    '    test: "/h/data/abc/gsm8k/test.jsonl"',
    '    train: "/h/data/abc/gsm8k/train.jsonl"',
    '',
  ].join('\n'));
  assert.match(o[3].text, /dataset_path: csv\n[\s\S]*train: "\/h\/data\/abc\/gpqa_diamond\/train\.csv"/);
  assert.throws(() => taskOverrides({ tasks: ['gsm8k'], data: {}, hostDataDir: '/d', lmEvalTasksDir: '/t' }), /no gsm8k\/ for task gsm8k/);
  assert.throws(() => taskOverrides({ tasks: ['mmlu'], data: found, hostDataDir: '/d', lmEvalTasksDir: '/t' }), /no offline data layout for task "mmlu"/);
  assert.equal(DATA_LAYOUT.gpqa_diamond_zeroshot.folder, 'gpqa_diamond');
});

test('offline lm_eval command: the Hub off in the environment, the overrides as --include_path, no token warning', () => {
  const c = buildLmEvalCommand({ benchmark: 'gpqa_diamond_zeroshot', model: '/m', outputPath: '/o', offline: true, taskOverridesDir: '/t', backend: 'hf' });
  assert.deepEqual(c.env, { HF_DATASETS_OFFLINE: '1', HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' });
  assert.deepEqual(c.argv.slice(c.argv.indexOf('--include_path'), c.argv.indexOf('--include_path') + 2), ['--include_path', '/t']);
  assert.deepEqual(c.warnings, []);
  const d = buildLmEvalCommand({ benchmark: 'gsm8k', model: '/m', outputPath: '/o', offline: true, dcd: true, maxGenToks: 64, taskOverridesDir: '/t', includePath: '/dcd' });
  assert.equal(d.argv.filter((a) => a === '--include_path').length, 1, 'one --include_path: the overrides (they include the dcd_ YAMLs)');
  assert.equal(d.argv[d.argv.indexOf('--include_path') + 1], '/t');
  const cache = buildLmEvalCommand({ benchmark: 'aime24', model: '/m', outputPath: '/o', offline: true });
  assert.ok(cache.warnings.some((w) => /host's Hugging Face datasets cache/.test(w)));
  assert.ok(!cache.argv.includes('--include_path'));
});

test('the probe finds lm-eval\'s task folder; dcd eval --tasks takes benchmark ids once each', () => {
  assert.match(probeCommand('/v/bin/python'), /find_spec\("lm_eval"\)/);
  assert.deepEqual(parseProbe('lm_eval=0\nvllm=1\nlm_eval_tasks=/v/lib/lm_eval/tasks\n'), { python: true, lmEval: true, vllm: false, lmEvalTasksDir: '/v/lib/lm_eval/tasks' });
  assert.deepEqual(parseProbe('lm_eval=1\nvllm=1\n'), { python: true, lmEval: false, vllm: false });
  assert.deepEqual(parseTasks('aime24, gsm8k,aime24'), ['aime24', 'gsm8k']);
  assert.throws(() => parseTasks('gsm8k,mmlu'), /unknown benchmark "mmlu" \(known: aime24, gsm8k, gpqa_diamond_zeroshot\)/);
  assert.throws(() => parseTasks(' , '), /at least one/);
});

test('a run\'s settings: the dcd.eval.* settings, the caller\'s defined overrides, then --limit', () => {
  const base = { applyChatTemplate: true, maxGenToks: 32768, limit: 100, seed: 1 };
  assert.deepEqual(overrideEvalSettings(base), base);
  assert.deepEqual(overrideEvalSettings(base, { maxGenToks: 32, applyChatTemplate: false, batchSize: 1, seed: undefined }, 5),
    { applyChatTemplate: false, maxGenToks: 32, limit: 5, seed: 1, batchSize: 1 });
  assert.deepEqual(overrideEvalSettings(base, { limit: 7 }), { ...base, limit: 7 });
});

test('the eval job writes the lineage sidecar on the host: the backend on PYTHONPATH, every word quoted, --limit only when whole', () => {
  const cmd = evalSidecarCommand({ python: '/venv/bin/python', backendDir: "/h/it's/backend", resultsDir: '/h/evals/e1/__m__final', model: '/h/jobs/a b/run/final', tasks: ['gsm8k', 'dcd_gsm8k'], limit: 5, job: 'j1', host: 'gpu' });
  assert.equal(cmd, "PYTHONPATH='/h/it'\\''s/backend' /venv/bin/python -m dcd_backend.lineage eval-sidecar /h/evals/e1/__m__final --model '/h/jobs/a b/run/final' --job j1 --host gpu --tasks gsm8k,dcd_gsm8k --limit 5");
  assert.ok(!evalSidecarCommand({ python: 'python3', backendDir: '/b', resultsDir: '/r', model: '/m', tasks: [], limit: 0.5, job: 'j', host: 'h' }).includes('--limit'), 'a fractional limit is not a count');
  // The runner runs it only after lm_eval succeeded; its output goes to the log and cannot turn the job's status.
  const script = evalRunnerScript('j1', '/h/jobs/j1', ['python3', '-m', 'lm_eval'], 'python3', undefined, cmd);
  assert.match(script, /rc=\$\?\n(?:.*\n)*?if \[ "\$rc" -eq 0 \] && \[ ! -e cancel \]; then\n {2}PYTHONPATH=.* >> log\.txt 2>&1 < \/dev\/null \|\| echo "warning: .*" >> log\.txt\nfi\necho "\$rc" > exit_code/);
});
