import { sh, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { fail, noop, type OpContext, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, parseSections, probeOf, section, paramNames, rejectUnknownParams } from './kit.ts';

export interface PackagesAvailableParams {
  readonly id: string;
  /** Package names that must be installed already or installable from the host's repositories. */
  readonly names: readonly string[];
  /** Added to the failure, e.g. "Alpine ships docker in the community repository". */
  readonly hint?: string;
}

const KIND = 'packagesAvailable';
const PARAMS = paramNames<PackagesAvailableParams>({ id: true, names: true, hint: true });
const PACKAGE_NAME = /^[a-z0-9][a-z0-9.+_-]*$/;

/**
 * `apk policy a b` per package: `a policy:` then `  <version>:` lines, each
 * followed by where it comes from (a repository, or lib/apk/db/installed). A
 * package no repository knows prints nothing. Returns name -> repositories offering it.
 */
export function parseApkPolicy(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    const head = /^(\S+) policy:$/.exec(line);
    if (head) {
      current = [];
      out.set(head[1]!, current);
    } else if (current && /^ {4}\S/.test(line)) {
      current.push(line.trim());
    }
  }
  return out;
}

/** `apt-cache policy a b`: name -> { installed, candidate } ('(none)' -> undefined). */
export function parseAptPolicy(text: string): Map<string, { installed?: string; candidate?: string }> {
  const out = new Map<string, { installed?: string; candidate?: string }>();
  let current: { installed?: string; candidate?: string } | undefined;
  for (const line of text.split('\n')) {
    const head = /^(\S+):$/.exec(line);
    if (head) {
      current = {};
      out.set(head[1]!, current);
      continue;
    }
    const m = /^\s+(Installed|Candidate):\s*(\S+)/.exec(line);
    if (current && m && m[2] !== '(none)') {
      if (m[1] === 'Installed') current.installed = m[2]!;
      else current.candidate = m[2]!;
    }
  }
  return out;
}

/**
 * Check, before anything is installed, that packages can be installed: each is
 * installed already or offered by a configured repository (apk policy /
 * apt-cache policy against the host's current index). Fails with the packages
 * that cannot be found, the host's repositories and the hint, instead of the
 * package manager's error halfway through a role. Never changes anything.
 */
export function packagesAvailable(params: PackagesAvailableParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  if (!Array.isArray(params.names) || params.names.length === 0 || params.names.some((n) => typeof n !== 'string' || !PACKAGE_NAME.test(n))) {
    throw paramError(KIND, id, 'names', `must be a non-empty list of package names, got ${JSON.stringify(params.names)}`, "e.g. names: ['unbound']");
  }
  const names = [...new Set(params.names)];

  return {
    kind: KIND,
    id,
    probe(ctx: OpContext): ShellCommand | undefined {
      switch (ctx.facts.packageManager) {
        case 'apk':
          return probeOf(
            section('policy', sh`apk policy ${names} 2>/dev/null || :`),
            section('repos', sh`grep -v '^[[:space:]]*#' /etc/apk/repositories 2>/dev/null | grep . || :`),
          );
        case 'apt':
          return probeOf(
            section('policy', sh`apt-cache policy ${names} 2>/dev/null || :`),
            section('repos', sh`{ grep -hs '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list /etc/apt/sources.list.d/*.list; grep -hs '^\\(URIs\\|Suites\\):' /etc/apt/sources.list.d/*.sources; } | sed 's/^[[:space:]]*//' | head -n 10 || :`),
            section('lists', sh`ls /var/lib/apt/lists/ 2>/dev/null | grep -c '_Packages' || :`),
          );
        default:
          return undefined;
      }
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      const pm = ctx.facts.packageManager;
      if (pm !== 'apk' && pm !== 'apt') return fail(`no supported package manager on ${ctx.host} (found '${pm}'; cairn knows apk and apt)`);
      if (!probe) return fail(`${KIND} '${id}': no probe result`);
      const s = parseSections(probe.stdout);
      const policy = s.get('policy') ?? '';
      let missing: string[];
      if (pm === 'apk') {
        const p = parseApkPolicy(policy);
        missing = names.filter((n) => (p.get(n) ?? []).length === 0);
      } else {
        const p = parseAptPolicy(policy);
        missing = names.filter((n) => !p.get(n)?.installed && !p.get(n)?.candidate);
      }
      if (missing.length === 0) return noop(`installed or installable: ${names.join(', ')}`);
      const repos = (s.get('repos') ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
      const where = repos.length ? repos.join(', ') : 'none configured';
      const emptyLists = pm === 'apt' && (s.get('lists') ?? '').trim() === '0' ? ' (the apt package lists are empty: run apt-get update)' : '';
      return fail(
        `${missing.join(', ')} cannot be installed on ${ctx.host}: no configured ${pm} repository offers ${missing.length > 1 ? 'them' : 'it'} (repositories: ${where})${emptyLists}${params.hint ? `. ${params.hint}` : ''}`,
      );
    },
  };
}
