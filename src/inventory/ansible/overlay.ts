import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { InputProblem, SourceLocation } from '../../core/errors.ts';
import { ConnectionSchema } from '../schema.ts';
import { didYouMean, listChoices } from '../suggest.ts';
import type { YamlSource } from '../yaml-source.ts';
import { readYamlFile } from './yaml-file.ts';

const OverlaySchema = z.strictObject({
  connection: ConnectionSchema.optional(),
  groups: z
    .record(z.string(), z.strictObject({ roles: z.array(z.string().min(1)).nullable().optional() }).nullable())
    .nullable()
    .optional(),
});

/** What cairn adds to an Ansible inventory: roles per group and connection settings. */
export interface Overlay {
  file: string;
  connection?: NonNullable<z.infer<typeof ConnectionSchema>>;
  /** group name -> roles, in the overlay's order. */
  roles: Map<string, { roles: string[]; location: SourceLocation; roleLocations: SourceLocation[] }>;
}

/**
 * The overlay beside an Ansible inventory, first found of `<file>.cairn.yml`
 * (hosts.ini.cairn.yml), `<file without extension>.cairn.yml` (hosts.cairn.yml)
 * and `cairn.yml`.
 */
export function findOverlay(inventoryFile: string): string | undefined {
  const dir = dirname(inventoryFile);
  const name = basename(inventoryFile);
  const stem = name.slice(0, name.length - extname(name).length);
  return [`${name}.cairn.yml`, `${stem}.cairn.yml`, 'cairn.yml'].map((f) => join(dir, f)).find((f) => resolve(f) !== resolve(inventoryFile) && existsSync(f));
}

/**
 * Read and check an overlay. `groups` are the inventory's groups, `knownRoles`
 * (when given) the roles that exist. Problems have the overlay's file:line.
 */
export function readOverlay(file: string, groups: readonly string[], knownRoles?: ReadonlySet<string>, env?: NodeJS.ProcessEnv): { overlay: Overlay; problems: InputProblem[] } {
  const overlay: Overlay = { file, roles: new Map() };
  const yaml = readYamlFile(readFileSync(file, 'utf8'), file, env);
  const problems = [...yaml.problems];
  if (yaml.data === undefined || yaml.data === null) return { overlay, problems };
  const parsed = OverlaySchema.safeParse(yaml.data);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.flatMap((i) => overlayIssue(i, yaml.source)));
    return { overlay, problems };
  }
  if (parsed.data.connection) overlay.connection = parsed.data.connection;
  for (const [group, entry] of Object.entries(parsed.data.groups ?? {})) {
    const location = yaml.source.locateKey(['groups'], group);
    if (!groups.includes(group)) {
      const hint = didYouMean(group, groups);
      problems.push({
        location,
        message: `group '${group}' of the overlay is not a group of the inventory`,
        fix: group === 'all' ? "give every host a role with --roles, or name the inventory's groups here" : `${hint ? `${hint} ` : ''}the inventory's groups are ${listChoices(groups)}`,
      });
      continue;
    }
    const roles = entry?.roles ?? [];
    const roleLocations = roles.map((_, i) => yaml.source.locate(['groups', group, 'roles', i]));
    if (knownRoles) {
      roles.forEach((r, i) => {
        if (knownRoles.has(r)) return;
        const hint = didYouMean(r, knownRoles);
        problems.push({ location: roleLocations[i]!, message: `unknown role '${r}' in group '${group}'`, fix: `${hint ? `${hint} ` : ''}known roles are ${listChoices([...knownRoles].sort())}; a project role lives in roles/${r}/` });
      });
    }
    overlay.roles.set(group, { roles, location, roleLocations });
  }
  return { overlay, problems };
}

function overlayIssue(issue: z.core.$ZodIssue, source: YamlSource): InputProblem[] {
  const where = issue.path.length ? issue.path.map(String).join('.') : 'the overlay';
  if (issue.code === 'unrecognized_keys') {
    const valid = issue.path.length === 0 ? ['connection', 'groups'] : issue.path[0] === 'connection' ? Object.keys(ConnectionSchema.unwrap().shape) : ['roles'];
    return issue.keys.map((key) => {
      const hint = didYouMean(key, valid);
      return { location: source.locateKey(issue.path, key), message: `unknown key '${key}' in ${where}`, fix: `${hint ? `${hint} ` : ''}valid keys here are ${listChoices(valid)}` };
    });
  }
  return [{ location: source.locate(issue.path), message: `${where}: ${issue.message}`, fix: 'see "Ansible inventories" in docs/inventory.md for the overlay keys, e.g.\n  groups:\n    nodes: { roles: [base, consul] }' }];
}
