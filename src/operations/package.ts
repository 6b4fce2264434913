import { sh, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { change, fail, noop, type OpContext, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, parseSections, probeOf, section, paramNames, rejectUnknownParams } from './kit.ts';

export interface PackagesParams {
  readonly id: string;
  /** Package names (apk or Debian names; no versions, no options). */
  readonly names: readonly string[];
  /** present: every name installed; absent: none of them installed. */
  readonly state: 'present' | 'absent';
  /** Refresh the package index first — only when something is to be installed. */
  readonly update?: boolean;
  readonly notify?: readonly string[];
}

const KIND = 'packages';
const PARAMS = paramNames<PackagesParams>({ id: true, names: true, state: true, update: true, notify: true });
/** Debian policy names, which also covers Alpine's: lowercase, digits, `. + _ -`, no leading `-`. */
const PACKAGE_NAME = /^[a-z0-9][a-z0-9.+_-]*$/;
/** Wait for another apt/dpkg run (unattended-upgrades) instead of failing at once. */
const APT = sh`DEBIAN_FRONTEND=noninteractive apt-get -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold`;

/**
 * Packages installed or removed with apk or apt (picked from facts.packageManager).
 * One probe reads the state of all names; the plan installs only the missing ones
 * (removes only the installed ones) in one command.
 */
export function packages(params: PackagesParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const { state } = params;
  if (state !== 'present' && state !== 'absent') {
    throw paramError(KIND, id, 'state', `must be 'present' or 'absent', got ${JSON.stringify(state)}`, "use state: 'present' or state: 'absent'");
  }
  if (!Array.isArray(params.names) || params.names.length === 0) {
    throw paramError(KIND, id, 'names', 'must be a non-empty list', "list the packages, e.g. names: ['curl']");
  }
  for (const n of params.names) {
    if (typeof n !== 'string' || !PACKAGE_NAME.test(n)) {
      throw paramError(
        KIND,
        id,
        'names',
        `has an invalid package name ${JSON.stringify(n)}`,
        'use plain package names: lowercase letters, digits and . + _ -, not starting with - (no versions or options)',
      );
    }
  }
  const names = [...new Set(params.names)];
  const update = params.update ?? false;

  return {
    kind: KIND,
    id,
    ...(params.notify ? { notify: params.notify } : {}),
    probe(ctx: OpContext): ShellCommand | undefined {
      switch (ctx.facts.packageManager) {
        case 'apk':
          return probeOf(section('tool', sh`command -v apk || :`), section('installed', sh`apk info -e ${names} 2>/dev/null || :`));
        case 'apt':
          return probeOf(
            section('tool', sh`command -v dpkg-query || :`),
            section('installed', sh`dpkg-query -W -f ${'${Package} ${db:Status-Abbrev}\\n'} ${names} 2>/dev/null || :`),
          );
        default:
          return undefined;
      }
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      const pm = ctx.facts.packageManager;
      if (pm !== 'apk' && pm !== 'apt') return fail(`no supported package manager on ${ctx.host} (found '${pm}'; cairn knows apk and apt)`);
      if (!probe) return fail('packages: no probe result');
      const s = parseSections(probe.stdout);
      if (!s.get('tool')) return fail(`${pm === 'apk' ? 'apk' : 'dpkg-query'} not found on ${ctx.host}`);
      const installed = pm === 'apk' ? parseApkInfo(s.get('installed') ?? '') : parseDpkgQuery(s.get('installed') ?? '');
      if (state === 'present') {
        const missing = names.filter((n) => !installed.has(n));
        if (missing.length === 0) return noop(`installed: ${names.join(', ')}`);
        const cmds: ShellCommand[] =
          pm === 'apk'
            ? [update ? sh`apk add --no-progress --update-cache ${missing} </dev/null` : sh`apk add --no-progress ${missing} </dev/null`]
            : [...(update ? [sh`${APT} update </dev/null`] : []), sh`${APT} install -y --no-install-recommends ${missing} </dev/null`];
        return change(`install ${missing.join(', ')}`, cmds);
      }
      const present = names.filter((n) => installed.has(n));
      if (present.length === 0) return noop(`not installed: ${names.join(', ')}`);
      // apk del only drops a package from /etc/apk/world: one that others depend on stays installed
      const cmd =
        pm === 'apk'
          ? sh`apk del --no-progress ${present} </dev/null
left=$(apk info -e ${present} || :)
if [ -n "$left" ]; then echo "cairn: still installed because other packages need them (see apk info -r):" $left >&2; exit 1; fi`
          : sh`${APT} remove -y ${present} </dev/null`;
      return change(`remove ${present.join(', ')}`, [cmd]);
    },
  };
}

/** `apk info -e a b c` prints the installed ones, one a line. */
export function parseApkInfo(text: string): Set<string> {
  return new Set(text.split('\n').map((l) => l.trim()).filter(Boolean));
}

/**
 * `dpkg-query -W -f '${Package} ${db:Status-Abbrev}\n'`: `name ii ` when installed;
 * the second letter of the abbreviation is the current state (i = installed;
 * c = config-files only, n = not installed, U/F/H = broken half states).
 */
export function parseDpkgQuery(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const [name, abbrev] = line.trim().split(/\s+/);
    if (name && abbrev && abbrev[1] === 'i') out.add(name);
  }
  return out;
}
