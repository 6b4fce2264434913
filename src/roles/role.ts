import type { Facts } from '../facts/types.ts';
import type { HostSpec, Inventory, Vars } from '../inventory/types.ts';
import type { InputProblem } from '../core/errors.ts';
import type { Operation } from '../operations/operation.ts';

/** What a role sees for one host when it builds its steps. */
export interface RoleContext {
  readonly host: HostSpec;
  /** Merged vars: role defaults < global < group < host < -e. */
  readonly vars: Vars;
  readonly facts: Facts;
  readonly inventory: Inventory;
  /** Hosts that run this role, in inventory order (e.g. to compute bootstrap_expect). */
  readonly hostsWithRole: readonly HostSpec[];
  /** Another host's merged vars for this role (same precedence, -e included). */
  varsOf(host: HostSpec): Vars;
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
  /** Merged vars for one host. */
  varsFor(host: HostSpec): Vars;
  /** Where in the inventory a var of this host was set, for error messages. */
  locate(host: HostSpec, varName: string): InputProblem['location'];
}

export interface RoleDefinition {
  readonly name: string;
  readonly description?: string;
  readonly defaults?: Vars;
  /** Every problem at once, before any host is touched. */
  validate?(ctx: RoleValidationContext): InputProblem[];
  /** Ordered operations with explicit, unique ids. */
  steps(ctx: RoleContext): Operation[];
  /** Handlers by name: run once at the end of the role when notified. */
  handlers?(ctx: RoleContext): Record<string, Operation[]>;
  /** Hosts of this role apply it at most this many at a time (e.g. 1 for rolling server restarts). */
  readonly serial?: number;
  /** Only hosts for which this returns true are subject to `serial` (e.g. servers, not clients). */
  serialWhen?(host: HostSpec, vars: Vars): boolean;
}

export function defineRole(role: RoleDefinition): RoleDefinition {
  return role;
}
