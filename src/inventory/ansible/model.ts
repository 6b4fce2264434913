import type { InputProblem, SourceLocation } from '../../core/errors.ts';
import { setOwn } from '../plain-map.ts';
import type { Vars } from '../types.ts';

/** Vars with where each (dotted) key was written. */
export interface LocatedVars {
  vars: Vars;
  locations: Map<string, SourceLocation>;
}

export interface AnsibleHost {
  name: string;
  /** First place the host is written. */
  location: SourceLocation;
  /** Vars from the inventory file (host lines, `hosts:` entries). */
  vars: LocatedVars;
}

export interface AnsibleGroup {
  name: string;
  /** Where the group is first declared ([g], [g:children], `g:`); undefined while only referenced. */
  location?: SourceLocation;
  /** Hosts listed directly in the group, in file order. */
  hosts: string[];
  /** Child groups, with where each is listed. */
  children: { name: string; location: SourceLocation }[];
  /** Vars from the inventory file ([g:vars], `vars:`). */
  vars: LocatedVars;
}

/**
 * An Ansible inventory as read from its file, before group_vars/host_vars and
 * before the mapping to cairn. `groups` always holds `all`.
 */
export interface AnsibleSource {
  file: string;
  hosts: Map<string, AnsibleHost>;
  groups: Map<string, AnsibleGroup>;
  problems: InputProblem[];
}

export function emptyVars(): LocatedVars {
  return { vars: {}, locations: new Map() };
}

export function emptySource(file: string): AnsibleSource {
  const all: AnsibleGroup = { name: 'all', location: { file, line: 1, column: 1 }, hosts: [], children: [], vars: emptyVars() };
  return { file, hosts: new Map(), groups: new Map([['all', all]]), problems: [] };
}

/** The group `name`, created (undeclared) when first referenced. */
export function groupOf(src: AnsibleSource, name: string): AnsibleGroup {
  let g = src.groups.get(name);
  if (!g) {
    g = { name, hosts: [], children: [], vars: emptyVars() };
    src.groups.set(name, g);
  }
  return g;
}

/** Add (or extend) host `name` and list it in `group`; later vars replace earlier ones, as in Ansible. */
export function addHost(src: AnsibleSource, name: string, location: SourceLocation, vars: LocatedVars, group: string | undefined): void {
  const host = src.hosts.get(name) ?? { name, location, vars: emptyVars() };
  src.hosts.set(name, host);
  assignVars(host.vars, vars);
  if (group === undefined) return;
  const g = groupOf(src, group);
  if (!g.hosts.includes(name)) g.hosts.push(name);
}

/** Set vars of a group; later ones replace earlier ones key by key. */
export function addGroupVars(group: AnsibleGroup, vars: LocatedVars): void {
  assignVars(group.vars, vars);
}

/** Top-level keys of `from` replace those of `into` (Ansible's set_variable). */
export function assignVars(into: LocatedVars, from: LocatedVars): void {
  for (const [k, v] of Object.entries(from.vars)) {
    setOwn(into.vars, k, v);
    for (const key of [...into.locations.keys()]) if (key === k || key.startsWith(`${k}.`)) into.locations.delete(key);
  }
  for (const [k, loc] of from.locations) into.locations.set(k, loc);
}
