/**
 * The services every feature of the extension shares, set up once in
 * `activate` before any feature registers: the "DCD Studio" output channel,
 * the command wrapper, the tokenizer pool's configuration, and the hosts and
 * jobs wiring. Features receive them as `register<Feature>(context, services)`
 * and never reach into another feature's folder; setting keys, secret keys
 * and the webview host are imported from this folder as modules.
 */
import * as vscode from 'vscode';
import { Commands } from './commands';
import { HostServices } from './hosts';
import { configureTokenizer } from './tokenizerPool';

export interface ExtensionServices {
  output: vscode.OutputChannel;
  commands: Commands;
  hosts: HostServices;
}

export function createServices(context: vscode.ExtensionContext): ExtensionServices {
  const output = vscode.window.createOutputChannel('DCD Studio');
  const contributed = (context.extension.packageJSON as { contributes?: { commands?: { command: string; title: string }[] } }).contributes?.commands ?? [];
  context.subscriptions.push(output, configureTokenizer(context.extensionUri));
  // Not subscribed here: `activate` disposes it after the features, so job followers stop before the engine closes their sessions.
  const hosts = new HostServices(context);
  return { output, commands: new Commands(output, contributed), hosts };
}
