// `npm run package`: builds the production bundles and packs a platform-specific
// VSIX (dist/dcd-studio-<version>-<target>.vsix). Everything is bundled by
// esbuild except native modules, which are staged with only the binaries of
// the target platform.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './env.mjs';

/** Node modules loaded at run time from node_modules (native code); the rest is bundled. */
export const RUNTIME_MODULES = ['onnxruntime-node', 'onnxruntime-common'];

// VS Code targets -> the <os>/<arch> folder under onnxruntime-node/bin/napi-vN.
export const PLATFORM_DIRS = { 'linux-x64': ['linux', 'x64'], 'linux-arm64': ['linux', 'arm64'], 'darwin-arm64': ['darwin', 'arm64'], 'darwin-x64': ['darwin', 'x64'], 'win32-x64': ['win32', 'x64'], 'win32-arm64': ['win32', 'arm64'] };
/** The platforms users have, built by `npm run package:all`. */
export const ALL_TARGETS = ['linux-x64', 'linux-arm64', 'darwin-x64', 'darwin-arm64', 'win32-x64'];

export function currentTarget() {
  return `${process.platform}-${process.arch}`;
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}`);
}

/** Copies a module, keeping only the target's native binaries (onnxruntime-node ships every platform's). */
function stageModule(name, stageModules, target) {
  const src = path.join(ROOT, 'node_modules', name);
  const dest = path.join(stageModules, name);
  const [os, arch] = PLATFORM_DIRS[target] ?? [];
  fs.cpSync(src, dest, {
    recursive: true,
    filter: (p) => {
      const rel = path.relative(src, p).split(path.sep);
      // Only what loads at run time: no TypeScript sources, source maps or install/build scripts.
      if (['lib', 'script'].includes(rel[0]) || /\.(ts|map)$/.test(p)) return false;
      const napi = rel.findIndex((part) => /^napi-v\d+$/.test(part));
      if (napi >= 0 && rel.length > napi + 1 && rel[napi + 1] !== os) return false;
      if (napi >= 0 && rel.length > napi + 2 && rel[napi + 2] !== arch) return false;
      return true;
    },
  });
}

export function packageVsix({ target = currentTarget(), skipBuild = false } = {}) {
  if (!PLATFORM_DIRS[target]) throw new Error(`unknown target ${target} (known: ${Object.keys(PLATFORM_DIRS).join(', ')})`);
  if (!skipBuild) run(process.execPath, ['scripts/build.mjs', '--production']);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const stage = path.join(ROOT, 'dist', 'stage');
  fs.rmSync(stage, { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  for (const entry of ['out', 'media', 'syntaxes', 'python-backend', 'README.md', 'CHANGELOG.md', 'LICENSE']) {
    const src = path.join(ROOT, entry);
    if (!fs.existsSync(src)) continue;
    fs.cpSync(src, path.join(stage, entry), {
      recursive: true,
      filter: (p) => !/(\.map$|__pycache__|\.pyc$|[/\\]out[/\\]test([/\\]|$)|[/\\]python-backend[/\\]tests([/\\]|$))/.test(p),
    });
  }
  const modules = path.join(stage, 'node_modules');
  for (const name of RUNTIME_MODULES) {
    if (!fs.existsSync(path.join(ROOT, 'node_modules', name))) continue;
    stageModule(name, modules, target);
    // Keep only run-time dependencies (onnxruntime-node's others serve its install script) and no install scripts.
    const manifest = path.join(modules, name, 'package.json');
    const mod = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    mod.dependencies = Object.fromEntries(Object.entries(mod.dependencies ?? {}).filter(([d]) => RUNTIME_MODULES.includes(d)));
    delete mod.scripts;
    fs.writeFileSync(manifest, JSON.stringify(mod, null, 2));
  }
  const staged = {
    ...pkg,
    scripts: {},
    files: undefined, // the npm package's file list; the stage already holds exactly what the VSIX ships
    allowScripts: undefined,
    devDependencies: {},
    dependencies: Object.fromEntries(RUNTIME_MODULES.filter((m) => pkg.dependencies?.[m]).map((m) => [m, pkg.dependencies[m]])),
    repository: pkg.repository ?? { type: 'git', url: 'https://example.invalid/dcd-studio.git' },
  };
  fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify(staged, null, 2));
  const out = path.join(ROOT, 'dist', `dcd-studio-${pkg.version}-${target}.vsix`);
  fs.rmSync(out, { force: true });
  run(process.execPath, [path.join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--target', target, '--out', out,
    '--allow-missing-repository', '--skip-license', '--no-update-package-json', '--no-rewrite-relative-links'], { cwd: stage });
  return out;
}

/** `--target T`, `--target=T` or `--all` from ARGV: the targets to pack. */
function targetsFromArgs(argv) {
  if (argv.includes('--all')) return ALL_TARGETS;
  const i = argv.findIndex((a) => a === '--target' || a.startsWith('--target='));
  if (i < 0) return [currentTarget()];
  return [argv[i].includes('=') ? argv[i].slice('--target='.length) : argv[i + 1]];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    const targets = targetsFromArgs(process.argv.slice(2));
    run(process.execPath, ['scripts/build.mjs', '--production']);
    for (const target of targets) process.stdout.write(`${packageVsix({ target, skipBuild: true })}\n`);
  } catch (err) { console.error(err.message); process.exit(1); }
}
