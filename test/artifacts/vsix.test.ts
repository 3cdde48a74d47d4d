/**
 * The VSIX files as users install them (`npm run package:all` writes one per
 * platform into dist/ before this layer runs). Each must hold the extension's
 * bundles, the grammar, the Python backend and exactly its own platform's
 * onnxruntime native binaries; the one for this machine is unpacked and what it
 * ships is run: the CLI, the native binding and the Python backend.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ALL_TARGETS, PLATFORM_DIRS } from '../../scripts/package.mjs';
import { REPO, readJsonLines, runArtifact, venvPython } from './support';

/** The size budget of one VSIX (the largest, win32-x64, is about 33 MB: onnxruntime and DirectML). */
const VSIX_BUDGET_BYTES = 40 * 1024 * 1024;

const VERSION = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')).version as string;
const FIX = path.join(REPO, 'test', 'fixtures');
const ORT_BIN = path.join(REPO, 'node_modules', 'onnxruntime-node', 'bin');
const vsixPath = (target: string) => path.join(REPO, 'dist', `dcd-studio-${VERSION}-${target}.vsix`);
const entries = (vsix: string) => execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n').filter(Boolean);

/** onnxruntime-node's native folders (napi-vN/os/arch) that exist for TARGET in the installed package. */
function ortDirsFor(target: string): string[] {
  const [platform, arch] = PLATFORM_DIRS[target];
  return fs.readdirSync(ORT_BIN).filter((napi) => fs.existsSync(path.join(ORT_BIN, napi, platform, arch))).map((napi) => `${napi}/${platform}/${arch}`);
}

describe('the VSIX of every platform', () => {
  for (const target of ALL_TARGETS) {
    it(`${target}: bundles, grammar, backend, only its own native binaries, within the size budget`, () => {
      const vsix = vsixPath(target);
      assert.ok(fs.existsSync(vsix), `${vsix} was packaged`);
      const files = entries(vsix);
      const manifest = execFileSync('unzip', ['-p', vsix, 'extension.vsixmanifest'], { encoding: 'utf8' });
      assert.match(manifest, new RegExp(`TargetPlatform="${target}"`));
      for (const f of ['out/extension.js', 'out/cli.js', 'out/tokenizer-worker.js', 'out/local-worker.js', 'out/tokenizer/qwen2.5/tokenizer.json',
        'out/webview/workbench.js', 'syntaxes/dcd-trace.tmLanguage.json', 'python-backend/train.py', 'python-backend/host_check.py',
        'python-backend/dcd_backend/events_schema.json', 'python-backend/lmeval_tasks/dcd_gsm8k.yaml', 'package.json']) {
        assert.ok(files.includes(`extension/${f}`), `${target}: extension/${f}`);
      }
      const native = files.filter((f) => /\.(node|so(\.\d+)*|dylib|dll)$/.test(f));
      const ortDirs = new Set(native.map((f) => /onnxruntime-node\/bin\/(napi-v\d+\/[^/]+\/[^/]+)\//.exec(f)?.[1]));
      assert.deepEqual([...ortDirs].sort(), ortDirsFor(target).sort(), `${target}: native binaries of exactly its platform`);
      assert.deepEqual(files.filter((f) => /\.(ts|map)$|python-backend\/tests\/|__pycache__/.test(f)), [], 'no sources, maps or tests');
      assert.ok(fs.statSync(vsix).size <= VSIX_BUDGET_BYTES, `${target}: ${fs.statSync(vsix).size} bytes > budget ${VSIX_BUDGET_BYTES}`);
    });
  }
});

describe(`the VSIX of this machine (${process.platform}-${process.arch}), unpacked and run`, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dcd-artifact-vsix-'));
  const ext = path.join(tmp, 'extension');
  const cli = path.join(ext, 'out', 'cli.js');
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('unpacks', () => {
    execFileSync('unzip', ['-q', vsixPath(`${process.platform}-${process.arch}`), '-d', tmp]);
    assert.ok(fs.existsSync(cli));
  });

  it('its dcd CLI starts and builds, counts and verifies with the tokenizer and worker it ships', () => {
    const version = runArtifact(process.execPath, [cli, '--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), VERSION);
    const corpus = path.join(tmp, 'c.dcd.jsonl');
    const build = runArtifact(process.execPath, [cli, 'build', '--s1k', path.join(FIX, 'corpus', 's1k-mini.jsonl'), '--drafts', path.join(FIX, 'corpus', 'drafts-mini.jsonl'), '--out', corpus, '--json']);
    assert.equal(build.status, 0, build.stderr);
    const stats = runArtifact(process.execPath, [cli, 'stats', corpus, '--json']);
    assert.equal(stats.status, 0, stats.stderr);
    const s = JSON.parse(stats.stdout);
    assert.equal(s.samples, readJsonLines(corpus).length);
    assert.equal(s.tokens.failed, 0);
    assert.ok(s.tokens.tokens > 0);
    const verify = runArtifact(process.execPath, [cli, 'verify', '--pred', '\\boxed{2}', '--gold', '2', '--json']);
    assert.equal(JSON.parse(verify.stdout).equivalent, true);
  });

  it('its onnxruntime-node native binding loads', () => {
    const ort = path.join(ext, 'node_modules', 'onnxruntime-node');
    const r = runArtifact(process.execPath, ['-e', `const o = require(${JSON.stringify(ort)}); process.stdout.write(typeof o.InferenceSession.create)`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'function');
  });

  it('its Python backend trains builtin:tiny and checks the host, with the real torch of the project venv', () => {
    const py = venvPython();
    const run = path.join(tmp, 'run');
    const train = runArtifact(py, [path.join(ext, 'python-backend', 'train.py'), '--data', path.join(FIX, 'jobs', 'export'), '--model', 'builtin:tiny',
      '--preset', 'smoke', '--max-steps', '2', '--threads', '1', '--out', run], { cwd: tmp });
    assert.equal(train.status, 0, train.stderr);
    const events = readJsonLines(path.join(run, 'events.jsonl'));
    assert.deepEqual(events.filter((e) => e.event === 'step').map((e) => e.step), [1, 2]);
    assert.ok(events.some((e) => e.event === 'done'), 'the run ends with a done event');
    const check = runArtifact(py, [path.join(ext, 'python-backend', 'host_check.py')], { cwd: tmp });
    assert.equal(check.status, 0, check.stderr);
    const report = JSON.parse(check.stdout);
    assert.equal(report.python.executable, py, 'host_check reports the interpreter it ran in');
    assert.match(report.torch.version, /^\d+\.\d+/);
  });
});
