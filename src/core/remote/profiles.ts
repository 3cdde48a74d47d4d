/**
 * Host profiles: where jobs run. `local` (this machine, always present), an
 * SSH host given by name, `user@host:port`, or a `~/.ssh/config` alias, or a
 * Slurm cluster (submitted to locally or from an SSH login node).
 * Profiles hold no secrets, so they can be stored with each job.
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TrustStore } from './knownHosts';
import { LocalSession } from './localSession';
import type { HostSession } from './session';
import { resolveSshTarget, parseHostSpec } from './sshConfig';
import { connectSsh, type HostKeyPolicy, type SshAuthDeps } from './sshSession';

/** How a job is started detached on the host: `auto` picks tmux where present (and no secret env is passed), else setsid+nohup. */
export type Launcher = 'auto' | 'setsid' | 'tmux';

interface ProfileBase {
  name: string;
  /** Interpreter on the host that runs the backend (default `python3`). */
  python?: string;
  /** DCD's directory on the host (default `~/.dcd`): backend, exports, jobs. */
  root?: string;
  launcher?: Launcher;
}

export interface LocalProfile extends ProfileBase { kind: 'local' }

export interface SshProfile extends ProfileBase {
  kind: 'ssh';
  /** Host name or `~/.ssh/config` alias. */
  host: string;
  port?: number;
  user?: string;
  identityFiles?: string[];
  /** `ProxyJump` syntax; default: from `~/.ssh/config`. */
  proxyJump?: string;
  /** Read-only known_hosts files; default `~/.ssh/known_hosts` and `~/.ssh/known_hosts2`. */
  knownHostsFiles?: string[];
}

/**
 * A Slurm cluster: jobs are submitted with `sbatch` from this machine (no `host`, or `host: "local"`) or
 * from a login node reached over SSH (the SSH fields as in `SshProfile`). The job directory protocol is
 * the same as for other hosts, so events, logs and artifacts are read the same way.
 */
export interface SlurmProfile extends ProfileBase, SlurmOptions {
  kind: 'slurm';
  /** The login node; absent or `local`: this machine. */
  host?: string;
  port?: number;
  user?: string;
  identityFiles?: string[];
  proxyJump?: string;
  knownHostsFiles?: string[];
}

/** What a Slurm profile says about its jobs' allocation; `#SBATCH` lines come from these. */
export interface SlurmOptions {
  /** `SLURM_CONF` for sbatch/squeue/scancel (e.g. the one-node cluster of scripts/slurm-cluster.mjs); default: Slurm's own. */
  slurmConf?: string;
  partition?: string;
  account?: string;
  qos?: string;
  /** `--time` (e.g. `02:00:00`). */
  time?: string;
  /** Nodes (default 1). */
  nodes?: number;
  /** torchrun agents started by `srun`, one per node normally (default: `nodes`); more than `nodes` only to try multi-node on one machine. */
  tasks?: number;
  /** GPUs per node (`--gpus-per-node`), also torchrun's `--nproc_per_node`. */
  gpusPerNode?: number;
  cpusPerTask?: number;
  /** `--mem` (e.g. `64G`). */
  mem?: string;
  /** More sbatch options, each one `--name=value`. */
  sbatchArgs?: string[];
  /** Seconds before the time limit at which Slurm sends SIGTERM, so the trainer checkpoints (default 120). */
  signalLeadS?: number;
}

export type HostProfile = LocalProfile | SshProfile | SlurmProfile;

/** Whether a profile's commands run over SSH (an SSH host, or a Slurm login node). */
export function isRemoteProfile(p: HostProfile): p is SshProfile | (SlurmProfile & { host: string }) {
  return p.kind === 'ssh' || (p.kind === 'slurm' && p.host !== undefined && p.host !== 'local');
}

/** Where a profile's jobs run, in a few words: for pick lists, views and tooltips. */
export function describeHost(p: HostProfile): string {
  if (p.kind === 'local') return 'this machine';
  if (!isRemoteProfile(p)) return 'Slurm on this machine';
  const address = `${p.user ? `${p.user}@` : ''}${p.host}${p.port ? `:${p.port}` : ''}`;
  return p.kind === 'slurm' ? `Slurm via ${address}` : address;
}

export const LOCAL_PROFILE: LocalProfile = { name: 'local', kind: 'local' };
export const DEFAULT_ROOT = '~/.dcd';
export const DEFAULT_PYTHON = 'python3';

function str(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw new Error(`${what} must be a non-empty string`);
  return v;
}

/**
 * Validates one profile as written in settings (`dcd.hosts`) or a hosts file:
 * `{name, host, port?, user?, python?, root?, identityFile(s)?, proxyJump?, knownHostsFiles?, launcher?}`;
 * `host: "local"` or `kind: "local"` is the local machine. `kind: "slurm"` adds the `SlurmOptions` fields
 * and makes `host` optional (absent or `local`: sbatch on this machine).
 */
export function normalizeProfile(raw: unknown): HostProfile {
  if (!raw || typeof raw !== 'object') throw new Error('a host profile must be an object');
  const r = raw as Record<string, unknown>;
  const name = str(r.name, 'host profile "name"');
  if (!name) throw new Error('a host profile needs a "name"');
  const launcher = r.launcher === undefined ? undefined : String(r.launcher);
  if (launcher !== undefined && !['auto', 'setsid', 'tmux'].includes(launcher)) throw new Error(`host ${name}: launcher must be auto, setsid or tmux`);
  const base: ProfileBase = {
    name,
    python: str(r.python, `host ${name}: "python"`),
    root: str(r.root, `host ${name}: "root"`),
    launcher: launcher as Launcher | undefined,
  };
  if (r.kind !== undefined && !['local', 'ssh', 'slurm'].includes(String(r.kind))) throw new Error(`host ${name}: kind must be ssh, slurm or local`);
  if (r.kind === 'slurm') return { ...base, ...sshFields(r, name, false), ...slurmOptions(r, name), kind: 'slurm' };
  if (r.kind === 'local' || r.host === 'local' || (r.kind === undefined && r.host === undefined && name === 'local')) return { ...base, kind: 'local' };
  return { ...base, kind: 'ssh', ...sshFields(r, name, true) as ReturnType<typeof sshFields> & { host: string } };
}

function sshFields(r: Record<string, unknown>, name: string, needHost: boolean) {
  const host = str(r.host, `host ${name}: "host"`);
  if (!host && needHost) throw new Error(`host ${name} needs a "host"`);
  if (!host || host === 'local') return {};
  const port = r.port === undefined ? undefined : Number(r.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new Error(`host ${name}: invalid port ${String(r.port)}`);
  const ids = r.identityFiles ?? r.identityFile;
  const identityFiles = ids === undefined ? undefined : (Array.isArray(ids) ? ids : [ids]).map((f) => str(f, `host ${name}: identity file`)!);
  const khf = r.knownHostsFiles;
  const knownHostsFiles = khf === undefined ? undefined : (Array.isArray(khf) ? khf : [khf]).map((f) => str(f, `host ${name}: known_hosts file`)!);
  return {
    host, port,
    user: str(r.user, `host ${name}: "user"`),
    identityFiles,
    proxyJump: str(r.proxyJump, `host ${name}: "proxyJump"`),
    knownHostsFiles,
  };
}

// Values that go into `#SBATCH --x=value` lines: one word, nothing a shell or sbatch would reinterpret.
const SBATCH_VALUE = /^[A-Za-z0-9_.:,@%+=/-]+$/;

function slurmOptions(r: Record<string, unknown>, name: string): SlurmOptions {
  const word = (k: string) => {
    const v = str(r[k], `host ${name}: "${k}"`);
    if (v !== undefined && !SBATCH_VALUE.test(v)) throw new Error(`host ${name}: "${k}" must be one word of letters, digits and _.:,@%+=/- (got ${JSON.stringify(v)})`);
    return v;
  };
  const count = (k: string) => {
    if (r[k] === undefined || r[k] === null) return undefined;
    const n = Number(r[k]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`host ${name}: "${k}" must be a positive integer`);
    return n;
  };
  const extra = r.sbatchArgs;
  if (extra !== undefined && !(Array.isArray(extra) && extra.every((a) => typeof a === 'string' && /^--[a-z][a-z-]*(=[A-Za-z0-9_.:,@%+=/-]+)?$/.test(a)))) {
    throw new Error(`host ${name}: "sbatchArgs" must be a list of options like "--constraint=a100"`);
  }
  const o: SlurmOptions = {
    slurmConf: str(r.slurmConf, `host ${name}: "slurmConf"`),
    partition: word('partition'), account: word('account'), qos: word('qos'), time: word('time'), mem: word('mem'),
    nodes: count('nodes'), tasks: count('tasks'), gpusPerNode: count('gpusPerNode'), cpusPerTask: count('cpusPerTask'),
    sbatchArgs: extra as string[] | undefined, signalLeadS: count('signalLeadS'),
  };
  if (o.tasks !== undefined && o.tasks < (o.nodes ?? 1)) throw new Error(`host ${name}: "tasks" must be at least "nodes"`);
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as SlurmOptions;
}

/**
 * Every field a host profile may have, as `normalizeProfile` reads it; package.json documents each one in
 * `dcd.hosts` (a test holds them equal, so that no setting is undocumented).
 */
export const PROFILE_FIELDS = ['name', 'kind', 'host', 'port', 'user', 'python', 'root', 'launcher', 'identityFile', 'identityFiles', 'proxyJump', 'knownHostsFiles',
  'slurmConf', 'partition', 'account', 'qos', 'time', 'nodes', 'tasks', 'gpusPerNode', 'cpusPerTask', 'mem', 'sbatchArgs', 'signalLeadS'] as const;

/**
 * The profiles the extension offers, from its settings: `local` runs `pythonPath` (`dcd.pythonPath`) and
 * the SSH profiles come from `hosts` (`dcd.hosts`). Training and Evaluate Model both use this one function,
 * so one interpreter setting governs every local run. A `local` entry in `hosts` is refused: it would run
 * another interpreter than the setting says. Invalid entries are collected in `problems`, not used.
 */
export function profilesFromSettings(hosts: unknown, pythonPath: string | undefined, problems: string[] = []): HostProfile[] {
  const out: HostProfile[] = [{ ...LOCAL_PROFILE, python: pythonPath || undefined }];
  if (hosts !== undefined && hosts !== null && !Array.isArray(hosts)) problems.push('dcd.hosts must be an array of host profiles');
  for (const raw of Array.isArray(hosts) ? hosts : []) {
    try {
      const p = normalizeProfile(raw);
      if (p.kind === 'local') problems.push(`host ${p.name}: the local machine is the "local" profile, whose interpreter is dcd.pythonPath`);
      // A Slurm cluster submitted to from this machine runs the same interpreter as `local` unless it names its own.
      else if (!out.some((x) => x.name === p.name)) out.push(p.kind === 'slurm' && !isRemoteProfile(p) && !p.python ? { ...p, python: pythonPath || undefined } : p);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return out;
}

/** Profiles from a JSON file: an array, or `{ "hosts": [...] }`. `local` is always there. */
export async function loadHostsFile(file: string | undefined): Promise<HostProfile[]> {
  const profiles: HostProfile[] = [];
  if (file) {
    const data = JSON.parse(await fs.readFile(file, 'utf8')) as unknown;
    const list = Array.isArray(data) ? data : (data as { hosts?: unknown }).hosts;
    if (!Array.isArray(list)) throw new Error(`${file}: expected an array of host profiles or {"hosts": [...]}`);
    for (const raw of list) profiles.push(normalizeProfile(raw));
  }
  if (!profiles.some((p) => p.name === 'local')) profiles.unshift(LOCAL_PROFILE);
  return profiles;
}

export function findProfile(profiles: readonly HostProfile[], name: string): HostProfile {
  const p = profiles.find((x) => x.name === name);
  if (!p) throw new Error(`no host profile named ${JSON.stringify(name)} (known: ${profiles.map((x) => x.name).join(', ')})`);
  return p;
}

/** A profile from `user@host:port` (the CLI's `--ssh`). */
export function sshProfileFromSpec(spec: string, extra: Omit<SshProfile, 'kind' | 'name' | 'host' | 'port' | 'user'> = {}): SshProfile {
  const p = parseHostSpec(spec);
  return { ...extra, kind: 'ssh', name: spec, host: p.host, port: p.port, user: p.user };
}

/** Opens sessions for one profile; reconnecting is calling `connect()` again. */
export interface HostConnector {
  readonly profile: HostProfile;
  connect(): Promise<HostSession>;
}

export interface ConnectorDeps extends SshAuthDeps {
  hostKeyPolicy: HostKeyPolicy;
  /** The extension's own accepted-keys file (known_hosts format). */
  trustStoreFile: string;
  /** `~/.ssh/config` to read; false: none. Default `~/.ssh/config`. */
  sshConfigFile?: string | false;
  homeDir?: string;
  localUser?: string;
  readyTimeoutMs?: number;
}

export function createConnector(profile: HostProfile, deps: ConnectorDeps): HostConnector {
  if (!isRemoteProfile(profile)) return { profile, connect: async () => new LocalSession() };
  const homeDir = deps.homeDir ?? os.homedir();
  const localUser = deps.localUser ?? os.userInfo().username;
  const acceptedOnce = new Set<string>();
  const trustStore = new TrustStore(deps.trustStoreFile);
  return {
    profile,
    async connect() {
      const configFile = deps.sshConfigFile === undefined ? path.join(homeDir, '.ssh', 'config') : deps.sshConfigFile;
      const configText = configFile ? await fs.readFile(configFile, 'utf8').catch(() => undefined) : undefined;
      const target = resolveSshTarget(
        { host: profile.host, port: profile.port, user: profile.user, identityFiles: profile.identityFiles, proxyJump: profile.proxyJump },
        { configText, homeDir, localUser },
      );
      // OpenSSH's default identities, for every hop that names none.
      for (const ep of [...target.jumps, target]) {
        if (!ep.identityFiles.length) ep.identityFiles = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => path.join(homeDir, '.ssh', f));
      }
      const knownHostsFiles = profile.knownHostsFiles ?? [path.join(homeDir, '.ssh', 'known_hosts'), path.join(homeDir, '.ssh', 'known_hosts2')];
      return connectSsh({ ...deps, target, knownHostsFiles, trustStore, acceptedOnce });
    },
  };
}
