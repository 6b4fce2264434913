import { sh, joinCommands, type ShellCommand } from '../shell/sh.ts';
import { SECTION_PREFIX } from '../facts/gather.ts';
import { splitSections } from '../facts/parse.ts';
import { closest } from '../inventory/suggest.ts';
import { MASK, holdsCoercedSecret } from '../core/secret.ts';

/**
 * The operations' kit: what every operation file builds with (parameter errors,
 * step ids, probes made of named sections and their parser, a command run without
 * the channel's terminal). Operations in user roles use it through the public API.
 */

/** A bad parameter: names the op, the param and the fix, thrown at construction. */
export function paramError(kind: string, id: string, param: string, problem: string, fix: string): Error {
  return new Error(`${kind} '${id}': param \`${param}\` ${problem}; fix: ${fix}`);
}

/** Throws unless `id` is a non-empty step id. */
export function checkId(kind: string, id: unknown): string {
  if (typeof id !== 'string' || id.trim() === '') {
    throw new Error(`${kind}: param \`id\` must be a non-empty string; fix: give the step an id unique in its role`);
  }
  return id;
}

/**
 * The params an operation takes, as a list for `rejectUnknownParams`. Written as an
 * object so the compiler checks it against the params type: a key missing or extra
 * is a type error, so the list cannot drift from the interface.
 *
 *   const PARAMS = paramNames<FileParams>({ id: true, path: true, ... });
 */
export function paramNames<T>(names: { readonly [K in keyof Required<T>]: true }): readonly string[] {
  return Object.freeze(Object.keys(names));
}

/**
 * Throws when `params` has a key the operation does not take (a typo such as
 * `modee` would otherwise be ignored silently), naming the closest known param.
 * `prefix` names a nested object (`tcp.`). A key whose value is undefined counts too.
 */
export function rejectUnknownParams(kind: string, id: string, params: unknown, allowed: readonly string[], prefix = ''): void {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    const what = prefix ? `param \`${prefix.replace(/\.$/, '')}\`` : 'params';
    throw new Error(`${kind} '${id}': ${what} must be an object, got ${params === null ? 'null' : Array.isArray(params) ? 'a list' : typeof params}; fix: give { ${allowed.join(', ')} }`);
  }
  const unknown = Object.keys(params).filter((k) => !allowed.includes(k));
  if (unknown.length === 0) return;
  const named = unknown.map((k) => {
    const near = closest(k, allowed);
    return { key: `\`${prefix}${k}\``, hint: near === undefined ? '' : `did you mean \`${prefix}${near}\`?` };
  });
  const takes = `${kind} takes ${allowed.map((a) => prefix + a).join(', ')}`;
  if (named.length === 1) {
    const [one] = named as [{ key: string; hint: string }];
    throw new UnknownParamError(`${kind} '${id}': unknown param ${one.key}; ${one.hint || `fix: remove it (${takes})`}`);
  }
  const list = named.map((n) => (n.hint ? `${n.key} (${n.hint})` : n.key)).join(', ');
  throw new UnknownParamError(`${kind} '${id}': unknown params ${list}; fix: rename or remove them (${takes})`);
}

/** An operation was given a param it does not take (a fault of the role's code, whatever the host). */
export class UnknownParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownParamError';
  }
}

/**
 * Throws when a text param holds the mask a Secret turns into when it is coerced to
 * a string (`'pw=' + secret`): the host would get '********' instead of the value.
 */
export function rejectCoercedSecret(kind: string, id: string, param: string, text: string): void {
  if (!holdsCoercedSecret(text)) return;
  throw new Error(
    `${kind} '${id}': param \`${param}\` contains a secret turned into text ('pw=' + secret gives 'pw=${MASK}', not the value); ` +
      'fix: pass the Secret itself, or build the text with secretText`pw=${secret}` or ctx.template',
  );
}

/**
 * One part of a probe's output: prints a `@@cairn:<name>` header line (the facts
 * command's format) then runs `body`, whose stdout becomes the section's text.
 * Lets one probe report several things (a file's content, a live value, an exit
 * code) that `parseSections` splits again.
 */
export function section(name: string, body: ShellCommand): ShellCommand {
  // one brace group, so `test && section(...)` guards the header and the body alike
  return sh`{ printf '\\n%s\\n' ${SECTION_PREFIX + name}
${body}
}`;
}

/** Build a probe from sections (one shell script, one round trip). */
export function probeOf(...parts: ShellCommand[]): ShellCommand {
  return joinCommands(parts, '\n');
}

/**
 * Split probe stdout into sections (text without trailing empty lines). A section
 * that was never printed is absent (e.g. a file that does not exist).
 */
export function parseSections(stdout: string): Map<string, string> {
  return new Map([...splitSections(stdout)].map(([k, lines]) => [k, lines.join('\n')]));
}

/**
 * Run `cmd` with no terminal and without leaving the SSH channel open: stdin
 * from /dev/null, stdout+stderr to a temp file that is printed (to stderr) and
 * removed once the command returns. A daemon the command starts inherits only
 * the temp file, never the channel's pipes — old supervise-daemon (OpenRC 0.24)
 * keeps inherited fds and would otherwise hang the session. Keeps the exit code.
 */
export function withoutTerminal(cmd: ShellCommand): ShellCommand {
  // `&& rc=0 || rc=$?`: the executor runs changes under `set -e`, which must not
  // skip printing the log when the command fails
  return sh`(log=$(mktemp) || exit 1; { ${cmd}
} </dev/null >"$log" 2>&1 && rc=0 || rc=$?; cat "$log" >&2; rm -f "$log"; exit $rc)`;
}
