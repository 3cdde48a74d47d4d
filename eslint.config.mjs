// Lint rules that keep the architecture visible: the core (src/core) imports
// neither `vscode` nor webview code; webviews import only the core and the protocol;
// a feature folder of the extension imports no other feature.
import tseslint from 'typescript-eslint';

/** The extension's feature folders (thin VS Code adapters), each registered by activate. */
const FEATURES = ['corpora', 'traces', 'workbench', 'remote', 'eval', 'drafting', 'lineage', 'walkthrough'];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.venv/**', '.dcd-test/**', 'python-backend/**', '.cache/**', 'test-results/**', 'bench/results.json'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  // The core may import only itself (and package.json, and the JSON schemas it shares with the Python backend):
  // any other relative import that climbs out of src/core is refused.
  ...[1, 2, 3, 4].map((depth) => ({
    files: [`src/core/${'*/'.repeat(depth - 1)}*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/core is the pure core: no vscode imports (put VS Code code in an adapter under src/).' }],
        patterns: [{
          regex: `^(\\.\\./){${depth}}(?!\\.\\./package\\.json$|\\.\\./python-backend/dcd_backend/[\\w-]+\\.json$)`,
          message: 'src/core is the pure core: it must not import VS Code adapters or webview code.',
        }],
      }],
    },
  })),
  // Extension features (one folder each) import the pure core and the shared services, never another feature:
  // what two features share moves to src/services, and a feature's objects reach another by injection in activate.
  ...FEATURES.map((feature) => ({
    files: [`src/${feature}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          regex: `^(\\.\\./)+(${FEATURES.filter((f) => f !== feature).join('|')}|extension)(/|$)`,
          message: `src/${feature} must not import another feature's folder: share it through src/services (or src/core), or inject it in activate.`,
        }],
      }],
    },
  })),
  {
    files: ['src/services/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{ regex: `^\\.\\./(${FEATURES.join('|')}|extension)(/|$)`, message: 'src/services is shared by the features: it must not import one.' }],
      }],
    },
  },
  {
    files: ['webview/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'Webviews run in the browser: talk to the host through the protocol.' }],
        patterns: [{ group: ['../../src/*', '!../../src/core'], message: 'Webviews import only the core (types, protocol).' }],
      }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
);
