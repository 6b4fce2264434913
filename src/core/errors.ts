import type { CommandResult } from './result.ts';
import { exitCodeMeaning } from './result.ts';
import { mask } from './secret.ts';

/** Exit codes of the CLI (the contract other tools rely on). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  drift: 2,
  usage: 64,
  invalid: 65,
} as const;

/** Where in a user's file a problem is. */
export interface SourceLocation {
  file: string;
  line?: number;
  column?: number;
}

export function formatLocation(loc: SourceLocation): string {
  return loc.line ? `${loc.file}:${loc.line}${loc.column ? `:${loc.column}` : ''}` : loc.file;
}

/** One problem in the user's input: what, where, and what to do instead. */
export interface InputProblem {
  location: SourceLocation;
  message: string;
  fix?: string;
}

export function formatProblem(p: InputProblem): string {
  return `${formatLocation(p.location)}: ${p.message}${p.fix ? `\n  fix: ${p.fix}` : ''}`;
}

/** Problems without repeats (same place, same message), first kept. */
export function uniqueProblems(problems: readonly InputProblem[]): InputProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = formatProblem(p);
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

/** Bad inventory, vars, role or template: all problems at once, exit 65, before any connection. */
export class InvalidInputError extends Error {
  readonly problems: InputProblem[];
  constructor(problems: InputProblem[]) {
    super(mask(problems.map(formatProblem).join('\n')));
    this.name = 'InvalidInputError';
    this.problems = problems;
  }
}

/** Bad command-line usage: exit 64. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A command on a host exited non-zero when it had to succeed. */
export class CommandFailedError extends Error {
  readonly result: CommandResult;
  readonly host: string;
  constructor(host: string, result: CommandResult, what?: string) {
    const meaning = exitCodeMeaning(result.exitCode);
    const stderr = result.stderr.trim() || result.stdout.trim();
    super(
      mask(
        `${what ? `${what}: ` : ''}command failed on ${host} with exit code ${result.exitCode}` +
          `${meaning ? ` (${meaning})` : ''}\n  $ ${result.command}` +
          (stderr ? `\n  ${stderr.split('\n').slice(-10).join('\n  ')}` : ''),
      ),
    );
    this.name = 'CommandFailedError';
    this.result = result;
    this.host = host;
  }
}

/** A host could not be reached or authenticated. */
export class UnreachableError extends Error {
  readonly host: string;
  /** Why, without the host name (the message is `<host> is unreachable: <reason>`). */
  readonly reason: string;
  constructor(host: string, reason: string, options?: { cause?: unknown }) {
    super(mask(`${host} is unreachable: ${reason}`), options);
    this.name = 'UnreachableError';
    this.host = host;
    this.reason = mask(reason);
  }
}
