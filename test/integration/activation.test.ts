import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { activateExtension, EXTENSION_ID } from './util';

describe('DCD Studio activation', () => {
  it('activates and registers every contributed command', async () => {
    const api = await activateExtension();
    assert.match(api.version, /^\d+\.\d+\.\d+/);
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const contributed: { command: string }[] = ext.packageJSON.contributes.commands;
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.map((c) => c.command).filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], `contributed commands without a registration: ${missing.join(', ')}`);
  });

  it('contributes the dcd-trace language', async () => {
    const languages = await vscode.languages.getLanguages();
    assert.ok(languages.includes('dcd-trace'));
    const doc = await vscode.workspace.openTextDocument({ language: 'dcd-trace', content: '<|im_start|>system\nhi<|im_end|>' });
    assert.equal(doc.languageId, 'dcd-trace');
  });

  it('does not activate on startup (no "*" activation event)', () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    const events: string[] = ext.packageJSON.activationEvents ?? [];
    assert.ok(!events.includes('*'));
  });
});
