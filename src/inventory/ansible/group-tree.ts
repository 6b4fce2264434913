import type { InputProblem } from '../../core/errors.ts';
import type { AnsibleSource } from './model.ts';

export interface GroupTree {
  /** Longest path from `all` (Ansible's group depth): all = 0, top groups = 1. */
  depth: Map<string, number>;
  /** Hosts of each group, its descendants' included, in inventory order. */
  members: Map<string, string[]>;
  problems: InputProblem[];
}

/**
 * Depths and flattened memberships of an Ansible inventory's groups. A group
 * that no group lists as a child is a child of `all`. A cycle of children is a
 * problem (and is cut where it closes).
 */
export function groupTree(src: AnsibleSource): GroupTree {
  const problems: InputProblem[] = [];
  const cycles = new Set<string>();
  const parents = new Map<string, string[]>([...src.groups.keys()].map((g) => [g, []]));
  for (const g of src.groups.values()) for (const c of g.children) parents.get(c.name)?.push(g.name);

  const depth = new Map<string, number>();
  const depthOf = (name: string, path: string[]): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (name === 'all') return 0;
    if (path.includes(name)) return 0;
    const ps = (parents.get(name) ?? []).filter((p) => !path.includes(p) && p !== name);
    const d = 1 + Math.max(0, ...ps.map((p) => depthOf(p, [...path, name])));
    depth.set(name, d);
    return d;
  };
  for (const name of src.groups.keys()) depth.set(name, depthOf(name, []));

  const order = [...src.hosts.keys()];
  const members = new Map<string, string[]>();
  const membersOf = (name: string, path: string[]): Set<string> => {
    const group = src.groups.get(name)!;
    const set = new Set(group.hosts);
    for (const child of group.children) {
      if (!src.groups.has(child.name)) continue;
      if (child.name === name || path.includes(child.name)) {
        const loop = child.name === name ? [name] : [...path.slice(path.indexOf(child.name)), name];
        const key = [...loop].sort().join('\0');
        if (cycles.has(key)) continue;
        cycles.add(key);
        const cycle = [...loop, child.name].join(' > ');
        problems.push({ location: child.location, message: `group '${child.name}' is a child of itself: ${cycle}`, fix: `remove '${child.name}' from the children of '${name}'` });
        continue;
      }
      for (const h of membersOf(child.name, [...path, name])) set.add(h);
    }
    return set;
  };
  for (const name of src.groups.keys()) {
    const set = name === 'all' ? new Set(order) : membersOf(name, []);
    members.set(name, order.filter((h) => set.has(h)));
  }
  return { depth, members, problems };
}

