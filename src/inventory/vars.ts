import type { SourceLocation } from '../core/errors.ts';
import { mergeVars } from './merge-vars.ts';
import { getOwn } from './plain-map.ts';
import type { HostSpec, Inventory, VarLocations, Vars } from './types.ts';

export { mergeVars } from './merge-vars.ts';
export { parseExtraVars } from './extra-vars.ts';

/** One source of vars for a host, highest precedence last. */
interface VarLayer {
  vars: Vars;
  varLocations?: VarLocations | undefined;
  /** Where the layer itself is (fallback when a key's own position is unknown). */
  location?: SourceLocation | undefined;
}

/** The inventory's layers for a host: global < groups (inventory order) < host. */
function inventoryLayers(inv: Inventory, host: HostSpec): VarLayer[] {
  const groups = [...inv.groups.values()].filter((g) => host.groups.includes(g.name) || g.hosts.includes(host.name));
  return [
    { vars: inv.vars, varLocations: inv.varLocations, location: { file: inv.file } },
    ...groups.map((g) => ({ vars: g.vars, varLocations: g.varLocations, location: g.location })),
    { vars: host.vars, varLocations: host.varLocations, location: host.location },
  ];
}

/**
 * The vars a host sees, by precedence: role defaults < global vars < group
 * vars (groups in inventory order, later wins) < host vars < extra (-e).
 */
export function varsForHost(inv: Inventory, host: HostSpec, roleDefaults: Vars = {}, extra: Vars = {}): Vars {
  return mergeVars([roleDefaults, ...inventoryLayers(inv, host).map((l) => l.vars), extra]);
}

/** Where -e values come from, for messages. */
export const EXTRA_VARS_LOCATION: SourceLocation = { file: 'command line (-e)' };

/**
 * Where the winning definition of var `name` for `host` is: `name` may be a
 * dotted path ('consul.datacenter'). Checks -e (when `extra` is given), then
 * host, groups (last first) and global vars. Undefined when the inventory does
 * not define it (it comes from role defaults or nowhere): callers may then
 * point at `host.location`, where it could be added.
 */
export function whereIsVar(inv: Inventory, host: HostSpec, name: string, extra?: Vars): SourceLocation | undefined {
  if (extra && hasVar(extra, name)) return EXTRA_VARS_LOCATION;
  for (const layer of inventoryLayers(inv, host).reverse()) {
    if (!hasVar(layer.vars, name)) continue;
    return locationOf(layer, name);
  }
  return undefined;
}

function locationOf(layer: VarLayer, name: string): SourceLocation | undefined {
  // the key itself, else its nearest parent with a known position (e.g. set through a << merge)
  const parts = name.split('.');
  for (let n = parts.length; n > 0; n--) {
    const loc = layer.varLocations?.get(parts.slice(0, n).join('.'));
    if (loc) return loc;
  }
  return layer.varLocations?.get(name) ?? layer.location;
}

/** Whether `vars` defines `name`: a literal key, or a dotted path through maps. */
export function hasVar(vars: Vars, name: string): boolean {
  if (getOwn(vars, name).found) return true;
  let cur: unknown = vars;
  for (const part of name.split('.')) {
    const next = getOwn(cur, part);
    if (!next.found) return false;
    cur = next.value;
  }
  return true;
}
