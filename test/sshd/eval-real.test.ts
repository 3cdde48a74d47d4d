/**
 * lm-evaluation-harness for real (0.4.13 from the project venv, hf backend, CPU), dispatched by the jobs
 * engine like Evaluate Model and `dcd eval submit`, with the Hugging Face Hub turned off: every task reads
 * only the uploaded benchmark data dir (test/fixtures/lmeval-data) through the generated task overrides.
 *  - on the `local` host: the tiny random Qwen2 (scripts/make-tiny-model --format hf) on AIME 2024, GSM8K
 *    (5-shot, chat template, multi-turn) with their dcd_ variants, and GPQA Diamond (user-supplied copy);
 *  - on the loopback SSH host (real OpenSSH): train the tiny model (smoke preset), then evaluate its final/
 *    folder on GSM8K + dcd_gsm8k, one chain;
 *  - `dcd eval submit` over SSH with the model folder and the data dir uploaded, then `dcd job logs --follow`,
 *    `dcd job fetch` and `dcd results` on what came back.
 * --limit 2 and max_gen_toks 16 keep each lm_eval call to tens of seconds (most of it Python start-up).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildLmEvalCommand } from '../../src/core/eval/lmevalCommand';
import { findResultsFiles, type EvalResultFile } from '../../src/core/eval/results';
import { JobEngine } from '../../src/core/jobs/engine';
import { dispatchEval, followEval } from '../../src/core/jobs/evalDispatch';
import { parseEvents } from '../../src/core/jobs/events';
import { JobStore } from '../../src/core/jobs/store';
import { createConnector, type HostProfile, type LocalProfile, type SshProfile } from '../../src/core/remote/profiles';
import { killLeftoverJobs, loopbackProfile, startSshd, type Sshd } from '../support/sshd';
import { dcd as runDcd } from '../support/cli';

const ROOT = path.resolve(__dirname, '..', '..');
const BACKEND = path.join(ROOT, 'python-backend');
const DATA = path.join(ROOT, 'test', 'fixtures', 'lmeval-data');
const PY = path.join(ROOT, '.venv', 'bin', 'python');
const SETTINGS = { limit: 2, maxGenToks: 16, batchSize: 1, backend: 'hf' as const, dtype: 'float32' as const, seed: 3 };

let sshd: Sshd;
let tmp: string;
let knownHosts: string;
let model: string;

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'dcd-eval-real-'));
  sshd = await startSshd({ dir: path.join(tmp, 'sshd') });
  knownHosts = path.join(tmp, 'known_hosts');
  writeFileSync(knownHosts, sshd.knownHostsLine + '\n');
  const made = spawnSync(PY, ['-c', 'from tests.helpers import tiny_hf_model\nprint(tiny_hf_model())'], { cwd: BACKEND, encoding: 'utf8', timeout: 600_000 });
  assert.equal(made.status, 0, made.stderr);
  model = made.stdout.trim().split('\n').at(-1)!;
});

after(async () => {
  killLeftoverJobs(tmp);
  await sshd?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function engine(store: string): JobEngine {
  return new JobEngine({
    store: new JobStore(store),
    backendDir: BACKEND,
    connectorFor: (profile: HostProfile) => createConnector(profile, { hostKeyPolicy: async () => 'reject', trustStoreFile: path.join(tmp, 'trust'), sshConfigFile: false, agent: false }),
  });
}

const localProfile = (): LocalProfile => ({ name: 'local', kind: 'local', python: PY, root: path.join(tmp, 'local-root') });
const sshProfile = (): SshProfile => loopbackProfile(sshd, { knownHosts, python: PY, root: path.join(tmp, 'remote') });

function lines(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim());
}

/** Every results file and samples file lm-eval wrote, checked: the tasks, n-samples = the limit, one sample line per document. */
async function checkRun(dir: string, tasks: string[], limit: number): Promise<EvalResultFile[]> {
  const results = await findResultsFiles(dir);
  const seen = results.flatMap((r) => Object.keys(r.tasks)).sort();
  assert.deepEqual(seen, [...tasks].sort(), `tasks in the results files under ${dir}`);
  for (const r of results) {
    assert.equal(r.backend, 'hf');
    assert.equal(r.limit, limit);
    for (const t of Object.keys(r.tasks)) {
      assert.equal(r.n_samples[t]?.effective, limit, `${t}: n-samples`);
      const samples = readdirSync(dir).filter((f) => f.startsWith(`samples_${t}_`) && f.endsWith('.jsonl'));
      assert.equal(samples.length, 1, `${t}: one samples file (${readdirSync(dir).join(', ')})`);
      const docs = lines(path.join(dir, samples[0])).map((l) => JSON.parse(l) as { doc_id: number; doc: Record<string, unknown>; resps: unknown[]; filter: string });
      // One line per document and filter (dcd_gsm8k: 4 filters).
      const filters = new Set(docs.map((x) => x.filter));
      assert.equal(new Set(docs.map((x) => x.doc_id)).size, limit, `${t}: the documents of the limit`);
      assert.equal(docs.length, limit * filters.size, `${t}: one sample per document and filter`);
      assert.ok(docs.every((d) => Array.isArray(d.resps) && d.resps.length > 0), `${t}: generations or log-likelihoods recorded`);
    }
  }
  return results;
}

const seconds = (t0: number) => ((Date.now() - t0) / 1000).toFixed(1);

test("every command line buildLmEvalCommand makes parses with lm-eval 0.4.13's own CLI (legacy form: `run` inserted)", () => {
  const argvs: string[][] = [];
  for (const benchmark of ['aime24', 'gsm8k', 'gpqa_diamond_zeroshot'] as const) {
    for (const backend of ['vllm', 'hf'] as const) {
      const c = buildLmEvalCommand({
        benchmark, backend, model: '/models/ckpt', outputPath: '/o', dcd: true, maxGenToks: 16, maxModelLen: 4096, tensorParallelSize: 2,
        gpuMemoryUtilization: 0.8, seed: 3, limit: 0.5, batchSize: 4, dtype: 'bfloat16', offline: true, taskOverridesDir: '/t',
      });
      argvs.push(c.argv.slice(1));
    }
  }
  argvs.push(buildLmEvalCommand({ benchmark: 'gsm8k', model: 'Qwen/Qwen2.5-1.5B-Instruct', outputPath: '/o', applyChatTemplate: false }).argv.slice(1));
  const script = [
    'import json, sys',
    'from lm_eval._cli import HarnessCLI',
    'out = []',
    'for argv in json.loads(sys.stdin.read()):',
    '    sys.argv = ["lm_eval"] + argv',
    '    a = HarnessCLI().parse_args()',
    '    keys = ["command", "tasks", "model", "model_args", "num_fewshot", "gen_kwargs", "seed", "limit", "batch_size", "apply_chat_template", "fewshot_as_multiturn", "include_path", "log_samples"]',
    '    out.append({k: getattr(a, k, None) for k in keys})',
    'print(json.dumps(out))',
  ].join('\n');
  const r = spawnSync(PY, ['-c', script], { input: JSON.stringify(argvs), encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const parsed = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  assert.equal(parsed.length, argvs.length);
  assert.ok(parsed.every((p) => p.command === 'run' && p.log_samples === true));
  const gsmVllm = parsed[2];
  assert.deepEqual(gsmVllm.tasks, ['gsm8k', 'dcd_gsm8k']);
  assert.equal(gsmVllm.model, 'vllm');
  assert.deepEqual(gsmVllm.model_args, { pretrained: '/models/ckpt', dtype: 'bfloat16', tensor_parallel_size: 2, gpu_memory_utilization: 0.8, max_model_len: 4096, seed: 3 });
  assert.equal(gsmVllm.num_fewshot, 5);
  assert.deepEqual(gsmVllm.gen_kwargs, { max_gen_toks: 16, skip_special_tokens: false });
  assert.deepEqual(gsmVllm.seed, [3, 3, 3, 1234]);
  assert.equal(gsmVllm.limit, 0.5);
  assert.equal(gsmVllm.batch_size, '4');
  assert.equal(gsmVllm.apply_chat_template, true);
  assert.equal(gsmVllm.fewshot_as_multiturn, true);
  assert.equal(gsmVllm.include_path, '/t');
  const gsmHf = parsed[3];
  assert.deepEqual(gsmHf.model_args, { pretrained: '/models/ckpt', dtype: 'bfloat16', max_length: 4096, parallelize: true });
  assert.deepEqual(gsmHf.gen_kwargs, { max_gen_toks: 16 });
  assert.deepEqual(parsed[4].tasks, ['gpqa_diamond_zeroshot'], 'GPQA is multiple choice: no dcd_ variant');
  assert.equal(parsed[4].gen_kwargs, null);
  const plain = parsed[6];
  assert.deepEqual(plain.tasks, ['gsm8k']);
  assert.ok(!plain.apply_chat_template);
  assert.equal(plain.include_path, null);
});

test('local host, Hub off, uploaded data only: AIME 2024, GSM8K 5-shot multi-turn, GPQA Diamond (local copy), stock and dcd_', { timeout: 900_000 }, async () => {
  const e = engine(path.join(tmp, 'jobs-local.json'));
  try {
    const t0 = Date.now();
    const d = await dispatchEval(e, localProfile(), {
      model, benchmarks: ['aime24', 'gsm8k', 'gpqa_diamond_zeroshot'], dcd: true, backendDir: BACKEND, dataDir: DATA, settings: SETTINGS,
    });
    assert.equal(d.offline, true);
    assert.equal(d.hostDataDir, DATA, 'local: the data dir is read in place');
    const gsm = d.jobs[1].argv;
    assert.ok(gsm.includes('--apply_chat_template') && gsm.includes('--fewshot_as_multiturn'));
    assert.equal(gsm[gsm.indexOf('--num_fewshot') + 1], '5');
    const include = gsm[gsm.indexOf('--include_path') + 1];
    assert.match(readFileSync(path.join(include, 'dcd_gsm8k.yaml'), 'utf8'), /lmeval_tasks\/dcd_gsm8k\.yaml/);
    const cfg = JSON.parse(readFileSync(path.join(d.jobs[0].record.remote!.jobDir, 'job.json'), 'utf8')) as { env: string[] };
    assert.deepEqual([...cfg.env].sort(), ['HF_DATASETS_OFFLINE', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE']);

    const times: number[] = [];
    let last = Date.now();
    const done = await followEval(e, d, [], { followOptions: { intervalMs: 500 }, onDone: () => { times.push((Date.now() - last) / 1000); last = Date.now(); } });
    const logs = d.jobs.map((j) => readFileSync(path.join(j.record.remote!.jobDir, 'log.txt'), 'utf8'));
    assert.deepEqual(done.map((x) => x.status), ['succeeded', 'succeeded', 'succeeded'], logs.map((l) => l.slice(-3000)).join('\n-----\n'));
    for (const log of logs) assert.match(log, /Task: \S+ \(.*eval-tasks\/[^/]+\/\S+\.yaml\)/, 'lm-eval took the tasks from the overrides');

    const fetched = await e.fetch(d.jobs[2].id, 'default', path.join(tmp, 'fetched-local'));
    assert.equal(fetched[0].kind, 'results');
    const results = await checkRun(fetched[0].localPath, ['aime24', 'dcd_aime24', 'gsm8k', 'dcd_gsm8k', 'gpqa_diamond_zeroshot'], 2);
    const gsmResult = results.find((r) => r.tasks.gsm8k)!;
    assert.equal(gsmResult.n_shot.gsm8k, 5);
    assert.ok('exact_match,strict-match' in gsmResult.tasks.gsm8k && 'exact_match,flexible-extract' in gsmResult.tasks.gsm8k);
    assert.ok(typeof results.find((r) => r.tasks.gpqa_diamond_zeroshot)!.tasks.gpqa_diamond_zeroshot['acc,none'] === 'number');
    // The GSM8K samples carry the uploaded rows and a 5-exemplar multi-turn prompt.
    const gsmSamples = readdirSync(fetched[0].localPath).find((f) => f.startsWith('samples_gsm8k_'))!;
    const first = JSON.parse(lines(path.join(fetched[0].localPath, gsmSamples))[0]) as { doc: { question: string }; arguments: unknown };
    assert.equal(first.doc.question, (JSON.parse(lines(path.join(DATA, 'gsm8k', 'test.jsonl'))[0]) as { question: string }).question);
    const prompt = JSON.stringify(first.arguments);
    assert.equal((prompt.match(/<\|im_start\|>user/g) ?? []).length, 6, '5 exemplars + the question, each a user turn');
    const train = lines(path.join(DATA, 'gsm8k', 'train.jsonl')).map((l) => (JSON.parse(l) as { question: string }).question);
    assert.equal(train.filter((q) => prompt.includes(JSON.stringify(q).slice(1, -1))).length, 5, 'the 5 exemplars are rows of the uploaded train split');
    process.stdout.write(`# local: lm_eval calls ${times.map((t) => `${t.toFixed(1)} s`).join(', ')} (aime24+dcd, gsm8k+dcd 5-shot, gpqa); all ${seconds(t0)} s\n`);
  } finally {
    await e.close();
  }
});

test('loopback SSH host: train the tiny model, then evaluate its final/ folder on GSM8K offline (one chain)', { timeout: 900_000 }, async () => {
  const e = engine(path.join(tmp, 'jobs-chain.json'));
  try {
    const exportDir = path.join(tmp, 'hf-export');
    const made = spawnSync(PY, ['-c', [
      'from dcd_backend.synth import write_export',
      'from dcd_backend.export import sha256_file',
      'from pathlib import Path',
      `m = Path(${JSON.stringify(model)})`,
      `write_export(${JSON.stringify(exportDir)}, samples=8, vocab_size=512, tokenizer_sha256=sha256_file(m / "tokenizer.json"), plan_preset="smoke", grad_accum=2, max_steps=2)`,
    ].join('\n')], { cwd: BACKEND, encoding: 'utf8', timeout: 300_000 });
    assert.equal(made.status, 0, made.stderr);
    const t0 = Date.now();
    const rec = await e.submit(sshProfile(), { data: exportDir, model, preset: 'smoke' });
    const follower = e.followEvents(rec.id, 0, () => undefined, { intervalMs: 500 });
    const trained = await follower.done;
    const jobDir = rec.remote!.jobDir;
    assert.equal(trained.status, 'succeeded', readFileSync(path.join(jobDir, 'log.txt'), 'utf8').slice(-3000));
    const { events } = parseEvents(readFileSync(path.join(jobDir, 'events.jsonl')));
    const doneEvent = events.at(-1) as { event: string; model_dir: string };
    assert.equal(doneEvent.event, 'done');
    const trainSeconds = seconds(t0);
    const final = (await e.artifacts(rec.id)).find((a) => a.kind === 'model')!;
    assert.ok(final.path.endsWith('final'), final.path);

    const t1 = Date.now();
    const d = await dispatchEval(e, sshProfile(), { model: final.path, benchmarks: ['gsm8k'], dcd: true, backendDir: BACKEND, dataDir: DATA, settings: SETTINGS });
    assert.ok(d.hostDataDir && d.hostDataDir.startsWith(path.join(tmp, 'remote', 'data')), `data uploaded: ${d.hostDataDir}`);
    assert.ok(existsSync(path.join(d.hostDataDir!, 'gsm8k', 'train.jsonl')));
    // The trained folder holds dcd_training.json: a DCD checkpoint, so a 16-token budget is flagged on the host's record.
    assert.ok(d.warnings.some((w) => w.includes('this DCD checkpoint') && w.includes(path.join(final.path, 'dcd_training.json'))), d.warnings.join('\n'));
    const done = await followEval(e, d, [], { followOptions: { intervalMs: 500 } });
    assert.equal(done[0].status, 'succeeded', readFileSync(path.join(d.jobs[0].record.remote!.jobDir, 'log.txt'), 'utf8').slice(-3000));
    const fetched = await e.fetch(d.jobs[0].id, 'results', path.join(tmp, 'fetched-chain'));
    const results = await checkRun(fetched[0].localPath, ['gsm8k', 'dcd_gsm8k'], 2);
    assert.equal(results[0].modelArgs.pretrained, final.path, 'the trained final/ folder was evaluated');
    process.stdout.write(`# ssh chain: training ${trainSeconds} s, lm_eval gsm8k+dcd_gsm8k 5-shot ${seconds(t1)} s\n`);
  } finally {
    await e.close();
  }
});

function dcd(args: string[]) {
  const env = { DCD_BACKEND_DIR: BACKEND, DCD_JOBS_STORE: path.join(tmp, 'jobs-cli.json'), DCD_TRUST_STORE: path.join(tmp, 'dcd_known_hosts'), DCD_HOSTS_FILE: '', SSH_AUTH_SOCK: '' };
  const r = runDcd(args, { env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('dcd eval submit over SSH: model folder and data dir uploaded, Hub off; dcd job logs/status/fetch; dcd results', { timeout: 900_000 }, () => {
  const ssh = [
    '--ssh', `${sshd.user}@127.0.0.1:${sshd.port}`, '--identity', sshd.clientKeyPath, '--known-hosts', knownHosts,
    '--python', PY, '--root', path.join(tmp, 'remote-cli'), '--ssh-config', path.join(tmp, 'no_ssh_config'),
  ];
  const t0 = Date.now();
  const sub = dcd(['eval', 'submit', ...ssh, '--model', model, '--upload-model', '--tasks', 'aime24', '--dcd', '--limit', '1', '--data-dir', DATA,
    '--seed', '5', '--max-gen-toks', '16', '--eval-backend', 'hf', '--batch-size', '1', '--dtype', 'float32', '--json']);
  assert.equal(sub.code, 0, sub.stderr);
  const out = JSON.parse(sub.stdout) as { job: string; jobs: Array<{ job: string; benchmark: string; tasks: string[]; status: string }>; eval: string; hostModel: string; offline: boolean; hostDataDir: string; resultsDir: string; backend: string };
  assert.equal(out.jobs.length, 1);
  assert.equal(out.job, out.jobs[0].job);
  assert.deepEqual(out.jobs[0].tasks, ['aime24', 'dcd_aime24']);
  assert.equal(out.jobs[0].status, 'queued');
  assert.equal(out.offline, true);
  assert.equal(out.backend, 'hf');
  assert.ok(out.hostModel.startsWith(path.join(tmp, 'remote-cli', 'models')), `model uploaded: ${out.hostModel}`);
  assert.ok(existsSync(path.join(out.hostModel, 'model.safetensors')));

  const logs = dcd(['job', 'logs', out.job, '--follow']);
  assert.equal(logs.code, 0, logs.stderr);
  assert.match(logs.stdout, /Running generate_until requests/);
  const status = JSON.parse(dcd(['job', 'status', out.job, '--json']).stdout) as Record<string, unknown>;
  assert.equal(status.status, 'succeeded', logs.stdout.slice(-3000));
  assert.equal(status.kind, 'eval');
  assert.equal(status.benchmark, 'aime24');
  assert.equal(status.offline, true);
  assert.equal(status.limit, 1);
  assert.equal(status.seed, 5);

  const outDir = path.join(tmp, 'cli-fetched');
  const fetched = dcd(['job', 'fetch', out.job, '--out', outDir, '--json']);
  assert.equal(fetched.code, 0, fetched.stderr);
  const f = JSON.parse(fetched.stdout) as { fetched: Array<{ name: string; localPath: string }> };
  assert.equal(f.fetched[0].name, 'results');
  const res = dcd(['results', f.fetched[0].localPath, '--json']);
  assert.equal(res.code, 0, res.stderr);
  const summaries = JSON.parse(res.stdout) as Array<{ tasks: Record<string, Record<string, number | null>>; n_samples: Record<string, { effective: number }> }>;
  assert.equal(summaries.length, 1);
  assert.deepEqual(Object.keys(summaries[0].tasks).sort(), ['aime24', 'dcd_aime24']);
  assert.equal(summaries[0].n_samples.aime24.effective, 1);
  assert.ok('exact_match,dcd-answer' in summaries[0].tasks.dcd_aime24 || Object.keys(summaries[0].tasks.dcd_aime24).some((k) => k.startsWith('exact_match,')));
  process.stdout.write(`# dcd eval submit → fetched results over SSH: ${seconds(t0)} s\n`);
});
