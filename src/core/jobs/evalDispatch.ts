/**
 * Dispatches an evaluation to a host (pure of vscode: the extension and tests
 * share it): one `lm_eval` job per benchmark, built by the core's
 * `buildLmEvalCommand`, run on the jobs engine's host sessions in the jobs
 * engine's job-directory layout (status, runner.pid, pid, exit_code, cancel,
 * log.txt), so the engine's `refresh`, `followLog` and `cancel` work on eval
 * jobs as on training jobs, and they appear in the same job history.
 *
 * - Before anything runs, one probe on the host: can the host's Python import
 *   `lm_eval` (else every job of the evaluation fails at once with a message
 *   that says to run Set Up Host) and `vllm` (else `--model hf`, with the
 *   core's warning).
 * - The benchmarks of one evaluation share the GPU: each job's runner waits
 *   until the previous one has ended (or its runner is gone) before it starts.
 *   All calls write into one `--output_path` (`<root>/evals/<evalId>`), so
 *   their results land in one folder: one run in the Results view.
 * - The Hugging Face token travels only in the environment: on the launch
 *   command's stdin (`export` lines, as the engine sends `secretEnv`), never in argv, job.json or a log.
 * - Offline hosts: with a benchmark data dir (core/eval/offlineData.ts) the
 *   dir is uploaded with the job (content-addressed, once per content), task
 *   overrides that include the host's own stock task YAMLs are written to
 *   `<root>/eval-tasks/<evalId>/`, and lm_eval runs with the Hub turned off.
 *   A model folder on this machine can be uploaded too (`uploadModel`).
 * The extension's Evaluate Model and `dcd eval submit` both call `dispatchEval`.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BENCHMARKS, type BenchmarkId } from '../eval/benchmarks';
import { buildLmEvalCommand, type LmEvalCommand, type LmEvalOptions } from '../eval/lmevalCommand';
import { DCD_TRAINING_RECORD, metadataFromTrainingRecord, type ModelMetadata } from '../eval/genBudget';
import { DATA_LAYOUT, readDataDir, taskOverrides, type DataDirScan } from '../eval/offlineData';
import { redactSecrets } from '../eval/redact';
import { newJobId, type FollowOptions, type Follower } from './engine';
import { JOB_FILES, commandRunnerScript, launchCommand } from './runner';
import { isTerminal, type JobStatus } from './status';
import { applyStatus, type JobRecord, type JobSpec, type JobStore } from './store';
import { collectBundle, uploadBundle } from '../remote/bundle';
import { DEFAULT_PYTHON, DEFAULT_ROOT, type HostProfile } from '../remote/profiles';
import { safeLocalPath, type DownloadOptions, type DownloadResult } from '../remote/safePaths';
import { execChecked, hostPath, joinHost, writeHostFileAtomic, type HostSession } from '../remote/session';
import { shellExports, shellJoin, shellQuote } from '../remote/shellQuote';

/** What dispatch needs of the jobs engine (`JobEngine` has all of it). */
export interface EvalJobEngine {
  readonly store: JobStore;
  session(profile: HostProfile): Promise<HostSession>;
  followLog(id: string, fromOffset: number, onText: (text: string, toOffset: number) => void, opts?: FollowOptions): Follower;
  refresh(id: string): Promise<JobRecord>;
}

/** Settings that apply to every benchmark call of an evaluation (the `dcd.eval.*` settings). */
export type EvalSettings = Pick<LmEvalOptions,
  'applyChatTemplate' | 'maxGenToks' | 'maxModelLen' | 'tensorParallelSize' | 'gpuMemoryUtilization' | 'seed' | 'limit' | 'dtype' | 'batchSize' | 'backend'>;

/** `base` (the `dcd.eval.*` settings) with the defined values of `overrides`, then `limit` when given. */
export function overrideEvalSettings(base: EvalSettings, overrides?: EvalSettings, limit?: number): EvalSettings {
  const defined = Object.fromEntries(Object.entries(overrides ?? {}).filter(([, v]) => v !== undefined)) as EvalSettings;
  return { ...base, ...defined, ...(limit !== undefined ? { limit } : {}) };
}

export interface EvalRequest {
  /** A checkpoint directory on the host (e.g. from a training job) or a Hugging Face model id. */
  model: string;
  benchmarks: BenchmarkId[];
  /** Grade DCD-aware as well (the `dcd_` task variants, beside the stock tasks). */
  dcd: boolean;
  settings?: EvalSettings;
  /** The user's Hugging Face token (SecretStorage): environment only. */
  hfToken?: string;
  /** The local `python-backend/` directory: its `lmeval_tasks/` go to the host for DCD-aware grading. */
  backendDir: string;
  /**
   * A benchmark data dir on this machine (layout: docs/FORMATS.md §5): uploaded with the job (an SSH host) or
   * read in place (`local`); the tasks then read only these files, and the run is offline.
   */
  dataDir?: string;
  /** Turn the Hub off (default: true with `dataDir`, else false). */
  offline?: boolean;
  /** `model` is a folder on this machine: upload it (an SSH host; `local` uses it in place). */
  uploadModel?: boolean;
}

/** What an eval job's record holds (no secret). */
export interface EvalJobSpec {
  kind: 'eval';
  /** Empty: an eval job has no local export. Kept so the record still reads as a job record. */
  data: string;
  model: string;
  evalId: string;
  benchmark: BenchmarkId;
  tasks: string[];
  backend: 'vllm' | 'hf';
  numFewshot: number;
  /** `--output_path` on the host and the folder lm-eval writes results and samples into. */
  outputPath: string;
  resultsDir: string;
  /** The command line, quoted, as run (it holds no secret). */
  command: string;
  /** The model as lm-eval loads it on the host (the uploaded folder, when it was uploaded). */
  hostModel?: string;
  /** The local benchmark data dir the run reads (uploaded), when offline data was used. */
  dataDir?: string;
  /** Where that data is on the host. */
  hostDataDir?: string;
  /** The Hub was turned off for the run. */
  offline?: boolean;
  /** `--limit` and `--seed` of the run, when set. */
  limit?: number;
  seed?: number;
}

export interface EvalDispatchJob {
  id: string;
  benchmark: BenchmarkId;
  /** The command without its environment (the token is not kept here). */
  argv: string[];
  envNames: string[];
  record: JobRecord;
}

export interface EvalDispatch {
  evalId: string;
  host: string;
  model: string;
  /** The model as lm-eval loads it on the host. */
  hostModel: string;
  /** The benchmark data dir on the host (offline data), if any. */
  hostDataDir?: string;
  offline: boolean;
  backend: 'vllm' | 'hf';
  outputPath: string;
  /** `<outputPath>/<model_sanitized>` on the host. */
  resultsDir: string;
  jobs: EvalDispatchJob[];
  warnings: string[];
}

export interface DispatchHooks {
  onStatus?: (benchmark: BenchmarkId, status: JobStatus) => void;
  onWarning?: (message: string) => void;
}

/** The host cannot run lm_eval: nothing was started, every job of the evaluation is failed with this message. */
export class LmEvalMissingError extends Error {
  constructor(message: string, readonly host: string) {
    super(message);
    this.name = 'LmEvalMissingError';
  }
}

/** The probe: which interpreter answers, whether lm_eval / vllm import, and where lm-eval's stock task YAMLs are. */
export function probeCommand(python: string): string {
  const py = shellQuote(python);
  const tasksDir = 'import importlib.util, os; s = importlib.util.find_spec("lm_eval"); print("lm_eval_tasks=" + os.path.join(os.path.dirname(s.origin), "tasks"))';
  return [
    `if ! command -v ${py} >/dev/null 2>&1; then echo python=missing; exit 0; fi`,
    `${shellJoin([python, '-c', 'import lm_eval'])} >/dev/null 2>&1; echo "lm_eval=$?"`,
    `${shellJoin([python, '-c', 'import vllm'])} >/dev/null 2>&1; echo "vllm=$?"`,
    `${shellJoin([python, '-c', tasksDir])} 2>/dev/null`,
  ].join('\n');
}

export interface ProbeResult { python: boolean; lmEval: boolean; vllm: boolean; lmEvalTasksDir?: string }

export function parseProbe(stdout: string): ProbeResult {
  const kv = new Map(stdout.split('\n').map((l) => { const t = l.trim(); const i = t.indexOf('='); return [t.slice(0, i), t.slice(i + 1)] as [string, string]; }).filter(([k]) => k.length > 0));
  if (kv.get('python') === 'missing') return { python: false, lmEval: false, vllm: false };
  const tasks = kv.get('lm_eval_tasks');
  return { python: true, lmEval: kv.get('lm_eval') === '0', vllm: kv.get('vllm') === '0', ...(tasks && tasks.startsWith('/') ? { lmEvalTasksDir: tasks } : {}) };
}

export function lmEvalMissingMessage(host: string, python: string, probe: ProbeResult): string {
  const install = `${python} -m pip install "lm_eval[vllm]>=0.4.10"`;
  if (!probe.python) {
    return `lm-eval is not installed on ${host}: its Python (${python}) was not found. Run "DCD: Set Up Host" for ${host}, or set the host's "python" to an interpreter that has lm-eval.`;
  }
  return `lm-eval is not installed on ${host} (${python} cannot import lm_eval). Run "DCD: Set Up Host" for ${host}, or install it there: ${install}`;
}

/**
 * The runner of one eval job: the engine's job-directory protocol around one
 * `lm_eval` call, which first waits for the previous benchmark of the same
 * evaluation (`after`, a job directory) to end.
 */
export function evalRunnerScript(jobId: string, jobDir: string, argv: readonly string[], python: string, after?: string, onSuccess?: string): string {
  const q = shellQuote;
  const f = JOB_FILES;
  const wait = after ? `# One GPU, one call at a time: wait for the previous benchmark of this evaluation.
after=${q(after)}
while [ -f "$after/${f.status}" ] && ! grep -qE '^(succeeded|failed|cancelled)$' "$after/${f.status}" 2>/dev/null; do
  if [ -e ${f.cancel} ]; then setstatus cancelled; exit 0; fi
  if [ -s "$after/${f.runnerPid}" ] && ! kill -0 "$(cat "$after/${f.runnerPid}")" 2>/dev/null; then break; fi
  sleep 2
done
` : '';
  const lmEvalCheck = `if [ -e ${f.cancel} ]; then setstatus cancelled; exit 0; fi
if ! ${shellJoin([python, '-c', 'import lm_eval'])} >/dev/null 2>&1; then
  echo ${q(`lm-eval is not installed (${python} cannot import lm_eval): run "DCD: Set Up Host", or install it: ${python} -m pip install "lm_eval[vllm]>=0.4.10"`)} >> ${f.log}
  echo 127 > ${f.exitCode}
  setstatus failed
  exit 0
fi
`;
  return commandRunnerScript({ jobDir, title: `DCD Studio eval job ${jobId}: one lm_eval call`, argv, preamble: wait + lmEvalCheck, logCommand: true, onSuccess });
}

/**
 * The shell command that writes the lineage sidecar (`dcd_lineage.json`, docs/FORMATS.md §6) into the
 * results folder on the host once lm_eval has succeeded: the model folder's hash as the parent, where
 * the model is, so the results fetched from any host resolve to it (python-backend/dcd_backend/lineage.py).
 */
export function evalSidecarCommand(o: { python: string; backendDir: string; resultsDir: string; model: string; tasks: readonly string[]; limit?: number; job: string; host: string }): string {
  const argv = [o.python, '-m', 'dcd_backend.lineage', 'eval-sidecar', o.resultsDir, '--model', o.model, '--job', o.job, '--host', o.host];
  if (o.tasks.length) argv.push('--tasks', o.tasks.join(','));
  if (o.limit !== undefined && Number.isInteger(o.limit)) argv.push('--limit', String(o.limit));
  return `PYTHONPATH=${shellQuote(o.backendDir)} ${shellJoin(argv)}`;
}

function pythonOf(session: HostSession, profile: HostProfile): string {
  const p = profile.python ?? DEFAULT_PYTHON;
  return p.includes('/') ? hostPath(session.home, p) : p;
}

async function setStatus(store: JobStore, id: string, to: JobStatus, extra: Partial<JobRecord> = {}): Promise<JobRecord> {
  return store.update(id, (rec) => (isTerminal(rec.status) ? rec : { ...applyStatus(rec, to), ...extra }));
}

/**
 * Starts the evaluation: one job per benchmark, in order. Returns once every
 * job is queued on the host. Invalid settings throw before any job exists;
 * a host without lm-eval fails every job and throws LmEvalMissingError.
 */
export async function dispatchEval(engine: EvalJobEngine, profile: HostProfile, req: EvalRequest, hooks: DispatchHooks = {}): Promise<EvalDispatch> {
  if (!req.benchmarks.length) throw new Error('no benchmark chosen');
  const settings = req.settings ?? {};
  const offline = req.offline ?? req.dataDir !== undefined;
  const common = { ...settings, model: req.model, dcd: req.dcd, hfToken: req.hfToken, offline };
  // Validate every call before anything is created (the paths are placeholders here).
  for (const benchmark of req.benchmarks) buildLmEvalCommand({ ...common, benchmark, outputPath: '/tmp/dcd-eval-check', taskOverridesDir: req.dataDir ? '/tmp/dcd-eval-check' : undefined });
  // The data dir is checked here, before anything is created: every benchmark present, its columns right.
  const data: DataDirScan | undefined = req.dataDir ? await readDataDir(path.resolve(req.dataDir), req.benchmarks) : undefined;
  if (req.uploadModel) {
    const st = await fs.stat(req.model).catch(() => undefined);
    if (!st?.isDirectory()) throw new Error(`model ${req.model}: not a folder on this machine (nothing to upload)`);
  }

  const store = engine.store;
  const evalId = newJobId();
  const now = new Date().toISOString();
  const ids: string[] = [];
  for (const benchmark of req.benchmarks) {
    const id = newJobId();
    ids.push(id);
    const b = BENCHMARKS[benchmark];
    const spec: EvalJobSpec = {
      kind: 'eval', data: '', model: req.model, evalId, benchmark, tasks: [b.task], backend: settings.backend ?? 'vllm',
      numFewshot: b.numFewshot, outputPath: '', resultsDir: '', command: '',
      offline, ...(req.dataDir ? { dataDir: path.resolve(req.dataDir) } : {}), limit: settings.limit, seed: settings.seed,
    };
    // JobSpec describes training jobs; an eval job's spec is marked `kind: 'eval'` instead of a preset.
    await store.put({
      id, host: profile, status: 'preparing', history: [{ status: 'preparing', time: now }], createdAt: now, updatedAt: now,
      spec: spec as unknown as JobSpec,
    });
    hooks.onStatus?.(benchmark, 'preparing');
  }
  const failAll = async (message: string) => {
    for (const id of ids) await setStatus(store, id, 'failed', { error: message }).catch(() => undefined);
    req.benchmarks.forEach((b) => hooks.onStatus?.(b, 'failed'));
  };

  try {
    const session = await engine.session(profile);
    const root = hostPath(session.home, profile.root ?? DEFAULT_ROOT);
    const python = pythonOf(session, profile);
    const probe = parseProbe((await session.exec(probeCommand(python), { timeoutMs: 180_000 })).stdout);
    if (!probe.python || !probe.lmEval) throw new LmEvalMissingError(lmEvalMissingMessage(session.label, python, probe), session.label);

    // What travels with the job: the DCD task YAMLs, the benchmark data, the model. In place locally,
    // uploaded (content-addressed, once per content) to an SSH host.
    let includePath: string | undefined;
    const needsTasks = req.dcd && req.benchmarks.some((b) => BENCHMARKS[b].dcdTask);
    let hostDataDir: string | undefined;
    let hostModel = req.model.startsWith('~/') ? hostPath(session.home, req.model) : req.model;
    // A model folder (not a Hub id): the backend writes the lineage sidecar beside the results on the host.
    const modelIsFolder = req.uploadModel === true || hostModel.startsWith('/');
    if (session.kind === 'ssh' && (needsTasks || modelIsFolder || data || req.uploadModel)) {
      for (const id of ids) await setStatus(store, id, 'uploading');
      req.benchmarks.forEach((b) => hooks.onStatus?.(b, 'uploading'));
    }
    let hostBackend: string | undefined;
    if (needsTasks || modelIsFolder) {
      hostBackend = session.kind === 'ssh'
        ? (await uploadBundle(session, await collectBundle(req.backendDir), joinHost(root, 'backend'))).dest
        : path.resolve(req.backendDir);
    }
    if (needsTasks && hostBackend) includePath = joinHost(hostBackend, 'lmeval_tasks');
    if (data && req.dataDir) {
      hostDataDir = session.kind === 'ssh'
        ? (await uploadBundle(session, await collectBundle(path.resolve(req.dataDir)), joinHost(root, 'data'))).dest
        : path.resolve(req.dataDir);
    }
    if (req.uploadModel) {
      hostModel = session.kind === 'ssh'
        ? (await uploadBundle(session, await collectBundle(path.resolve(req.model)), joinHost(root, 'models'))).dest
        : path.resolve(req.model);
    }

    // Offline data: task overrides beside the job, including the host's own stock YAMLs.
    let overridesDir: string | undefined;
    if (data && hostDataDir) {
      if (!probe.lmEvalTasksDir) throw new Error(`could not find lm-eval's task folder on ${session.label} (${python})`);
      overridesDir = joinHost(root, 'eval-tasks', evalId);
      const tasks = req.benchmarks.flatMap((b) => buildLmEvalCommand({ ...common, benchmark: b, outputPath: '/tmp/x', taskOverridesDir: '/tmp/x' }).tasks);
      const overrides = taskOverrides({ tasks, data: data.found, hostDataDir, lmEvalTasksDir: probe.lmEvalTasksDir, dcdTasksDir: includePath });
      for (const o of overrides) {
        if (!(await session.stat(o.includes))) {
          throw new Error(o.task.startsWith('dcd_')
            ? `${o.includes} is not on ${session.label}: the DCD task file for ${o.task} is missing from the uploaded backend`
            : `${o.includes} is not on ${session.label}: this lm-eval keeps ${o.task} elsewhere (offline data uses the task files of lm-eval 0.4.10 to 0.4.13, e.g. tasks/${DATA_LAYOUT.gsm8k.stockYaml})`);
        }
      }
      await session.mkdirp(overridesDir);
      for (const o of overrides) await session.writeFile(joinHost(overridesDir, o.file), o.text);
    }

    const outputPath = joinHost(root, 'evals', evalId);
    await session.mkdirp(outputPath);
    const warnings: string[] = [];
    if (offline && !hostModel.startsWith('/')) {
      const w = `The run is offline but the model ${JSON.stringify(req.model)} is not a folder path: lm-eval finds it only if it is in the host's Hugging Face cache (give a folder on the host, or upload one).`;
      warnings.push(w);
      hooks.onWarning?.(w);
    }
    // A DCD checkpoint (its folder holds the training record) gets the generation-budget check on every task.
    const modelMetadata = await hostModelMetadata(session, hostModel);
    const jobs: EvalDispatchJob[] = [];
    let after: string | undefined;
    let resultsDir = '';
    let backend: 'vllm' | 'hf' = settings.backend ?? 'vllm';
    const tasksSoFar: string[] = [];
    for (let i = 0; i < req.benchmarks.length; i++) {
      const benchmark = req.benchmarks[i];
      const id = ids[i];
      const cmd: LmEvalCommand = buildLmEvalCommand({
        ...common, benchmark, outputPath, python, includePath, vllmAvailable: probe.vllm, model: hostModel, taskOverridesDir: overridesDir, modelMetadata,
      });
      for (const w of cmd.warnings) if (!warnings.includes(w)) { warnings.push(w); hooks.onWarning?.(w); }
      resultsDir = cmd.resultsDir;
      backend = cmd.backend;
      tasksSoFar.push(...cmd.tasks);
      const jobDir = joinHost(root, 'jobs', id);
      const sidecar = modelIsFolder && hostBackend
        ? evalSidecarCommand({ python, backendDir: hostBackend, resultsDir: cmd.resultsDir, model: hostModel, tasks: tasksSoFar, limit: settings.limit, job: id, host: profile.name })
        : undefined;
      const command = shellJoin(cmd.argv);
      const spec: EvalJobSpec = {
        kind: 'eval', data: '', model: req.model, evalId, benchmark, tasks: cmd.tasks, backend: cmd.backend,
        numFewshot: cmd.numFewshot, outputPath, resultsDir: cmd.resultsDir, command,
        hostModel, offline, ...(req.dataDir ? { dataDir: path.resolve(req.dataDir), hostDataDir } : {}), limit: settings.limit, seed: settings.seed,
      };
      await session.mkdirp(jobDir);
      await session.writeFile(joinHost(jobDir, JOB_FILES.config), JSON.stringify({
        id, kind: 'eval', spec, host: profile.name, env: Object.keys(cmd.env), after: after ?? null, createdAt: now,
      }, null, 2) + '\n');
      await session.writeFile(joinHost(jobDir, JOB_FILES.runner), evalRunnerScript(id, jobDir, cmd.argv, python, after, sidecar));
      await writeHostFileAtomic(session, joinHost(jobDir, JOB_FILES.status), 'queued\n');
      let rec = await store.update(id, (x) => ({ ...applyStatus(x, 'queued'), spec: spec as unknown as JobSpec, remote: { jobDir, backendDir: includePath ? path.posix.dirname(includePath) : '', exportDir: '', python } }));
      hooks.onStatus?.(benchmark, 'queued');
      const withEnv = Object.keys(cmd.env).length > 0;
      const launch = launchCommand(jobDir, id, profile.launcher ?? 'auto', withEnv);
      const r = await execChecked(session, launch.command, { stdin: withEnv ? shellExports(cmd.env) : undefined });
      const launcher = /launcher=(tmux|setsid)/.exec(r.stdout)?.[1] as 'tmux' | 'setsid' | undefined;
      rec = await store.update(id, (x) => ({ ...x, remote: { ...x.remote!, launcher } }));
      jobs.push({ id, benchmark, argv: cmd.argv, envNames: Object.keys(cmd.env), record: rec });
      after = jobDir;
    }
    return { evalId, host: session.label, model: req.model, hostModel, hostDataDir, offline, backend, outputPath, resultsDir, jobs, warnings };
  } catch (err) {
    const message = redactSecrets((err as Error).message, req.hfToken ? [req.hfToken] : []);
    await failAll(message);
    if (err instanceof LmEvalMissingError) throw err;
    throw new Error(message);
  }
}

export interface FollowEvalHooks {
  /** Log text of a job, secrets masked. */
  onLog?: (job: EvalDispatchJob, text: string) => void;
  onDone?: (job: EvalDispatchJob, status: JobStatus) => void;
  /** Stop following (the jobs keep running on the host). */
  signal?: { stopped: boolean };
  followOptions?: FollowOptions;
}

/** Follows the jobs' logs one after the other (they run one after the other), to their ends. */
export async function followEval(engine: EvalJobEngine, dispatch: EvalDispatch, secrets: readonly string[], hooks: FollowEvalHooks = {}): Promise<Array<{ id: string; benchmark: BenchmarkId; status: JobStatus; error?: string }>> {
  const out: Array<{ id: string; benchmark: BenchmarkId; status: JobStatus; error?: string }> = [];
  for (const job of dispatch.jobs) {
    if (hooks.signal?.stopped) break;
    const follower = engine.followLog(job.id, 0, (text) => hooks.onLog?.(job, redactSecrets(text, secrets)), hooks.followOptions);
    const poll = setInterval(() => { if (hooks.signal?.stopped) follower.stop(); }, 200);
    let status: JobStatus;
    try {
      status = (await follower.done).status;
    } finally {
      clearInterval(poll);
    }
    const rec = await engine.refresh(job.id).catch(() => undefined);
    if (rec) status = rec.status;
    hooks.onDone?.(job, status);
    out.push({ id: job.id, benchmark: job.benchmark, status, error: rec?.error });
  }
  return out;
}

/**
 * Copies an evaluation's results folder from the host into
 * `<base>/eval-results/<evalId>/<folder>`. The folder's name derives from the
 * model path, which may come from a host's events: it is checked like any
 * name a host chose.
 */
export async function downloadEvalResults(
  session: HostSession, dispatch: Pick<EvalDispatch, 'evalId' | 'resultsDir'>, base: string, opts?: DownloadOptions,
): Promise<DownloadResult & { localPath: string }> {
  const runDir = safeLocalPath(path.join(base, 'eval-results'), dispatch.evalId, 'evaluation id');
  const localPath = safeLocalPath(runDir, path.posix.basename(dispatch.resultsDir), 'results folder name');
  return { localPath, ...(await session.download(dispatch.resultsDir, localPath, opts)) };
}

/**
 * What the model's folder on the host says about it: `dcd_training.json` in
 * the folder (a `final/`) or in its `final/` (a run folder). A Hub id or a
 * folder without the record is not known to be a DCD checkpoint.
 */
async function hostModelMetadata(session: HostSession, hostModel: string): Promise<ModelMetadata> {
  if (!hostModel.startsWith('/')) return { dcd: false };
  for (const file of [joinHost(hostModel, DCD_TRAINING_RECORD), joinHost(hostModel, 'final', DCD_TRAINING_RECORD)]) {
    const bytes = await session.readFrom(file, 0, 1 << 20).catch(() => undefined);
    if (!bytes) continue;
    let record: unknown = null;
    try {
      record = JSON.parse(bytes.toString('utf8'));
    } catch {
      // a damaged record still marks a DCD checkpoint
    }
    return metadataFromTrainingRecord(record, file);
  }
  return { dcd: false };
}
