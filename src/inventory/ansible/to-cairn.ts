import type { InputProblem, SourceLocation } from '../../core/errors.ts';
import type { InventoryLocator } from '../locator.ts';
import { mergeVars } from '../merge-vars.ts';
import { NAME_PATTERN, type RawGroup, type RawHost, type RawInventory } from '../schema.ts';
import type { VarLocations } from '../types.ts';
import { connectionFields, isConnectionVar } from './connection-vars.ts';
import { groupTree } from './group-tree.ts';
import { withoutKeys } from './located-vars.ts';
import { assignVars, emptyVars, type AnsibleSource, type LocatedVars } from './model.ts';
import type { Overlay } from './overlay.ts';
import { readVarsDir } from './vars-dirs.ts';

export interface CairnMapping {
  raw: RawInventory;
  locator: InventoryLocator;
  /** The inventory's groups as cairn has them (ungrouped included when used), for the overlay. */
  groups: string[];
  problems: InputProblem[];
}

interface Layer extends LocatedVars {
  /** Where the layer is (a var without a known position points here). */
  at: SourceLocation;
}

/**
 * An Ansible inventory as cairn's raw inventory. Groups are ordered as Ansible
 * orders them for vars (depth, ansible_group_priority, name), so that in cairn
 * too a parent's vars lose to a child's and both to the host's. Children are
 * flattened into host lists; ansible_* connection vars become host settings.
 */
export function toCairn(src: AnsibleSource, dir: string, env?: NodeJS.ProcessEnv): CairnMapping {
  const problems: InputProblem[] = [...src.problems];
  const tree = groupTree(src);
  problems.push(...tree.problems);

  const withDir = (kind: 'host_vars' | 'group_vars', name: string, file: LocatedVars, at: SourceLocation): Layer => {
    const fromDir = readVarsDir(dir, kind, name, env);
    problems.push(...fromDir.problems);
    const layer: Layer = { ...emptyVars(), at };
    assignVars(layer, file);
    assignVars(layer, fromDir.vars);
    return layer;
  };

  const all = src.groups.get('all')!;
  const global = withDir('group_vars', 'all', all.vars, { file: src.file });
  const grouped = new Set([...src.groups.keys()].filter((g) => g !== 'all' && g !== 'ungrouped').flatMap((g) => tree.members.get(g) ?? []));
  const ungrouped = [...src.hosts.keys()].filter((h) => !grouped.has(h));
  const members = new Map(tree.members);
  members.set('ungrouped', ungrouped);

  const groupNames = [...new Set([...src.groups.keys(), ...(ungrouped.length ? ['ungrouped'] : [])])].filter((g) => g !== 'all');
  const groupLayers = new Map<string, Layer>();
  for (const name of groupNames) {
    const g = src.groups.get(name);
    groupLayers.set(name, withDir('group_vars', name, g?.vars ?? emptyVars(), locationOfGroup(src, name)));
  }
  const priority = (name: string): number => Number(groupLayers.get(name)?.vars['ansible_group_priority'] ?? 1) || 1;
  const depth = (name: string): number => tree.depth.get(name) ?? 1;
  const ordered = groupNames
    .filter((g) => (members.get(g)?.length ?? 0) > 0 || src.groups.get(g)?.location)
    .sort((a, b) => depth(a) - depth(b) || priority(a) - priority(b) || (a < b ? -1 : a > b ? 1 : 0));

  const memberSets = new Map(ordered.map((g) => [g, new Set(members.get(g))]));
  const hosts: Record<string, RawHost | null> = {};
  const hostLayers = new Map<string, Layer>();
  for (const [name, h] of src.hosts) {
    const own = withDir('host_vars', name, h.vars, h.location);
    const layers = [global, ...ordered.filter((g) => memberSets.get(g)!.has(name)).map((g) => groupLayers.get(g)!), own];
    const locate = (key: string): SourceLocation => [...layers].reverse().find((l) => l.vars[key] !== undefined)?.locations.get(key) ?? h.location;
    const { fields, problems: found } = connectionFields(name, mergeVars(layers.map((l) => l.vars)), locate);
    problems.push(...found);
    const kept = withoutKeys(own, isConnectionVar);
    hostLayers.set(name, { ...kept, at: own.at });
    const entry: RawHost = { ...fields, ...(Object.keys(kept.vars).length ? { vars: kept.vars } : {}) };
    hosts[name] = Object.keys(entry).length ? entry : null;
  }

  const groups: Record<string, RawGroup | null> = {};
  for (const name of ordered) {
    const kept = withoutKeys(groupLayers.get(name)!, isConnectionVar);
    groupLayers.set(name, { ...kept, at: groupLayers.get(name)!.at });
    groups[name] = { hosts: members.get(name)!, ...(Object.keys(kept.vars).length ? { vars: kept.vars } : {}) };
  }
  const globalKept = withoutKeys(global, isConnectionVar);
  problems.push(...nameProblems(src, Object.keys(hosts), ordered));

  const raw: RawInventory = { ...(Object.keys(globalKept.vars).length ? { vars: globalKept.vars } : {}), hosts, groups };
  return { raw, locator: mappingLocator(src, globalKept, hostLayers, groupLayers), groups: ordered, problems };
}

function locationOfGroup(src: AnsibleSource, name: string): SourceLocation {
  const declared = src.groups.get(name)?.location;
  if (declared) return declared;
  for (const g of src.groups.values()) for (const c of g.children) if (c.name === name) return c.location;
  return { file: src.file };
}

function nameProblems(src: AnsibleSource, hosts: string[], groups: string[]): InputProblem[] {
  const valid = new RegExp(NAME_PATTERN);
  const problems: InputProblem[] = [];
  const fix = "cairn names use letters, digits, '_', '.' and '-' (not starting with '.' or '-'): they are used in --limit patterns";
  for (const h of hosts) {
    const at = src.hosts.get(h)!.location;
    if (!valid.test(h)) problems.push({ location: at, message: `'${h}' is not a valid host name for cairn`, fix: `${fix}; keep the address in ansible_host` });
    if (h === 'all') problems.push({ location: at, message: "'all' cannot be a host name: it means every host", fix: 'rename the host and keep its address in ansible_host' });
    if (groups.includes(h)) problems.push({ location: at, message: `'${h}' is both a host and a group: --limit ${h} would be ambiguous`, fix: `rename the group (e.g. '${h}_group') or the host` });
  }
  for (const g of groups) if (!valid.test(g)) problems.push({ location: locationOfGroup(src, g), message: `'${g}' is not a valid group name for cairn`, fix });
  return problems;
}

function mappingLocator(src: AnsibleSource, global: LocatedVars, hosts: Map<string, Layer>, groups: Map<string, Layer>): InventoryLocator {
  const vars = (l: LocatedVars | undefined): VarLocations => new Map(l?.locations ?? []);
  return {
    locateKey: (path, key) => {
      if (path[0] === 'hosts') return src.hosts.get(key)?.location ?? { file: src.file };
      if (path[0] === 'groups') return locationOfGroup(src, key);
      return { file: src.file };
    },
    varLocations: (path) => (path[0] === 'hosts' ? vars(hosts.get(String(path[1]))) : path[0] === 'groups' ? vars(groups.get(String(path[1]))) : vars(global)),
  };
}
