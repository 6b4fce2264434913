import { setOwn } from '../plain-map.ts';
import { varLocations } from '../var-locations.ts';
import type { Vars } from '../types.ts';
import type { YamlPath, YamlSource } from '../yaml-source.ts';
import type { LocatedVars } from './model.ts';

/** A copy of the vars map found at `path` of a YAML file, with each key's location. */
export function varsAt(source: YamlSource, path: YamlPath, value: Vars): LocatedVars {
  const vars: Vars = {};
  for (const [k, v] of Object.entries(value)) setOwn(vars, k, v);
  return { vars, locations: new Map(varLocations(source, path)) };
}
