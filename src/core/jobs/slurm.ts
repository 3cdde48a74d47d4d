/**
 * Jobs on a Slurm cluster (`kind: "slurm"` profiles). The job directory protocol is the one of
 * `runner.ts`: the same `run.sh` generator, with `#SBATCH` lines at its top, submitted with `sbatch`
 * instead of started with setsid/tmux. Slurm is asked only where the job directory cannot answer: is the
 * job still queued or running (`squeue`, then `scontrol show job`, then the jobcomp file, since `sacct`
 * needs accounting that small clusters often lack), and to signal or remove it (`scancel`).
 *
 *   <jobDir>/slurm_job_id    the id sbatch gave (written by the submit command, before the job can start)
 *   <jobDir>/slurm-<id>.out  the batch shell's own output (the trainer's is log.txt, as everywhere)
 */
import type { SlurmOptions } from '../remote/profiles';
import { PRIVATE_UMASK } from '../remote/session';
import { shellJoin, shellQuote } from '../remote/shellQuote';
import { JOB_FILES, runnerScript, trainArgs, type TrainCommand } from './runner';
import type { JobStatus } from './status';

export const SLURM_JOB_ID_FILE = 'slurm_job_id';
export const DEFAULT_SIGNAL_LEAD_S = 120;

/** Slurm job states in which the job may still run (or be about to). */
const LIVE_STATES = new Set(['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD',
  'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'RESV_DEL_HOLD', 'STOPPED']);

/** `export SLURM_CONF=…; ` when the profile names a configuration, for every Slurm client command. */
function confPrefix(o: SlurmOptions): string {
  return o.slurmConf ? `SLURM_CONF=${shellQuote(o.slurmConf)}; export SLURM_CONF; ` : '';
}

/** The `#SBATCH` lines of a training job (paths are given on the sbatch command line, where they are quoted). */
export function sbatchDirectives(jobId: string, o: SlurmOptions): string[] {
  const nodes = o.nodes ?? 1;
  const tasks = o.tasks ?? nodes;
  const lines = [`--job-name=dcd-${jobId}`, '--open-mode=append', `--signal=B:TERM@${o.signalLeadS ?? DEFAULT_SIGNAL_LEAD_S}`,
    `--nodes=${nodes}`, `--ntasks=${tasks}`];
  if (tasks === nodes) lines.push('--ntasks-per-node=1');
  if (o.gpusPerNode) lines.push(`--gpus-per-node=${o.gpusPerNode}`);
  if (o.cpusPerTask) lines.push(`--cpus-per-task=${o.cpusPerTask}`);
  for (const k of ['partition', 'account', 'qos', 'time', 'mem'] as const) if (o[k]) lines.push(`--${k}=${o[k]}`);
  lines.push(...(o.sbatchArgs ?? []));
  return lines.map((l) => `#SBATCH ${l}`);
}

/**
 * The trainer's command line in the allocation. One task: the trainer itself, or `torchrun --standalone`
 * over the node's GPUs. Several tasks: `srun` starts one torchrun agent per task and they meet at a c10d
 * rendezvous on the first node of the allocation. `--nnodes` is the task count (`$SLURM_NTASKS`), which is
 * `$SLURM_NNODES` with one task per node, and lets several agents share one machine for a test.
 */
export function slurmTrainCommand(c: TrainCommand, o: SlurmOptions): { commandLine?: string; preamble: string } {
  const tasks = o.tasks ?? o.nodes ?? 1;
  const gpus = o.gpusPerNode ?? 1;
  const [python, script, ...rest] = trainArgs(c);
  if (tasks === 1 && gpus <= 1) return { preamble: '' };
  if (tasks === 1) {
    return {
      preamble: '',
      commandLine: `${shellJoin([python, '-m', 'torch.distributed.run', '--standalone', '--nnodes=1', `--nproc_per_node=${gpus}`, script, ...rest])} --dist ddp`,
    };
  }
  const preamble = 'MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)\n'
    // A port per job, so that two jobs on one node do not meet at the same rendezvous.
    + 'MASTER_PORT=$((20000 + ${SLURM_JOB_ID:-0} % 20000))\n'
    + 'export MASTER_ADDR MASTER_PORT\n';
  const commandLine = `srun --kill-on-bad-exit=1 --ntasks="$SLURM_NTASKS" ${shellJoin([python, '-m', 'torch.distributed.run'])}`
    + ` --nnodes="$SLURM_NTASKS" --nproc_per_node=${gpus} --rdzv_backend=c10d --rdzv_endpoint="$MASTER_ADDR:$MASTER_PORT"`
    + ` --rdzv_id="$SLURM_JOB_ID" --max_restarts=0 ${shellJoin([script, ...rest])} --dist ddp`;
  return { preamble, commandLine };
}

/** `run.sh` for Slurm: the usual runner with `#SBATCH` lines, forwarding Slurm's SIGTERM to the trainer. */
export function slurmBatchScript(jobId: string, c: TrainCommand, o: SlurmOptions): string {
  const t = slurmTrainCommand(c, o);
  return runnerScript(jobId, c, { header: sbatchDirectives(jobId, o), forwardSignals: true, commandLine: t.commandLine, preamble: t.preamble });
}

/**
 * Submits `run.sh` and prints `slurm_job_id=<id>`. The id is in the job directory before sbatch returns
 * to us, so a status check never finds a running job without it. With `withEnv`, `export` lines on stdin
 * are evaluated first: sbatch passes the submitting environment to the job (`--export=ALL`).
 */
export function submitCommand(jobDir: string, o: SlurmOptions, withEnv: boolean): string {
  const q = shellQuote;
  return `${PRIVATE_UMASK}; cd ${q(jobDir)} || exit 1; ${confPrefix(o)}${withEnv ? 'eval "$(cat)"; ' : ''}`
    + `out=$(sbatch --parsable --chdir=${q(jobDir)} --output=${q(`${jobDir}/slurm-%j.out`)} ${JOB_FILES.runner}) || exit 1; `
    + `id=\${out%%;*}; printf '%s\\n' "$id" > ${SLURM_JOB_ID_FILE}; echo "slurm_job_id=$id"`;
}

/** The job id from the submit command's output. */
export function parseSubmitOutput(stdout: string): string {
  const m = /slurm_job_id=(\d+)/.exec(stdout);
  if (!m) throw new Error(`sbatch gave no job id: ${stdout.trim().slice(0, 500) || '(no output)'}`);
  return m[1];
}

/** Prints `slurm=<STATE>`: Slurm's word on the job, or `UNKNOWN` when it has none (no id yet, controller unreachable). */
export function stateCommand(jobDir: string, o: SlurmOptions): string {
  return `cd ${shellQuote(jobDir)} 2>/dev/null || { echo slurm=UNKNOWN; exit 0; }; ${confPrefix(o)}`
    + `id=$(cat ${SLURM_JOB_ID_FILE} 2>/dev/null); [ -n "$id" ] || { echo slurm=UNKNOWN; exit 0; }; `
    + 'st=$(squeue -h -j "$id" -o %T 2>/dev/null | head -n 1); '
    + '[ -n "$st" ] || st=$(scontrol show job "$id" 2>/dev/null | sed -n \'s/.*JobState=\\([A-Z_]*\\).*/\\1/p\' | head -n 1); '
    + 'if [ -z "$st" ]; then loc=$(scontrol show config 2>/dev/null | sed -n \'s/^JobCompLoc *= *//p\'); '
    + 'if [ -n "$loc" ] && [ -r "$loc" ]; then st=$(grep "^JobId=$id " "$loc" | tail -n 1 | sed -n \'s/.*JobState=\\([A-Z_]*\\).*/\\1/p\'); fi; fi; '
    + 'echo "slurm=${st:-UNKNOWN}"';
}

export function parseState(stdout: string): string {
  return /slurm=([A-Z_]+)/.exec(stdout)?.[1] ?? 'UNKNOWN';
}

/** Whether the job may still run. UNKNOWN counts as alive: a controller that does not answer is no reason to fail a job. */
export function isLiveState(state: string): boolean {
  return state === 'UNKNOWN' || LIVE_STATES.has(state);
}

/** The status of a job that Slurm ended without the runner recording one (time limit, OOM, node failure, scancel of a pending job). */
export function statusOfEndedState(state: string): JobStatus {
  return state === 'CANCELLED' ? 'cancelled' : 'failed';
}

/**
 * Cancels gracefully: SIGTERM to the batch shell and every step (`scancel --signal=TERM --full`); the runner
 * passes it to the trainer, which checkpoints and exits. A job still pending is removed and recorded as
 * cancelled at once (it never started, so no runner will write its status).
 */
export function slurmCancelCommand(jobDir: string, o: SlurmOptions): string {
  const f = JOB_FILES;
  return `cd ${shellQuote(jobDir)} || exit 1; ${confPrefix(o)}: > ${f.cancel}; id=$(cat ${SLURM_JOB_ID_FILE} 2>/dev/null); `
    + '[ -n "$id" ] || exit 0; st=$(squeue -h -j "$id" -o %T 2>/dev/null | head -n 1); '
    + `if [ "$st" = PENDING ]; then scancel "$id" && printf 'cancelled\\n' > ${f.status}.tmp && mv -f ${f.status}.tmp ${f.status}; `
    + 'elif [ -n "$st" ]; then scancel --signal=TERM --full "$id"; fi; exit 0';
}

/** Ends what is left of the job (KILL to every step, then the job itself) and records it as cancelled. */
export function slurmForceKillCommand(jobDir: string, o: SlurmOptions): string {
  const f = JOB_FILES;
  return `cd ${shellQuote(jobDir)} || exit 1; ${confPrefix(o)}id=$(cat ${SLURM_JOB_ID_FILE} 2>/dev/null); `
    + 'if [ -n "$id" ]; then scancel --signal=KILL --full "$id" 2>/dev/null; scancel "$id" 2>/dev/null; fi; '
    + `printf 'cancelled\\n' > ${f.status}.tmp && mv -f ${f.status}.tmp ${f.status}; exit 0`;
}
