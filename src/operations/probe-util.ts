import { createHash } from 'node:crypto';
import { sh, joinCommands, type ShellCommand } from '../shell/sh.ts';
import { Secret, mask } from '../core/secret.ts';
import type { CommandResult } from '../core/result.ts';
import { atomicInstall, type AtomicWriteOptions } from './atomic-write.ts';
import { fail, upload, type AttributePatch, type Command, type FailPlan, type Operation, type PathEffect, type Plan } from './operation.ts';
import { paramError, parseSections, section } from './kit.ts';

/**
 * Shared by the file-family operations (file, directory, symlink, line, archive):
 * parameter checks, the probe of one path's state and its parser, and the write
 * command that picks inline / secret / upload.
 */

/** File content above this is uploaded instead of travelling inside the command:
 * a command is ONE argv word for `sh -c` (local and over SSH), and Linux caps one
 * word at 128 KiB (MAX_ARG_STRLEN); base64 grows content by a third. */
export const INLINE_MAX_BYTES = 64 * 1024;

/** The probe returns a file's content (for diffs / line edits) only up to this size. */
export const DIFF_MAX_BYTES = 64 * 1024;

/** What is at a path on the host. */
export type PathType = 'absent' | 'file' | 'dir' | 'link' | 'other';

export interface PathState {
  readonly type: PathType;
  /** For a link: what it resolves to (absent when dangling). */
  readonly resolved?: Exclude<PathType, 'link'>;
  /** For a link: its target as written. */
  readonly target?: string;
  /** Octal permission bits as a number (of the resolved file for a link). */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** Owner / group names (`UNKNOWN` when the id has no name). */
  readonly user?: string;
  readonly group?: string;
  readonly size?: number;
  /** sha256 of a regular file's content. */
  readonly sha256?: string;
  /** The content, when asked for and not larger than the limit. */
  readonly content?: Buffer;
  /**
   * Predicted on the controller: the state an earlier step of this run leaves (see
   * ChangePlan.effects), not read from the host. A write over it keeps no backup of
   * its own: the file the host had was backed up by the first step that replaced it.
   */
  readonly pending?: boolean;
}

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

/**
 * Probe the state of `path`: sections `state` (key=value lines), `target` (a link's
 * target) and, when asked, `content` (base64, only for a regular file of at most
 * `contentMax` bytes). Read-only, POSIX sh (busybox ash 1.27+ and dash): uses
 * stat -L -c, sha256sum, base64, readlink. Exits non-zero only when the path
 * exists but cannot be read.
 */
export function pathProbe(path: string, opts: { contentMax?: number; hash?: boolean } = {}): ShellCommand {
  const parts: ShellCommand[] = [
    sh`p=${path}`,
    sh`if [ -L "$p" ]; then t=link; elif [ -f "$p" ]; then t=file; elif [ -d "$p" ]; then t=dir; elif [ -e "$p" ]; then t=other; else t=absent; fi`,
    section(
      'state',
      joinCommands([
        sh`echo "type=$t"`,
        sh`if [ "$t" = link ]; then if [ -f "$p" ]; then echo resolved=file; elif [ -d "$p" ]; then echo resolved=dir; elif [ -e "$p" ]; then echo resolved=other; else echo resolved=absent; fi; fi`,
        sh`if [ -e "$p" ]; then s=$(stat -L -c '%a %u %g %U %G %s' "$p") || exit 1; echo "stat=$s"; fi`,
      ]),
    ),
    sh`if [ "$t" = link ]; then`,
    section('target', sh`readlink "$p" || exit 1`),
    sh`fi`,
  ];
  if (opts.hash !== false) {
    parts.push(sh`if [ "$t" = file ]; then`, section('sha256', sh`h=$(sha256sum < "$p") || exit 1; set -- $h; echo "$1"`), sh`fi`);
  }
  if (opts.contentMax !== undefined) {
    parts.push(
      sh`if [ "$t" = file ] && [ "$(stat -c %s "$p")" -le ${opts.contentMax} ]; then`,
      section('content', sh`c=$(base64 < "$p") || exit 1; printf '%s\n' "$c"`),
      sh`fi`,
    );
  }
  parts.push(sh`exit 0`);
  return joinCommands(parts, '\n');
}

/** Read the output of `pathProbe` (throws on output it cannot read). */
export function parsePathState(stdout: string): PathState {
  const sec = parseSections(stdout);
  const kv = new Map<string, string>();
  for (const line of (sec.get('state') ?? '').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1));
  }
  const type = kv.get('type') as PathType | undefined;
  if (!type || !['absent', 'file', 'dir', 'link', 'other'].includes(type)) {
    throw new Error(`unreadable probe output (no type): ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  const resolved = kv.get('resolved') as PathState['resolved'];
  const stat = kv.get('stat')?.split(' ');
  const state: { -readonly [K in keyof PathState]: PathState[K] } = { type };
  if (resolved) state.resolved = resolved;
  if (stat && stat.length >= 6) {
    state.mode = Number.parseInt(stat[0] ?? '', 8);
    state.uid = Number(stat[1]);
    state.gid = Number(stat[2]);
    state.user = stat[3];
    state.group = stat[4];
    state.size = Number(stat[5]);
  }
  if (sec.has('target')) state.target = sec.get('target');
  const hash = sec.get('sha256')?.trim();
  if (hash) state.sha256 = hash;
  if (sec.has('content')) state.content = Buffer.from((sec.get('content') ?? '').replace(/\s+/g, ''), 'base64');
  return state;
}

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

// ---------------------------------------------------------------- prediction

/** An owner/group as given ('root', '0') into the name / numeric id pair of a state. */
function ids(value: string | undefined, name: string | undefined, num: number | undefined): { name?: string; num?: number } {
  if (value === undefined) return { ...(name !== undefined ? { name } : {}), ...(num !== undefined ? { num } : {}) };
  if (/^\d+$/.test(value)) return { num: Number(value), ...(value === '0' ? { name: 'root' } : {}) };
  return { name: value, ...(value === 'root' ? { num: 0 } : {}) };
}

function withIds(base: PathState, owner: string | undefined, group: string | undefined): PathState {
  const o = ids(owner, base.user, base.uid);
  const g = ids(group, base.group, base.gid);
  const { user: _u, uid: _uid, group: _g, gid: _gid, ...rest } = base;
  return {
    ...rest,
    ...(o.name !== undefined ? { user: o.name } : {}),
    ...(o.num !== undefined ? { uid: o.num } : {}),
    ...(g.name !== undefined ? { group: g.name } : {}),
    ...(g.num !== undefined ? { gid: g.num } : {}),
  };
}

/** The state a write of `content` with these attributes leaves (see keepAttributes). */
export function predictFile(content: Buffer, attrs: { mode: string; owner?: string; group?: string }, before: PathState): PathState {
  const kept = before.type === 'file' ? before : undefined;
  const base: PathState = {
    type: 'file',
    ...(kept?.uid !== undefined ? { uid: kept.uid } : {}),
    ...(kept?.gid !== undefined ? { gid: kept.gid } : {}),
    ...(kept?.user !== undefined ? { user: kept.user } : {}),
    ...(kept?.group !== undefined ? { group: kept.group } : {}),
    mode: Number.parseInt(attrs.mode, 8),
    size: content.length,
    sha256: createHash('sha256').update(content).digest('hex'),
    content,
    pending: true,
  };
  return withIds(base, attrs.owner, attrs.group);
}

/** What fixAttributes changes: the wanted mode / owner / group. */
export function attributesPatch(want: Attributes): AttributePatch {
  const o = ids(want.owner, undefined, undefined);
  const g = ids(want.group, undefined, undefined);
  return {
    ...(want.mode !== undefined ? { mode: Number.parseInt(want.mode, 8) } : {}),
    ...(o.name !== undefined ? { user: o.name } : {}),
    ...(o.num !== undefined ? { uid: o.num } : {}),
    ...(g.name !== undefined ? { group: g.name } : {}),
    ...(g.num !== undefined ? { gid: g.num } : {}),
  };
}

/** The effect of fixAttributes on `path`. */
export function attributesEffect(path: string, want: Attributes): PathEffect {
  return { path, kind: 'attributes', attributes: attributesPatch(want) };
}

/**
 * A path's state after earlier steps' effects (see ChangePlan.effects): the last whole
 * state replaces what was read, attribute changes apply on top (a name given for an
 * owner drops a numeric id read before, and the other way round, unless both are known).
 */
export function applyEffects(read: PathState, effects: readonly PathEffect[]): PathState {
  let st = read;
  for (const e of effects) {
    if (e.kind === 'state') st = e.state;
    else if (e.kind === 'attributes') {
      const a = e.attributes;
      const owner = a.user !== undefined || a.uid !== undefined;
      const group = a.group !== undefined || a.gid !== undefined;
      const { user, uid, group: grp, gid, ...rest } = st;
      st = {
        ...rest,
        ...(owner ? {} : { ...(user !== undefined ? { user } : {}), ...(uid !== undefined ? { uid } : {}) }),
        ...(group ? {} : { ...(grp !== undefined ? { group: grp } : {}), ...(gid !== undefined ? { gid } : {}) }),
        ...a,
        pending: true,
      };
    }
  }
  return st;
}

/** Nothing left at the path. */
export const PREDICTED_ABSENT: PathState = { type: 'absent', pending: true };

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
 * An operation on one path (file, directory, symlink, ...): probe it with pathProbe,
 * read the state (an unreadable probe fails the step), then plan from the state.
 */
export function pathOperation(
  kind: string,
  id: string,
  path: string,
  opts: { notify?: readonly string[] | undefined; probe?: { contentMax?: number; hash?: boolean } },
  /** Plans from the path's state, read from the host or predicted from an earlier step. */
  plan: (state: PathState) => Plan,
): Operation {
  return {
    kind,
    id,
    ...(opts.notify ? { notify: opts.notify } : {}),
    paths: [path],
    probe: () => pathProbe(path, opts.probe),
    plan(probe: CommandResult | undefined): Plan {
      const state = readPathProbe(kind, id, probe);
      return isFail(state) ? state : plan(state);
    },
    planFrom(probe: CommandResult | undefined, effects: readonly PathEffect[]): Plan {
      // a whole state predicted by an earlier step needs nothing of this step's probe
      const whole = effects.some((e) => e.kind === 'state');
      const read = whole ? { type: 'absent' as const } : readPathProbe(kind, id, probe);
      return isFail(read) ? read : plan(applyEffects(read, effects));
    },
  };
}
