/**
 * The host side of a job: the job directory (docs/FORMATS.md §3), the small
 * POSIX `run.sh` that runs the trainer in it, and the command that starts
 * `run.sh` detached (setsid + nohup, or tmux) so the job outlives the SSH
 * connection and the editor. Every argument is quoted with `shellQuote`.
 *
 *   <root>/jobs/<id>/
 *     job.json      the job's config
 *     run.sh        this runner
 *     status        queued | running | succeeded | failed | cancelled
 *     runner.pid    the runner's pid (its process group leader with setsid)
 *     pid           the trainer's pid
 *     exit_code     the trainer's exit status
 *     cancel        present once a cancel was asked for
 *     events.jsonl  → run/events.jsonl (the trainer's events)
 *     log.txt       the trainer's stdout and stderr
 *     run/          the trainer's RUN_DIR: checkpoints, final model
 */
import { joinHost, PRIVATE_UMASK } from '../remote/session';
import { shellJoin, shellQuote } from '../remote/shellQuote';

export interface TrainCommand {
  python: string;
  backendDir: string;
  exportDir: string;
  jobDir: string;
  model: string;
  preset: 'paper' | 'smoke';
  maxSteps?: number;
  /** The run directory of an earlier job on this host: its checkpoints are linked in and the trainer resumes from the newest. */
  resumeFrom?: string;
}

export const JOB_FILES = {
  config: 'job.json',
  runner: 'run.sh',
  status: 'status',
  runnerPid: 'runner.pid',
  pid: 'pid',
  exitCode: 'exit_code',
  cancel: 'cancel',
  events: 'events.jsonl',
  log: 'log.txt',
  runDir: 'run',
} as const;

export function trainArgs(c: TrainCommand): string[] {
  const args = [c.python, joinHost(c.backendDir, 'train.py'),
    '--data', c.exportDir, '--model', c.model, '--preset', c.preset, '--out', joinHost(c.jobDir, JOB_FILES.runDir)];
  if (c.maxSteps !== undefined) args.push('--max-steps', String(c.maxSteps));
  if (c.resumeFrom !== undefined) args.push('--resume');
  return args;
}

/**
 * A job runner script: the job-directory protocol (runner pid, cancel file,
 * status, child pid, exit code) around one command. `preamble` runs after the
 * first cancel check and before the status turns `running`.
 */
export interface RunnerScriptOptions {
  jobDir: string;
  title: string;
  argv: readonly string[];
  /** A ready shell command line to run instead of `argv` (its words already quoted): for `$VARIABLES` that must expand on the host. */
  commandLine?: string;
  preamble?: string;
  logCommand?: boolean;
  /** Lines right after the shebang (`#SBATCH` directives). */
  header?: readonly string[];
  /**
   * The runner itself may get SIGTERM (Slurm: scancel, the time limit): pass it to the command and wait
   * for its checkpoint instead of dying at once; the job then counts as cancelled.
   */
  forwardSignals?: boolean;
  /** A shell command run after the command when it exited 0 (output to the log). Its failure is logged; the job's status stays the command's. */
  onSuccess?: string;
}

export function commandRunnerScript(o: RunnerScriptOptions): string {
  const q = shellQuote;
  const f = JOB_FILES;
  const command = o.commandLine ?? shellJoin(o.argv);
  const trap = o.forwardSignals ? `got_signal=0
child=0
trap 'got_signal=1; if [ "$child" -gt 0 ]; then kill -TERM "$child" 2>/dev/null; fi' TERM INT
` : '';
  // wait returns early (status > 128) when a trapped signal arrives: wait again for the real exit.
  const rewait = o.forwardSignals ? `while [ "$rc" -gt 128 ] && kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done\n` : '';
  return `#!/bin/sh
${o.header?.length ? o.header.join('\n') + '\n' : ''}# ${o.title} (generated). It runs one command, records its pid and exit
# status, and writes the job's final status.
${PRIVATE_UMASK}
cd ${q(o.jobDir)} || exit 1
echo $$ > ${f.runnerPid}
setstatus() { printf '%s\\n' "$1" > ${f.status}.tmp && mv -f ${f.status}.tmp ${f.status}; }
if [ -e ${f.cancel} ]; then setstatus cancelled; exit 0; fi
${trap}${o.preamble ?? ''}setstatus running
${o.logCommand ? `echo ${q(`$ ${command}`)} >> ${f.log}\n` : ''}PYTHONUNBUFFERED=1 ${command} >> ${f.log} 2>&1 < /dev/null &
child=$!
echo "$child" > ${f.pid}
# A cancel that came between the check above and the pid file: pass it on.
if [ -e ${f.cancel} ]; then kill -TERM "$child" 2>/dev/null; fi
wait "$child"
rc=$?
${rewait}${o.onSuccess ? `if [ "$rc" -eq 0 ] && [ ! -e ${f.cancel} ]; then
  ${o.onSuccess.trim()} >> ${f.log} 2>&1 < /dev/null || echo "warning: the step after the command failed (exit $?)" >> ${f.log}
fi
` : ''}echo "$rc" > ${f.exitCode}
if [ -e ${f.cancel} ]${o.forwardSignals ? ' || [ "$got_signal" = 1 ]' : ''}; then setstatus cancelled
elif [ "$rc" -eq 0 ]; then setstatus succeeded
else setstatus failed; fi
`;
}

/** The runner script of a training job: the trainer, with its events linked into the job directory. */
export function runnerScript(jobId: string, c: TrainCommand, extra: Partial<RunnerScriptOptions> = {}): string {
  const f = JOB_FILES;
  return commandRunnerScript({
    jobDir: c.jobDir, title: `DCD Studio job runner for job ${jobId}`, argv: trainArgs(c),
    ...extra,
    preamble: `mkdir -p ${f.runDir}\nln -sf ${f.runDir}/${f.events} ${f.events}\n${c.resumeFrom === undefined ? '' : resumePreamble(c.resumeFrom)}${extra.preamble ?? ''}`,
  });
}

/**
 * The earlier run's checkpoints and data order, as hard links where the file system allows (a checkpoint
 * with its optimizer state is many gigabytes; links cost nothing, and pruning here removes only links).
 * Only once: a resubmitted runner finds its own checkpoints in place.
 */
function resumePreamble(fromRunDir: string): string {
  const q = shellQuote;
  const from = (name: string) => q(joinHost(fromRunDir, name));
  return `if [ ! -e ${JOB_FILES.runDir}/checkpoints ] && [ -d ${from('checkpoints')} ]; then
  cp -al ${from('checkpoints')} ${JOB_FILES.runDir}/checkpoints 2>/dev/null || cp -a ${from('checkpoints')} ${JOB_FILES.runDir}/checkpoints || exit 1
  cp -a ${from('data_order.json')} ${JOB_FILES.runDir}/ 2>/dev/null
fi
`;
}

/**
 * Starts `run.sh` detached and prints `launcher=<name>`. With `env`, the
 * values arrive on stdin (as `export` lines) and only setsid is used: tmux
 * would not pass them on, and a command line would show them.
 */
export function launchCommand(jobDir: string, jobId: string, launcher: 'auto' | 'setsid' | 'tmux', withEnv: boolean): { command: string; stdin?: string } {
  const q = shellQuote;
  const setsid = `if command -v setsid >/dev/null 2>&1; then setsid nohup sh ${JOB_FILES.runner} </dev/null >/dev/null 2>&1 & else nohup sh ${JOB_FILES.runner} </dev/null >/dev/null 2>&1 & fi; echo launcher=setsid`;
  const tmux = `tmux new-session -d -s ${q(`dcd-${jobId}`)} ${q(`sh ${JOB_FILES.runner}`)} && echo launcher=tmux`;
  const prefix = `cd ${q(jobDir)} || exit 1; `;
  if (withEnv) return { command: `${prefix}eval "$(cat)"; ${setsid}` };
  if (launcher === 'setsid') return { command: prefix + setsid };
  if (launcher === 'tmux') return { command: prefix + tmux };
  return { command: `${prefix}if command -v tmux >/dev/null 2>&1; then ${tmux}; else ${setsid}; fi` };
}

/** Asks the trainer to stop (SIGTERM: it checkpoints and exits). */
export function cancelCommand(jobDir: string): string {
  const f = JOB_FILES;
  return `cd ${shellQuote(jobDir)} || exit 1; : > ${f.cancel}; if [ -s ${f.pid} ]; then kill -TERM "$(cat ${f.pid})" 2>/dev/null; fi; exit 0`;
}

/** Kills what is left of the job (the runner's process group, the trainer) and records it as cancelled. */
export function forceKillCommand(jobDir: string): string {
  const f = JOB_FILES;
  return `cd ${shellQuote(jobDir)} || exit 1
if [ -s ${f.pid} ]; then kill -KILL "$(cat ${f.pid})" 2>/dev/null; fi
if [ -s ${f.runnerPid} ]; then r=$(cat ${f.runnerPid}); kill -KILL -- "-$r" 2>/dev/null; kill -KILL "$r" 2>/dev/null; fi
printf 'cancelled\\n' > ${f.status}.tmp && mv -f ${f.status}.tmp ${f.status}
exit 0`;
}

/** Prints `alive` when the runner process still exists. */
export function livenessCommand(jobDir: string): string {
  const f = JOB_FILES;
  // A killed runner can linger as a zombie until it is reaped: kill -0 still succeeds on it, so ask ps for its state too.
  return `cd ${shellQuote(jobDir)} 2>/dev/null || exit 0; pid=$(cat ${f.runnerPid} 2>/dev/null); `
    + `if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ! ps -o stat= -p "$pid" 2>/dev/null | grep -q '^Z'; then echo alive; else echo gone; fi`;
}
