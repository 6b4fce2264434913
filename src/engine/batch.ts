import { randomBytes } from 'node:crypto';
import { sh, joinCommands, isShellCommand, ShellCommand } from '../shell/sh.ts';

/**
 * Many commands in one round trip: each runs in its own subshell with stdin from
 * /dev/null; its stdout, stderr and exit code come back separately between
 * markers carrying a random token, so a command's own output cannot forge them.
 */
export interface BatchPart {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface Batch {
  command: ShellCommand;
  /** Split the batch's stdout into one part per command (missing parts: the batch stopped before them). */
  parse(stdout: string): (BatchPart | undefined)[];
}

/** A command of a batch with how it runs. */
export interface BatchItem {
  readonly command: ShellCommand;
  /** It reads the batch's own stdin (every other command reads /dev/null). */
  readonly stdin?: boolean;
  /** Its failure does not stop a stopOnFailure batch (a probe after the changes). */
  readonly mayFail?: boolean;
}

export interface BatchOptions {
  /** Stop after the first command that exits non-zero (for changes). */
  readonly stopOnFailure?: boolean;
  /** Run first, in the batch's own shell (variables it sets are seen by every command). */
  readonly prelude?: ShellCommand;
  /** Run last, also when the batch stops early (removing what the prelude made). */
  readonly cleanup?: ShellCommand;
}

/**
 * @param options true: stopOnFailure (for changes).
 */
export function batch(commands: readonly (ShellCommand | BatchItem)[], options: boolean | BatchOptions = false): Batch {
  const o: BatchOptions = typeof options === 'boolean' ? { stopOnFailure: options } : options;
  const token = randomBytes(8).toString('hex');
  const cleanup = o.cleanup ? sh`rm -rf "$__cairn_d"; ${o.cleanup}` : sh`rm -rf "$__cairn_d"`;
  // the cleanup also runs when the batch's shell ends early: a signal (SIGPIPE when
  // the connection is cut and it writes its next marker, SIGHUP, SIGTERM) becomes an
  // exit, and the EXIT trap removes what the batch made (subshells get default traps)
  const parts: ShellCommand[] = [
    sh`__cairn_d=$(mktemp -d) || exit 97`,
    sh`trap ${cleanup.text} EXIT; trap 'exit 129' HUP; trap 'exit 141' PIPE; trap 'exit 143' TERM`,
  ];
  if (o.prelude) parts.push(o.prelude);
  commands.forEach((c, i) => {
    const item: BatchItem = isShellCommand(c) ? { command: c } : c;
    const tag = `${token}:${i}`;
    const input = item.stdin ? sh`` : sh`</dev/null`;
    parts.push(
      sh`( ${item.command}
) >"$__cairn_d/o" 2>"$__cairn_d/e" ${input}; __cairn_c=$?`,
      sh`printf '\n@@%s:out@@\n' ${tag}; cat "$__cairn_d/o"; printf '\n@@%s:err@@\n' ${tag}; cat "$__cairn_d/e"; printf '\n@@%s:exit:%s@@\n' ${tag} "$__cairn_c"`,
    );
    if (o.stopOnFailure && !item.mayFail) parts.push(sh`[ "$__cairn_c" -eq 0 ] || { ${cleanup}; exit 0; }`);
  });
  parts.push(cleanup);
  return {
    command: joinCommands(parts, '\n'),
    parse(stdout: string) {
      return commands.map((_, i) => {
        const tag = `${token}:${i}`;
        const outStart = stdout.indexOf(`\n@@${tag}:out@@\n`);
        const errStart = stdout.indexOf(`\n@@${tag}:err@@\n`, outStart);
        const exitRe = new RegExp(`\\n@@${tag}:exit:(\\d+)@@\\n`);
        const exitMatch = exitRe.exec(stdout.slice(errStart === -1 ? 0 : errStart));
        if (outStart === -1 || errStart === -1 || !exitMatch) return undefined;
        const exitAt = errStart + exitMatch.index;
        return {
          stdout: stdout.slice(outStart + `\n@@${tag}:out@@\n`.length, errStart),
          stderr: stdout.slice(errStart + `\n@@${tag}:err@@\n`.length, exitAt),
          exitCode: Number(exitMatch[1]),
        };
      });
    },
  };
}

/** Wrap change commands of one operation so the first failing one stops it. */
export function strict(commands: readonly ShellCommand[]): ShellCommand {
  return joinCommands([sh`set -e`, ...commands], '\n');
}

export { ShellCommand };
