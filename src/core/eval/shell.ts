/**
 * POSIX shell quoting for argv arrays. The eval builders return argv arrays;
 * whoever has to hand a command line to a shell (the job engine, over SSH)
 * quotes it with these, so no value is ever interpreted by the shell.
 *
 * Secrets never go through here: they travel in the environment (see
 * `LmEvalCommand.env` / `redact`), not on a command line.
 */

/** Characters that never need quoting in a POSIX shell word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one argument for a POSIX shell (sh, bash, dash, zsh): safe words are
 * returned as they are, anything else is wrapped in single quotes, with each
 * embedded single quote written as `'\''`. The empty string becomes `''`.
 * NUL cannot be passed in an argv at all and is rejected.
 */
export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('an argument cannot contain a NUL character');
  if (arg === '') return "''";
  if (SAFE_WORD.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** Joins an argv into one shell command line, each argument quoted. */
export function shellJoin(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/** Replaces every occurrence of each secret in `text` by `replacement` (for logs). */
export function redactSecrets(text: string, secrets: readonly string[], replacement = '***'): string {
  let out = text;
  for (const s of secrets) {
    if (s.length === 0) continue;
    out = out.split(s).join(replacement);
  }
  return out;
}
