/**
 * Check Host and Set Up Host.
 *
 * Check Host uploads the backend (content-addressed: once) and runs its
 * `host_check.py`, which prints one JSON object (OS, Python, torch/CUDA,
 * GPUs, free disk, backend packages present or missing). Without a working
 * Python it falls back to a shell probe for the OS, the GPUs and the disk.
 *
 * Set Up Host makes a venv in DCD's directory on the host and installs the
 * backend's requirements into it; it needs the host to reach a package index
 * and fails with a message that says so when it cannot.
 */
import { collectBundle, uploadBundle } from './bundle';
import { DEFAULT_PYTHON, DEFAULT_ROOT, type HostProfile } from './profiles';
import { hostPath, joinHost, type HostSession } from './session';
import { shellJoin } from './shellQuote';

/** The few facts a UI shows first, whichever probe answered. */
export interface HostSummary {
  os?: string;
  python?: string;
  torch?: string | null;
  cuda?: boolean | null;
  gpus: string[];
  diskFreeBytes?: number;
  /** Backend packages the host lacks. */
  missing: string[];
}

export interface HostReport {
  /** Which probe answered. */
  via: 'host_check.py' | 'shell';
  summary: HostSummary;
  /** The interpreter that was tried. */
  python: string;
  /** host_check.py's JSON as printed, or the shell probe's fields. */
  report: Record<string, unknown>;
  /** Why host_check.py did not answer, when the shell probe did. */
  pythonError?: string;
  /** Where the backend is on the host. */
  backendDir: string;
}

function interpreter(session: HostSession, profile: HostProfile): string {
  const p = profile.python ?? DEFAULT_PYTHON;
  return p.includes('/') ? hostPath(session.home, p) : p;
}

async function backendOnHost(session: HostSession, profile: HostProfile, backendDir: string): Promise<string> {
  if (session.kind === 'local') return backendDir;
  const root = hostPath(session.home, profile.root ?? DEFAULT_ROOT);
  return (await uploadBundle(session, await collectBundle(backendDir), joinHost(root, 'backend'))).dest;
}

/** The shell probe: OS, kernel, GPUs and free disk, with no Python at all. */
export const SHELL_PROBE = [
  'echo "uname=$(uname -srm 2>/dev/null)"',
  'if [ -r /etc/os-release ]; then . /etc/os-release; echo "os=${PRETTY_NAME:-$NAME}"; fi',
  'echo "disk=$(df -Pk "$HOME" 2>/dev/null | awk \'NR==2 {print $4}\')"',
  'if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | sed "s/^/gpu=/"; fi',
].join('\n');

export function parseShellProbe(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = { gpus: [] as string[] };
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const k = line.slice(0, eq);
    const v = line.slice(eq + 1).trim();
    if (k === 'gpu') (out.gpus as string[]).push(v);
    else if (k === 'disk') out.disk_free_bytes = /^\d+$/.test(v) ? Number(v) * 1024 : null;
    else if (k === 'uname' || k === 'os') out[k] = v;
  }
  return out;
}

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {});
const strOf = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** Reads host_check.py's JSON (docs in python-backend/host_check.py) or the shell probe's fields. */
export function summarizeHostReport(report: Record<string, unknown>): HostSummary {
  const os = obj(report.os);
  const python = obj(report.python);
  const torch = obj(report.torch);
  const disk = obj(report.disk);
  const gpus = Array.isArray(report.gpus)
    ? report.gpus.map((g) => (typeof g === 'string' ? g : [strOf(obj(g).name), strOf(obj(g).memory_total) ?? strOf(obj(g).memory)].filter(Boolean).join(', ')))
    : [];
  const missing = Array.isArray(report.missing) ? report.missing.filter((m): m is string => typeof m === 'string') : [];
  const free = typeof disk.free_bytes === 'number' ? disk.free_bytes : typeof report.disk_free_bytes === 'number' ? report.disk_free_bytes : undefined;
  return {
    os: strOf(os.pretty_name) ?? strOf(report.os) ?? strOf(report.uname),
    python: strOf(python.version) ?? strOf(report.python),
    torch: report.torch === undefined ? undefined : strOf(torch.version) ?? null,
    cuda: typeof torch.cuda_available === 'boolean' ? torch.cuda_available : report.torch === undefined ? undefined : null,
    gpus,
    diskFreeBytes: free,
    missing,
  };
}

export async function checkHost(session: HostSession, profile: HostProfile, localBackendDir: string): Promise<HostReport> {
  const backendDir = await backendOnHost(session, profile, localBackendDir);
  const python = interpreter(session, profile);
  const r = await session.exec(shellJoin([python, joinHost(backendDir, 'host_check.py')]), { timeoutMs: 120_000 });
  const lastLine = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code === 0) {
    try {
      const report = JSON.parse(lastLine) as Record<string, unknown>;
      if (report && typeof report === 'object' && !Array.isArray(report)) return { via: 'host_check.py', summary: summarizeHostReport(report), python, report, backendDir };
    } catch { /* fall through to the shell probe */ }
  }
  const pythonError = r.code === 127 ? `${python}: not found on the host` : (r.stderr.trim().split('\n').pop() || `host_check.py exited with ${r.code}`);
  const probe = await session.exec(SHELL_PROBE, { timeoutMs: 60_000 });
  const report = parseShellProbe(probe.stdout);
  return { via: 'shell', summary: summarizeHostReport(report), python, report, pythonError, backendDir };
}

export class HostSetupError extends Error {
  constructor(message: string, readonly output: string) { super(message); this.name = 'HostSetupError'; }
}

export interface SetupResult {
  /** The venv's interpreter: use it as the profile's `python`. */
  python: string;
  venv: string;
  output: string;
}

/** The command sequence of Set Up Host (also shown to the user). */
export function setupCommands(python: string, venv: string, requirements: string): string {
  const vpy = joinHost(venv, 'bin', 'python');
  return [
    `${shellJoin([python, '-m', 'venv', venv])} || exit 10`,
    `${shellJoin([vpy, '-m', 'pip', 'install', '--disable-pip-version-check', '--retries', '1', '--timeout', '20', '-r', requirements])} || exit 12`,
  ].join('\n');
}

export async function setupHost(session: HostSession, profile: HostProfile, localBackendDir: string, opts: { timeoutMs?: number } = {}): Promise<SetupResult> {
  const backendDir = await backendOnHost(session, profile, localBackendDir);
  const python = interpreter(session, profile);
  const venv = joinHost(hostPath(session.home, profile.root ?? DEFAULT_ROOT), 'venv');
  const r = await session.exec(setupCommands(python, venv, joinHost(backendDir, 'requirements.txt')), { timeoutMs: opts.timeoutMs ?? 30 * 60_000 });
  const output = (r.stdout + r.stderr).trim();
  const tail = output.split('\n').slice(-6).join('\n');
  if (r.code === 0) return { python: joinHost(venv, 'bin', 'python'), venv, output };
  if (r.code === 10) {
    throw new HostSetupError(`Set Up Host: ${python} could not create a virtual environment at ${venv} on ${session.label}` +
      (/ensurepip|venv/i.test(output) ? ' (the venv module or ensurepip is missing: install python3-venv there)' : '') + `.\n${tail}`, output);
  }
  const offline = /Could not find a version|No matching distribution|Failed to establish a new connection|Name or service not known|Temporary failure in name resolution|Network is unreachable|Connection refused|timed out|ProxyError/i.test(output);
  throw new HostSetupError(
    offline
      ? `Set Up Host: pip on ${session.label} could not install the backend's requirements: the package index is unreachable or does not have them (does the host have internet access?). Install them by hand (${joinHost(backendDir, 'requirements.txt')}) or set the host's "python" to an interpreter that has them.\n${tail}`
      : `Set Up Host: installing the backend's requirements on ${session.label} failed (exit ${r.code ?? 'none'}).\n${tail}`,
    output,
  );
}
