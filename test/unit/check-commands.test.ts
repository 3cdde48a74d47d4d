/** scripts/check-commands.mjs: commands registered in src/ ⇔ commands contributed in package.json. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SCRIPT = join(ROOT, 'scripts', 'check-commands.mjs');

function check(args: string[]) {
  const r = spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'dcd-check-commands-'));
  try { return fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
}

test('the repository: every contributed command is registered and every registered one contributed', () => {
  const r = check([]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /consistent/);
});

test('a contributed command that nothing registers fails, named', () => withTemp((dir) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  pkg.contributes.commands.push({ command: 'dcd.ghostCommand', title: 'Ghost', category: 'DCD' });
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  const r = check(['--package', join(dir, 'package.json')]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /contributed in package\.json but never registered:\n\s+dcd\.ghostCommand\n/);
  // Nothing else is reported.
  assert.doesNotMatch(r.out, /registered but not contributed|not contributed \(|cannot be read/);
}));

test('registrations through constants and wrappers are read; strays, unknown references and unreadable ids fail', () => withTemp((dir) => {
  mkdirSync(join(dir, 'src', 'feature'), { recursive: true });
  writeFileSync(join(dir, 'src', 'ids.ts'), "export const OPEN = 'x.open';\nexport const IDS = Object.freeze({ close: 'x.close' });\n");
  writeFileSync(join(dir, 'src', 'feature', 'index.ts'), [
    "import * as vscode from 'vscode';",
    "import { OPEN, IDS } from '../ids';",
    "const LOCAL = 'x.local' as const;",
    'export function activate() {',
    '  const command = (id: string, fn: () => void) => vscode.commands.registerCommand(id, fn);',
    '  vscode.commands.registerCommand(OPEN, () => undefined);',
    '  vscode.commands.registerTextEditorCommand(IDS.close, () => undefined);',
    '  command(LOCAL, () => undefined);',
    "  command('x.stray', () => undefined);",
    "  for (const id of ['x.a', 'x.b']) vscode.commands.registerCommand(id, () => undefined);",
    "  void vscode.commands.executeCommand('x.missing');",
    '}',
  ].join('\n'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: 'fixture',
    contributes: {
      commands: [{ command: 'x.open' }, { command: 'x.close' }, { command: 'x.local' }],
      menus: { commandPalette: [{ command: 'x.open' }, { command: 'x.unknown' }] },
    },
  }));
  const r = check(['--root', dir]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /registered but not contributed[^\n]*:\n\s+x\.stray {2}\(src\/feature\/index\.ts:9\)/);
  assert.match(r.out, /x\.unknown {2}\(menus\.commandPalette\)/);
  assert.match(r.out, /x\.missing {2}\(src\/feature\/index\.ts:11, executeCommand\)/);
  assert.match(r.out, /cannot be read statically:\n\s+src\/feature\/index\.ts:10 /);
  assert.doesNotMatch(r.out, /never registered:\n\s+x\.(open|close|local)/);
}));

test('a shared wrapper named registerCommand is read at its call sites in every file', () => withTemp((dir) => {
  mkdirSync(join(dir, 'src', 'services'), { recursive: true });
  mkdirSync(join(dir, 'src', 'feature'), { recursive: true });
  writeFileSync(join(dir, 'src', 'services', 'commands.ts'), [
    "import * as vscode from 'vscode';",
    'export class Commands {',
    '  registerCommand(id: string, run: () => unknown) { return vscode.commands.registerCommand(id, run); }',
    '}',
  ].join('\n'));
  writeFileSync(join(dir, 'src', 'feature', 'index.ts'), [
    "import type { Commands } from '../services/commands';",
    'export function register(commands: Commands) {',
    "  commands.registerCommand('x.shared', () => undefined);",
    "  commands.registerCommand('x.stray', () => undefined);",
    '}',
  ].join('\n'));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'fixture', contributes: { commands: [{ command: 'x.shared' }] } }));
  const r = check(['--root', dir]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /registered but not contributed[^\n]*:\n\s+x\.stray {2}\(src\/feature\/index\.ts:4\)\n/);
  assert.doesNotMatch(r.out, /contributed in package\.json but never registered|cannot be read/);
}));
