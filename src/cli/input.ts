/**
 * How every corpus-reading command turns input problems into its outcome
 * (the classes of src/core/io/corpusInput.ts): warnings go to stderr and to the
 * JSON `warnings` key; errors go to stderr (and, with --json, to an `errors`
 * document on stdout) and end the command with exit code 2.
 */
import {
  errorsOf, formatProblem, scanCorpusInput, warningsOf, type CorpusScan, type InputProblem, type ScanOptions,
} from '../core/io/corpusInput';
import { CorpusIndex, type IndexedSample } from '../core/io/corpusIndex';
import { CliError, printJson } from './output';

/** The JSON form of a problem (keys only added, never renamed: a CLI contract). */
export interface ProblemJson { code: string; file: string; line?: number; byte?: number; field?: string; message: string }

export function problemJson(p: InputProblem): ProblemJson {
  const { severity: _severity, ...rest } = p;
  return rest;
}

/** Reports the problems of a read: returns the warnings (for the JSON output) or throws the errors as a CliError. */
export function reportProblems(command: string, problems: readonly InputProblem[], json?: boolean): ProblemJson[] {
  const errors = errorsOf(problems);
  const warnings = warningsOf(problems);
  for (const w of warnings) process.stderr.write(`dcd ${command}: warning: ${formatProblem(w)}\n`);
  if (errors.length) {
    if (json) printJson({ errors: errors.map(problemJson), warnings: warnings.map(problemJson) });
    throw new CliError(`${command}: ${errors.length === 1 ? 'bad input' : `${errors.length} input errors`}:\n${errors.map(formatProblem).join('\n')}`);
  }
  return warnings.map(problemJson);
}

/** An error of the file system (ENOENT, EISDIR, EACCES, …), not of the caller's work on the samples. */
function isFsError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code);
}

function cannotRead(file: string, err: unknown): CliError {
  return new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
}

/**
 * Streams a corpus through the input layer (scanCorpusInput: samples handed
 * to opts.onSample, never held) and reports its problems (see reportProblems)
 * once the whole file is read.
 */
export async function scanCorpusForCli(command: string, file: string, opts: ScanOptions & { json?: boolean } = {}): Promise<CorpusScan & { warnings: ProblemJson[] }> {
  let scan: CorpusScan;
  try {
    scan = await scanCorpusInput(file, opts);
  } catch (err) {
    if (isFsError(err)) throw cannotRead(file, err);
    throw err;
  }
  return { ...scan, warnings: reportProblems(command, scan.problems, opts.json) };
}

/**
 * One sample of a corpus through its byte-offset index (src/core/io/corpusIndex.ts):
 * the input problems recorded with the index are reported first (an error
 * ends the command as every corpus command does), then the line is read by seeking.
 */
export async function indexedSampleForCli(command: string, file: string, index: number, opts: { json?: boolean } = {}): Promise<{ sample: IndexedSample | null; samples: number; warnings: ProblemJson[] }> {
  let idx: CorpusIndex;
  try {
    idx = await CorpusIndex.open(file);
  } catch (err) {
    throw cannotRead(file, err);
  }
  const warnings = reportProblems(command, idx.problems, opts.json);
  if (!Number.isInteger(index) || index < 0 || index >= idx.samples) return { sample: null, samples: idx.samples, warnings };
  try {
    const { sample, index: fresh } = await idx.sample(index);
    // A rebuilt index (the corpus changed under the cached one) may have new problems.
    return { sample, samples: fresh.samples, warnings: fresh === idx ? warnings : reportProblems(command, fresh.problems, opts.json) };
  } catch (err) {
    if (err instanceof RangeError) return { sample: null, samples: idx.samples, warnings };
    throw cannotRead(file, err);
  }
}
