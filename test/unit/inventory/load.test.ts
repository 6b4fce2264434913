import test from 'ava';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidInputError } from '../../../src/core/errors.ts';
import { isSecret } from '../../../src/core/secret.ts';
import { loadInventory, parseInventoryText } from '../../../src/inventory/load.ts';

const fixtures = fileURLToPath(new URL('../../fixtures/inventory/', import.meta.url));
const site = join(fixtures, 'site.yml');

function problemsOf(text: string, opts = {}) {
  const err = (() => {
    try {
      parseInventoryText(text, 'inv.yml', opts);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  if (!(err instanceof InvalidInputError)) throw new Error('expected InvalidInputError');
  return err.problems;
}

test('loads every key of a complete inventory', (t) => {
  const inv = loadInventory(site);
  t.is(inv.file, site);
  t.is(inv.dir, fixtures.replace(/\/$/, ''));
  t.deepEqual(inv.connection, {
    connectTimeoutMs: 500,
    commandTimeoutMs: 120_000,
    knownHosts: join(fixtures, 'known_hosts'),
    sshConfig: join(homedir(), '.ssh/config'),
  });
  const alp1 = inv.hosts.get('alp1')!;
  t.like(alp1, {
    name: 'alp1',
    connection: 'ssh',
    address: '10.231.0.11',
    port: 2222,
    user: 'root',
    identity: [join(homedir(), '.ssh/id_ed25519')],
    become: 'sudo',
    proxyJump: 'admin@bastion.example:22',
    groups: ['servers'],
  });
  t.deepEqual(alp1.location, { file: site, line: 16, column: 3 });
  t.true(isSecret(alp1.vars['consul_gossip_key']));
});

test('host defaults: address is the name, ssh, no become', (t) => {
  const inv = parseInventoryText('hosts:\n  web1:\n', 'inv.yml');
  t.deepEqual(
    { ...inv.hosts.get('web1'), location: undefined, varLocations: undefined },
    { name: 'web1', connection: 'ssh', address: 'web1', become: false, vars: {}, groups: [], location: undefined, varLocations: undefined },
  );
  t.deepEqual(inv.groups, new Map());
  t.deepEqual(inv.vars, {});
  t.is(inv.connection.connectTimeoutMs, 10_000);
  t.is(inv.connection.commandTimeoutMs, 600_000);
});

test('become: true means sudo; identity lists resolve against the inventory dir', (t) => {
  const inv = loadInventory(site);
  t.is(inv.hosts.get('alp2')!.become, 'sudo');
  t.is(inv.hosts.get('rpi1')!.become, 'doas');
  t.deepEqual(inv.hosts.get('alp2')!.identity, [join(fixtures, 'keys/a'), join(fixtures, 'keys/b')]);
});

test('local and chroot hosts', (t) => {
  const inv = loadInventory(site);
  t.is(inv.hosts.get('laptop')!.connection, 'local');
  t.like(inv.hosts.get('image')!, { connection: 'chroot', root: '/mnt/rpi-image' });
});

test('membership is two-way and in inventory order', (t) => {
  const inv = loadInventory(site);
  // alp1 joins servers through its own groups: list
  t.deepEqual(inv.groups.get('servers')!.hosts, ['alp1', 'alp2']);
  t.deepEqual(inv.hosts.get('alp2')!.groups, ['servers', 'clients']);
  t.deepEqual([...inv.hosts.keys()], ['alp1', 'alp2', 'rpi1', 'laptop', 'image']);
  t.deepEqual([...inv.groups.keys()], ['servers', 'clients', 'images']);
  t.deepEqual(inv.groups.get('servers')!.roles, ['base', 'consul', 'nomad']);
});

test('a host in no group is fine', (t) => {
  const inv = loadInventory(site);
  t.deepEqual(inv.hosts.get('laptop')!.groups, []);
});

test('var locations point at each key', (t) => {
  const inv = loadInventory(site);
  t.deepEqual(inv.varLocations!.get('consul.datacenter'), { file: site, line: 12, column: 5 });
  t.deepEqual(inv.hosts.get('alp1')!.varLocations!.get('consul.server'), { file: site, line: 26, column: 9 });
  t.deepEqual([...inv.groups.get('images')!.varLocations!.keys()], []);
});

test('every problem is reported at once, in file order', (t) => {
  const problems = problemsOf(
    ['hosts:', '  a:', '    prot: 22', '    port: 0', '  b: { become: maybe }', 'groups:', '  g: { hosts: [zz] }'].join('\n'),
  );
  t.deepEqual(
    problems.map((p) => p.location.line),
    [3, 4, 5, 7],
  );
  t.true(problems.every((p) => p.location.file === 'inv.yml' && p.fix));
});

test('the error message lists every problem with file:line:column and fix', (t) => {
  const err = t.throws(() => parseInventoryText('hosts:\n  a: { port: 0 }\n', 'inv.yml'), { instanceOf: InvalidInputError });
  t.is(err!.message, "inv.yml:2:14: host 'a': port must be a whole number from 1 to 65535, got 0\n  fix: write it like: port: 22");
});

test('knownRoles: without the option, any role name is accepted', (t) => {
  const text = 'hosts:\n  a:\ngroups:\n  g: { hosts: [a], roles: [whatever] }\n';
  t.notThrows(() => parseInventoryText(text, 'inv.yml'));
  t.is(problemsOf(text, { knownRoles: new Set(['base']) })[0]!.message, "unknown role 'whatever' in group 'g'");
});

test('!secret_env reads the given environment', (t) => {
  const inv = parseInventoryText('vars: { k: !secret_env MY_KEY }\nhosts:\n  a:\n', 'inv.yml', { env: { MY_KEY: 'v4lue' } });
  const k = inv.vars['k'];
  t.true(isSecret(k));
  t.is(isSecret(k) ? k.reveal() : '', 'v4lue');
  t.is(String(k), '********');
});

test('secrets are not revealed in problems', (t) => {
  const problems = problemsOf('hosts:\n  a: { user: !secret "hunter2" }\n');
  t.is(problems[0]!.message, "host 'a': user must be a user name without spaces, got a secret");
});

test('YAML merge keys work', (t) => {
  const inv = parseInventoryText('hosts:\n  a: &d { user: root, port: 2222 }\n  b:\n    <<: *d\n    port: 22\n', 'inv.yml');
  t.like(inv.hosts.get('b')!, { user: 'root', port: 22 });
});

test('yes/no stay text (YAML 1.2 core schema)', (t) => {
  const inv = parseInventoryText('vars: { country: no, on: yes }\nhosts:\n  a:\n', 'inv.yml');
  t.deepEqual(inv.vars, { country: 'no', on: 'yes' });
});

test('empty vars, hosts and roles lists are allowed', (t) => {
  const inv = parseInventoryText('vars:\nhosts:\n  a:\n    vars:\ngroups:\n  g:\n    hosts:\n    roles:\n', 'inv.yml');
  t.deepEqual(inv.groups.get('g'), { ...inv.groups.get('g')!, hosts: [], roles: [], vars: {} });
});

test('a missing file is a problem naming the file', (t) => {
  const err = t.throws(() => loadInventory('nope/inventory.yml'), { instanceOf: InvalidInputError });
  t.like(err!.problems[0], { location: { file: 'nope/inventory.yml' }, message: 'cannot read the inventory: no such file' });
});

test('relative known_hosts resolves against the inventory file, not the cwd', (t) => {
  const inv = parseInventoryText('connection: { known_hosts: kh }\nhosts:\n  a:\n', '/srv/fleet/inv.yml');
  t.is(inv.connection.knownHosts, '/srv/fleet/kh');
  t.is(inv.dir, '/srv/fleet');
  t.is(resolve(inv.file), '/srv/fleet/inv.yml');
});

test('durations as numbers of seconds', (t) => {
  const inv = parseInventoryText('connection: { connect_timeout: 2.5, command_timeout: 90 }\nhosts:\n  a:\n', 'inv.yml');
  t.is(inv.connection.connectTimeoutMs, 2500);
  t.is(inv.connection.commandTimeoutMs, 90_000);
});

test('syntax errors stop further checks (no noise)', (t) => {
  const problems = problemsOf('hosts:\n  a:\n    prot: 1\n   port: [\n');
  t.true(problems.every((p) => p.message.startsWith('YAML syntax error')));
});

test('proxy_command: read as given; together with proxy_jump it is refused with the place and the fix', (t) => {
  const inv = parseInventoryText("hosts:\n  a: { proxy_command: 'ssh -W %h:%p bastion' }\n", 'inv.yml');
  t.is(inv.hosts.get('a')!.proxyCommand, 'ssh -W %h:%p bastion');
  const err = t.throws(() => parseInventoryText("hosts:\n  a:\n    proxy_jump: bastion\n    proxy_command: 'nc %h %p'\n", 'inv.yml'), { instanceOf: InvalidInputError });
  t.regex(err!.message, /inv\.yml:4.*has both proxy_jump: and proxy_command:/);
  t.regex(err!.message, /fix: keep one of them/);
});
