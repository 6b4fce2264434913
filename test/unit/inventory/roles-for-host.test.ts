import test from 'ava';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory, parseInventoryText } from '../../../src/inventory/load.ts';
import { rolesForHost } from '../../../src/inventory/roles-for-host.ts';

const inv = loadInventory(join(fileURLToPath(new URL('../../fixtures/inventory/', import.meta.url)), 'site.yml'));

test('roles of the groups concatenated in inventory order, first occurrence kept', (t) => {
  t.deepEqual(rolesForHost(inv, inv.hosts.get('alp2')!), ['base', 'consul', 'nomad', 'docker']);
  t.deepEqual(rolesForHost(inv, 'rpi1'), ['base', 'docker', 'nomad']);
});

test('a host in no group has no roles', (t) => {
  t.deepEqual(rolesForHost(inv, 'laptop'), []);
});

test('group order is the inventory order, not the order of the host groups: list', (t) => {
  const i = parseInventoryText('hosts:\n  a: { groups: [late, early] }\ngroups:\n  early: { roles: [x, y] }\n  late: { roles: [y, z] }\n', 'inv.yml');
  t.deepEqual(rolesForHost(i, 'a'), ['x', 'y', 'z']);
});
