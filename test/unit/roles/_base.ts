/**
 * Helpers for the built-in role tests: a validation context for one host with the
 * role's defaults merged under the given vars, and a role context with stand-in facts.
 */
import type { InputProblem } from '../../../src/core/errors.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import type { HostSpec, Inventory, Vars } from '../../../src/inventory/types.ts';
import type { RoleContext, RoleDefinition, RoleVars } from '../../../src/roles/role.ts';

export const alpineFacts = stubFacts[0] as Facts;
export const debianFacts = stubFacts[1] as Facts;

const host = (name: string): HostSpec => ({ name, connection: 'ssh', address: name }) as HostSpec;

/** validate() of a role for hosts with the given vars (defaults underneath), each var located in inv.yml. */
export function validate<V extends object>(role: RoleDefinition<V>, vars: Vars, hosts = ['h1']): InputProblem[] {
  return (
    role.validate?.({
      inventory: {} as Inventory,
      hostsWithRole: hosts.map(host),
      varsFor: () => ({ ...(role.defaults ?? {}), ...vars }),
      locate: (_h, name) => (name in vars ? { file: 'inv.yml', line: 7 } : { file: 'inv.yml' }),
    }) ?? []
  );
}

/**
 * A role context for one host with stand-in facts; templates are not used by these roles.
 * The vars are taken as the role's own, as the engine does once validate() passed.
 */
export function roleContext<V extends object>(role: RoleDefinition<V>, vars: Vars, facts: Facts = debianFacts, bake = false): RoleContext<V> {
  const merged = (): RoleVars<V> => ({ ...(role.defaults ?? {}), ...vars }) as RoleVars<V>;
  return {
    host: host('h1'),
    vars: merged(),
    facts,
    inventory: {} as Inventory,
    hostsWithRole: [host('h1')],
    varsOf: merged,
    bake,
    template: () => {
      throw new Error('no templates in built-in host roles');
    },
  };
}

/** Step ids of a role for a context (and: they are unique). */
export function stepIds<V extends object>(role: RoleDefinition<V>, ctx: RoleContext<V>): string[] {
  const ids = role.steps(ctx).map((s) => s.id);
  if (new Set(ids).size !== ids.length) throw new Error(`duplicate step ids: ${ids.join(', ')}`);
  return ids;
}

export function withFacts(base: Facts, over: Partial<Facts>): Facts {
  return { ...base, ...over };
}
