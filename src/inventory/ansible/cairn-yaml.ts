import { basename, isAbsolute, relative, resolve } from 'node:path';
import { Document, isMap, isSeq } from 'yaml';
import { InvalidInputError, type InputProblem } from '../../core/errors.ts';
import { isSecret } from '../../core/secret.ts';
import type { InventoryLocator } from '../locator.ts';
import { isPlainMap } from '../plain-map.ts';
import type { RawInventory } from '../schema.ts';
import type { VarLocations, Vars } from '../types.ts';

export interface CairnYamlOptions {
  /** The inventory converted (named in the header; relative paths are relative to its directory). */
  from: string;
  overlay?: string;
  /** Directory of the file written: relative paths are rewritten against it. */
  outDir: string;
  locator: InventoryLocator;
}

/**
 * A raw inventory as cairn inventory YAML. Relative paths (identity,
 * known_hosts, ssh_config) are rewritten for the output's directory. Secret
 * values cannot be written back: they are problems.
 */
export function cairnYaml(raw: RawInventory, opts: CairnYamlOptions): string {
  const problems = secretProblems(raw, opts.locator, opts.from);
  if (problems.length) throw new InvalidInputError(problems);
  const fromDir = resolve(opts.from, '..');
  const path = (p: string): string => (p.startsWith('~') || isAbsolute(p) ? p : relative(opts.outDir, resolve(fromDir, p)) || '.');
  const out: RawInventory = structuredClone(raw);
  if (out.connection?.known_hosts) out.connection.known_hosts = path(out.connection.known_hosts);
  if (out.connection?.ssh_config) out.connection.ssh_config = path(out.connection.ssh_config);
  for (const h of Object.values(out.hosts)) {
    if (typeof h?.identity === 'string') h.identity = path(h.identity);
    else if (h?.identity) h.identity = h.identity.map(path);
  }
  const doc = new Document(out);
  const groups = doc.get('groups');
  if (isMap(groups)) {
    for (const pair of groups.items) {
      if (!isMap(pair.value)) continue;
      for (const key of ['hosts', 'roles']) {
        const list = pair.value.get(key);
        if (isSeq(list)) list.flow = true;
      }
    }
  }
  const sources = [basename(opts.from), ...(opts.overlay ? [basename(opts.overlay)] : [])].join(' and ');
  doc.commentBefore = ` cairn inventory, converted from ${sources} by \`cairn inventory convert\``;
  return doc.toString({ nullStr: '', lineWidth: 0 });
}

function secretProblems(raw: RawInventory, locator: InventoryLocator, from: string): InputProblem[] {
  const layers: { owner: string; vars: Vars | null | undefined; where: VarLocations }[] = [
    { owner: 'the global vars', vars: raw.vars, where: locator.varLocations(['vars']) },
    ...Object.entries(raw.groups ?? {}).map(([g, v]) => ({ owner: `group '${g}'`, vars: v?.vars, where: locator.varLocations(['groups', g, 'vars']) })),
    ...Object.entries(raw.hosts).map(([h, v]) => ({ owner: `host '${h}'`, vars: v?.vars, where: locator.varLocations(['hosts', h, 'vars']) })),
  ];
  return layers.flatMap(({ owner, vars, where }) =>
    secretKeys(vars ?? {}, '').map((key) => ({
      location: where.get(key) ?? { file: from },
      message: `var '${key}' of ${owner} is a secret: convert does not write secret values`,
      fix: 'write it in the converted cairn inventory by hand, as !secret_env NAME',
    })),
  );
}

function secretKeys(vars: Vars, prefix: string): string[] {
  return Object.entries(vars).flatMap(([k, v]) => (isSecret(v) ? [`${prefix}${k}`] : isPlainMap(v) ? secretKeys(v, `${prefix}${k}.`) : []));
}
