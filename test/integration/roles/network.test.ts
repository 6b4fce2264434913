// The network role on real hosts: an Alpine host's /etc/network/interfaces (busybox
// ifup/ifdown under OpenRC) switched with the dead-man switch. A change that keeps
// the host reachable (its own address, an MTU) is cycled by the host, confirmed over
// a NEW login, and the second apply changes nothing; a change that cuts cairn off
// (eth0 moved to an address the inventory does not use) is rolled back by the host
// by itself, the run fails saying so, and the host answers on its old address again.
// A Debian host without ifupdown is refused before anything is written.
import test from 'ava';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf, type CliResult } from '../../helpers/cli.ts';
import { sshRun, type BedHost } from '../../bed/fleet.ts';

const ROLLBACK = 15;
let claim: Claim;
let alp: BedHost;
let deb: BedHost;
let gateway = '';
let mtu = '';

const sh = async (h: BedHost, cmd: string) => {
  const r = await sshRun(h, cmd);
  if (r.code !== 0) throw new Error(`${h.name}: ${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
};
const op = (r: CliResult, host: string) => jsonOf(r).hosts[host]!.ops.find((o) => o.id === 'interfaces');
function inventory(hosts: BedHost[], eth0: Record<string, unknown>): string {
  const names = hosts.map((h) => h.name);
  return fleetInventory({ hosts: names, groups: { nodes: { hosts: names, roles: ['network'] } }, vars: { network_rollback_seconds: ROLLBACK, network_interfaces: [{ name: 'eth0', ...eth0 }] } }).file;
}

test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 }, { owner: 'network' });
  alp = claim.hosts.find((h) => h.kind === 'alpine')!;
  deb = claim.hosts.find((h) => h.kind === 'debian')!;
  gateway = (await sh(alp, "ip route | awk '$1 == \"default\" { print $3 }'")).trim();
  mtu = (await sh(alp, 'cat /sys/class/net/eth0/mtu')).trim();
});

test.after.always(async () => {
  if (alp) {
    // as the bed set it up: eth0 from outside, no interfaces file
    await sshRun(alp, `rm -rf /etc/network/interfaces /var/lib/cairn/network; ip link set eth0 mtu ${mtu}`);
  }
  claim?.release();
});

test.serial('alpine: eth0 static at its own address with a new MTU: cycled by the host, confirmed over a new login; the second apply and check change nothing', async (t) => {
  const inv = inventory([alp], { method: 'static', address: `${alp.address}/24`, gateway, mtu: 1400 });
  const r = await cairn(['apply', '-i', inv, '--json']);
  t.is(r.code, 0, r.stdout + r.stderr);
  t.is(op(r, alp.name)?.status, 'changed');
  t.is((await sh(alp, 'cat /sys/class/net/eth0/mtu')).trim(), '1400', 'the interface was cycled with the new file');
  t.regex(await sh(alp, 'ip -o -4 addr show dev eth0'), new RegExp(` inet ${alp.address.replaceAll('.', '\\.')}/24 `));
  t.regex(await sh(alp, 'ip route'), new RegExp(`^default via ${gateway.replaceAll('.', '\\.')} dev eth0`, 'm'), 'the default route is back');
  t.regex(await sh(alp, 'cat /etc/network/interfaces'), /iface eth0 inet static\n\taddress [\d.]+\n\tnetmask 255\.255\.255\.0\n/);
  t.is((await sh(alp, 'ls /var/lib/cairn/network')).includes('pending'), false, 'confirmed: no pending switch');
  const again = await cairn(['apply', '-i', inv, '--json']);
  t.is(again.code, 0, again.stdout + again.stderr);
  t.is(jsonOf(again).hosts[alp.name]!.changed, 0);
  t.is((await cairn(['check', '-i', inv])).code, 0);
});

test.serial('alpine: eth0 moved to an address cairn does not reach: the host restores the previous file and cycles eth0 back by itself; exit 1 saying so', async (t) => {
  const wrong = alp.address.replace(/\.\d+$/, '.199');
  const inv = inventory([alp], { method: 'static', address: `${wrong}/24`, gateway, mtu: 1400 });
  const started = Date.now();
  const r = await cairn(['apply', '-i', inv, '--json']);
  t.is(r.code, 1, r.stdout + r.stderr);
  const o = op(r, alp.name);
  t.is(o?.status, 'failed');
  t.log(o?.error);
  t.regex(o?.error ?? '', /a fresh SSH login fails after the switch: .*Not confirmed: the host-side timer rolled back after 15s: restored the previous \/etc\/network\/interfaces: the switch was not confirmed within 15 s \(ran the activation again after the restore\)/);
  t.true(Date.now() - started < (ROLLBACK + 40) * 1000);
  // the old address answers again, with the previous file (the first test's) in place
  t.regex(await sh(alp, 'ip -o -4 addr show dev eth0'), new RegExp(` inet ${alp.address.replaceAll('.', '\\.')}/24 `));
  t.notRegex(await sh(alp, 'ip -o -4 addr show dev eth0'), new RegExp(wrong.replaceAll('.', '\\.')));
  t.regex(await sh(alp, 'cat /etc/network/interfaces'), new RegExp(`address ${alp.address.replaceAll('.', '\\.')}\n`));
  t.regex(await sh(alp, 'cat /var/lib/cairn/network/rollback.log'), /restored the previous \/etc\/network\/interfaces/);
});

test.serial('debian without ifupdown: refused before anything is written, saying what manages its network', async (t) => {
  const inv = inventory([deb], { method: 'dhcp' });
  const r = await cairn(['apply', '-i', inv, '--json']);
  t.is(r.code, 1, r.stdout + r.stderr);
  t.regex(op(r, deb.name)?.error ?? '', new RegExp(`${deb.name} has no ifup: its network is not configured through /etc/network/interfaces .*install ifupdown`));
  t.is((await sshRun(deb, 'test -e /etc/network/interfaces || test -e /var/lib/cairn/network')).code, 1, 'nothing written');
});
