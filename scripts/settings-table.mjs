// Prints the README's settings table from package.json (run after adding a setting:
// node scripts/settings-table.mjs > /tmp/t.md, then paste it under "Settings").
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT } from './env.mjs';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const config = pkg.contributes.configuration;
const props = Object.assign({}, ...(Array.isArray(config) ? config : [config]).map((c) => c.properties));
const rows = Object.entries(props).map(([key, p]) => {
  const desc = (p.markdownDescription ?? p.description ?? '').replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
  return `| \`${key}\` | \`${JSON.stringify(p.default)}\` | ${desc} |`;
});
process.stdout.write(['| Setting | Default | What it does |', '|---|---|---|', ...rows].join('\n') + '\n');
