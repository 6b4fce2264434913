import { sh, joinCommands, type ShellCommand } from '../shell/sh.ts';
import { closest } from '../inventory/suggest.ts';
import { MASK, holdsCoercedSecret, mask } from '../core/secret.ts';
import type { CommandResult } from '../core/result.ts';
import { fail, type FailPlan } from './operation.ts';

/**
 * The operations' kit: what every operation file builds with (parameter errors,
 * step ids, probes made of named sections and their parser, the plan of a failed
 * probe, a command run without the channel's terminal). Operations in user roles
 * use it through the public API.
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

/** The brand every UnknownParamError carries, shared by every copy of cairn loaded in the process. */
const UNKNOWN_PARAM: unique symbol = Symbol.for('cairn.UnknownParamError');

/** An operation was given a param it does not take (a fault of the role's code, whatever the host). */
export class UnknownParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownParamError';
  }
  get [UNKNOWN_PARAM](): true {
    return true;
  }
  /** `instanceof` accepts an UnknownParamError of another copy of cairn too (a project's copy, imported by its roles). */
  static override [Symbol.hasInstance](v: unknown): boolean {
    return v instanceof Error && (v as { [UNKNOWN_PARAM]?: unknown })[UNKNOWN_PARAM] === true;
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
 * Probes are made of named sections (`section`) that `parseSections` splits
 * again; both live with the facts, which use the same format.
 */
export { parseSections, section } from '../facts/section.ts';

/** Build a probe from sections (one shell script, one round trip). */
export function probeOf(...parts: ShellCommand[]): ShellCommand {
  return joinCommands(parts, '\n');
}

/** A plan that reports a probe which did not run cleanly. */
export function probeFailed(kind: string, id: string, probe: CommandResult): FailPlan {
  const detail = (probe.stderr.trim() || probe.stdout.trim()).split('\n').slice(-5).join('\n');
  return fail(mask(`${kind} '${id}': probe failed with exit code ${probe.exitCode}${detail ? `: ${detail}` : ''}`));
}

/** Is this a plan that fails the step (e.g. what readPathProbe returns for a bad probe)? */
export function isFail(x: unknown): x is FailPlan {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'fail';
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
