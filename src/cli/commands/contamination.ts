/**
 * `dcd contamination --benchmark FILE --benchmark-field F --corpus FILE
 *  [--corpus-field F] [--threshold T] [--ngram N] [--top K]
 *  [--benchmark-id-field F] [--corpus-id-field F] [--json]`
 *
 * Benchmark questions vs corpus questions by word n-gram containment (the
 * share of a benchmark question's n-grams found in one corpus question).
 * Files are JSONL or a JSON array; fields may be dotted paths (`doc.question`).
 * Row ids come from the first of id/unique_id/doc_id/index/question_id/… a
 * record has, or from the field named with --benchmark-id-field /
 * --corpus-id-field.
 * JSON output: `{n, threshold, benchmarkCount, corpusCount, corpusUnique,
 * flagged, countsByThreshold, rows}`, rows highest score first, each
 * `{index, id, question, score, flagged, matches}`.
 */
import type { Command } from 'commander';
import { CliError, printJson } from '../output';
import {
  DEFAULT_CONTAMINATION_THRESHOLD,
  readTextItems,
  type ContaminationReport,
} from '../../core/eval/contamination';
import { checkContaminationFile } from '../../core/eval/contaminationStream';
import { DEFAULT_NGRAM } from '../../core/eval/similarity';
import { reportProblems, type ProblemJson } from '../input';

function parseNumber(name: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || (integer && !Number.isInteger(x))) throw new CliError(`${name} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`);
  return x;
}

const clip = (s: string, n: number) => {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > n ? one.slice(0, n - 1) + '…' : one;
};

function human(r: ContaminationReport, shown: number): string {
  const lines = [
    `${r.benchmarkCount} benchmark questions vs ${r.corpusCount} corpus questions (${r.corpusUnique} distinct), ${r.n}-gram containment`,
    `flagged (score ≥ ${r.threshold}): ${r.flagged}`,
    `by threshold: ${r.countsByThreshold.map((c) => `≥${c.threshold}: ${c.count}`).join('  ')}`,
  ];
  for (const row of r.rows.slice(0, shown)) {
    if (row.score === 0) break;
    const m = row.matches[0];
    lines.push(`${row.flagged ? '!' : ' '} ${row.score.toFixed(3)}  #${row.index}${row.id ? ` (${row.id})` : ''} ${clip(row.question, 60)}`);
    if (m) lines.push(`           ↳ corpus #${m.index}${m.id ? ` (${m.id})` : ''} ${clip(m.question, 60)}`);
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('contamination')
    .description('check benchmark questions against corpus questions (word n-gram containment)')
    .requiredOption('--benchmark <file>', 'benchmark questions (JSONL or JSON array)')
    .requiredOption('--benchmark-field <field>', 'field holding the question text (dotted path allowed)')
    .requiredOption('--corpus <file>', 'corpus (JSONL or JSON array), e.g. a *.dcd.jsonl corpus')
    .option('--corpus-field <field>', 'field holding the corpus question text', 'question')
    .option('--threshold <t>', `flag a benchmark question whose best containment is ≥ t, in (0, 1] (default ${DEFAULT_CONTAMINATION_THRESHOLD})`)
    .option('--ngram <n>', `n-gram size in words (default ${DEFAULT_NGRAM})`)
    .option('--top <k>', 'corpus matches listed per benchmark question (default 3)')
    .option('--benchmark-id-field <field>', 'field holding a benchmark question id')
    .option('--corpus-id-field <field>', 'field holding a corpus question id')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { benchmark: string; benchmarkField: string; corpus: string; corpusField: string; threshold?: string; ngram?: string; top?: string; benchmarkIdField?: string; corpusIdField?: string; json?: boolean }) => {
      const threshold = parseNumber('--threshold', opts.threshold, false);
      const n = parseNumber('--ngram', opts.ngram, true);
      const topK = parseNumber('--top', opts.top, true);
      const read = async <T>(file: string, how: () => Promise<T>): Promise<T> => {
        try { return await how(); } catch (err) { throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`); }
      };
      const benchmark = await read(opts.benchmark, () => readTextItems(opts.benchmark, opts.benchmarkField, opts.benchmarkIdField));
      // The corpus is streamed past an index of the benchmark questions: memory does not grow with it.
      const corpus = await read(opts.corpus, () => checkContaminationFile(benchmark.items, opts.corpus, opts.corpusField, { threshold, n, topK }, opts.corpusIdField));
      const warnings: ProblemJson[] = reportProblems('contamination', [...benchmark.problems, ...corpus.problems], opts.json);
      let report: ContaminationReport;
      try {
        report = corpus.report();
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      if (opts.json) printJson({ ...report, warnings });
      else process.stdout.write(human(report, 20) + '\n');
    });
}
