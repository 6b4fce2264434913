import { sh, type ShellCommand } from '../shell/sh.ts';
import { Secret, mask } from '../core/secret.ts';
import type { CommandResult } from '../core/result.ts';
import { atomicInstall, type AtomicWriteOptions } from './atomic-write.ts';
import { fail, upload, type Command, type FailPlan, type Operation, type Plan } from './operation.ts';
import { paramError } from './kit.ts';
import { parsePathState, pathStateCommand, type PathState, type PathStateOptions } from '../facts/path-state.ts';

/**
 * Shared by the file-family operations (file, directory, symlink, line, archive):
 * parameter checks, reading the path-state fact (facts/path-state.ts) into a plan,
 * and the write command that picks inline / secret / upload.
 */

/** File content above this is uploaded instead of travelling inside the command:
 * a command is ONE argv word for `sh -c` (local and over SSH), and Linux caps one
 * word at 128 KiB (MAX_ARG_STRLEN); base64 grows content by a third. */
export const INLINE_MAX_BYTES = 64 * 1024;

/** The probe returns a file's content (for diffs / line edits) only up to this size. */
export const DIFF_MAX_BYTES = 64 * 1024;

// ---------------------------------------------------------------- parameters

/** Throws unless `value` is an absolute path; returns it normalised (no `//`, no trailing `/`). */
export function checkAbsPath(kind: string, id: string, param: string, value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/')) {
    throw paramError(kind, id, param, `must be an absolute path, got ${JSON.stringify(value)}`, 'give a path starting with /');
  }
  if (value.includes('\0')) throw paramError(kind, id, param, 'contains a NUL byte', 'remove it');
  const parts = value.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..')) {
    throw paramError(kind, id, param, `must not contain . or .. components, got ${JSON.stringify(value)}`, 'give the resolved absolute path');
  }
  return `/${parts.join('/')}`;
}

/**
 * Mode as an octal string ('0644', '644', '1777') -> '0644'. Numbers are refused:
 * YAML reads `0644` as the decimal 644, so a number cannot be trusted to mean octal.
 */
export function checkMode(kind: string, id: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^0?[0-7]{3,4}$/.test(value)) {
    throw paramError(kind, id, 'mode', `must be an octal mode string such as '0644', got ${JSON.stringify(value)}`, "write the mode quoted, e.g. mode: '0644'");
  }
  return Number.parseInt(value, 8).toString(8).padStart(4, '0');
}

const OWNER = /^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?|\d{1,10})$/;

/** A user or group name, or a numeric id. */
export function checkOwner(kind: string, id: string, param: 'owner' | 'group', value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return String(value);
  if (typeof value !== 'string' || !OWNER.test(value)) {
    throw paramError(kind, id, param, `must be a ${param === 'owner' ? 'user' : 'group'} name or numeric id, got ${JSON.stringify(value)}`, 'use letters, digits, _ . - (or a number)');
  }
  return value;
}

/** Wanted mode / owner / group of a path (each optional). */
export interface Attributes {
  readonly mode?: string | undefined;
  readonly owner?: string | undefined;
  readonly group?: string | undefined;
}

export function checkAttributes(kind: string, id: string, p: { mode?: unknown; owner?: unknown; group?: unknown }): Attributes {
  return { mode: checkMode(kind, id, p.mode), owner: checkOwner(kind, id, 'owner', p.owner), group: checkOwner(kind, id, 'group', p.group) };
}

export function checkBoolean(kind: string, id: string, param: string, value: unknown): boolean | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  throw paramError(kind, id, param, `must be true or false, got ${JSON.stringify(value)}`, `write ${param}: true or leave it out`);
}

// ---------------------------------------------------------------- probe

/** A plan that reports a probe which did not run cleanly. */
export function probeFailed(kind: string, id: string, probe: CommandResult): FailPlan {
  const detail = (probe.stderr.trim() || probe.stdout.trim()).split('\n').slice(-5).join('\n');
  return fail(mask(`${kind} '${id}': probe failed with exit code ${probe.exitCode}${detail ? `: ${detail}` : ''}`));
}

/** Read the probe of a path-state op: undefined probe / failed probe -> FailPlan. */
export function readPathProbe(kind: string, id: string, probe: CommandResult | undefined): PathState | FailPlan {
  if (!probe) return fail(`${kind} '${id}': no probe result`);
  if (probe.exitCode !== 0) return probeFailed(kind, id, probe);
  try {
    return parsePathState(probe.stdout);
  } catch (err) {
    return fail(`${kind} '${id}': ${(err as Error).message}`);
  }
}

export function isFail(x: unknown): x is FailPlan {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'fail';
}

// ---------------------------------------------------------------- attributes

/** Does the host's mode equal the wanted one ('0644')? */
export function modeMatches(wanted: string | undefined, state: PathState): boolean {
  return wanted === undefined || state.mode === Number.parseInt(wanted, 8);
}

/** Does the host's owner/group match a wanted name or numeric id? */
export function idMatches(wanted: string | undefined, name: string | undefined, numeric: number | undefined): boolean {
  if (wanted === undefined) return true;
  return /^\d+$/.test(wanted) ? Number(wanted) === numeric : wanted === name;
}

/** What differs in mode/owner/group, as short phrases ("mode 0600 -> 0644"). */
export function attributeDrift(state: PathState, want: Attributes): string[] {
  const out: string[] = [];
  if (!modeMatches(want.mode, state)) out.push(`mode ${formatMode(state.mode)} -> ${want.mode}`);
  if (!idMatches(want.owner, state.user, state.uid)) out.push(`owner ${state.user ?? state.uid} -> ${want.owner}`);
  if (!idMatches(want.group, state.group, state.gid)) out.push(`group ${state.group ?? state.gid} -> ${want.group}`);
  return out;
}

export function formatMode(mode: number | undefined): string {
  return mode === undefined ? '?' : mode.toString(8).padStart(4, '0');
}

/** chmod / chown commands fixing only the attributes that drifted. */
export function fixAttributes(path: string, state: PathState, want: Attributes): ShellCommand[] {
  const cmds: ShellCommand[] = [];
  const ownerOk = idMatches(want.owner, state.user, state.uid);
  const groupOk = idMatches(want.group, state.group, state.gid);
  if (!ownerOk || !groupOk) {
    const who = `${ownerOk ? '' : want.owner}${groupOk ? '' : `:${want.group}`}`;
    cmds.push(sh`chown ${who} ${path}`);
  }
  // after chown: chown may clear setuid/setgid bits
  if (!modeMatches(want.mode, state) || (cmds.length > 0 && want.mode !== undefined && Number.parseInt(want.mode, 8) > 0o777)) {
    cmds.push(sh`chmod ${want.mode ?? ''} ${path}`);
  }
  return cmds;
}

/**
 * Attributes for a rewrite of an existing file: what the user asked for, else what
 * the file has now (a temp file is created 0600 by root, so unset attributes
 * would otherwise change silently), else 0644 for a new file.
 */
export function keepAttributes(state: PathState, want: Attributes): { mode: string; owner?: string; group?: string } {
  const exists = state.type === 'file';
  const out: { mode: string; owner?: string; group?: string } = {
    mode: want.mode ?? (exists && state.mode !== undefined ? formatMode(state.mode) : '0644'),
  };
  const owner = want.owner ?? (exists && state.uid !== undefined ? String(state.uid) : undefined);
  const group = want.group ?? (exists && state.gid !== undefined ? String(state.gid) : undefined);
  if (owner !== undefined) out.owner = owner;
  if (group !== undefined) out.group = group;
  return out;
}

// ---------------------------------------------------------------- writing

/** True when the text holds a registered secret (so it must never be displayed). */
export function holdsSecret(text: string): boolean {
  return mask(text) !== text;
}

/**
 * Commands writing `content` to `path` atomically (temp + rename + backup, see
 * atomic-write.ts). Small content travels inside the command; secret content too,
 * but shown masked (the base64 would otherwise reveal it in logs); content above
 * INLINE_MAX_BYTES is uploaded to `<path>.cairn-tmp` first.
 */
export function writeFileCommands(path: string, content: Buffer, opts: AtomicWriteOptions & { secret: boolean; description: string }): Command[] {
  const { secret, description, mode, owner, group, backup } = opts;
  const tmp = `${path}.cairn-tmp`;
  // atomicInstall sets owner before mode (chown clears setuid/setgid bits, even as root)
  const install = (produce: ShellCommand) =>
    atomicInstall(produce, tmp, path, { ...(mode ? { mode } : {}), ...(owner ? { owner } : {}), ...(group ? { group } : {}), backup: backup !== false });
  if (content.length > INLINE_MAX_BYTES) {
    return [upload(tmp, content, description, 0o600), install(sh`test -f ${tmp}`)];
  }
  const b64 = content.toString('base64');
  // secret content: the base64 would reveal it in logs, so it is shown masked
  return [install(sh`printf %s ${secret ? new Secret(b64) : b64} | base64 -d > ${tmp}`)];
}

/** Text for diffs: undefined when the bytes are not UTF-8 text (NUL bytes or invalid UTF-8). */
export function asText(content: Buffer): string | undefined {
  if (content.includes(0)) return undefined;
  const text = content.toString('utf8');
  return Buffer.from(text, 'utf8').equals(content) ? text : undefined;
}

/**
 * An operation on one path (file, directory, symlink, ...): probe it with pathStateCommand,
 * read the state (an unreadable probe fails the step), then plan from the state.
 */
export function pathOperation(
  kind: string,
  id: string,
  path: string,
  opts: { notify?: readonly string[] | undefined; probe?: PathStateOptions },
  plan: (state: PathState) => Plan,
): Operation {
  return {
    kind,
    id,
    ...(opts.notify ? { notify: opts.notify } : {}),
    probe: () => pathStateCommand(path, opts.probe),
    plan(probe: CommandResult | undefined): Plan {
      const state = readPathProbe(kind, id, probe);
      return isFail(state) ? state : plan(state);
    },
  };
}
