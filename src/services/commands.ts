/**
 * The one command wrapper of the extension, so that every failing command
 * looks the same to the user: an error message that starts with the
 * command's title (with the error's own actions as buttons), the stack in the
 * "DCD Studio" output channel, and nothing at all when the user cancelled.
 */
import * as vscode from 'vscode';

/** A problem the user can act on: its message is shown with its actions as buttons. */
export class UserError extends Error {
  constructor(message: string, readonly actions: { title: string; run: () => unknown }[] = []) { super(message); this.name = 'UserError'; }
}

export interface CommandOptions {
  /**
   * Callers that pass arguments (tests, other extensions, scripts) also get
   * the error as a rejection. Only for commands that no menu passes an
   * argument to: VS Code would show a menu's rejection a second time.
   */
  rejectScripted?: boolean;
}

/** Cancelled by the user (a cancelled progress, an aborted signal): not a failure. */
export function isCancellation(err: unknown): boolean {
  return err instanceof vscode.CancellationError || (err instanceof Error && err.name === 'AbortError');
}

export class Commands {
  private readonly titles = new Map<string, string>();

  constructor(private readonly output: vscode.OutputChannel, contributed: readonly { command: string; title: string }[] = []) {
    for (const c of contributed) this.titles.set(c.command, c.title.replace(/…$/, ''));
  }

  /** The title the user knows the command by (package.json), for messages. */
  title(id: string): string {
    return this.titles.get(id) ?? id;
  }

  registerCommand<A extends unknown[], R>(id: string, run: (...args: A) => R | Thenable<R>, opts: CommandOptions = {}): vscode.Disposable {
    return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await run(...(args as A));
      } catch (err) {
        if (isCancellation(err)) return undefined;
        this.report(id, err);
        if (opts.rejectScripted && args.length > 0 && args[0] !== undefined) throw err;
        return undefined;
      }
    });
  }

  private report(id: string, err: unknown): void {
    const title = this.title(id);
    const message = `${title}: ${err instanceof Error ? err.message : String(err)}`;
    this.output.appendLine(`[${title}] ${err instanceof Error && err.stack ? err.stack : message}`);
    const actions = err instanceof UserError ? err.actions : [];
    void vscode.window.showErrorMessage(message, ...actions.map((a) => a.title)).then(async (pick) => {
      await actions.find((a) => a.title === pick)?.run();
    });
  }
}
