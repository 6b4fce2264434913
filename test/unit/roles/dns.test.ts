import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dns, { unboundConfig, DEFAULTS } from '../../../roles/dns/index.ts';
import type { Plan } from '../../../src/operations/operation.ts';
import { alpineFacts, debianFacts, roleContext, stepIds, validate } from './_base.ts';

const text = (p: Plan) => (p.kind === 'noop' ? p.reason : p.kind === 'change' ? p.reason : p.message);

test('4 nameservers is an input error (before any connection), located at the var', (t) => {
  const p = validate(dns, { dns_nameservers: ['127.0.0.1', '10.0.0.1', '10.0.0.2', '10.0.0.3'] });
  t.is(p.length, 1);
  t.deepEqual(p[0]!.location, { file: 'inv.yml', line: 7 });
  t.regex(p[0]!.message, /^dns: dns_nameservers has 4 nameservers; musl, glibc and Go read at most 3 and silently ignore the rest \(10\.0\.0\.3 would never be asked\)/);
});

test('other vars are validated, all at once', (t) => {
  t.deepEqual(validate(dns, {}), []);
  const all = validate(dns, {
    dns_resolver: 'coredns',
    dns_listen: ['localhost'],
    dns_check_name: 'check.local',
    dns_check_address: '::1',
    dns_rollback_seconds: 2,
    dns_consul_port: 0,
    dns_options: ['rotate', 'bad option'],
  })
    .map((p) => p.message)
    .join('\n');
  for (const re of [
    /dns_resolver must be one of unbound/,
    /dns_listen has entries that are not IP addresses: localhost/,
    /dns_check_name ends in \.local, which mDNS/,
    /dns_check_address must be an IPv4 address/,
    /dns_rollback_seconds must be an integer from 5 to 3600/,
    /dns_consul_port must be a port number/,
    /dns_options must be a list of resolver options/,
  ]) {
    t.regex(all, re);
  }
});

test('unbound drop-in: consul forward to 127.0.0.1@8600, do-not-query-localhost no, the check name as local data', (t) => {
  const conf = unboundConfig(DEFAULTS, { main: false });
  t.is(
    conf,
    `# managed by cairn (dns role): changes are overwritten
server:
    interface: 127.0.0.1
    port: 53
    # Consul answers on localhost: Unbound refuses to query localhost by default
    do-not-query-localhost: no
    # .consul is not signed: no DNSSEC validation for it
    domain-insecure: "consul."
    # a Consul that was down (not started yet) is asked again soon, not after infra-host-ttl
    infra-keep-probing: yes
    # answered from here, to check that the resolver answers (no internet needed)
    local-data: "cairn-check.internal. 60 IN A 127.0.0.254"

forward-zone:
    name: "consul."
    forward-addr: 127.0.0.1@8600
`,
  );
  const fwd = unboundConfig({ ...DEFAULTS, dns_forwarders: ['192.168.1.1'] }, { main: true });
  t.regex(fwd, /forward-zone:\n {4}name: "\."\n {4}forward-addr: 192\.168\.1\.1\n$/);
  t.regex(fwd, /username: "unbound"/);
});

test('unbound-checkconf accepts both configurations (when unbound is installed here)', (t) => {
  if (spawnSync('sh', ['-c', 'command -v unbound-checkconf']).status !== 0) return t.pass('no unbound-checkconf on this machine');
  const d = mkdtempSync(join(tmpdir(), 'cairn-unbound-conf-'));
  try {
    for (const main of [false, true]) {
      const f = join(d, `u${main}.conf`);
      writeFileSync(f, unboundConfig({ ...DEFAULTS, dns_forwarders: ['192.0.2.1'] }, { main }).replace('username: "unbound"', 'username: ""').replace('directory: "/etc/unbound"', `directory: "${d}"`));
      const r = spawnSync('unbound-checkconf', [f], { encoding: 'utf8' });
      t.is(r.status, 0, r.stderr + r.stdout);
    }
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
});

test('steps (Debian): resolver checked before the switch, DHCP hooks only where the client exists, the switch last', (t) => {
  const ids = stepIds(dns, roleContext(dns, {}, debianFacts));
  t.deepEqual(ids, [
    'available',
    'packages',
    'conf-d',
    'trust-anchor',
    'config',
    'checkconf',
    'service',
    'restart',
    'answers-127.0.0.1',
    'consul-forward',
    'dhclient',
    'networkmanager',
    'dhcpcd',
    'resolv-conf',
  ]);
  const steps = dns.steps(roleContext(dns, {}, debianFacts));
  t.true(steps.find((s) => s.id === 'answers-127.0.0.1')!.barrier);
  t.is(typeof steps.at(-1)!.afterChange, 'function', 'the switch checks resolution and a fresh login');
});

test('steps (Alpine): udhcpc keeps resolv.conf; the package check says unbound is not offered with the hint', (t) => {
  const ids = stepIds(dns, roleContext(dns, {}, alpineFacts));
  t.true(ids.includes('udhcpc'));
  t.false(ids.includes('conf-d'));
  const available = dns.steps(roleContext(dns, {}, alpineFacts))[0]!;
  const p = available.plan({ command: 'p', durationMs: 0, exitCode: 0, stderr: '', stdout: '\n@@cairn:policy\n\n@@cairn:repos\n/media/apks\n' }, { host: 'alp1', facts: alpineFacts, bake: false });
  t.regex(text(p), /unbound cannot be installed on alp1: .*Alpine ships unbound in its main repository/);
});

test('a nameserver that is not the local resolver is asked before the switch (unless forced past)', (t) => {
  const ids = stepIds(dns, roleContext(dns, { dns_nameservers: ['127.0.0.1', '127.0.0.9'] }, debianFacts));
  t.true(ids.includes('nameserver-127.0.0.9'));
  t.false(ids.includes('nameserver-127.0.0.1'), 'the resolver itself is already asked on the same port');
  t.true(stepIds(dns, roleContext(dns, { dns_port: 5353 }, debianFacts)).includes('nameserver-127.0.0.1'), 'another port: port 53 asked separately');
  t.false(stepIds(dns, roleContext(dns, { dns_nameservers: ['127.0.0.9'], dns_verify_before_switch: false }, debianFacts)).some((i) => i.startsWith('nameserver-')));
});

test('bake mode: resolv.conf written as a plain file (no live checks, no rollback)', (t) => {
  const steps = dns.steps(roleContext(dns, {}, debianFacts, true));
  t.is(steps.at(-1)!.kind, 'file');
});
