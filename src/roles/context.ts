import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../core/package-root.ts';
import type { Facts } from '../facts/types.ts';
import type { HostSpec, Inventory, Vars } from '../inventory/types.ts';
import type { LoadedRole } from './loader.ts';
import type { RoleContext } from './role.ts';

/** Renders one template file with a context; throws InvalidInputError with file:line. */
export type TemplateRenderer = (file: string, context: Vars) => string;

/** Project-level templates folder. */
export const projectTemplatesDir = packagePath('templates');

export function findTemplate(role: LoadedRole, name: string): string {
  const candidates = [join(role.dir, 'templates', name), join(projectTemplatesDir, name)];
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new Error(`role '${role.def.name}': template '${name}' not found (looked in ${candidates.join(', ')})`);
  return found;
}

export function makeRoleContext(args: {
  role: LoadedRole;
  host: HostSpec;
  vars: Vars;
  facts: Facts;
  inventory: Inventory;
  hostsWithRole: readonly HostSpec[];
  varsOf: (host: HostSpec) => Vars;
  bake: boolean;
  render: TemplateRenderer;
}): RoleContext {
  const { role, host, vars, facts, inventory, hostsWithRole, varsOf, bake, render } = args;
  return {
    host,
    vars,
    facts,
    inventory,
    hostsWithRole,
    varsOf,
    bake,
    template(name: string, extra?: Vars): string {
      const file = findTemplate(role, name);
      return render(file, { ...vars, ...extra, facts, host: { name: host.name, address: host.address }, bake });
    },
  };
}
