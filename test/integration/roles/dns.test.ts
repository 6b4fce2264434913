// The dns role on real test-bed hosts: a real Unbound on Debian (from the bed's
// local apt repository), checked before /etc/resolv.conf is switched, the switch
// confirmed after libc resolution + a fresh SSH login, a resolver that does not
// answer -> no switch, a switch that breaks resolution -> rolled back by the
// host-side timer by itself. Alpine's offline repository has no unbound.
//
// The resolver check asks a name Unbound answers from its own data
// (cairn-check.internal): the bed has no internet, so an external name cannot
// resolve. The .consul forward is proven against a stand-in "Consul DNS" (a
// second Unbound on 127.0.0.1:8600 serving consul.service.consul).
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory, type TestInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf, type CliResult } from '../../helpers/cli.ts';
import { loadFleet, sshRun, type BedHost } from '../../bed/fleet.ts';

let claim: Claim;
let alp: BedHost;
let deb: BedHost;
let original = '';
const STATE = '/var/lib/cairn/dns/resolv-conf';
const op = (r: CliResult, host: string, id: string) => jsonOf(r).hosts[host]!.ops.find((o) => `${o.role}/${o.id}` === id);

function inventory(hosts: BedHost[], vars: Record<string, unknown> = {}): TestInventory {
  const names = hosts.map((h) => h.name);
  return fleetInventory({ hosts: names, groups: { nodes: { hosts: names, roles: ['dns'] } }, vars: { dns_rollback_seconds: 10, ...vars } });
}
const resolv = async (h: BedHost) => (await sshRun(h, 'cat /etc/resolv.conf')).stdout;
const restoreOriginal = (h: BedHost) => sshRun(h, `printf '%s' '${original.replace(/'/g, "'\\''")}' > /etc/resolv.conf`);

test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 });
  alp = claim.hosts.find((h) => h.kind === 'alpine')!;
  deb = claim.hosts.find((h) => h.kind === 'debian')!;
  // what the bed wrote (a file naming the bed's gateway); kept to put back between tests
  const before = await sshRun(deb, `cat ${STATE}/before 2>/dev/null || cat /etc/resolv.conf`);
  original = before.stdout;
});
test.after.always(async () => {
  if (deb && original) await restoreOriginal(deb);
  claim?.release();
});

test.serial('4 nameservers: exit 65 before any connection (the host does not even exist)', async (t) => {
  const fleet = loadFleet();
  const dir = mkdtempSync(join(tmpdir(), 'cairn-dns-inv-'));
  const file = join(dir, 'inventory.yml');
  writeFileSync(
    file,
    stringify({
      hosts: { ghost: { address: fleet.unusedAddress, user: 'root' } },
      groups: { nodes: { hosts: ['ghost'], roles: ['dns'] } },
      vars: { dns_nameservers: ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'] },
    }),
  );
  const started = Date.now();
  const r = await cairn(['apply', '-i', file]);
  t.is(r.code, 65);
  t.regex(r.stderr + r.stdout, /inventory\.yml:\d+.*dns_nameservers has 4 nameservers; musl, glibc and Go read at most 3 and silently ignore the rest \(127\.0\.0\.4 would never be asked\)/);
  t.notRegex(r.stdout + r.stderr, /connected|unreachable/);
  t.true(Date.now() - started < 15_000);
});

test.serial('Alpine: no unbound in the offline repository -> stopped before any change, resolv.conf untouched', async (t) => {
  const before = await resolv(alp);
  const r = await cairn(['apply', '-i', inventory([alp]).file, '--json']);
  t.is(r.code, 1);
  t.regex(op(r, alp.name, 'dns/available')!.reason, /unbound cannot be installed on .*: no configured apk repository offers it .*Alpine ships unbound in its main repository/);
  t.is(jsonOf(r).hosts[alp.name]!.changed, 0);
  t.is(await resolv(alp), before);
});

test.serial('Debian: real Unbound installed, checked, then resolv.conf switched and confirmed; a second apply changes nothing', async (t) => {
  await restoreOriginal(deb);
  const inv = inventory([deb]);
  const first = await cairn(['apply', '-i', inv.file, '--json']);
  t.is(first.code, 0, first.stdout + first.stderr);
  t.regex(op(first, deb.name, 'dns/answers-127.0.0.1')!.reason, /unbound at 127\.0\.0\.1:53 answers cairn-check\.internal A -> 127\.0\.0\.254/);
  t.regex(op(first, deb.name, 'dns/consul-forward')!.reason, /consul\. is forwarded to 127\.0\.0\.1@8600 \(unbound-control list_forwards shows it\); nothing answers DNS on 127\.0\.0\.1@8600 yet/);
  const sw = op(first, deb.name, 'dns/resolv-conf')!;
  t.is(sw.status, 'changed');
  t.regex(sw.reason, /switch \/etc\/resolv\.conf to 127\.0\.0\.1 \(file before; rolled back after 10s unless confirmed\)/);
  t.is(await resolv(deb), '# managed by cairn (dns role): do not edit, changes are overwritten\nnameserver 127.0.0.1\n');
  // confirmed: the timer is gone, and after its window the file is still switched
  const state = await sshRun(deb, `ls ${STATE}; cat ${STATE}/rollback.log 2>/dev/null; true`);
  t.notRegex(state.stdout, /pending/);
  t.regex(state.stdout, /confirm-/);
  t.regex((await sshRun(deb, 'getent hosts cairn-check.internal')).stdout, /^127\.0\.0\.254\s+cairn-check\.internal/);
  const second = await cairn(['apply', '-i', inv.file, '--json']);
  t.is(second.code, 0);
  t.is(jsonOf(second).hosts[deb.name]!.changed, 0, JSON.stringify(jsonOf(second).hosts[deb.name]!.ops.filter((o) => o.status !== 'ok')));
  await new Promise((r) => setTimeout(r, 11_000));
  t.is(await resolv(deb), '# managed by cairn (dns role): do not edit, changes are overwritten\nnameserver 127.0.0.1\n', 'no rollback after a confirmed switch');
  const check = await cairn(['check', '-i', inv.file]);
  t.is(check.code, 0, check.stdout);
});

test.serial('the .consul forward, proven: with a stand-in Consul DNS on 127.0.0.1:8600, consul.service.consul resolves through Unbound', async (t) => {
  const conf = `server:
  interface: 127.0.0.1@8600
  port: 8600
  do-daemonize: yes
  username: ""
  chroot: ""
  directory: "/tmp"
  pidfile: "/tmp/cairn-fake-consul.pid"
  use-syslog: no
  module-config: "iterator"
  local-zone: "consul." static
  local-data: "consul.service.consul. 0 IN A 127.0.0.1"
remote-control:
  control-enable: no
`;
  const started = await sshRun(deb, `printf '%s' '${conf}' > /tmp/cairn-fake-consul.conf && unbound -c /tmp/cairn-fake-consul.conf && sleep 1 && cat /tmp/cairn-fake-consul.pid`);
  t.regex(started.stdout, /^\d+/, started.stderr);
  try {
    const r = await cairn(['apply', '-i', inventory([deb]).file, '--json']);
    t.is(r.code, 0, r.stdout);
    // Unbound had asked 127.0.0.1@8600 before (nothing answered) and marked it down: the step clears that once
    const fwd = op(r, deb.name, 'dns/consul-forward')!;
    if (fwd.status === 'changed') t.regex(fwd.reason, /flush unbound's infra cache: 127\.0\.0\.1@8600 answers consul\.service\.consul but unbound does not/);
    else t.is(fwd.reason, 'consul.service.consul resolves through unbound (127.0.0.1 -> 127.0.0.1@8600): 127.0.0.1');
    const again = await cairn(['apply', '-i', inventory([deb]).file, '--json']);
    t.is(op(again, deb.name, 'dns/consul-forward')!.reason, 'consul.service.consul resolves through unbound (127.0.0.1 -> 127.0.0.1@8600): 127.0.0.1');
    t.is(jsonOf(again).hosts[deb.name]!.changed, 0);
    t.regex((await sshRun(deb, 'getent hosts consul.service.consul')).stdout, /^127\.0\.0\.1\s+consul\.service\.consul/);
  } finally {
    // only the stand-in this test started, by its pid
    await sshRun(deb, 'kill "$(cat /tmp/cairn-fake-consul.pid)"; rm -f /tmp/cairn-fake-consul.conf /tmp/cairn-fake-consul.pid');
  }
});

test.serial('a resolver that does not answer where resolv.conf would point (wrong port): no switch, SSH still fine', async (t) => {
  await restoreOriginal(deb);
  // Unbound moves to port 5353: it answers there, but resolv.conf can only name port 53
  const r = await cairn(['apply', '-i', inventory([deb], { dns_port: 5353 }).file, '--json']);
  t.is(r.code, 1);
  t.regex(op(r, deb.name, 'dns/answers-127.0.0.1')!.reason, /answers cairn-check\.internal A -> 127\.0\.0\.254/, 'it answers on 5353');
  const ns = op(r, deb.name, 'dns/nameserver-127.0.0.1')!;
  t.is(ns.status, 'failed');
  t.regex(ns.error ?? '', /nameserver 127\.0\.0\.1 \(for resolv\.conf, port 53\) at 127\.0\.0\.1:53 does not answer cairn-check\.internal A after 5s/);
  t.not(op(r, deb.name, 'dns/resolv-conf')?.status, 'changed');
  t.is(await resolv(deb), original, 'resolv.conf was not switched');
  t.is((await sshRun(deb, 'true')).code, 0, 'SSH still works');
  // back on port 53
  const back = await cairn(['apply', '-i', inventory([deb]).file]);
  t.is(back.code, 0, back.stdout);
});

test.serial('a switch that breaks resolution (resolv.conf at a dead nameserver, pre-check forced past): the host-side timer rolls it back by itself', async (t) => {
  await restoreOriginal(deb);
  const inv = inventory([deb], { dns_nameservers: ['127.0.0.9'], dns_verify_before_switch: false });
  // watch the file on the host while the run goes on
  const seen: string[] = [];
  let running = true;
  const watcher = (async () => {
    while (running) {
      const c = (await sshRun(deb, 'cat /etc/resolv.conf', { timeoutMs: 10_000 })).stdout;
      if (seen.at(-1) !== c) seen.push(c);
      await new Promise((r) => setTimeout(r, 300));
    }
  })();
  const started = Date.now();
  const r = await cairn(['apply', '-i', inv.file, '--json']);
  running = false;
  await watcher;
  const last = await resolv(deb);
  if (seen.at(-1) !== last) seen.push(last);
  t.is(r.code, 1);
  const sw = op(r, deb.name, 'dns/resolv-conf')!;
  t.is(sw.status, 'failed');
  t.regex(sw.error ?? '', /cairn-check\.internal does not resolve through the host's resolver after the switch/);
  t.regex(sw.error ?? '', /Not confirmed: the host-side timer rolled back after 10s: restored the previous \/etc\/resolv\.conf: the switch was not confirmed within 10 s/);
  t.true(Date.now() - started >= 10_000);
  // seen on the host: the original, the broken switch, the original again
  t.true(seen.some((c) => c.includes('nameserver 127.0.0.9')), JSON.stringify(seen));
  t.is(seen.at(-1), original);
  t.is(await resolv(deb), original);
  t.regex((await sshRun(deb, `cat ${STATE}/rollback.log`)).stdout, /restored the previous \/etc\/resolv\.conf/);
  t.is((await sshRun(deb, 'true')).code, 0, 'SSH still works');
  // and the role converges again with its defaults
  const back = await cairn(['apply', '-i', inventory([deb]).file]);
  t.is(back.code, 0, back.stdout);
});
