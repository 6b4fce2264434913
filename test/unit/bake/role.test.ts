/** roles/bake-cleanup and --bake in prepareRun: refusal outside bake mode, step order, skip/extra vars. */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import role from '../../../roles/bake-cleanup/index.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import type { RoleContext } from '../../../src/roles/role.ts';
import { InvalidInputError } from '../../../src/core/errors.ts';
import { prepareRun } from '../../../src/engine/prepare.ts';
import { bakeFinalRoles } from '../../../src/bake/auto-role.ts';
import { IDENTITY_ITEMS } from '../../../src/bake/identity.ts';

type CleanupContext = Parameters<typeof role.steps>[0];

/** The role's context, its vars taken as checked (as the engine does after validate()). */
function ctx(bake: boolean, facts: Facts, vars: Record<string, unknown> = {}): CleanupContext {
  const host = { name: 'img', connection: 'chroot' as const, address: 'img', become: false as const, root: '/mnt/x', vars: {}, groups: [], location: { file: 'inv.yml', line: 3 } };
  const merged = { ...role.defaults, ...vars } as CleanupContext['vars'];
  return { host, vars: merged, facts, inventory: {} as RoleContext['inventory'], hostsWithRole: [host], varsOf: () => merged, bake, template: () => '' };
}

test('outside bake mode the role cannot even build its steps (an input error naming the host)', (t) => {
  const err = t.throws(() => role.steps(ctx(false, stubFacts[0]!)), { instanceOf: InvalidInputError });
  t.regex(err!.message, /inv\.yml:3: host 'img' runs role 'bake-cleanup' without --bake/);
});

test('bake mode: one step per identity item; systemd hosts first get the ssh-keygen unit', (t) => {
  const ids = IDENTITY_ITEMS.map((i) => i.id);
  t.deepEqual(role.steps(ctx(true, stubFacts[0]!)).map((o) => o.id), ids);
  t.deepEqual(role.steps(ctx(true, stubFacts[1]!)).map((o) => o.id), ['ssh-keygen-unit', 'ssh-keygen-enabled', ...ids]);
  const some = role.steps(ctx(true, stubFacts[1]!, { bake_cleanup_skip: ['ssh-host-keys', 'tmp'], bake_cleanup_paths: ['/etc/app/*.key'] })).map((o) => o.id);
  t.deepEqual(some, [...ids.filter((i) => i !== 'ssh-host-keys' && i !== 'tmp'), 'extra-paths']);
});

function inventory(roles: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bake-inv-'));
  const file = join(dir, 'inventory.yml');
  writeFileSync(file, `hosts:\n  img:\n    connection: chroot\n    root: /mnt/x\n  other:\n    connection: chroot\n    root: /mnt/y\ngroups:\n  g:\n    hosts: [img, other]\n    roles: [${roles.join(', ')}]\n`);
  return file;
}

test('prepareRun with bake: bake-cleanup runs last on every host, once', async (t) => {
  const p = await prepareRun({ inventory: inventory(['bake-cleanup', 'recover-nomad-client']), bake: true, finalRoles: bakeFinalRoles(true) });
  for (const j of p.jobs) t.deepEqual(j.roles.map((r) => r.def.name), ['recover-nomad-client', 'bake-cleanup']);
  t.deepEqual(p.jobs[0]!.hostsWithRole('bake-cleanup').map((h) => h.name), ['img', 'other']);
});

test('prepareRun without bake: nothing is added, and a listed bake-cleanup is refused before any connection', async (t) => {
  const p = await prepareRun({ inventory: inventory(['recover-nomad-client']), finalRoles: bakeFinalRoles(false) });
  t.deepEqual(p.jobs[0]!.roles.map((r) => r.def.name), ['recover-nomad-client']);
  const err = await t.throwsAsync(prepareRun({ inventory: inventory(['bake-cleanup']) }), { instanceOf: InvalidInputError });
  t.regex(err!.message, /runs role 'bake-cleanup' without --bake/);
});

test('bad bake_cleanup vars are input errors', async (t) => {
  const file = inventory(['motd']).replace(/inventory\.yml$/, 'bad.yml');
  writeFileSync(file, 'vars:\n  bake_cleanup_skip: [tmpp]\n  bake_cleanup_paths: [relative]\nhosts:\n  img:\n    connection: chroot\n    root: /mnt/x\n');
  const err = await t.throwsAsync(prepareRun({ inventory: file, bake: true, finalRoles: bakeFinalRoles(true) }), { instanceOf: InvalidInputError });
  t.regex(err!.message, /unknown item "tmpp"/);
  t.regex(err!.message, /"relative" is not an absolute path/);
});
