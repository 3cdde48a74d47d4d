// Runs a real VS Code (code-server 4.100.3) for `npm start`, the in-VS Code
// tests and the Playwright UI tests, and drives it with headless Chromium.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import * as os from 'node:os';
import { CODE_SERVER_BIN, CHROMIUM } from './env.mjs';

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh profile (user data + extensions dir) with settings that skip the welcome page. */
export function makeProfile(root, settings = {}) {
  const userDataDir = path.join(root, 'user-data');
  const extensionsDir = path.join(root, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir, { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'security.workspace.trust.enabled': false,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'telemetry.telemetryLevel': 'off',
    ...settings,
  }, null, 2));
  const config = path.join(root, 'config.yaml');
  fs.writeFileSync(config, 'auth: none\n');
  return { userDataDir, extensionsDir, config };
}

function codeServerArgs(profile) {
  return ['--user-data-dir', profile.userDataDir, '--extensions-dir', profile.extensionsDir];
}

/** Installs a VSIX into the profile's extensions dir. */
export function installVsix(profile, vsix) {
  return new Promise((resolve, reject) => {
    const p = spawn(CODE_SERVER_BIN, [...codeServerArgs(profile), '--config', profile.config, '--install-extension', vsix, '--force'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { out += d; });
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`install-extension failed (${code}):\n${out}`))));
  });
}

/**
 * Starts code-server on a free loopback port; resolves once it listens.
 * `log` receives its output lines (the extension host's stdout lands here).
 */
export async function startCodeServer({ profile, folder, port, env = {}, log = () => {} }) {
  if (!port) port = await freePort();
  const args = ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check',
    '--disable-workspace-trust', '--config', profile.config, ...codeServerArgs(profile)];
  if (folder) args.push(folder);
  const child = spawn(CODE_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: false });
  const lines = [];
  const onData = (d) => { for (const line of String(d).split('\n')) if (line) { lines.push(line); log(line); } };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`code-server did not start:\n${lines.join('\n')}`)), 30_000);
    const check = (d) => { if (String(d).includes('HTTP server listening')) { clearTimeout(timer); resolve(); } };
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`code-server exited with ${code}:\n${lines.join('\n')}`)); });
  });
  const url = `http://127.0.0.1:${port}/`;
  return {
    url, port, child, lines,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }),
  };
}

export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic', '--disable-dev-shm-usage'];

/** Headless Debian Chromium through playwright-core (never a downloaded browser). */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * The workbench URL that opens `folder` and runs an extension test suite.
 * code-server rejects `--extensionTestsPath`, so the paths go in the URL's
 * `payload` parameter instead, as `vscode-remote://` URIs (plain paths hang).
 */
export function testWorkbenchUrl(base, { folder, extensionDevelopmentPath, extensionTestsPath }) {
  const payload = [
    ['extensionDevelopmentPath', `vscode-remote://remote${extensionDevelopmentPath}`],
    ['extensionTestsPath', `vscode-remote://remote${extensionTestsPath}`],
    ['skipWelcome', 'true'],
  ];
  return `${base}?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

/** Waits for the workbench to be ready (status bar rendered). */
export async function waitForWorkbench(page, timeout = 60_000) {
  await page.waitForSelector('.monaco-workbench .part.statusbar', { timeout });
}

export function tmpRoot(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
