// One idempotent set-up for a fresh machine, used by `npm start` and `npm test`:
// system packages (apt, when root), npm packages, and code-server 4.100.3 (offline recipe).
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as os from 'node:os';
import { ROOT, APT_PACKAGES, CODE_SERVER_DIR, CODE_SERVER_BIN, CODE_SERVER_VERSION } from './env.mjs';

const log = (msg) => process.stderr.write(`[bootstrap] ${msg}\n`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

export function ensureAptPackages() {
  const missing = APT_PACKAGES.filter(([, probe]) => !fs.existsSync(probe)).map(([name]) => name);
  if (!missing.length) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new Error(`Missing system packages: ${missing.join(' ')}.\nInstall them with: sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`);
  }
  log(`installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-qq'], { env });
  run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
}

export function ensureNodeModules() {
  const lock = path.join(ROOT, 'package-lock.json');
  const stamp = path.join(ROOT, 'node_modules', '.package-lock.json');
  const fresh = fs.existsSync(stamp) && fs.statSync(stamp).mtimeMs >= fs.statSync(lock).mtimeMs;
  if (fresh) return;
  // A linked node_modules (a git worktree sharing the main checkout's) belongs to another checkout:
  // npm ci would empty it through the link.
  if (fs.lstatSync(path.join(ROOT, 'node_modules'), { throwIfNoEntry: false })?.isSymbolicLink()) {
    log('node_modules is a link to another checkout\'s: not reinstalling it here');
    return;
  }
  log('installing npm packages (npm ci)');
  // onnxruntime-node's install script would only fetch CUDA binaries; the CPU ones ship in the package.
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: ROOT, env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
}

/** code-server's bundled @vscode/ripgrep downloads from GitHub; seed its cache with Debian's rg instead. */
function seedRipgrepCache() {
  const cacheDir = path.join(os.tmpdir(), 'vscode-ripgrep-cache-1.15.11');
  const archive = path.join(cacheDir, 'ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz');
  if (fs.existsSync(archive)) return;
  fs.mkdirSync(cacheDir, { recursive: true });
  const stage = fs.mkdtempSync(path.join(os.tmpdir(), 'rg-'));
  fs.copyFileSync('/usr/bin/rg', path.join(stage, 'rg'));
  execFileSync('tar', ['-czf', archive, '-C', stage, 'rg']);
  fs.rmSync(stage, { recursive: true, force: true });
}

export function ensureCodeServer() {
  if (fs.existsSync(CODE_SERVER_BIN)) return CODE_SERVER_BIN;
  if (process.arch !== 'x64') log(`warning: the ripgrep cache recipe is for x86-64; this is ${process.arch}`);
  log(`installing code-server ${CODE_SERVER_VERSION} into ${CODE_SERVER_DIR} (about 2 minutes)`);
  seedRipgrepCache();
  const tmp = `${CODE_SERVER_DIR}.partial`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  fs.writeFileSync(path.join(tmp, 'package.json'), JSON.stringify({ name: 'dcd-code-server', private: true }));
  run('npm', ['install', '--no-audit', '--no-fund', '--unsafe-perm', `code-server@${CODE_SERVER_VERSION}`], {
    cwd: tmp, env: { ...process.env, npm_config_yes: 'true' },
  });
  fs.rmSync(CODE_SERVER_DIR, { recursive: true, force: true });
  fs.renameSync(tmp, CODE_SERVER_DIR);
  return CODE_SERVER_BIN;
}

export function bootstrap({ codeServer = true } = {}) {
  ensureAptPackages();
  ensureNodeModules();
  if (codeServer) ensureCodeServer();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try { bootstrap(); } catch (err) { log(err.message); process.exit(1); }
}
