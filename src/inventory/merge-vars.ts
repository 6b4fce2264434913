import { isPlainMap, setOwn } from './plain-map.ts';
import type { Vars } from './types.ts';

/**
 * Deep-merge layers of vars, later layers winning. Maps merge key by key;
 * anything else (lists, scalars, null, Secret) replaces the earlier value
 * whole. The result shares no map or list with the inputs; Secrets are kept
 * as the same Secret objects.
 */
export function mergeVars(layers: readonly Vars[]): Vars {
  let out: Vars = {};
  for (const layer of layers) out = mergeTwo(out, layer);
  return out;
}

function mergeTwo(base: Vars, top: Vars): Vars {
  const out: Vars = {};
  for (const [k, v] of Object.entries(base)) setOwn(out, k, v);
  for (const [k, v] of Object.entries(top)) {
    const prev = out[k];
    setOwn(out, k, isPlainMap(prev) && isPlainMap(v) ? mergeTwo(prev, v) : copy(v));
  }
  return out;
}

function copy(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copy);
  if (isPlainMap(v)) return mergeTwo({}, v);
  return v;
}
