import { sh, type ShellCommand } from '../shell/sh.ts';
import { SECTION_PREFIX } from './gather.ts';
import { splitSections } from './parse.ts';

/**
 * Named sections in a command's output, the facts command's format: a
 * `@@cairn:<name>` header line, then the section's text. Lets one command report
 * several things (a file's state, its content, a live value, an exit code) that
 * `parseSections` splits again. Used by the path-state fact and by the operations'
 * probes (through operations/kit.ts).
 */

/** Prints the `@@cairn:<name>` header line, then runs `body`, whose stdout becomes the section's text. */
export function section(name: string, body: ShellCommand): ShellCommand {
  // one brace group, so `test && section(...)` guards the header and the body alike
  return sh`{ printf '\\n%s\\n' ${SECTION_PREFIX + name}
${body}
}`;
}

/**
 * Split output into sections (text without trailing empty lines). A section
 * that was never printed is absent (e.g. a file that does not exist).
 */
export function parseSections(stdout: string): Map<string, string> {
  return new Map([...splitSections(stdout)].map(([k, lines]) => [k, lines.join('\n')]));
}
