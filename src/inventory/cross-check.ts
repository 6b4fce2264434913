import type { InputProblem } from '../core/errors.ts';
import { didYouMean, listChoices } from './suggest.ts';
import type { YamlSource } from './yaml-source.ts';

export interface CrossCheckOptions {
  /** Role names that exist; when given, unknown role names are problems. */
  knownRoles?: ReadonlySet<string>;
}

/** Names with a meaning of their own in --limit patterns. */
const RESERVED = new Set(['all']);

/**
 * Checks across entries that a schema cannot express: references between
 * groups and hosts, chroot roots, role names, name clashes. Runs on the raw
 * parsed data (even when the schema found problems), skipping what is malformed.
 */
export function crossCheck(data: unknown, source: YamlSource, opts: CrossCheckOptions = {}): InputProblem[] {
  const root = asMap(data);
  if (!root) return [];
  const hosts = asMap(root['hosts']) ?? {};
  const groups = asMap(root['groups']) ?? {};
  const hostNames = Object.keys(hosts);
  const groupNames = Object.keys(groups);
  return [
    ...checkNoHosts(root, source),
    ...checkNames(hostNames, groupNames, source),
    ...hostNames.flatMap((h) => checkHost(h, asMap(hosts[h]) ?? {}, groupNames, source)),
    ...groupNames.flatMap((g) => checkGroup(g, asMap(groups[g]) ?? {}, hostNames, source, opts.knownRoles)),
  ];
}

function checkNoHosts(root: Record<string, unknown>, source: YamlSource): InputProblem[] {
  const hosts = asMap(root['hosts']);
  if (!hosts || Object.keys(hosts).length > 0) return [];
  return [
    {
      location: source.locate(['hosts']),
      message: 'hosts: is empty: the inventory defines no host',
      fix: 'add at least one host, e.g.\n  hosts:\n    web1: { address: 10.0.0.5 }',
    },
  ];
}

function checkNames(hostNames: string[], groupNames: string[], source: YamlSource): InputProblem[] {
  const problems: InputProblem[] = [];
  for (const [kind, names] of [['hosts', hostNames], ['groups', groupNames]] as const) {
    for (const name of names.filter((n) => RESERVED.has(n))) {
      problems.push({
        location: source.locateKey([kind], name),
        message: `'${name}' cannot be a ${kind === 'hosts' ? 'host' : 'group'} name: it means every host in --limit patterns`,
        fix: `rename it, e.g. '${name}_${kind === 'hosts' ? 'host' : 'hosts'}'`,
      });
    }
  }
  const hostSet = new Set(hostNames);
  for (const name of groupNames.filter((g) => hostSet.has(g))) {
    problems.push({
      location: source.locateKey(['groups'], name),
      message: `'${name}' is both a host and a group: --limit ${name} would be ambiguous`,
      fix: `rename the group (e.g. '${name}_group') or the host`,
    });
  }
  return problems;
}

function checkHost(name: string, host: Record<string, unknown>, groupNames: string[], source: YamlSource): InputProblem[] {
  const problems: InputProblem[] = [];
  const kind = host['connection'];
  if (kind === 'chroot' && host['root'] === undefined) {
    problems.push({
      location: source.locateKey(['hosts'], name),
      message: `host '${name}' uses connection: chroot but has no root:`,
      fix: 'add the mounted root filesystem, e.g. root: /mnt/rpi-image',
    });
  }
  if (host['root'] !== undefined && kind !== 'chroot') {
    problems.push({
      location: source.locateKey(['hosts', name], 'root'),
      message: `host '${name}' has root: but its connection is ${typeof kind === 'string' ? kind : 'ssh'}: root is only used with connection: chroot`,
      fix: 'add connection: chroot, or remove root:',
    });
  }
  if (host['proxy_jump'] !== undefined && host['proxy_command'] !== undefined) {
    problems.push({
      location: source.locateKey(['hosts', name], 'proxy_command'),
      message: `host '${name}' has both proxy_jump: and proxy_command:; OpenSSH uses only the one it reads first, and an inventory entry has no order`,
      fix: 'keep one of them (proxy_jump: bastion is the same as proxy_command: ssh -W %h:%p bastion)',
    });
  }
  asList(host['groups']).forEach((g, i) => {
    if (typeof g !== 'string' || groupNames.includes(g)) return;
    const hint = didYouMean(g, groupNames);
    problems.push({
      location: source.locate(['hosts', name, 'groups', i]),
      message: `group '${g}' of host '${name}' is not defined under groups:`,
      fix: `${hint ? `${hint} ` : ''}define it under groups: (defined: ${listChoices(groupNames)}) or remove it from the host`,
    });
  });
  problems.push(...duplicates(asList(host['groups']), ['hosts', name, 'groups'], `group`, `host '${name}'`, source));
  return problems;
}

function checkGroup(
  name: string,
  group: Record<string, unknown>,
  hostNames: string[],
  source: YamlSource,
  knownRoles: ReadonlySet<string> | undefined,
): InputProblem[] {
  const problems: InputProblem[] = [];
  const members = asList(group['hosts']);
  members.forEach((h, i) => {
    if (typeof h !== 'string' || hostNames.includes(h)) return;
    const hint = didYouMean(h, hostNames);
    problems.push({
      location: source.locate(['groups', name, 'hosts', i]),
      message: `host '${h}' in group '${name}' is not defined under hosts:`,
      fix: `${hint ? `${hint} ` : ''}define it under hosts: (an empty entry '${h}:' is enough) or remove it from the group`,
    });
  });
  problems.push(...duplicates(members, ['groups', name, 'hosts'], 'host', `group '${name}'`, source));
  const roles = asList(group['roles']);
  if (knownRoles) {
    roles.forEach((r, i) => {
      if (typeof r !== 'string' || knownRoles.has(r)) return;
      const hint = didYouMean(r, knownRoles);
      problems.push({
        location: source.locate(['groups', name, 'roles', i]),
        message: `unknown role '${r}' in group '${name}'`,
        fix: `${hint ? `${hint} ` : ''}known roles are ${listChoices([...knownRoles].sort())}; a project role lives in roles/${r}/`,
      });
    });
  }
  problems.push(...duplicates(roles, ['groups', name, 'roles'], 'role', `group '${name}'`, source));
  return problems;
}

function duplicates(list: unknown[], path: (string | number)[], what: string, owner: string, source: YamlSource): InputProblem[] {
  const seen = new Set<unknown>();
  const problems: InputProblem[] = [];
  list.forEach((item, i) => {
    if (typeof item !== 'string') return;
    if (seen.has(item)) {
      problems.push({
        location: source.locate([...path, i]),
        message: `${what} '${item}' is listed twice in ${owner}`,
        fix: 'remove the second occurrence',
      });
    }
    seen.add(item);
  });
  return problems;
}

function asMap(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
