import type { Facts } from '../facts/types.ts';
import type { HostSpec, Inventory, Vars } from '../inventory/types.ts';
import type { InputProblem } from '../core/errors.ts';
import type { Operation } from '../operations/operation.ts';

/**
 * The vars a role's steps see: `V` (the role's own vars, as its validate()
 * guarantees them), and any other var of the inventory as `unknown`.
 */
export type RoleVars<V extends object = Vars> = V & Vars;

/** What a role sees for one host when it builds its steps. */
export interface RoleContext<V extends object = Vars> {
  readonly host: HostSpec;
  /**
   * Merged vars: role defaults < global < group < host < -e. They come from the
   * inventory, so they have the types of `V` only because validate() checked them
   * (steps run after validation).
   */
  readonly vars: RoleVars<V>;
  readonly facts: Facts;
  readonly inventory: Inventory;
  /** Hosts that run this role, in inventory order (e.g. to compute bootstrap_expect). */
  readonly hostsWithRole: readonly HostSpec[];
  /** Another host's merged vars for this role (same precedence, -e included; validated as well). */
  varsOf(host: HostSpec): RoleVars<V>;
  /** Image-bake mode. */
  readonly bake: boolean;
  /**
   * Render a handlebars template (strict, no HTML escaping) from the role's
   * `templates/` folder or the project's `templates/`, with `vars` + `facts`.
   */
  template(name: string, extra?: Vars): string;
}

/** What a role sees before any connection, to validate its input. */
export interface RoleValidationContext {
  readonly inventory: Inventory;
  readonly hostsWithRole: readonly HostSpec[];
  /** Merged vars for one host, not checked yet: every value is `unknown` until validate() looked at it. */
  varsFor(host: HostSpec): Vars;
  /** Where in the inventory a var of this host was set, for error messages. */
  locate(host: HostSpec, varName: string): InputProblem['location'];
}

/**
 * A role. `V` is the type of its vars, inferred from `defaults` or given
 * explicitly (`defineRole<ConsulVars>({ ... })`); validate() must check every
 * var of `V` that the inventory can set.
 */
export interface RoleDefinition<V extends object = Vars> {
  readonly name: string;
  readonly description?: string;
  readonly defaults?: Partial<V>;
  /** Every problem at once, before any host is touched. */
  validate?(ctx: RoleValidationContext): InputProblem[];
  /** Ordered operations with explicit, unique ids. */
  steps(ctx: RoleContext<V>): Operation[];
  /** Handlers by name: run once at the end of the role when notified. */
  handlers?(ctx: RoleContext<V>): Record<string, Operation[]>;
  /** Hosts of this role apply it at most this many at a time (e.g. 1 for rolling server restarts). */
  readonly serial?: number;
  /** Only hosts for which this returns true are subject to `serial` (e.g. servers, not clients). */
  serialWhen?(host: HostSpec, vars: RoleVars<V>): boolean;
}

/** A role definition, with its vars typed from `defaults` (or `defineRole<MyVars>({ ... })`). */
export function defineRole<V extends object = Vars>(role: RoleDefinition<V>): RoleDefinition<V> {
  return role;
}
