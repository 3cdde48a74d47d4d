/**
 * Settings that run code or choose where data goes are machine settings: a
 * workspace's .vscode/settings.json cannot redirect uploads and the HF token to
 * another host or run another interpreter. Training and Evaluate Model build
 * their host profiles with one function, so `dcd.pythonPath` governs both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { PROFILE_FIELDS, profilesFromSettings } from '../../src/core/remote/profiles';

const ROOT = path.resolve(__dirname, '..', '..');
interface Setting { scope?: string; items?: { properties?: Record<string, unknown> } }
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  capabilities: { untrustedWorkspaces: { restrictedConfigurations?: string[] } };
  contributes: { configuration: { properties: Record<string, Setting> } };
};
const settings = pkg.contributes.configuration.properties;

/** Each of these runs a program, loads code or model files, or picks the host that uploads and secrets go to. */
const CODE_OR_DATA_ROUTING = ['dcd.hosts', 'dcd.pythonPath', 'dcd.local.modelPath', 'dcd.tokenizerPath'];

test('every code-running or data-routing setting has machine scope and is restricted in untrusted workspaces', () => {
  for (const key of CODE_OR_DATA_ROUTING) {
    assert.ok(settings[key], `${key} is contributed`);
    assert.equal(settings[key].scope, 'machine', `${key} must not be overridable by a workspace`);
    assert.ok(pkg.capabilities.untrustedWorkspaces.restrictedConfigurations?.includes(key), `${key} is a restricted configuration`);
  }
});

test('no setting is workspace-overridable while it names a path or an interpreter', () => {
  // A new setting of this kind must join the list above (or be shown harmless here).
  const pathLike = Object.keys(settings).filter((k) => /path|python|host|interpreter|command|exe/i.test(k));
  assert.deepEqual(pathLike.filter((k) => settings[k].scope !== 'machine'), []);
});

test('every host-profile field the code reads is documented in dcd.hosts, and nothing else', () => {
  const documented = Object.keys(settings['dcd.hosts'].items?.properties ?? {}).sort();
  assert.deepEqual(documented, [...PROFILE_FIELDS].sort());
});

test('the local profile (training and Evaluate Model) runs dcd.pythonPath, and dcd.hosts cannot swap in another local interpreter', () => {
  const problems: string[] = [];
  const profiles = profilesFromSettings([
    { name: 'gpu', host: 'gpu.example', python: '/opt/py/bin/python' },
    { name: 'local', host: 'local', python: '/tmp/evil-python' },
    { name: 'mine', kind: 'local', python: '/tmp/evil-python' },
    { name: 'broken' },
  ], '/usr/bin/python3.12', problems);
  assert.deepEqual(profiles.map((p) => [p.name, p.kind, p.python]), [
    ['local', 'local', '/usr/bin/python3.12'],
    ['gpu', 'ssh', '/opt/py/bin/python'],
  ]);
  assert.equal(problems.length, 3);
  assert.match(problems.join('\n'), /dcd\.pythonPath/);
  assert.equal(profilesFromSettings([], '')[0].python, undefined, 'empty: the default python3');
  const odd: string[] = [];
  assert.deepEqual(profilesFromSettings({ name: 'x' }, 'python3', odd).map((p) => p.name), ['local']);
  assert.equal(odd.length, 1);
});

test('no adapter builds host profiles from settings on its own (Evaluate Model once ignored dcd.pythonPath that way)', () => {
  const offenders: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) { if (e.name !== 'core') walk(p); } else if (p.endsWith('.ts') && /\bnormalizeProfile\(|\bLOCAL_PROFILE\b/.test(readFileSync(p, 'utf8'))) offenders.push(path.relative(ROOT, p));
    }
  };
  walk(path.join(ROOT, 'src'));
  assert.deepEqual(offenders, []);
});
