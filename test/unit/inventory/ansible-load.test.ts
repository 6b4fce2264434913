import test from 'ava';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../../src/inventory/load.ts';
import { rolesForHost } from '../../../src/inventory/roles-for-host.ts';
import type { Inventory } from '../../../src/inventory/types.ts';
import { varsForHost, whereIsVar } from '../../../src/inventory/vars.ts';

const fixtures = fileURLToPath(new URL('../../fixtures/inventory/ansible/', import.meta.url));
const yamlFile = join(fixtures, 'yaml', 'hosts.yml');
const iniFile = join(fixtures, 'ini', 'hosts.ini');

/** The inventory without positions: what the mapping decides. */
function shape(inv: Inventory) {
  return {
    vars: inv.vars,
    connection: inv.connection,
    hosts: [...inv.hosts.values()].map(({ location: _l, varLocations: _v, ...h }) => h),
    groups: [...inv.groups.values()].map(({ location: _l, varLocations: _v, ...g }) => g),
  };
}

const ssh = { connection: 'ssh' as const, vars: {} };

test('YAML: children flattened, groups ordered parent first, connection vars become settings', (t) => {
  // loadInventory: the entry point the CLI uses
  const inv = loadInventory(yamlFile);
  t.deepEqual(shape(inv), {
    vars: { ntp_server: 'pool.ntp.org', timezone: 'UTC' },
    connection: { connectTimeoutMs: 5000, commandTimeoutMs: 600_000 },
    hosts: [
      { ...ssh, name: 'lonely', address: '10.0.9.9', user: 'admin', become: false, groups: ['ungrouped'] },
      {
        ...ssh,
        name: 'srv1',
        address: '10.0.0.11',
        user: 'admin',
        identity: [join(fixtures, 'yaml', 'keys', 'srv1')],
        become: 'sudo',
        vars: { rack: 'r1' },
        groups: ['cluster', 'servers'],
      },
      { ...ssh, name: 'srv2', address: 'srv2', port: 2222, user: 'admin', become: 'sudo', proxyJump: 'admin@bastion.example:22', groups: ['bastioned', 'cluster', 'servers'] },
      { ...ssh, name: 'pi01.lan', address: 'pi01.lan', user: 'pi', become: 'doas', vars: { level: 'host', rack: 'r2' }, groups: ['cluster', 'clients'] },
      { ...ssh, name: 'pi02.lan', address: 'pi02.lan', user: 'pi', become: 'doas', groups: ['cluster', 'clients'] },
    ],
    groups: [
      { name: 'bastioned', hosts: ['srv2'], vars: {}, roles: [] },
      { name: 'cluster', hosts: ['srv1', 'srv2', 'pi01.lan', 'pi02.lan'], vars: { consul: { datacenter: 'dc1' }, level: 'cluster' }, roles: ['base'] },
      { name: 'ungrouped', hosts: ['lonely'], vars: {}, roles: [] },
      { name: 'clients', hosts: ['pi01.lan', 'pi02.lan'], vars: {}, roles: [] },
      // group_vars/servers/ replaces the inventory's `consul` map (Ansible: one group, later source wins)
      { name: 'servers', hosts: ['srv1', 'srv2'], vars: { consul: { bootstrap_expect: 2 }, level: 'servers' }, roles: ['consul'] },
    ],
  });
});

test('YAML: vars precedence parent group < child group < host, and where each var is written', (t) => {
  const inv = loadInventory(yamlFile);
  const srv1 = inv.hosts.get('srv1')!;
  t.like(varsForHost(inv, srv1), { level: 'servers', consul: { datacenter: 'dc1', bootstrap_expect: 2 }, rack: 'r1', ntp_server: 'pool.ntp.org' });
  t.is(varsForHost(inv, inv.hosts.get('pi01.lan')!)['level'], 'host');
  t.is(varsForHost(inv, inv.hosts.get('pi02.lan')!)['level'], 'cluster');
  t.false('ansible_python_interpreter' in varsForHost(inv, srv1), 'connection vars are not passed on');
  t.deepEqual(whereIsVar(inv, srv1, 'consul.bootstrap_expect'), { file: join(fixtures, 'yaml', 'group_vars', 'servers', 'consul.yml'), line: 2, column: 3 });
  t.deepEqual(whereIsVar(inv, srv1, 'level'), { file: yamlFile, line: 21, column: 13 });
  t.deepEqual(inv.groups.get('servers')!.location, { file: yamlFile, line: 15, column: 9 });
  t.deepEqual(rolesForHost(inv, srv1), ['base', 'consul']);
  t.deepEqual(rolesForHost(inv, 'lonely'), []);
});

test('INI: ranges, host line vars, :vars, :children and group_vars', (t) => {
  const inv = loadInventory(iniFile);
  const sudo = { ...ssh, become: 'sudo' as const, groups: ['cluster', 'servers'] };
  const pi = (name: string) => ({ ...ssh, name, address: name, user: 'pi', become: 'doas' as const, groups: ['cluster', 'pis'] });
  t.deepEqual(shape(inv), {
    vars: { ntp_server: 'pool.ntp.org' },
    connection: { connectTimeoutMs: 10_000, commandTimeoutMs: 600_000 },
    hosts: [
      { ...ssh, name: 'lonely', address: '10.0.9.9', become: false, groups: ['ungrouped'] },
      { ...sudo, name: 'srv1', address: 'srv1' },
      { ...sudo, name: 'srv2', address: 'srv2' },
      { ...ssh, name: 'srv3', address: '10.0.0.13', port: 2222, become: false, vars: { label: 'server three' }, groups: ['cluster', 'servers'] },
      pi('pia'),
      pi('pib'),
      pi('pic'),
    ],
    groups: [
      { name: 'cluster', hosts: ['srv1', 'srv2', 'srv3', 'pia', 'pib', 'pic'], vars: { consul_dc: 'dc1', retries: 3, tags: ['a', 'b'], level: 'cluster' }, roles: ['base'] },
      { name: 'ungrouped', hosts: ['lonely'], vars: {}, roles: [] },
      { name: 'pis', hosts: ['pia', 'pib', 'pic'], vars: { level: 'pis' }, roles: [] },
      { name: 'servers', hosts: ['srv1', 'srv2', 'srv3'], vars: { level: 'servers' }, roles: [] },
    ],
  });
  t.is(varsForHost(inv, inv.hosts.get('pia')!)['level'], 'pis');
  t.deepEqual(whereIsVar(inv, inv.hosts.get('srv1')!, 'level'), { file: iniFile, line: 23, column: 1 });
  t.deepEqual(whereIsVar(inv, inv.hosts.get('srv3')!, 'label'), { file: iniFile, line: 7, column: 34 });
  t.deepEqual(inv.hosts.get('srv3')!.location, { file: iniFile, line: 7, column: 1 });
});
