import test from 'ava';
import { interfacesProblems, netmask, renderInterfaces } from '../../../../src/operations/network/interfaces-file.ts';
import { networkInterfaces } from '../../../../src/operations/network-interfaces.ts';
import { networkVarProblems } from '../../../../roles/network/index.ts';

test('netmask from a prefix', (t) => {
  t.is(netmask(24), '255.255.255.0');
  t.is(netmask(20), '255.255.240.0');
  t.is(netmask(32), '255.255.255.255');
  t.is(netmask(0), '0.0.0.0');
});

test('render: lo first, static as address + netmask (busybox needs it), dhcp, options, no auto', (t) => {
  const text = renderInterfaces([
    { name: 'eth0', method: 'static', address: '10.0.0.5/24', gateway: '10.0.0.1', mtu: 1400, options: ['up ip route add 10.9.0.0/16 via 10.0.0.1'] },
    { name: 'eth1', method: 'dhcp', auto: false },
  ]);
  t.is(
    text,
    [
      '# managed by cairn: do not edit, changes are overwritten (the previous file is kept under /var/lib/cairn)',
      'auto lo',
      'iface lo inet loopback',
      '',
      'auto eth0',
      'iface eth0 inet static',
      '\taddress 10.0.0.5',
      '\tnetmask 255.255.255.0',
      '\tgateway 10.0.0.1',
      '\tmtu 1400',
      '\tup ip route add 10.9.0.0/16 via 10.0.0.1',
      '',
      'iface eth1 inet dhcp',
      '',
    ].join('\n'),
  );
});

test('problems name the field and what is wanted', (t) => {
  t.deepEqual(interfacesProblems([]), ['interfaces must be a non-empty list, e.g. [{ name: eth0, method: dhcp }]']);
  t.deepEqual(interfacesProblems([{ name: 'eth0', method: 'static', address: '10.0.0.5' }]), ['interfaces[0].address must be an IPv4 address with its prefix, e.g. 10.0.0.5/24, got "10.0.0.5"']);
  t.deepEqual(interfacesProblems([{ name: 'eth0', method: 'static', address: '10.0.0.256/24', gateway: 'x' }]), [
    'interfaces[0].address must be an IPv4 address with its prefix, e.g. 10.0.0.5/24, got "10.0.0.256/24"',
    'interfaces[0].gateway must be an IPv4 address, got "x"',
  ]);
  t.deepEqual(interfacesProblems([{ name: 'lo', method: 'dhcp' }]), ['interfaces[0].name must be an interface name like eth0 (not lo: cairn writes lo itself), got "lo"']);
  t.deepEqual(interfacesProblems([{ name: 'eth0', method: 'dhcp', address: '10.0.0.5/24' }]), ['interfaces[0].address is only for method static']);
  t.deepEqual(interfacesProblems([{ name: 'eth0', method: 'ppp' }]), ['interfaces[0].method must be one of static, dhcp, manual, got "ppp"']);
  t.deepEqual(interfacesProblems([{ name: 'eth0', method: 'dhcp', optoins: [] }]), ['interfaces[0] has an unknown key "optoins" (known: name, method, address, gateway, mtu, options, auto)']);
  t.deepEqual(interfacesProblems([{ name: 'eth0', method: 'dhcp', options: ['up x\nauto eth9'] }]), [
    'interfaces[0].options[0] must be one stanza line \'keyword value\', e.g. \'up ip route add 10.9.0.0/16 via 10.0.0.1\', got "up x\\nauto eth9"',
  ]);
  t.deepEqual(interfacesProblems([{ name: 'eth0', method: 'dhcp' }, { name: 'eth0', method: 'manual' }]), ['interfaces lists eth0 twice']);
  t.deepEqual(interfacesProblems([{ name: 'eth0', method: 'dhcp', mtu: 20 }]), ['interfaces[0].mtu must be an integer from 68 to 65535, got 20']);
});

test('the operation refuses bad interfaces before any host is touched', (t) => {
  t.throws(() => networkInterfaces({ id: 'n', interfaces: [{ name: 'eth0', method: 'static' }] }), { message: /networkInterfaces 'n'.*interfaces\[0\]\.address must be an IPv4 address/ });
  t.throws(() => networkInterfaces({ id: 'n', interfaces: [{ name: 'eth0', method: 'dhcp' }], rollbackSeconds: 1 }), { message: /rollbackSeconds/ });
});

test('role vars: an empty list manages nothing; problems name the var', (t) => {
  t.deepEqual(networkVarProblems({ network_interfaces: [], network_rollback_seconds: 60 }), []);
  const p = networkVarProblems({ network_interfaces: [{ name: 'eth0', method: 'static', address: 'x' }], network_rollback_seconds: 2 });
  t.deepEqual(
    p.map((x) => `${x.var} ${x.message}`),
    ['network_interfaces [0].address must be an IPv4 address with its prefix, e.g. 10.0.0.5/24, got "x"', 'network_rollback_seconds must be an integer from 5 to 3600, got 2'],
  );
});
