/**
 * How every corpus-reading command turns input problems into its outcome
 * (the classes of src/core/io/corpusInput.ts): warnings go to stderr and to the
 * JSON `warnings` key; errors go to stderr (and, with --json, to an `errors`
 * document on stdout) and end the command with exit code 2.
 */
import {
  errorsOf, formatProblem, readCorpusInput, warningsOf, type CorpusRead, type FieldRules, type InputProblem,
} from '../core/io/corpusInput';
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

/** Reads a corpus through the input layer and reports its problems (see reportProblems). */
export async function readCorpusForCli(command: string, file: string, opts: { json?: boolean; rules?: FieldRules } = {}): Promise<CorpusRead & { warnings: ProblemJson[] }> {
  let read: CorpusRead;
  try {
    read = await readCorpusInput(file, opts.rules);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { ...read, warnings: reportProblems(command, read.problems, opts.json) };
}
