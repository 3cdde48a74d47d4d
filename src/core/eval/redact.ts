/**
 * Masking secrets in text shown to the user (job logs, error messages).
 * Secrets never reach a command line: they travel in the environment (see
 * `LmEvalCommand.env`); command lines are quoted with `remote/shellQuote`.
 */

/** Replaces every occurrence of each secret in `text` by `replacement` (for logs). */
export function redactSecrets(text: string, secrets: readonly string[], replacement = '***'): string {
  let out = text;
  for (const s of secrets) {
    if (s.length === 0) continue;
    out = out.split(s).join(replacement);
  }
  return out;
}
