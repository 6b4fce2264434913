import { sh, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import type { Facts } from '../facts/types.ts';
import { change, fail, noop, type OpContext, type Operation, type Plan } from './operation.ts';
import { accountEffects, groupKey } from './account-keys.ts';
import { checkId, paramError, parseSections, probeOf, section, paramNames, rejectUnknownParams } from './kit.ts';

export interface GroupParams {
  readonly id: string;
  /** The group name. */
  readonly name: string;
  /** Numeric group id; unset: the system picks one when creating. */
  readonly gid?: number;
  /** A system group (gid from the system range). Only used when creating. */
  readonly system?: boolean;
  readonly notify?: readonly string[];
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  readonly members: readonly string[];
}

const KIND = 'group';
const PARAMS = paramNames<GroupParams>({ id: true, name: true, gid: true, system: true, notify: true });
/** Portable user/group name (busybox adduser and shadow's useradd both accept it). */
export const ACCOUNT_NAME = /^[a-z_][a-z0-9_-]{0,31}$/;

export function checkAccountName(kind: string, id: string, param: string, value: unknown): string {
  if (typeof value !== 'string' || !ACCOUNT_NAME.test(value)) {
    throw paramError(kind, id, param, `must be a user/group name, got ${JSON.stringify(value)}`, 'use lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters');
  }
  return value;
}

export function checkNumericId(kind: string, id: string, param: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 4294967294) {
    throw paramError(kind, id, param, `must be a non-negative integer, got ${JSON.stringify(value)}`, `give a number such as 1000, or leave ${param} out to let the system pick`);
  }
  return value;
}

/** Lines of /etc/group (`name:x:gid:a,b`), skipping anything malformed. */
export function parseGroupFile(text: string): Map<string, GroupEntry> {
  const out = new Map<string, GroupEntry>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 4 || !f[0] || !/^\d+$/.test(f[2] ?? '')) continue;
    out.set(f[0], { name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) });
  }
  return out;
}

/** The line of /etc/passwd or /etc/group whose first field is `name` (getent may be missing on Alpine). */
export function accountLine(file: '/etc/passwd' | '/etc/group', name: string): ShellCommand {
  return sh`awk -F: -v ${`n=${name}`} '$1 == n' ${file}`;
}

/** Create a group: busybox addgroup on Alpine, shadow's groupadd elsewhere. */
export function createGroupCommand(facts: Facts, name: string, opts: { gid?: number; system?: boolean }): ShellCommand {
  if (facts.os.family === 'alpine') {
    const flags = [...(opts.system ? ['-S'] : []), ...(opts.gid !== undefined ? ['-g', String(opts.gid)] : [])];
    return flags.length ? sh`addgroup ${flags} ${name}` : sh`addgroup ${name}`;
  }
  const flags = [...(opts.system ? ['--system'] : []), ...(opts.gid !== undefined ? ['--gid', String(opts.gid)] : [])];
  return flags.length ? sh`groupadd ${flags} ${name}` : sh`groupadd ${name}`;
}

/** A local group with an optional fixed gid. A different existing gid is reported, never changed. */
export function group(params: GroupParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const name = checkAccountName(KIND, id, 'name', params.name);
  const gid = checkNumericId(KIND, id, 'gid', params.gid);
  const system = params.system ?? false;
  return {
    kind: KIND,
    id,
    ...(params.notify ? { notify: params.notify } : {}),
    paths: [groupKey(name)],
    probe: () => probeOf(section('group', accountLine('/etc/group', name))),
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (!probe) return fail('group: no probe result');
      if (ctx.facts.os.family === 'unknown') return fail(`group '${name}': unknown OS family on ${ctx.host}, cannot pick addgroup or groupadd`);
      const existing = parseGroupFile(parseSections(probe.stdout).get('group') ?? '').get(name);
      if (!existing) {
        return change(`create group ${name}${gid !== undefined ? ` (gid ${gid})` : ''}`, [createGroupCommand(ctx.facts, name, { ...(gid !== undefined ? { gid } : {}), system })], undefined, undefined, accountEffects([groupKey(name)]));
      }
      if (gid !== undefined && existing.gid !== gid) {
        return fail(
          `group '${name}' exists with gid ${existing.gid}, wanted ${gid}: cairn does not renumber groups (files keep the old gid); ` +
            `change it by hand (groupmod -g ${gid} ${name}, then chgrp the files) or drop gid from the step`,
        );
      }
      return noop(`group ${name} exists (gid ${existing.gid})`);
    },
  };
}
