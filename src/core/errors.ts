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

/** The brand every InvalidInputError carries, shared by every copy of cairn loaded in the process. */
const INVALID_INPUT: unique symbol = Symbol.for('cairn.InvalidInputError');

/**
 * Is `v` an InvalidInputError, from this copy of cairn or another one: a role of a
 * project imports the project's copy, which may not be the running cairn (a global
 * install), and the errors its operations throw cross over.
 */
export function isInvalidInputError(v: unknown): v is InvalidInputError {
  return v instanceof Error && (v as { [INVALID_INPUT]?: unknown })[INVALID_INPUT] === true && Array.isArray((v as { problems?: unknown }).problems);
}

/** Bad inventory, vars, role or template: all problems at once, exit 65, before any connection. */
export class InvalidInputError extends Error {
  readonly problems: InputProblem[];
  constructor(problems: InputProblem[]) {
    super(mask(problems.map(formatProblem).join('\n')));
    this.name = 'InvalidInputError';
    this.problems = problems;
  }
  get [INVALID_INPUT](): true {
    return true;
  }
  /** `instanceof` accepts an InvalidInputError of another copy of cairn too. */
  static override [Symbol.hasInstance](v: unknown): boolean {
    return isInvalidInputError(v);
  }
}

/** Bad command-line usage: exit 64. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Skip reason of the steps a host does not run once one of its steps failed. */
export const NOT_RUN_AFTER_FAILURE = 'not run: an earlier step failed';

/** How many of the last output lines a failure message shows. */
export const FAILURE_OUTPUT_LINES = 15;

/** What a failure message is made of. */
export interface FailureFacts {
  /** What was being done: a step's reason, 'gathering facts', 'upload to /etc/x'. */
  readonly what: string;
  /** The host it failed on; leave it out where the reader already knows it. */
  readonly host?: string;
  /** The command as displayed (CommandResult.command: quoted, secrets masked). */
  readonly command?: string;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The one text of a failed command (after execa's message: reason, command, output):
 *
 *   install nomad: command failed on web1 with exit code 127 (command not found)
 *     $ /usr/local/bin/nomad version
 *     sh: /usr/local/bin/nomad: not found
 *
 * The output is the last FAILURE_OUTPUT_LINES lines of stderr, or of stdout when
 * stderr is empty. Secrets are masked.
 */
export function describeFailure(f: FailureFacts): string {
  const meaning = exitCodeMeaning(f.exitCode);
  const lines = [`${f.what}: command failed${f.host ? ` on ${f.host}` : ''} with exit code ${f.exitCode}${meaning ? ` (${meaning})` : ''}`];
  if (f.command) lines.push(`  $ ${f.command.split('\n').join('\n    ')}`);
  const output = f.stderr.trim() || f.stdout.trim();
  if (output) {
    const all = output.split('\n');
    if (all.length > FAILURE_OUTPUT_LINES) lines.push(`  ... (${all.length - FAILURE_OUTPUT_LINES} earlier lines not shown)`);
    for (const line of all.slice(-FAILURE_OUTPUT_LINES)) lines.push(line ? `  ${line}` : '');
  }
  return mask(lines.join('\n'));
}

/** A command on a host exited non-zero when it had to succeed. */
export class CommandFailedError extends Error {
  readonly result: CommandResult;
  readonly host: string;
  /** `what`: what was being done ('gathering facts', 'upload to /etc/x'). */
  constructor(host: string, result: CommandResult, what: string) {
    super(describeFailure({ what, host, command: result.command, exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr }));
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
