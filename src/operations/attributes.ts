import { sh, type ShellCommand } from '../shell/sh.ts';
import type { PathState } from '../facts/path-state.ts';

/**
 * Mode, owner and group of a path: the wanted ones (checked in path-params.ts)
 * compared with the path-state fact, the drift described and the chmod / chown
 * commands fixing only what drifted.
 */

/** Wanted mode / owner / group of a path (each optional). */
export interface Attributes {
  readonly mode?: string | undefined;
  readonly owner?: string | undefined;
  readonly group?: string | undefined;
}

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
