import type { SourceLocation } from '../core/errors.ts';
import type { VarLocations } from './types.ts';
import { varLocations } from './var-locations.ts';
import type { YamlPath, YamlSource } from './yaml-source.ts';

/**
 * Where the parts of a raw inventory are written, for the built Inventory's
 * locations. A cairn inventory answers from its YAML; an Ansible one from the
 * INI/YAML lines and vars files its entries came from.
 */
export interface InventoryLocator {
  /** Where the entry `key` of the map at `path` is written: (['hosts'], 'web1'). */
  locateKey(path: YamlPath, key: string): SourceLocation;
  /** Where each var of the vars map at `path` is written: ['groups', 'g', 'vars']. */
  varLocations(path: YamlPath): VarLocations;
}

/** The locator of a cairn inventory: positions in its one YAML file. */
export function yamlLocator(source: YamlSource): InventoryLocator {
  return {
    locateKey: (path, key) => source.locateKey(path, key),
    varLocations: (path) => varLocations(source, path),
  };
}
