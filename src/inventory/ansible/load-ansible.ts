import { dirname } from 'node:path';
import { InvalidInputError } from '../../core/errors.ts';
import { buildInventory } from '../build.ts';
import type { InventoryLocator } from '../locator.ts';
import { sortProblems } from '../problems.ts';
import type { RawInventory } from '../schema.ts';
import type { Inventory } from '../types.ts';
import type { InventoryFormat } from './detect.ts';
import { parseIni } from './ini-parse.ts';
import { findOverlay, readOverlay } from './overlay.ts';
import { toCairn } from './to-cairn.ts';
import { parseAnsibleYaml } from './yaml-parse.ts';

export interface AnsibleLoadOptions {
  knownRoles?: ReadonlySet<string>;
  env?: NodeJS.ProcessEnv;
}

export interface AnsibleLoaded {
  /** The cairn inventory document it maps to (what `cairn inventory convert` writes). */
  raw: RawInventory;
  inventory: Inventory;
  /** Where the parts of `raw` are written. */
  locator: InventoryLocator;
  /** The overlay read, if any. */
  overlay?: string;
}

/**
 * Read an Ansible inventory (INI or YAML), its host_vars/ and group_vars/ and
 * the cairn overlay beside it, as a cairn Inventory. Throws InvalidInputError
 * with every problem, each with its file:line.
 */
export function loadAnsibleInventory(file: string, text: string, format: Exclude<InventoryFormat, 'cairn'>, opts: AnsibleLoadOptions = {}): AnsibleLoaded {
  const src = format === 'ansible-ini' ? parseIni(text, file) : parseAnsibleYaml(text, file, opts.env);
  const mapping = toCairn(src, dirname(file), opts.env);
  const problems = [...mapping.problems];
  const overlayFile = findOverlay(file);
  if (overlayFile) {
    const { overlay, problems: found } = readOverlay(overlayFile, mapping.groups, opts.knownRoles, opts.env);
    problems.push(...found);
    if (overlay.connection) mapping.raw = { connection: overlay.connection, ...mapping.raw };
    for (const [group, { roles }] of overlay.roles) {
      const g = mapping.raw.groups?.[group];
      if (g && roles.length) g.roles = roles;
    }
  }
  if (problems.length > 0) throw new InvalidInputError(sortProblems(problems));
  return { raw: mapping.raw, locator: mapping.locator, inventory: buildInventory(mapping.raw, mapping.locator, file), ...(overlayFile ? { overlay: overlayFile } : {}) };
}
