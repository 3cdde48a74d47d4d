/**
 * The `dcd` command-line program. Every subcommand is a thin shell over the
 * same core functions the extension calls; their flags and JSON output are
 * contracts that scripts rely on: add, never rename.
 */
import { Command } from 'commander';
import { version } from '../../package.json';
import { COMMANDS } from './commands';
import { CliError } from './output';

export function makeProgram(): Command {
  const program = new Command('dcd')
    .description('DCD Studio: build, verify, tokenize and train Dialectical Chain Distillation corpora.')
    .version(version, '-V, --version', 'print the dcd version')
    .showHelpAfterError()
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = makeProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code && e.code.startsWith('commander.')) return e.exitCode ?? 1;
    process.stderr.write(`dcd: ${e.message ?? String(err)}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}
