/**
 * `dcd job submit|status|logs|cancel|list|fetch|attach|check-host|setup-host`:
 * training jobs on the `local` machine or an SSH host, on the same engine as
 * the extension.
 *
 * Host options: `--host NAME` (profiles from `--hosts-file FILE` or env
 * `DCD_HOSTS_FILE`; `local` always exists) or `--ssh user@host:port
 * [--identity FILE] [--known-hosts FILE]`; `--python PATH` names the host's
 * interpreter. An unknown host key is refused unless `--accept-new-host-key`
 * is given (it is then saved in the trust store); a changed or revoked key is
 * always refused. Passwords and passphrases are asked on a terminal only and
 * kept for this process only.
 *
 *   dcd job submit --data EXPORT_DIR --model SPEC --preset paper|smoke [--max-steps N] --json  → {"job": ID, ...}
 *   dcd job status ID --json                                                                  → {"job", "status", ...}
 *   dcd job logs ID [--follow] [--events] [--json]
 *   dcd job cancel ID [--grace S] --json
 *   dcd job list --json
 *   dcd job fetch ID [--artifact model|results|all|NAME] [--out DIR] [--list] --json  (an evaluation job: its results folder)
 *
 * Evaluation jobs (`dcd eval submit`, Evaluate Model) are jobs of the same history: status, logs,
 * cancel and fetch work on them (their JSON adds `kind: "eval"`, `eval`, `benchmark`, `tasks`, …).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliError, printJson } from '../output';
import { isEvalJob, JobEngine, type EventBatch, type Follower } from '../../core/jobs/engine';
import type { EvalJobSpec } from '../../core/jobs/evalDispatch';
import { JobStore, type JobRecord } from '../../core/jobs/store';
import { formatMeasured } from '../../core/jobs/measured';
import { checkHost, setupHost } from '../../core/remote/hostCheck';
import { HostKeyError } from '../../core/remote/knownHosts';
import {
  createConnector, findProfile, isRemoteProfile, loadHostsFile, sshProfileFromSpec, type HostProfile, type Launcher,
} from '../../core/remote/profiles';
import type { Secrets } from '../../core/remote/sshSession';

export interface EnvOptions {
  jobsStore?: string;
  trustStore?: string;
  backend?: string;
  acceptNewHostKey?: boolean;
  sshConfig?: string;
  json?: boolean;
}

export interface HostOptions extends EnvOptions {
  host?: string;
  hostsFile?: string;
  ssh?: string;
  identity?: string[];
  knownHosts?: string[];
  proxyJump?: string;
  python?: string;
  root?: string;
  launcher?: string;
}

const dcdHome = () => path.join(os.homedir(), '.dcd');

/** Where `python-backend/` is: --backend, env DCD_BACKEND_DIR, or the first one found above this file. */
export function findBackendDir(explicit?: string): string {
  const given = explicit ?? process.env.DCD_BACKEND_DIR;
  if (given) return path.resolve(given);
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'python-backend');
    if (existsSync(path.join(candidate, 'train.py'))) return candidate;
    if (path.dirname(dir) === dir) throw new CliError('python-backend/ not found: pass --backend DIR or set DCD_BACKEND_DIR');
  }
}

function collect(v: string, prev: string[] = []): string[] { return [...prev, v]; }

function addEnvOptions(cmd: Command): Command {
  return cmd
    .option('--jobs-store <file>', 'local job history (default: env DCD_JOBS_STORE, else ~/.dcd/jobs.json)')
    .option('--trust-store <file>', 'host keys accepted with DCD (default: env DCD_TRUST_STORE, else ~/.dcd/known_hosts)')
    .option('--accept-new-host-key', 'trust an unknown host key and save it in the trust store (changed, revoked or other-type keys are always refused)')
    .option('--ssh-config <file>', 'ssh config to read (default ~/.ssh/config)')
    .option('--json', 'print JSON');
}

export function addHostOptions(cmd: Command): Command {
  return addEnvOptions(cmd)
    .option('--host <name>', 'host profile name (`local`, or one from --hosts-file)')
    .option('--hosts-file <file>', 'JSON host profiles (default: env DCD_HOSTS_FILE)')
    .option('--ssh <user@host:port>', 'an SSH host, instead of a profile')
    .option('--identity <file>', 'private key for --ssh (repeatable)', collect)
    .option('--known-hosts <file>', 'known_hosts file to check the host key against, read only (repeatable; default ~/.ssh/known_hosts)', collect)
    .option('--proxy-jump <hops>', 'ProxyJump hops for --ssh: [user@]host[:port],...')
    .option('--python <path>', "the host's Python interpreter (default: the profile's, else python3)")
    .option('--root <dir>', "DCD's directory on the host (default ~/.dcd)")
    .option('--launcher <name>', 'auto | setsid | tmux (default auto)')
    .option('--backend <dir>', 'the python-backend/ folder to run (default: env DCD_BACKEND_DIR, else the one next to dcd)');
}

export async function resolveProfile(o: HostOptions): Promise<HostProfile> {
  let profile: HostProfile;
  if (o.ssh && o.host) throw new CliError('give --host or --ssh, not both');
  if (o.ssh) {
    try {
      profile = sshProfileFromSpec(o.ssh, { identityFiles: o.identity, knownHostsFiles: o.knownHosts, proxyJump: o.proxyJump });
    } catch (err) { throw new CliError(`--ssh: ${(err as Error).message}`); }
  } else {
    const profiles = await loadHostsFile(o.hostsFile ?? process.env.DCD_HOSTS_FILE);
    try { profile = findProfile(profiles, o.host ?? 'local'); } catch (err) { throw new CliError((err as Error).message); }
    if (isRemoteProfile(profile)) {
      if (o.identity) profile = { ...profile, identityFiles: o.identity };
      if (o.knownHosts) profile = { ...profile, knownHostsFiles: o.knownHosts };
      if (o.proxyJump) profile = { ...profile, proxyJump: o.proxyJump };
    }
  }
  if (o.launcher && !['auto', 'setsid', 'tmux'].includes(o.launcher)) throw new CliError('--launcher must be auto, setsid or tmux');
  return {
    ...profile,
    ...(o.python ? { python: o.python } : {}),
    ...(o.root ? { root: o.root } : {}),
    ...(o.launcher ? { launcher: o.launcher as Launcher } : {}),
  };
}

/** Hidden input on a terminal; undefined when there is none. */
async function askHidden(question: string): Promise<string | undefined> {
  if (!process.stdin.isTTY) return undefined;
  const readline = await import('node:readline');
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput?: (s: string) => void };
    process.stderr.write(question);
    out._writeToOutput = () => { /* hide what is typed */ };
    rl.question('', (answer) => { rl.close(); process.stderr.write('\n'); resolve(answer); });
    rl.on('SIGINT', () => { rl.close(); resolve(undefined); });
  });
}

function makeEngine(o: EnvOptions): JobEngine {
  const store = new JobStore(path.resolve(o.jobsStore ?? process.env.DCD_JOBS_STORE ?? path.join(dcdHome(), 'jobs.json')));
  const trustStoreFile = path.resolve(o.trustStore ?? process.env.DCD_TRUST_STORE ?? path.join(dcdHome(), 'known_hosts'));
  const memory = new Map<string, string>();
  const secrets: Secrets = {
    get: async (k) => memory.get(k),
    set: async (k, v) => { memory.set(k, v); },
    delete: async (k) => { memory.delete(k); },
  };
  let backendDir: string | undefined;
  try { backendDir = findBackendDir(o.backend); } catch { backendDir = undefined; }
  return new JobEngine({
    store,
    backendDir,
    connectorFor: (profile) => createConnector(profile, {
      // Like OpenSSH's accept-new: only a host with no key on record; a key of another type is never taken unasked.
      hostKeyPolicy: async (info) => (o.acceptNewHostKey && info.status === 'unknown' ? 'accept-save' : 'reject'),
      trustStoreFile,
      sshConfigFile: o.sshConfig,
      secrets,
      promptPassword: ({ user, host, port }) => askHidden(`password for ${user}@${host}:${port}: `),
      promptPassphrase: ({ keyFile }) => askHidden(`passphrase for ${keyFile}: `),
    }),
  });
}

/** Turns engine errors into CLI errors with a hint where one helps. */
function explain(err: unknown): never {
  if (err instanceof HostKeyError && err.info.status === 'unknown') {
    throw new CliError(`${err.message}\nCheck the fingerprint with the host's administrator, then rerun with --accept-new-host-key to trust it.`, 3);
  }
  if (err instanceof HostKeyError && err.info.status === 'type-changed') {
    throw new CliError(`${err.message}\n--accept-new-host-key does not accept it. If the administrator confirms the new key, add it to your known_hosts yourself.`, 3);
  }
  if (err instanceof HostKeyError) throw new CliError(err.message, 3);
  if (err instanceof CliError) throw err;
  throw new CliError((err as Error).message, 1);
}

export async function withEngine<T>(o: EnvOptions, fn: (engine: JobEngine) => Promise<T>): Promise<T> {
  const engine = makeEngine(o);
  try { return await fn(engine); } catch (err) { explain(err); } finally { await engine.close(); }
}

export function jobJson(rec: JobRecord): Record<string, unknown> {
  const base: Record<string, unknown> = {
    job: rec.id, status: rec.status, host: rec.host.name, model: rec.spec.model, preset: rec.spec.preset,
    maxSteps: rec.spec.maxSteps, data: rec.spec.data, lastStep: rec.lastStep, totalSteps: rec.totalSteps,
    lastLoss: rec.lastLoss, error: rec.error, createdAt: rec.createdAt, updatedAt: rec.updatedAt,
    jobDir: rec.remote?.jobDir, launcher: rec.remote?.launcher, history: rec.history,
  };
  if (!isEvalJob(rec)) return base;
  // An evaluation job (`dcd eval submit`, Evaluate Model): one lm_eval call.
  const e = rec.spec as unknown as EvalJobSpec;
  return {
    ...base, kind: 'eval', eval: e.evalId, benchmark: e.benchmark, tasks: e.tasks, backend: e.backend, numFewshot: e.numFewshot,
    hostModel: e.hostModel, offline: e.offline ?? false, dataDir: e.dataDir, hostDataDir: e.hostDataDir, limit: e.limit, seed: e.seed,
    outputPath: e.outputPath, resultsDir: e.resultsDir, command: e.command,
  };
}

function human(rec: JobRecord): string {
  if (isEvalJob(rec)) {
    const e = rec.spec as unknown as EvalJobSpec;
    return `${rec.id}  ${rec.status.padEnd(9)} ${rec.host.name}  eval ${e.tasks.join(',')} of ${rec.spec.model}${e.offline ? ' (offline)' : ''}${rec.error ? `  error: ${rec.error}` : ''}`;
  }
  const progress = rec.lastStep !== undefined ? ` step ${rec.lastStep}${rec.totalSteps ? `/${rec.totalSteps}` : ''}${rec.lastLoss !== undefined ? ` loss ${formatMeasured(rec.lastLoss)}` : ''}` : '';
  return `${rec.id}  ${rec.status.padEnd(9)} ${rec.host.name}  ${rec.spec.model} (${rec.spec.preset})${progress}${rec.error ? `  error: ${rec.error}` : ''}`;
}

export function intArg(name: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new CliError(`${name} must be an integer ≥ ${min}`);
  return Number(v);
}

export function register(program: Command): void {
  const job = program.command('job').description('training jobs on this machine or an SSH host');

  addHostOptions(job.command('submit'))
    .description('upload the backend and an export, and start training detached')
    .requiredOption('--data <dir>', 'the export directory (dcd pack)')
    .requiredOption('--model <spec>', 'Hugging Face path or id, or builtin:tiny')
    .requiredOption('--preset <preset>', 'paper | smoke')
    .option('--max-steps <n>', 'stop after N optimizer steps')
    .action(async (o: HostOptions & { data: string; model: string; preset: string; maxSteps?: string }) => {
      if (o.preset !== 'paper' && o.preset !== 'smoke') throw new CliError('--preset must be paper or smoke');
      if (!existsSync(path.join(o.data, 'manifest.json'))) throw new CliError(`${o.data}: not an export (no manifest.json)`);
      const maxSteps = intArg('--max-steps', o.maxSteps, 1);
      const profile = await resolveProfile(o);
      const rec = await withEngine(o, (engine) => engine.submit(profile, { data: o.data, model: o.model, preset: o.preset as 'paper' | 'smoke', maxSteps }, {
        onStatus: (s) => { if (!o.json) process.stderr.write(`${s}…\n`); },
      }));
      if (o.json) printJson(jobJson(rec));
      else process.stdout.write(`${rec.id}\n`);
    });

  addEnvOptions(job.command('status <id>'))
    .description("a job's status, from its host")
    .action(async (id: string, o: EnvOptions) => {
      const rec = await withEngine(o, (engine) => engine.refresh(id));
      if (o.json) printJson(jobJson(rec));
      else process.stdout.write(human(rec) + '\n');
    });

  addEnvOptions(job.command('logs <id>'))
    .description("a job's log (or its events with --events); --follow streams until the job ends")
    .option('--follow', 'keep streaming until the job ends (reconnects when the connection drops)')
    .option('--events', 'print events.jsonl instead of the log')
    .option('--from <offset>', 'start at this byte offset', '0')
    .action(async (id: string, o: EnvOptions & { follow?: boolean; events?: boolean; from: string }) => {
      const from = intArg('--from', o.from, 0) ?? 0;
      await withEngine(o, async (engine) => {
        const onReconnect = (n: number, err: Error) => process.stderr.write(`connection lost (${err.message}); reconnecting (${n})…\n`);
        let follower: Follower;
        if (o.events) {
          follower = engine.followEvents(id, from, (b: EventBatch) => {
            for (const e of b.events) process.stdout.write(JSON.stringify(e) + '\n');
          }, { onReconnect, once: !o.follow });
        } else {
          follower = engine.followLog(id, from, (text, offset) => {
            if (o.json) printJson({ job: id, offset, text });
            else process.stdout.write(text);
          }, { onReconnect, once: !o.follow });
        }
        const end = await follower.done;
        if (o.json && !o.events) printJson({ job: id, status: end.status, offset: end.offset });
      });
    });

  addEnvOptions(job.command('cancel <id>'))
    .description('stop a job: SIGTERM (the trainer checkpoints and exits), then a forced kill after --grace seconds')
    .option('--grace <seconds>', 'seconds to wait before the forced kill', '60')
    .action(async (id: string, o: EnvOptions & { grace: string }) => {
      const grace = intArg('--grace', o.grace, 0)!;
      const { rec, checkpoints } = await withEngine(o, async (engine) => {
        const r = await engine.cancel(id, { graceMs: grace * 1000 });
        const arts = r.remote ? (await engine.artifacts(id)).filter((a) => a.kind === 'checkpoint') : [];
        return { rec: r, checkpoints: arts };
      });
      if (o.json) printJson({ ...jobJson(rec), checkpoints });
      else process.stdout.write(human(rec) + (checkpoints.length ? `\nlast checkpoint: ${checkpoints[checkpoints.length - 1].path}` : '') + '\n');
    });

  addEnvOptions(job.command('list'))
    .description('the local job history (newest first)')
    .action(async (o: EnvOptions) => {
      const jobs = await withEngine(o, (engine) => engine.list());
      if (o.json) printJson({ jobs: jobs.map(jobJson) });
      else process.stdout.write(jobs.map(human).join('\n') + (jobs.length ? '\n' : ''));
    });

  addEnvOptions(job.command('fetch <id>'))
    .description("list (--list) or download a job's checkpoints and final model, or an evaluation job's results folder")
    .option('--artifact <name>', 'model | results | all | a checkpoint name (default: model; results for an evaluation job)')
    .option('--out <dir>', 'where to put them (default ./dcd-jobs/<id>)')
    .option('--list', 'only list what there is')
    .action(async (id: string, o: EnvOptions & { artifact?: string; out?: string; list?: boolean }) => {
      await withEngine(o, async (engine) => {
        if (o.list) {
          const artifacts = await engine.artifacts(id);
          if (o.json) printJson({ job: id, artifacts });
          else process.stdout.write(artifacts.map((a) => `${a.name}\t${a.kind}${a.step !== undefined ? `\tstep ${a.step}` : ''}\t${a.path}`).join('\n') + '\n');
          return;
        }
        const fetched = await engine.fetch(id, o.artifact ?? 'default', path.resolve(o.out ?? path.join('dcd-jobs', id)), { onWarning: (w) => process.stderr.write(`warning: ${w}\n`) });
        if (o.json) printJson({ job: id, fetched });
        else process.stdout.write(fetched.map((f) => `${f.name} → ${f.localPath} (${f.files} files, ${f.bytes} bytes)`).join('\n') + '\n');
      });
    });

  addHostOptions(job.command('attach <id>'))
    .description('adopt a job that runs on a host into the local history (reattach by id)')
    .action(async (id: string, o: HostOptions) => {
      const profile = await resolveProfile(o);
      const rec = await withEngine(o, (engine) => engine.attach(profile, id));
      if (o.json) printJson(jobJson(rec));
      else process.stdout.write(human(rec) + '\n');
    });

  addHostOptions(job.command('check-host'))
    .description("OS, Python, torch/CUDA, GPUs, free disk and the backend's packages on a host")
    .action(async (o: HostOptions) => {
      const profile = await resolveProfile(o);
      const report = await withEngine(o, async (engine) => checkHost(await engine.session(profile), profile, findBackendDir(o.backend)));
      if (o.json) printJson({ host: profile.name, ...report });
      else process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    });

  addHostOptions(job.command('setup-host'))
    .description("create a venv on the host and install the backend's requirements (needs internet there)")
    .action(async (o: HostOptions) => {
      const profile = await resolveProfile(o);
      const r = await withEngine(o, async (engine) => setupHost(await engine.session(profile), profile, findBackendDir(o.backend)));
      if (o.json) printJson({ host: profile.name, python: r.python, venv: r.venv });
      else process.stdout.write(`ready: use "python": ${JSON.stringify(r.python)} for host ${profile.name}\n`);
    });
}
