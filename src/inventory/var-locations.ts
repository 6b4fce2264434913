import { isMap, isScalar, type Node } from 'yaml';
import type { SourceLocation } from '../core/errors.ts';
import type { VarLocations } from './types.ts';
import type { YamlPath, YamlSource } from './yaml-source.ts';

/**
 * Location of every key of the vars map at `path`, nested maps included:
 * 'consul' and 'consul.datacenter' for `vars: { consul: { datacenter: x } }`.
 */
export function varLocations(source: YamlSource, path: YamlPath): VarLocations {
  const out = new Map<string, SourceLocation>();
  const walk = (node: Node | undefined, prefix: string): void => {
    if (!isMap(node)) return;
    for (const pair of node.items) {
      if (!isScalar(pair.key) || pair.key.value === '<<') continue;
      const key = `${prefix}${String(pair.key.value)}`;
      out.set(key, source.ofNode(pair.key));
      walk((pair.value as Node | null) ?? undefined, `${key}.`);
    }
  };
  walk(source.find(path)?.value, '');
  return out;
}
