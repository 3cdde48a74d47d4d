/**
 * `dcd draft --model DIR --questions FILE --out FILE [--n N] [--max-new-tokens K]
 *  [--seed S] [--temperature T] [--top-p P] [--top-k K] [--dtype D] [--threads N]
 *  [--verify-with-model] [--json]`
 *
 * Student drafts from a local ONNX model (transformers.js layout), headless:
 * the same batch engine as the extension. Questions: JSONL or a JSON array of
 * rows with `question` (and `solution` / `answer` / `gold` for grading), or of
 * strings. Appends to --out (drafts JSONL, docs/SPEC.md §1) and resumes: drafts already
 * there are skipped; a torn last line from a killed run is cut off. Ctrl-C
 * stops after the current token; finished drafts stay.
 *
 * JSON output: `{out, model, dtype, total, written, skipped, cancelled,
 * repaired_torn_line, malformed_lines, verified: {correct, wrong, undecided,
 * unverified, model_decided}, tokens, ms, tokens_per_second}`.
 */
import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { CliError, printJson } from '../output';
import type { BatchSummary } from '../../core/drafting/batch';
import type { LocalEngine } from '../../core/drafting/engine';
import { ModelFolderError } from '../../core/drafting/modelFolder';
import { parseQuestions } from '../../core/drafting/questions';
import { DEFAULT_GENERATE_PARAMS, isDtypeSetting, type GenerateParams } from '../../core/drafting/types';

function num(name: string, v: string | undefined, kind: 'int' | 'float', min: number, max = Infinity): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || (kind === 'int' && !Number.isInteger(x)) || x < min || x > max) {
    throw new CliError(`${name} must be ${kind === 'int' ? 'an integer' : 'a number'} in [${min}, ${max === Infinity ? '∞' : max}], got ${JSON.stringify(v)}`);
  }
  return x;
}

function human(s: BatchSummary & { dtype: string }): string {
  const v = s.verified;
  return [
    `${s.written} drafts written to ${s.out} (${s.skipped} already there, ${s.total} in all)${s.cancelled ? ' — cancelled' : ''}`,
    `verified: ${v.correct} correct, ${v.wrong} wrong, ${v.undecided} undecided, ${v.unverified} without gold${v.model_decided ? ` (${v.model_decided} decided by the model)` : ''}`,
    `model ${s.model} (${s.dtype}): ${s.tokens} tokens, ${s.tokens_per_second.toFixed(1)} tokens/s`,
    ...(s.repaired_torn_line ? ['a torn last line from an interrupted run was removed'] : []),
  ].join('\n');
}

interface DraftOpts {
  model: string; questions: string; out: string; n?: string; maxNewTokens?: string; seed?: string;
  temperature?: string; topP?: string; topK?: string; dtype: string; threads?: string; verifyWithModel?: boolean; json?: boolean;
}

export function register(program: Command): void {
  program
    .command('draft')
    .description('write student drafts with a local ONNX model (resumable), verified against the gold answers')
    .requiredOption('--model <dir>', 'model folder in the transformers.js layout (config.json, tokenizer, onnx/model*.onnx)')
    .requiredOption('--questions <file>', 'questions: JSONL or JSON array with a "question" field (s1K rows), or of strings')
    .requiredOption('--out <file>', 'drafts JSONL to append to (resumed when it exists)')
    .option('--n <n>', 'drafts per question (default 1)')
    .option('--max-new-tokens <k>', `max new tokens per draft (default ${DEFAULT_GENERATE_PARAMS.maxNewTokens})`)
    .option('--seed <s>', 'base seed; each draft records its own derived seed (default 0)')
    .option('--temperature <t>', `sampling temperature, 0 = greedy (default ${DEFAULT_GENERATE_PARAMS.temperature})`)
    .option('--top-p <p>', `nucleus mass (default ${DEFAULT_GENERATE_PARAMS.topP})`)
    .option('--top-k <k>', 'top-k, 0 = off (default: the model\'s generation_config.json)')
    .option('--dtype <d>', 'ONNX variant: auto, fp32, fp16, q8, q4', 'auto')
    .option('--threads <n>', 'onnxruntime intra-op threads (default: onnxruntime\'s choice)')
    .option('--verify-with-model', 'ask the model (yes/no) about answer pairs the rule-based verifier leaves undecided')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: DraftOpts) => {
      if (!isDtypeSetting(opts.dtype)) throw new CliError(`--dtype must be one of auto, fp32, fp16, q8, q4, got ${JSON.stringify(opts.dtype)}`);
      const n = num('--n', opts.n, 'int', 1) ?? 1;
      const params: GenerateParams = {
        ...DEFAULT_GENERATE_PARAMS,
        maxNewTokens: num('--max-new-tokens', opts.maxNewTokens, 'int', 1) ?? DEFAULT_GENERATE_PARAMS.maxNewTokens,
        seed: num('--seed', opts.seed, 'int', 0, 2 ** 32 - 1) ?? 0,
        temperature: num('--temperature', opts.temperature, 'float', 0) ?? DEFAULT_GENERATE_PARAMS.temperature,
        topP: num('--top-p', opts.topP, 'float', 0, 1) ?? DEFAULT_GENERATE_PARAMS.topP,
      };
      const topK = num('--top-k', opts.topK, 'int', 0);
      if (topK !== undefined) params.topK = topK;
      const threads = num('--threads', opts.threads, 'int', 1);

      let text: string;
      try {
        text = await fs.readFile(opts.questions, 'utf8');
      } catch (err) {
        throw new CliError(`cannot read --questions: ${(err as Error).message}`);
      }
      const parsed = parseQuestions(text);
      if (parsed.problems.length) {
        const shown = parsed.problems.slice(0, 5).map((p) => `${opts.questions}: ${p.where}: ${p.message}`).join('\n');
        throw new CliError(`${parsed.problems.length} bad question row(s):\n${shown}`);
      }
      if (!parsed.questions.length) throw new CliError(`${opts.questions}: no questions`);

      // Loaded on use (the verifier's math library, ONNX Runtime): every other command would pay their start-up.
      const [{ runDraftBatch }, { LocalEngine: Engine }] = await Promise.all([import('../../core/drafting/batch'), import('../../core/drafting/engine')]);
      let engine: LocalEngine;
      try {
        engine = await Engine.load(opts.model, { dtype: opts.dtype, threads });
      } catch (err) {
        if (err instanceof ModelFolderError) throw new CliError(err.message);
        throw err;
      }
      const ac = new AbortController();
      const onSigint = () => ac.abort();
      process.once('SIGINT', onSigint);
      process.once('SIGTERM', onSigint);
      let summary: BatchSummary;
      try {
        summary = await runDraftBatch({
          questions: parsed.questions, n, out: opts.out, model: engine, params,
          verifyWithModel: !!opts.verifyWithModel, signal: ac.signal,
          onProgress: opts.json || !process.stderr.isTTY ? undefined : (p) => {
            const eta = p.etaMs === null ? '?' : `${Math.round(p.etaMs / 1000)}s`;
            process.stderr.write(`\r${p.done}/${p.total} drafts, ${p.tokensPerSecond.toFixed(1)} tok/s, ETA ${eta}   `);
          },
        });
      } finally {
        process.off('SIGINT', onSigint);
        process.off('SIGTERM', onSigint);
        await engine.dispose();
      }
      if (!opts.json && process.stderr.isTTY) process.stderr.write('\n');
      const out = { ...summary, dtype: engine.info.dtype };
      if (opts.json) printJson(out);
      else process.stdout.write(human(out) + '\n');
      if (summary.cancelled) process.exitCode = 130;
    });
}
