import { dirname, resolve } from 'node:path';
import type { HostSpec, Inventory, Vars } from '../inventory/types.ts';
import { loadInventory } from '../inventory/load.ts';
import { selectHosts } from '../inventory/limit.ts';
import { rolesForHost } from '../inventory/roles-for-host.ts';
import { varsForHost } from '../inventory/vars.ts';
import { whereIsVar } from '../inventory/vars.ts';
import { renderTemplateFile } from '../render/template.ts';
import { knownRoles, loadRoles, type LoadedRole } from '../roles/loader.ts';
import { makeRoleContext, type TemplateRenderer } from '../roles/context.ts';
import { stubFacts } from '../facts/stub.ts';
import { InvalidInputError, uniqueProblems, type InputProblem } from '../core/errors.ts';
import { checkCliRoles, withCliRoles } from './cli-roles.ts';
import type { HostJob } from './host-run.ts';

export interface PrepareOptions {
  inventory: string;
  limit?: string;
  extraVars?: Vars;
  bake?: boolean;
  /**
   * Roles every selected host runs last, in this order, after its own roles and their
   * handlers (moved there when the host lists them already): `--bake` hands the engine
   * its cleanup role this way.
   */
  finalRoles?: readonly string[];
  /** `--roles a,b`: roles every selected host runs after its groups' roles (before the final roles). */
  roles?: readonly string[];
  /** `--connection chroot --root /mnt/x`: reach every selected host this way instead. */
  connection?: { kind: HostSpec['connection']; root?: string };
}

export interface PreparedRun {
  inventory: Inventory;
  hosts: HostSpec[];
  jobs: HostJob[];
  roles: Map<string, LoadedRole>;
  render: TemplateRenderer;
}

export const render: TemplateRenderer = (file, context) => renderTemplateFile(file, context);

/** A host's roles for a run: the final roles moved (or added) to the end. */
export function withFinalRoles(roles: readonly string[], final: readonly string[]): string[] {
  return [...roles.filter((r) => !final.includes(r)), ...final];
}

export interface SelectedHosts {
  inventory: Inventory;
  hosts: HostSpec[];
}

/**
 * The inventory and the hosts a run would touch, without loading any role: enough
 * for `cairn facts`, which a broken role must not block.
 */
export async function selectRun(opts: Pick<PrepareOptions, 'inventory' | 'limit' | 'connection'>): Promise<SelectedHosts> {
  const file = resolve(opts.inventory);
  const inventory = await loadInventory(file, { knownRoles: knownRoles(dirname(file)) });
  const hosts = selectHosts(inventory, opts.limit).map((h) =>
    opts.connection ? { ...h, connection: opts.connection.kind, ...(opts.connection.root ? { root: resolve(opts.connection.root) } : {}) } : h,
  );
  return { inventory, hosts };
}

/**
 * Everything that can be checked without a host: the inventory, the selected
 * hosts, every role they use (loaded and validated), and every role's steps and
 * templates built with stand-in facts. All problems are reported at once.
 */
export async function prepareRun(opts: PrepareOptions): Promise<PreparedRun> {
  const file = resolve(opts.inventory);
  const dir = dirname(file);
  const { inventory, hosts } = await selectRun(opts);
  const problems: InputProblem[] = [];

  if (opts.roles?.length) checkCliRoles(opts.roles, knownRoles(dir));
  const selected = new Set(hosts.map((h) => h.name));
  const cliRoles = (h: HostSpec): readonly string[] => (selected.has(h.name) ? (opts.roles ?? []) : []);
  const rolesOf = (h: HostSpec): string[] => withFinalRoles(withCliRoles(rolesForHost(inventory, h), cliRoles(h)), opts.finalRoles ?? []);
  const roleNamesByHost = new Map<string, string[]>(hosts.map((h) => [h.name, rolesOf(h)]));
  const { roles, problems: roleProblems } = await loadRoles([...new Set([...roleNamesByHost.values()].flat())], dir, file);
  problems.push(...roleProblems);

  const allHosts = [...inventory.hosts.values()];
  const hostsWithRole = (role: string): HostSpec[] => allHosts.filter((h) => rolesOf(h).includes(role));
  const varsFor = (host: HostSpec, role: LoadedRole): Vars => varsForHost(inventory, host, role.def.defaults ?? {}, opts.extraVars ?? {});

  for (const role of roles.values()) {
    if (!role.def.validate) continue;
    try {
      problems.push(
        ...role.def.validate({
          inventory,
          hostsWithRole: hostsWithRole(role.def.name),
          varsFor: (h) => varsFor(h, role),
          locate: (h, name) => whereIsVar(inventory, h, name) ?? { file },
        }),
      );
    } catch (err) {
      problems.push({ location: { file: role.dir }, message: `role '${role.def.name}' validation crashed: ${(err as Error).message}` });
    }
  }

  // dry build: every selected host x role x stand-in facts, so templates and step
  // parameters are checked before any connection
  for (const host of hosts) {
    for (const name of roleNamesByHost.get(host.name) ?? []) {
      const role = roles.get(name);
      if (!role) continue;
      const errors: unknown[] = [];
      for (const facts of stubFacts) {
        try {
          const ctx = makeRoleContext({ role, host, vars: varsFor(host, role), facts, inventory, hostsWithRole: hostsWithRole(name), varsOf: (h) => varsFor(h, role), bake: !!opts.bake, render });
          role.def.steps(ctx);
        } catch (err) {
          errors.push(err);
        }
      }
      // template problems count from any variant; other errors only when every variant fails
      const found: InputProblem[] = [];
      for (const e of errors) if (e instanceof InvalidInputError) found.push(...e.problems);
      if (found.length === 0 && errors.length === stubFacts.length) {
        found.push({ location: { file: role.dir }, message: `role '${name}' cannot build its steps for host '${host.name}': ${(errors[0] as Error).message}` });
      }
      problems.push(...found);
    }
  }
  if (problems.length > 0) throw new InvalidInputError(uniqueProblems(problems));

  const jobs: HostJob[] = hosts.map((host) => ({
    host,
    inventory,
    roles: (roleNamesByHost.get(host.name) ?? []).map((n) => roles.get(n)!),
    varsFor: (role, other) => varsFor(other ?? host, role),
    hostsWithRole,
  }));
  return { inventory, hosts, jobs, roles, render };
}
