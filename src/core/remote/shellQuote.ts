/**
 * POSIX shell quoting for every argument that reaches a remote (or local) shell.
 * There is exactly one quoting function in the project: build commands with
 * `shellQuote`/`shellJoin`, never by pasting strings into a command line.
 *
 * The rule is the classic one: wrap in single quotes, and spell each embedded
 * single quote as `'\''`. Inside single quotes a POSIX shell expands nothing:
 * `$()`, backticks, `;`, globs and newlines are all literal.
 */

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('a shell argument cannot contain a NUL byte');
  if (arg === '') return "''";
  if (SAFE.test(arg)) return arg;
  return "'" + arg.replace(/'/g, "'\\''") + "'";
}

/** Quotes each argument and joins them with spaces: one command line. */
export function shellJoin(args: readonly string[]): string {
  return args.map(shellQuote).join(' ');
}

/** `export NAME='value'` lines for a POSIX shell; names are checked, values quoted. */
export function shellExports(env: Record<string, string>): string {
  let out = '';
  for (const [name, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid environment variable name: ${JSON.stringify(name)}`);
    out += `export ${name}=${shellQuote(value)}\n`;
  }
  return out;
}
