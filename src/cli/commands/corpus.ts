/**
 * Corpus subcommands: `dcd build`, `dcd render`, `dcd stats`, `dcd export`.
 * Contracts: flags and JSON keys are stable (users' scripts parse
 * this output); add, never rename.
 */
import type { Command } from 'commander';
import { CorpusStatsBuilder } from '../../core/corpus/stats';
import { formatJsonlError } from '../../core/io/jsonl';
import { exportLine, type ExportFormat } from '../../core/corpus/exports';
import { AtomicFileWriter } from '../../core/io/atomicWrite';
import { scanCorpusInput } from '../../core/io/corpusInput';
import { PRESETS } from '../../core/trace/template';
import { CliError, printJson } from '../output';
import { indexedSampleForCli, scanCorpusForCli } from '../input';
import { statsExtensions } from './statsExtensions';

export function register(program: Command): void {
  program.command('build')
    .description('Build a DCD corpus from s1K-1.1 (parquet, JSONL or JSON array) and student drafts (JSONL).')
    .requiredOption('--s1k <file>', 's1K-1.1 rows')
    .option('--drafts <file>', 'student drafts JSONL ({question|index, draft|response|output|completion})')
    .requiredOption('--out <file>', 'corpus JSONL to write (atomically)')
    .option('--preset <name>', `template preset (${Object.keys(PRESETS).join(', ')})`, 'paper')
    .option('--student-model <name>', 'model name for drafts without a "model" field', 'Qwen2.5-1.5B-Instruct')
    .option('--unanswered <policy>', 'drafts with no extractable answer: wrong (default) | skip', 'wrong')
    .option('--export-messages <file>', 'also write TRL "messages" JSONL')
    .option('--export-text <file>', 'also write plain {"text"} JSONL')
    .option('--json', 'print one JSON summary on stdout')
    .action(async (o) => {
      if (!PRESETS[o.preset]) throw new CliError(`unknown preset "${o.preset}"`);
      if (o.unanswered !== 'wrong' && o.unanswered !== 'skip') throw new CliError('--unanswered must be "wrong" or "skip"');
      // Loaded on use: the verifier's math library takes most of a second to start, which every other command would pay.
      const { buildCorpus } = await import('../../core/corpus/build');
      const result = await buildCorpus({
        s1k: o.s1k, drafts: o.drafts, out: o.out, preset: o.preset, studentModel: o.studentModel, noAnswer: o.unanswered,
        exports: { ...(o.exportMessages ? { messages: o.exportMessages } : {}), ...(o.exportText ? { text: o.exportText } : {}) },
      });
      for (const e of result.errors) process.stderr.write(`${formatJsonlError(e)}\n`);
      if (o.json) {
        printJson({
          ...result.summary, out: result.out,
          bad_lines: result.errors.map((e) => ({ file: e.file, line: e.line, message: e.message })),
          reported: result.reported,
        });
      } else {
        const s = result.summary;
        process.stdout.write(`wrote ${s.samples} samples (${s.draft_correct} draft-correct, ${s.draft_wrong} draft-wrong) to ${result.out}\n`);
        for (const [k, v] of Object.entries(s.skipped)) if (v) process.stdout.write(`  skipped ${k}: ${v}\n`);
        if (s.rows_without_gold) process.stdout.write(`  rows without an extractable gold answer: ${s.rows_without_gold}\n`);
        if (result.errors.length) process.stdout.write(`  ${result.errors.length} bad input line(s), listed on stderr\n`);
      }
    });

  program.command('render')
    .description("Print sample N's training text exactly, and nothing else.")
    .argument('<file>', 'corpus JSONL')
    .requiredOption('--index <n>', '0-based sample index (malformed lines are not counted)', (v) => Number.parseInt(v, 10))
    .action(async (file: string, o) => {
      // Through the corpus's byte-offset index: one line is read, not the corpus.
      const { sample, samples } = await indexedSampleForCli('render', file, o.index);
      if (!sample) throw new CliError(`no sample ${o.index} in ${file} (${samples} samples)`);
      process.stdout.write(String(sample.value.text));
    });

  program.command('stats')
    .description('Counts by verdict, source and cot_type, text-length statistics (and token statistics when available).')
    .argument('<file>', 'corpus JSONL')
    .option('--json', 'print one JSON object')
    .option('--max-length <n>', 'token budget for the audit flags (default 32768)', (v) => Number.parseInt(v, 10))
    .option('--policy <policy>', 'mask policy for the trained-token counts: paper | mask-draft', 'paper')
    .option('--tokenizer <dir>', 'tokenizer or model folder (default: the bundled Qwen2.5 tokenizer)')
    .option('--no-tokens', 'skip the token statistics')
    .action(async (file: string, o) => {
      // Streamed: one pass for the counts (and the input check), another per extension (the token audit).
      const b = new CorpusStatsBuilder();
      const { warnings } = await scanCorpusForCli('stats', file, {
        json: o.json,
        onRow: (r) => { if (r.kind === 'error') b.error(r.line); },
        onSample: (s) => b.add(s.value),
      });
      const stats: Record<string, unknown> = { ...b.result() };
      if (o.tokens !== false) for (const ext of statsExtensions) Object.assign(stats, await ext(file, { maxLength: o.maxLength, policy: o.policy, tokenizer: o.tokenizer }));
      stats.warnings = warnings;
      if (o.json) printJson(stats);
      else process.stdout.write(`${JSON.stringify(stats, null, 2)}\n`);
    });

  program.command('export')
    .description('Export a corpus to TRL "messages" JSONL or plain {"text"} JSONL.')
    .argument('<file>', 'corpus JSONL')
    .requiredOption('--format <format>', 'messages | text')
    .requiredOption('--out <file>', 'output JSONL (written atomically)')
    .option('--preset <name>', 'template preset the corpus was rendered with', 'paper')
    .option('--json', 'print a JSON summary')
    .action(async (file: string, o) => {
      if (o.format !== 'messages' && o.format !== 'text') throw new CliError('--format must be "messages" or "text"');
      // Checked in one streamed pass (nothing is written when a line is bad), written in a second.
      const { samples, errorLines, warnings } = await scanCorpusForCli('export', file, { json: o.json });
      const out = await AtomicFileWriter.open(o.out);
      try {
        await scanCorpusInput(file, { onSample: (s) => out.write(JSON.stringify(exportLine(s.value, o.format as ExportFormat, o.preset)) + '\n') });
        await out.commit();
      } catch (err) {
        await out.abort();
        throw err;
      }
      const summary = { out: o.out, format: o.format, samples, malformed_lines: errorLines, warnings };
      if (o.json) printJson(summary); else process.stdout.write(`wrote ${summary.samples} lines to ${o.out}\n`);
    });
}
