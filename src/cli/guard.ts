import { ExitCode } from '../core/errors.ts';
import { mask } from '../core/secret.ts';

export interface GuardOptions {
  err: (s: string) => void;
  out: (s: string) => void;
  /** The recap of what finished, if any (printed after an internal error). */
  recap: () => string | undefined;
  /** Ends the process (process.exit). */
  exit: (code: number) => void;
  /** Default: the real process. */
  proc?: NodeJS.Process;
}

/**
 * Watch the run's promise from the process: if it never settles (the event
 * loop drains while it waits: Node would exit 13 and print nothing) or an
 * error escapes it (uncaughtException, unhandledRejection), say so on stderr,
 * print the recap of what finished and exit 1. Otherwise the run's exit code is
 * the process's.
 */
export function guardRun(run: Promise<number>, o: GuardOptions): void {
  const proc = o.proc ?? process;
  let settled = false;
  const internal = (what: string, err?: unknown): void => {
    if (settled) return;
    settled = true;
    off();
    o.err(mask(`cairn: internal error: ${what} (the run did not finish); please report`));
    // the stack after the one-line message
    const stack = err instanceof Error ? err.stack?.split('\n').slice(1).join('\n') : undefined;
    if (stack) o.err(mask(stack));
    try {
      const recap = o.recap();
      if (recap) o.out(recap);
    } catch (err) {
      o.err(`cairn: could not print the recap either: ${(err as Error).message}`);
    }
    proc.exitCode = ExitCode.failed;
    o.exit(ExitCode.failed);
  };
  const describe = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  const onBeforeExit = (): void => internal('the run stopped: it waits for something that will never come (a callback of a closed connection?)');
  const onException = (err: unknown): void => internal(`uncaught exception: ${describe(err)}`, err);
  const onRejection = (err: unknown): void => internal(`unhandled promise rejection: ${describe(err)}`, err);
  const off = (): void => {
    proc.off('beforeExit', onBeforeExit);
    proc.off('uncaughtException', onException);
    proc.off('unhandledRejection', onRejection);
  };
  proc.on('beforeExit', onBeforeExit);
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  run.then(
    (code) => {
      if (settled) return;
      settled = true;
      off();
      proc.exitCode = code;
    },
    (err: unknown) => internal(`the run failed: ${describe(err)}`, err),
  );
}
