/** Output helpers shared by the subcommands: one JSON document per call, errors on stderr. */

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value) + '\n');
}

export function printJsonLines(values: Iterable<unknown>): void {
  for (const v of values) process.stdout.write(JSON.stringify(v) + '\n');
}

/** A user-facing failure: message on stderr, exit code 2 (bad input) unless told otherwise. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) { super(message); this.name = 'CliError'; }
}
