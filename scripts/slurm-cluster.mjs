#!/usr/bin/env node
// A one-node Slurm cluster on this machine (Debian's slurm-wlm: slurmctld + slurmd, munge for auth),
// for the `slurm` host profile's tests and for trying the profile out:
//
//   node scripts/slurm-cluster.mjs start    # installs slurm-wlm munge when missing (root), starts, waits for `idle`
//   node scripts/slurm-cluster.mjs status   # JSON: the conf, the daemons' pids, the node's state
//   node scripts/slurm-cluster.mjs stop     # stops the daemons by their pid files
//
// `start` and `status` print `SLURM_CONF=<file>` as their last line: export it for sbatch/squeue/scancel,
// or put it in a slurm profile's `slurmConf`. Everything (conf, state, spool, logs, pid files, the jobcomp
// record of finished jobs) lives in one folder: env DCD_SLURM_DIR, default ~/.cache/dcd-slurm. No systemd:
// the daemons run as root (SlurmUser=root) and munged as the munge user. `start` is idempotent: daemons
// that run already are kept. Accounting (slurmdbd) is off, so `sacct` has nothing: finished jobs are in
// squeue/scontrol for MinJobAge and in the jobcomp file (JobCompType=jobcomp/filetxt) after that.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const DIR = path.resolve(process.env.DCD_SLURM_DIR || path.join(os.homedir(), '.cache', 'dcd-slurm'));
const CONF = path.join(DIR, 'slurm.conf');
const PIDS = { slurmctld: path.join(DIR, 'slurmctld.pid'), slurmd: path.join(DIR, 'slurmd.pid') };
const MUNGE_PID = '/run/munge/munged.pid';
const MUNGE_OURS = path.join(DIR, 'munged.started');
const NODE = 'localhost';

const env = { ...process.env, SLURM_CONF: CONF };
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const sh = (cmd, opts = {}) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8', env, ...opts });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pidAlive(file) {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (!pid) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch { return undefined; }
}

function install() {
  const need = ['sbatch', 'slurmctld', 'slurmd', 'munged'].filter((c) => !has(c) && !fs.existsSync(`/usr/sbin/${c}`));
  if (!need.length) return;
  if (process.getuid?.() !== 0) throw new Error(`missing ${need.join(', ')}: install them as root with apt-get install slurm-wlm munge`);
  process.stderr.write('installing slurm-wlm munge with apt-get…\n');
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const inst = () => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'slurm-wlm', 'munge'], { stdio: 'inherit', env: aptEnv }).status;
  // A stale package index is the common failure on a fresh machine: update once, then try again.
  if (inst() !== 0 && (spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env: aptEnv }).status !== 0 || inst() !== 0)) {
    throw new Error('apt-get install slurm-wlm munge failed');
  }
}

/** The node's memory in MB for RealMemory: a little under the machine's, or slurmd marks the node invalid. */
function realMemoryMb() {
  const m = /MemTotal:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  const mb = m ? Math.floor(Number(m[1]) / 1024) : Math.floor(os.totalmem() / 2 ** 20);
  return Math.max(256, Math.floor(mb * 0.9));
}

const cpus = () => os.availableParallelism?.() ?? os.cpus().length;

function confText() {
  const d = (f) => path.join(DIR, f);
  return [
    '# Written by scripts/slurm-cluster.mjs: a one-node cluster for DCD Studio tests.',
    'ClusterName=dcd',
    `SlurmctldHost=${NODE}`,
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    `StateSaveLocation=${d('state')}`,
    `SlurmdSpoolDir=${d('spool')}`,
    `SlurmctldPidFile=${PIDS.slurmctld}`,
    `SlurmdPidFile=${PIDS.slurmd}`,
    `SlurmctldLogFile=${d('slurmctld.log')}`,
    `SlurmdLogFile=${d('slurmd.log')}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SchedulerType=sched/backfill',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'ReturnToService=2',
    'MpiDefault=none',
    'JobAcctGatherType=jobacct_gather/none',
    'JobCompType=jobcomp/filetxt',
    `JobCompLoc=${d('jobcomp.txt')}`,
    // Finished jobs stay in squeue/scontrol an hour (the default is 300 s); the jobcomp file keeps them after.
    'MinJobAge=3600',
    // Time between scancel's TERM and the KILL when the job has not ended: room for a signal checkpoint.
    'KillWait=120',
    // Without a default, a job that asks for no memory is given the whole node, and jobs run one at a time.
    `DefMemPerCPU=${Math.floor(realMemoryMb() / cpus())}`,
    `NodeName=${NODE} NodeAddr=127.0.0.1 CPUs=${cpus()} RealMemory=${realMemoryMb()} State=UNKNOWN`,
    `PartitionName=debug Nodes=${NODE} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO`,
    '',
  ].join('\n');
}

function mungeWorks() {
  return has('munge') && sh('munge -n | unmunge >/dev/null 2>&1').status === 0;
}

function startMunge() {
  if (mungeWorks()) return;
  if (!fs.existsSync('/etc/munge/munge.key')) {
    execFileSync('sh', ['-c', 'mungekey --create --keyfile=/etc/munge/munge.key && chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key'], { stdio: 'inherit' });
  }
  execFileSync('sh', ['-c', 'mkdir -p /run/munge && chown munge:munge /run/munge && runuser -u munge -- /usr/sbin/munged'], { stdio: 'inherit' });
  fs.writeFileSync(MUNGE_OURS, 'munged was started by scripts/slurm-cluster.mjs\n');
  if (!mungeWorks()) throw new Error('munged did not start (munge -n | unmunge fails)');
}

function nodeState() {
  const r = sh(`sinfo -h -n ${NODE} -o %T`);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

async function start() {
  install();
  for (const sub of ['state', 'spool']) fs.mkdirSync(path.join(DIR, sub), { recursive: true });
  const text = confText();
  const old = fs.existsSync(CONF) ? fs.readFileSync(CONF, 'utf8') : '';
  if (old !== text) fs.writeFileSync(CONF, text);
  startMunge();
  // A conf that changed while the daemons ran: they must read it again.
  if (old && old !== text && (pidAlive(PIDS.slurmctld) || pidAlive(PIDS.slurmd))) await stop({ keepMunge: true });
  if (!pidAlive(PIDS.slurmctld)) execFileSync('/usr/sbin/slurmctld', ['-f', CONF], { stdio: 'inherit', env });
  if (!pidAlive(PIDS.slurmd)) execFileSync('/usr/sbin/slurmd', ['-f', CONF, '-N', NODE], { stdio: 'inherit', env });
  const deadline = Date.now() + 60_000;
  let state;
  let resumed = false;
  while (Date.now() < deadline) {
    state = nodeState();
    if (state && /^(idle|mixed|allocated|completing)/.test(state)) break;
    // A node left down or drained by an earlier run: return it to service once.
    if (state && /^(down|drain)/.test(state) && !resumed) { sh(`scontrol update nodename=${NODE} state=resume`); resumed = true; }
    await sleep(500);
  }
  if (!state || !/^(idle|mixed|allocated|completing)/.test(state)) {
    throw new Error(`the node did not become idle within 60 s (state: ${state ?? 'no answer from slurmctld'}); logs in ${DIR}`);
  }
  process.stderr.write(`slurm: node ${NODE} ${state}\n`);
  process.stdout.write(`SLURM_CONF=${CONF}\n`);
}

async function stopPid(file) {
  const pid = pidAlive(file);
  if (!pid) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && pidAlive(file) === pid; i++) await sleep(100);
  if (pidAlive(file) === pid) process.kill(pid, 'SIGKILL');
}

async function stop({ keepMunge = false } = {}) {
  await stopPid(PIDS.slurmd);
  await stopPid(PIDS.slurmctld);
  // munged only when this script started it: another user of munge on the machine keeps it.
  if (!keepMunge && fs.existsSync(MUNGE_OURS)) {
    await stopPid(MUNGE_PID);
    fs.rmSync(MUNGE_OURS, { force: true });
  }
}

function status() {
  const out = {
    dir: DIR, conf: fs.existsSync(CONF) ? CONF : null,
    slurmctld: pidAlive(PIDS.slurmctld) ?? null, slurmd: pidAlive(PIDS.slurmd) ?? null,
    munge: mungeWorks(), node: fs.existsSync(CONF) && pidAlive(PIDS.slurmctld) ? nodeState() ?? null : null,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
  if (out.conf) process.stdout.write(`SLURM_CONF=${CONF}\n`);
  return out.slurmctld && out.slurmd && out.node ? 0 : 1;
}

const cmd = process.argv[2];
try {
  if (cmd === 'start') await start();
  else if (cmd === 'stop') await stop();
  else if (cmd === 'status') process.exitCode = status();
  else { process.stderr.write('usage: node scripts/slurm-cluster.mjs start|stop|status\n'); process.exitCode = 2; }
} catch (err) {
  process.stderr.write(`slurm-cluster: ${err.message}\n`);
  process.exitCode = 1;
}
