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
import type { Facts } from '../facts/types.ts';
import type { RoleContext } from '../roles/role.ts';
import type { Operation } from '../operations/operation.ts';
import { UnknownParamError } from '../operations/kit.ts';
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
  /** Exactly these roles on every selected host, instead of the inventory's (`cairn enroll`). */
  onlyRoles?: readonly string[];
  /** `--connection chroot --root /mnt/x`: reach every selected host this way instead. */
  connection?: { kind: HostSpec['connection']; root?: string };
}

export interface PreparedRun {
  inventory: Inventory;
  hosts: HostSpec[];
  jobs: HostJob[];
  roles: Map<string, LoadedRole>;
  render: TemplateRenderer;
  /**
   * Step ids of each selected host's roles, as built with stand-in facts (the union
   * over every stand-in, in build order): what `--tags` and `--list-tags` name.
   */
  stepIds: Map<string, Map<string, string[]>>;
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
  const rolesOf = (h: HostSpec): string[] =>
    opts.onlyRoles ? (selected.has(h.name) ? [...opts.onlyRoles] : []) : withFinalRoles(withCliRoles(rolesForHost(inventory, h), cliRoles(h)), opts.finalRoles ?? []);
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
  const stepIds = new Map<string, Map<string, string[]>>();
  for (const host of hosts) {
    const byRole = new Map<string, string[]>();
    stepIds.set(host.name, byRole);
    for (const name of roleNamesByHost.get(host.name) ?? []) {
      const role = roles.get(name);
      if (!role) continue;
      const built = dryBuild(role, host, (facts) => makeRoleContext({ role, host, vars: varsFor(host, role), facts, inventory, hostsWithRole: hostsWithRole(name), varsOf: (h) => varsFor(h, role), bake: !!opts.bake, render }));
      problems.push(...built.problems);
      byRole.set(name, built.ids);
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
  return { inventory, hosts, jobs, roles, render, stepIds };
}

/** Step ids used by more than one step, each once, in order. */
export function duplicateIds(ops: readonly Operation[]): string[] {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const op of ops) (seen.has(op.id) ? dups : seen).add(op.id);
  return [...dups];
}

/**
 * Build a role's steps and handlers for one host with each set of stand-in facts.
 * Template problems, unknown params and duplicate step ids count from any variant
 * (they do not depend on the host); other errors only when every variant fails
 * (a role may refuse facts that the real host does not have).
 */
function dryBuild(role: LoadedRole, host: HostSpec, contextFor: (facts: Facts) => RoleContext): { problems: InputProblem[]; ids: string[] } {
  const name = role.def.name;
  const at = { file: role.file };
  const found: InputProblem[] = [];
  const errors: unknown[] = [];
  const ids = new Set<string>();
  for (const facts of stubFacts) {
    let ops: Operation[];
    try {
      const ctx = contextFor(facts);
      ops = role.def.steps(ctx);
      // handlers are built only when notified during a run: build them here too
      role.def.handlers?.(ctx);
    } catch (err) {
      errors.push(err);
      if (err instanceof InvalidInputError) found.push(...err.problems);
      else if (err instanceof UnknownParamError) found.push({ location: at, message: `role '${name}': ${err.message}` });
      continue;
    }
    for (const op of ops) ids.add(op.id);
    for (const id of duplicateIds(ops)) {
      found.push({ location: at, message: `role '${name}' has two steps with id '${id}'`, fix: 'give every step of the role its own id: it names the step in reports and --tags' });
    }
  }
  if (found.length === 0 && errors.length === stubFacts.length) {
    found.push({ location: at, message: `role '${name}' cannot build its steps for host '${host.name}': ${(errors[0] as Error).message}` });
  }
  return { problems: found, ids: [...ids] };
}
