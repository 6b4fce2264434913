import { randomBytes } from 'node:crypto';
import { sh, joinCommands, ShellCommand } from '../shell/sh.ts';

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

/**
 * @param stopOnFailure stop after the first command that exits non-zero (for changes).
 */
export function batch(commands: readonly ShellCommand[], stopOnFailure = false): Batch {
  const token = randomBytes(8).toString('hex');
  const parts: ShellCommand[] = [sh`__cairn_d=$(mktemp -d) || exit 97`];
  commands.forEach((cmd, i) => {
    const tag = `${token}:${i}`;
    parts.push(
      sh`( ${cmd}
) >"$__cairn_d/o" 2>"$__cairn_d/e" </dev/null; __cairn_c=$?`,
      sh`printf '\n@@%s:out@@\n' ${tag}; cat "$__cairn_d/o"; printf '\n@@%s:err@@\n' ${tag}; cat "$__cairn_d/e"; printf '\n@@%s:exit:%s@@\n' ${tag} "$__cairn_c"`,
    );
    if (stopOnFailure) parts.push(sh`[ "$__cairn_c" -eq 0 ] || { rm -rf "$__cairn_d"; exit 0; }`);
  });
  parts.push(sh`rm -rf "$__cairn_d"`);
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
