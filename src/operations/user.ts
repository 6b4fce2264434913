import { sh, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import type { Facts } from '../facts/types.ts';
import { change, fail, noop, warn, type OpContext, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, parseSections, probeOf, section, paramNames, rejectUnknownParams } from './kit.ts';
import { atomicInstall } from './atomic-write.ts';
import { accountEffects, groupKey, userKey } from './account-keys.ts';
import { accountLine, checkAccountName, checkNumericId, createGroupCommand, parseGroupFile, type GroupEntry } from './group.ts';

export interface UserParams {
  readonly id: string;
  /** The account name. */
  readonly name: string;
  /** Numeric user id; unset: the system picks one when creating. An existing user with another uid fails the step (cairn does not renumber: files keep the old uid). */
  readonly uid?: number;
  /** Primary group. Default: a group named like the user, created with it when missing. */
  readonly group?: string;
  /** Supplementary groups the user must belong to (membership elsewhere is left alone). */
  readonly groups?: readonly string[];
  /** Home directory (absolute); unset: the tool's default. cairn does not move an existing home (a warning). */
  readonly home?: string;
  /** Login shell. Default for system users: nologin; otherwise the tool's default and not managed. */
  readonly shell?: string;
  /** A system account (uid from the system range, no login shell, no home by default). Only used when creating. */
  readonly system?: boolean;
  /** Create the home directory. Default: true for normal users, false for system users. */
  readonly createHome?: boolean;
  readonly notify?: readonly string[];
}

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

const KIND = 'user';
const PARAMS = paramNames<UserParams>({ id: true, name: true, uid: true, group: true, groups: true, home: true, shell: true, system: true, createHome: true, notify: true });
const ABS_PATH = /^\/[A-Za-z0-9_.\/+@-]*$/;

export function parsePasswdLine(text: string): PasswdEntry | undefined {
  const f = text.trim().split('\n')[0]?.split(':');
  if (!f || f.length < 7 || !/^\d+$/.test(f[2] ?? '') || !/^\d+$/.test(f[3] ?? '')) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]! };
}

function checkPath(id: string, param: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !ABS_PATH.test(value)) {
    throw paramError(KIND, id, param, `must be an absolute path without spaces or ':', got ${JSON.stringify(value)}`, `e.g. ${param}: '/var/lib/consul'`);
  }
  return value;
}

function nologin(facts: Facts): string {
  return facts.os.family === 'alpine' ? '/sbin/nologin' : '/usr/sbin/nologin';
}

/**
 * A local user. Alpine: busybox adduser/addgroup (`adduser -D -S -H -G group -s
 * /sbin/nologin name`); Debian: useradd/usermod. The probe reads the user's
 * /etc/passwd line and /etc/group (getent may be missing on Alpine).
 * Drift fixed: shell, primary group, missing supplementary groups (Alpine has no
 * usermod: /etc/passwd is rewritten atomically). Drift reported: uid (fail: files
 * keep the old uid), home (warning: cairn does not move homes).
 */
export function user(params: UserParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const name = checkAccountName(KIND, id, 'name', params.name);
  const uid = checkNumericId(KIND, id, 'uid', params.uid);
  const primary = params.group === undefined ? name : checkAccountName(KIND, id, 'group', params.group);
  if (params.groups !== undefined && !Array.isArray(params.groups)) {
    throw paramError(KIND, id, 'groups', 'must be a list of group names', "e.g. groups: ['docker']");
  }
  const groups = [...new Set((params.groups ?? []).map((g) => checkAccountName(KIND, id, 'groups', g)))].filter((g) => g !== primary);
  const home = checkPath(id, 'home', params.home);
  const shell = checkPath(id, 'shell', params.shell);
  const system = params.system ?? false;
  const createHome = params.createHome ?? !system;

  return {
    kind: KIND,
    id,
    // its groups are usually created by an earlier step of the same run: probed again after those
    paths: [userKey(name), groupKey(primary), ...groups.map(groupKey)],
    ...(params.notify ? { notify: params.notify } : {}),
    probe: () => probeOf(section('passwd', accountLine('/etc/passwd', name)), section('group', sh`cat /etc/group`)),
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (!probe) return fail('user: no probe result');
      const family = ctx.facts.os.family;
      if (family === 'unknown') return fail(`user '${name}': unknown OS family on ${ctx.host}, cannot pick adduser or useradd`);
      const s = parseSections(probe.stdout);
      const groupFile = parseGroupFile(s.get('group') ?? '');
      const missingGroups = groups.filter((g) => !groupFile.has(g));
      if (missingGroups.length) {
        return fail(`user '${name}': group(s) ${missingGroups.join(', ')} do not exist on ${ctx.host}; add group steps before this one`);
      }
      const primaryEntry = groupFile.get(primary);
      if (!primaryEntry && params.group !== undefined) {
        return fail(`user '${name}': primary group '${primary}' does not exist on ${ctx.host}; add a group step before this one`);
      }
      const current = parsePasswdLine(s.get('passwd') ?? '');
      if (!current) return create(ctx.facts, primaryEntry === undefined);
      return update(ctx, current, groupFile, primaryEntry);
    },
  };

  function create(facts: Facts, createPrimary: boolean): Plan {
    const cmds: ShellCommand[] = [];
    if (createPrimary) cmds.push(createGroupCommand(facts, primary, { system }));
    const loginShell = shell ?? (system ? nologin(facts) : undefined);
    if (facts.os.family === 'alpine') {
      const flags = [
        '-D',
        ...(system ? ['-S'] : []),
        ...(createHome ? [] : ['-H']),
        ...(uid !== undefined ? ['-u', String(uid)] : []),
        ...(home ? ['-h', home] : []),
        ...(loginShell ? ['-s', loginShell] : []),
        '-G',
        primary,
      ];
      cmds.push(sh`adduser ${flags} ${name}`);
      // busybox adduser takes one group: supplementary ones one by one
      for (const g of groups) cmds.push(sh`addgroup ${name} ${g}`);
    } else {
      const flags = [
        ...(system ? ['--system'] : []),
        ...(uid !== undefined ? ['--uid', String(uid)] : []),
        ...(home ? ['--home-dir', home] : []),
        createHome ? '--create-home' : '--no-create-home',
        ...(loginShell ? ['--shell', loginShell] : []),
        '--gid',
        primary,
        ...(groups.length ? ['--groups', groups.join(',')] : []),
      ];
      cmds.push(sh`useradd ${flags} ${name}`);
    }
    const what = [uid !== undefined ? `uid ${uid}` : '', `group ${primary}`, groups.length ? `groups ${groups.join(',')}` : ''].filter(Boolean);
    const keys = [userKey(name), ...(createPrimary ? [groupKey(primary)] : []), ...groups.map(groupKey)];
    return change(`create ${system ? 'system ' : ''}user ${name} (${what.join(', ')})`, cmds, undefined, undefined, accountEffects(keys));
  }

  function update(ctx: OpContext, current: PasswdEntry, groupFile: Map<string, GroupEntry>, primaryEntry: GroupEntry | undefined): Plan {
    if (uid !== undefined && current.uid !== uid) {
      return fail(
        `user '${name}' exists with uid ${current.uid}, wanted ${uid}: cairn does not renumber users (files keep the old uid); ` +
          `change it by hand (usermod -u, then chown the files) or drop uid from the step`,
      );
    }
    if (!primaryEntry) {
      return fail(`user '${name}': its primary group '${primary}' does not exist on ${ctx.host}; add a group step before this one`);
    }
    const warnings: string[] = [];
    if (home !== undefined && current.home !== home) {
      warnings.push(`user '${name}' has home ${current.home}, wanted ${home}: not moved (move it by hand: usermod -d ${home} -m ${name})`);
    }
    const newShell = shell !== undefined && current.shell !== shell ? shell : undefined;
    const newGid = current.gid !== primaryEntry.gid ? primaryEntry.gid : undefined;
    const addTo = groups.filter((g) => {
      const e = groupFile.get(g)!;
      return e.gid !== current.gid && !e.members.includes(name);
    });
    const cmds: ShellCommand[] = [];
    const what: string[] = [];
    if (newShell !== undefined) what.push(`shell ${current.shell} -> ${newShell}`);
    if (newGid !== undefined) what.push(`primary group gid ${current.gid} -> ${primary} (${newGid})`);
    if (addTo.length) what.push(`add to ${addTo.join(', ')}`);
    if (ctx.facts.os.family === 'alpine') {
      if (newShell !== undefined || newGid !== undefined) cmds.push(rewritePasswd(name, newShell, newGid));
      for (const g of addTo) cmds.push(sh`addgroup ${name} ${g}`);
    } else {
      if (newShell !== undefined) cmds.push(sh`usermod --shell ${newShell} ${name}`);
      if (newGid !== undefined) cmds.push(sh`usermod --gid ${primary} ${name}`);
      if (addTo.length) cmds.push(sh`usermod --append --groups ${addTo.join(',')} ${name}`);
    }
    if (cmds.length === 0) {
      return warnings.length ? warn(warnings.join('\n')) : noop(`user ${name} exists (uid ${current.uid}, group ${primary})`);
    }
    return change(`user ${name}: ${what.join('; ')}`, cmds, undefined, warnings.length ? warnings : undefined, accountEffects([userKey(name), ...addTo.map(groupKey)]));
  }
}

/**
 * Alpine has no usermod (busybox): set the shell and/or gid field of `name` in
 * /etc/passwd by writing a new copy and renaming it over the old one.
 */
function rewritePasswd(name: string, shell: string | undefined, gid: number | undefined): ShellCommand {
  const tmp = '/etc/passwd.cairn-tmp';
  const produce = sh`awk -F: -v OFS=: -v ${`n=${name}`} -v ${`s=${shell ?? ''}`} -v ${`g=${gid ?? ''}`} '$1 == n { if (s != "") $7 = s; if (g != "") $4 = g } { print }' /etc/passwd > ${tmp}`;
  return atomicInstall(produce, tmp, '/etc/passwd', { mode: '0644', owner: 'root', group: 'root' });
}
