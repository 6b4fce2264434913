import type { HostSpec, Inventory } from './types.ts';

/**
 * The roles a host runs, in order: the roles of its groups concatenated in
 * inventory order of the groups, each role kept at its first occurrence.
 */
export function rolesForHost(inv: Inventory, host: HostSpec | string): string[] {
  const name = typeof host === 'string' ? host : host.name;
  const memberOf = typeof host === 'string' ? inv.hosts.get(host)?.groups ?? [] : host.groups;
  const roles = new Set<string>();
  for (const group of inv.groups.values()) {
    if (!memberOf.includes(group.name) && !group.hosts.includes(name)) continue;
    for (const role of group.roles) roles.add(role);
  }
  return [...roles];
}
