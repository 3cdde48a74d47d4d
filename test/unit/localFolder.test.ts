import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkModelFolder, ModelFolderError } from '../../src/core/drafting/modelFolder';
import { LocalEngine } from '../../src/core/drafting/engine';
import { LocalModelClient } from '../../src/core/drafting/client';
import { tempDir, tinyModel } from './localHelpers';

let model: string;
const tmp = tempDir('dcd-folder-');
after(() => tmp.cleanup());
before(async () => { model = await tinyModel(); });

const FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx'];

/** A copy of the tiny model folder (symlinks), with some files left out. */
async function variant(name: string, without: string[] = []): Promise<string> {
  const dir = path.join(tmp.dir, name);
  await fs.mkdir(path.join(dir, 'onnx'), { recursive: true });
  for (const f of FILES) if (!without.includes(f)) await fs.symlink(path.join(model, f), path.join(dir, f));
  return dir;
}

async function replace(dir: string, file: string, data: string | Uint8Array): Promise<void> {
  await fs.rm(path.join(dir, file), { force: true });
  await fs.writeFile(path.join(dir, file), data);
}

function isError(code: string, ...mentions: (string | RegExp)[]) {
  return (e: unknown) => {
    assert.ok(e instanceof ModelFolderError || (e as { code?: string }).code === code, `not a ModelFolderError: ${String(e)}`);
    const err = e as ModelFolderError;
    assert.equal(err.code, code, err.message);
    for (const m of mentions) {
      if (typeof m === 'string') assert.ok(err.message.includes(m), `"${err.message}" does not name ${m}`);
      else assert.match(err.message, m);
    }
    return true;
  };
}

test('the tiny model folder passes; auto picks q8 over fp32; both variants are listed', async () => {
  const auto = await checkModelFolder(model);
  assert.equal(auto.modelType, 'qwen2');
  assert.equal(auto.dtype, 'q8');
  assert.equal(auto.onnxFile, 'onnx/model_quantized.onnx');
  assert.deepEqual(auto.availableDtypes, ['fp32', 'q8']);
  const fp32 = await checkModelFolder(model, 'fp32');
  assert.equal(fp32.onnxFile, 'onnx/model.onnx');
  assert.deepEqual(fp32.externalData, []);
});

test('no config.json', async () => {
  const dir = await variant('no-config', ['config.json']);
  await assert.rejects(checkModelFolder(dir, 'fp32'), isError('missing-config', 'config.json'));
});

test('wrong architecture', async () => {
  const dir = await variant('bert');
  const config = JSON.parse(await fs.readFile(path.join(model, 'config.json'), 'utf8'));
  await replace(dir, 'config.json', JSON.stringify({ ...config, model_type: 'bert', architectures: ['BertModel'] }));
  await assert.rejects(checkModelFolder(dir, 'fp32'), isError('unsupported-architecture', 'Wrong architecture', '"bert"', 'BertModel', 'qwen2'));
});

test('no ONNX file: for the chosen dtype, and none at all', async () => {
  const dir = await variant('q4-missing');
  await assert.rejects(checkModelFolder(dir, 'q4'), isError('missing-onnx', 'onnx/model_q4.onnx', 'fp32, q8'));
  const none = await variant('no-onnx', ['onnx/model.onnx', 'onnx/model_quantized.onnx']);
  await assert.rejects(checkModelFolder(none, 'fp32'), isError('missing-onnx', 'onnx/model.onnx', 'no ONNX file'));
  await assert.rejects(checkModelFolder(none), isError('missing-onnx', 'No ONNX file'));
});

test('missing external data named by config', async () => {
  const dir = await variant('ext');
  const config = JSON.parse(await fs.readFile(path.join(model, 'config.json'), 'utf8'));
  await replace(dir, 'config.json', JSON.stringify({ ...config, 'transformers.js_config': { use_external_data_format: { 'model.onnx': 1 } } }));
  await assert.rejects(checkModelFolder(dir, 'fp32'), isError('missing-onnx', 'onnx/model.onnx_data'));
});

test('corrupt files: truncated ONNX, garbage ONNX, bad config.json, truncated tokenizer.json', async () => {
  const onnx = await fs.readFile(path.join(model, 'onnx', 'model.onnx'));
  const trunc = await variant('trunc');
  await replace(trunc, 'onnx/model.onnx', onnx.subarray(0, 1 << 20));
  await assert.rejects(checkModelFolder(trunc, 'fp32'), isError('corrupt-file', 'onnx/model.onnx', /truncated/));

  const garbage = await variant('garbage');
  await replace(garbage, 'onnx/model.onnx', Buffer.from('this is not a model at all, just text\n'.repeat(100)));
  await assert.rejects(checkModelFolder(garbage, 'fp32'), isError('corrupt-file', 'onnx/model.onnx'));

  const empty = await variant('empty');
  await replace(empty, 'onnx/model.onnx', '');
  await assert.rejects(checkModelFolder(empty, 'fp32'), isError('corrupt-file', 'onnx/model.onnx', /empty/));

  const badConfig = await variant('bad-config');
  await replace(badConfig, 'config.json', '{"model_type": "qwen2",');
  await assert.rejects(checkModelFolder(badConfig, 'fp32'), isError('corrupt-file', 'config.json', /not valid JSON/));

  const badTok = await variant('bad-tok');
  const tok = await fs.readFile(path.join(model, 'tokenizer.json'));
  await replace(badTok, 'tokenizer.json', tok.subarray(0, 1000));
  await assert.rejects(checkModelFolder(badTok, 'fp32'), isError('corrupt-file', 'tokenizer.json'));
});

test('missing tokenizer', async () => {
  const dir = await variant('no-tok', ['tokenizer.json']);
  await assert.rejects(checkModelFolder(dir, 'fp32'), isError('missing-tokenizer', 'tokenizer.json'));
});

test('an ONNX file that parses but onnxruntime cannot load: named by the real load, in-process and through the worker', async () => {
  const dir = await variant('no-graph-body');
  // ir_version 7 + an empty graph: structurally a ModelProto, semantically unusable.
  await replace(dir, 'onnx/model.onnx', Buffer.from([0x08, 0x07, 0x3a, 0x00]));
  await checkModelFolder(dir, 'fp32');
  await assert.rejects(LocalEngine.load(dir, { dtype: 'fp32', threads: 1 }), isError('corrupt-file', 'onnx/model.onnx', /onnxruntime/));
  await assert.rejects(LocalModelClient.start(dir, { dtype: 'fp32', threads: 1 }), isError('corrupt-file', 'onnx/model.onnx'));
  // Bad folders are refused by the worker with the same named errors.
  const noConfig = await variant('no-config-worker', ['config.json']);
  await assert.rejects(LocalModelClient.start(noConfig, { dtype: 'fp32' }), isError('missing-config', 'config.json'));
});
