// Shared by test/unit/roles/{artifacts,supervision,consul,nomad}*.test.ts:
// load a built-in role, build its context for an inventory host with given
// facts (as the engine does), plan its file steps against an absent file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInventoryText } from '../../../src/inventory/load.ts';
import { varsForHost, whereIsVar } from '../../../src/inventory/vars.ts';
import { rolesForHost } from '../../../src/inventory/roles-for-host.ts';
import { loadRoles, type LoadedRole } from '../../../src/roles/loader.ts';
import { makeRoleContext } from '../../../src/roles/context.ts';
import { render } from '../../../src/engine/prepare.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import { SECTION_PREFIX } from '../../../src/facts/gather.ts';
import type { Facts } from '../../../src/facts/types.ts';
import type { HostSpec, Inventory, Vars } from '../../../src/inventory/types.ts';
import type { RoleContext, RoleValidationContext } from '../../../src/roles/role.ts';
import type { Operation, Plan } from '../../../src/operations/operation.ts';

const alpine = stubFacts[0]!;
const raspbian = stubFacts[1]!;

export const FACTS: Record<'alpine' | 'alpineS6' | 'debian' | 'alpine37arm' | 's6init', Facts> = {
  alpine,
  alpineS6: { ...alpine, supervisors: { openrc: true, s6: true, systemd: false } },
  debian: { ...raspbian, machine: 'x86_64', arch: 'amd64' },
  alpine37arm: { ...alpine, os: { ...alpine.os, versionId: '3.7.3' }, machine: 'aarch64', arch: 'arm64' },
  s6init: { ...alpine, init: 's6', supervisors: { openrc: false, s6: true, systemd: false } },
};

export function inventory(yaml: string): Inventory {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-roles-'));
  const file = join(dir, 'inventory.yml');
  writeFileSync(file, yaml);
  return parseInventoryText(yaml, file);
}

const cache = new Map<string, LoadedRole>();
export async function role(name: string): Promise<LoadedRole> {
  const hit = cache.get(name);
  if (hit) return hit;
  const { roles, problems } = await loadRoles([name], tmpdir(), join(tmpdir(), 'inventory.yml'));
  if (problems.length) throw new Error(problems.map((p) => p.message).join('\n'));
  const r = roles.get(name)!;
  cache.set(name, r);
  return r;
}

export function hostsWithRole(inv: Inventory, name: string): HostSpec[] {
  return [...inv.hosts.values()].filter((h) => rolesForHost(inv, h).includes(name));
}

/** The role context the engine builds; typed as the role's own vars (`V`), as after validate(). */
export function ctxFor<V extends object = Vars>(r: LoadedRole, inv: Inventory, host: string, facts: Facts, opts: { bake?: boolean; extra?: Vars } = {}): RoleContext<V> {
  const h = inv.hosts.get(host)!;
  return makeRoleContext({
    role: r,
    host: h,
    vars: varsForHost(inv, h, r.def.defaults ?? {}, opts.extra ?? {}),
    varsOf: (other) => varsForHost(inv, other, r.def.defaults ?? {}, opts.extra ?? {}),
    facts,
    inventory: inv,
    hostsWithRole: hostsWithRole(inv, r.def.name),
    bake: !!opts.bake,
    render,
  }) as RoleContext<V>;
}

export function validationCtx(r: LoadedRole, inv: Inventory): RoleValidationContext {
  return {
    inventory: inv,
    hostsWithRole: hostsWithRole(inv, r.def.name),
    varsFor: (h) => varsForHost(inv, h, r.def.defaults ?? {}),
    locate: (h, n) => whereIsVar(inv, h, n) ?? { file: inv.file },
  };
}

/** Plan an op as if its path did not exist on the host. */
export function planAbsent(op: Operation, facts: Facts = alpine, bake = false): Plan {
  return op.plan({ command: '', durationMs: 0, exitCode: 0, stdout: `\n${SECTION_PREFIX}state\ntype=absent\n`, stderr: '' }, { host: 'h', facts, bake });
}

/** The wanted content of a file step, read back from its diff (+ lines). */
export function wantedContent(op: Operation, facts: Facts = alpine): string {
  const plan = planAbsent(op, facts);
  if (plan.kind !== 'change') throw new Error(`expected a change, got ${plan.kind}: ${JSON.stringify(plan)}`);
  return (plan.diff ?? '')
    .split('\n')
    .filter((l) => l.startsWith('+') && !l.startsWith('+++'))
    .map((l) => l.slice(1))
    .join('\n');
}

export function step(ops: readonly Operation[], id: string): Operation {
  const op = ops.find((o) => o.id === id);
  if (!op) throw new Error(`no step '${id}' in ${ops.map((o) => o.id).join(', ')}`);
  return op;
}
