// The demo workspace: a copy of media/demo (a small DCD corpus built from real
// public data, provenance in media/demo/PROVENANCE.md) plus workspace settings.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './env.mjs';

export const DEMO_SOURCE = path.join(ROOT, 'media', 'demo');

export function prepareDemoWorkspace(dir) {
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(DEMO_SOURCE, dir, { recursive: true });
  fs.mkdirSync(path.join(dir, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(dir, '.vscode', 'settings.json'), JSON.stringify({
    'files.associations': { '*.dcd.jsonl': 'jsonl' },
  }, null, 2));
  return dir;
}
