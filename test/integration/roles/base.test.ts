// The base role on real test-bed hosts (Alpine/OpenRC and Debian/systemd under
// systemd-nspawn): converges, a second apply changes nothing, and the bed's
// limits (read-only /proc/sys, no /lib/modules) give clear messages.
import test from 'ava';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory, type TestInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf, type CliResult } from '../../helpers/cli.ts';
import { sshRun, type BedHost } from '../../bed/fleet.ts';

const PI_LINE = 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait';
let claim: Claim;
let inv: TestInventory;
let alp: BedHost;
let deb: BedHost;

const op = (r: CliResult, host: string, id: string) => jsonOf(r).hosts[host]!.ops.find((o) => `${o.role}/${o.id}` === id);

test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 });
  alp = claim.hosts.find((h) => h.kind === 'alpine')!;
  deb = claim.hosts.find((h) => h.kind === 'debian')!;
  inv = fleetInventory({
    hosts: [alp.name, deb.name],
    groups: { nodes: { hosts: [alp.name, deb.name], roles: ['base'] } },
    vars: {
      // the offline Alpine test repository has no iptables: packages it does have
      base_packages: { alpine: ['chrony'], debian: ['iptables'] },
      base_groups: [{ name: 'cairnops', system: true }],
      base_users: [{ name: 'cairnsvc', system: true, groups: ['cairnops'] }],
    },
  });
  // what base changes is reset, so the first apply below really converges (reruns on one fleet)
  await sshRun(alp, `sed -i 's/^rc_cgroup_mode=.*/#rc_cgroup_mode="unified"/' /etc/rc.conf; rm -f /etc/sysctl.d/90-cairn-base.conf; deluser cairnsvc 2>/dev/null; delgroup cairnops 2>/dev/null; true`);
  await sshRun(deb, 'rm -f /etc/sysctl.d/90-cairn-base.conf; userdel cairnsvc 2>/dev/null; groupdel cairnops 2>/dev/null; true');
  // a Raspberry Pi OS boot partition on the Debian host
  await sshRun(deb, `mkdir -p /boot/firmware && printf '%s\\n' '${PI_LINE}' > /boot/firmware/cmdline.txt && rm -f /boot/firmware/cmdline.txt.cairn-bak.*`);
});
test.after.always(async () => {
  if (deb) await sshRun(deb, 'rm -rf /boot/firmware');
  claim?.release();
});

test.serial('first apply converges both hosts; the second changes nothing', async (t) => {
  const first = await cairn(['apply', '-i', inv.file, '--json']);
  const j1 = jsonOf(first);
  t.is(first.code, 0, JSON.stringify(j1, null, 1));
  for (const h of inv.hosts) t.true(j1.hosts[h]!.changed > 0, `${h} changed something`);
  const cmdline = op(first, deb.name, 'base/cmdline')!;
  t.is(cmdline.status, 'changed');
  t.regex(cmdline.reason, /append cgroup_enable=memory/);
  t.regex(JSON.stringify(cmdline), /reboot required/);
  t.regex(op(first, alp.name, 'base/cgroup-mode')!.reason, /edit \/etc\/rc\.conf/);
  t.regex(op(first, alp.name, 'base/module-br_netfilter')!.reason, /built into the kernel \(CONFIG_BRIDGE_NETFILTER=y/);

  const second = await cairn(['apply', '-i', inv.file, '--json']);
  const j2 = jsonOf(second);
  t.is(second.code, 0);
  for (const h of inv.hosts) t.is(j2.hosts[h]!.changed, 0, `${h}: ${JSON.stringify(j2.hosts[h]!.ops.filter((o) => o.status !== 'ok'))}`);
  // cmdline.txt has the token, the running kernel does not: a warning until the reboot, never a second edit
  t.is(op(second, deb.name, 'base/cmdline')!.status, 'warning');
  t.regex(op(second, deb.name, 'base/cmdline')!.reason, /reboot required/);
  const check = await cairn(['check', '-i', inv.file]);
  t.is(check.code, 0, check.stdout);
});

test.serial('the hosts really have it: sysctl file, rc.conf, the one cmdline line, accounts', async (t) => {
  for (const h of [alp, deb]) {
    const conf = await sshRun(h, 'cat /etc/sysctl.d/90-cairn-base.conf');
    t.regex(conf.stdout, /^net\.bridge\.bridge-nf-call-iptables = 1$/m);
    t.regex(conf.stdout, /^net\.bridge\.bridge-nf-call-arptables = 1$/m);
    t.regex(conf.stdout, /^net\.ipv4\.ip_local_port_range = 32768 60999$/m);
    const id = await sshRun(h, 'id cairnsvc');
    t.regex(id.stdout, /cairnops/, `${h.name}: ${id.stderr}`);
  }
  t.regex((await sshRun(alp, 'grep "^rc_cgroup_mode=" /etc/rc.conf')).stdout, /^rc_cgroup_mode="unified"$/m);
  const cmdline = await sshRun(deb, 'cat /boot/firmware/cmdline.txt; ls /boot/firmware | grep -c cairn-bak');
  t.is(cmdline.stdout, `${PI_LINE} cgroup_enable=memory\n1\n`, 'one line, the token once, one backup');
});

test.serial('a port range overlapping Nomad dynamic ports stops the run before any connection (exit 65)', async (t) => {
  const r = await cairn(['apply', '-i', inv.file, '-e', 'base_ip_local_port_range=10000 40000']);
  t.is(r.code, 65);
  t.regex(r.stderr + r.stdout, /base_ip_local_port_range "10000 40000" overlaps Nomad's dynamic ports 20000-32000/);
  t.notRegex(r.stdout, /connected/);
});

test.serial('net.* sysctls are set live in the bed (its /proc/sys/net is writable); the range goes back to the default', async (t) => {
  const r = await cairn(['apply', '-i', inv.file, '--json', '-e', 'base_ip_local_port_range=40000 60999']);
  t.is(r.code, 0, r.stdout);
  for (const h of inv.hosts) t.regex(op(r, h, 'base/sysctl-net.ipv4.ip_local_port_range')!.reason, /persist in \/etc\/sysctl\.d\/90-cairn-base\.conf, set live/);
  t.is((await sshRun(deb, 'cat /proc/sys/net/ipv4/ip_local_port_range')).stdout.trim().split(/\s+/).join(' '), '40000 60999');
  const back = await cairn(['apply', '-i', inv.file]);
  t.is(back.code, 0, back.stdout);
  t.is((await sshRun(alp, 'cat /proc/sys/net/ipv4/ip_local_port_range')).stdout.trim().split(/\s+/).join(' '), '32768 60999');
});

test.serial('bed limit: the rest of /proc/sys is read-only — required fails clearly, best-effort persists with a warning', async (t) => {
  const extra = '{base_sysctls: {"vm.max_map_count": 262144}}';
  const strict = await cairn(['apply', '-i', inv.file, '--json', '-e', extra]);
  t.is(strict.code, 1);
  for (const h of inv.hosts) {
    const o = op(strict, h, 'base/sysctl-vm.max_map_count')!;
    t.is(o.status, 'failed');
    t.regex(o.reason, /cannot set vm\.max_map_count live on .*: \/proc\/sys\/vm\/max_map_count is read-only .*ignoreLive/);
  }
  const soft = await cairn(['apply', '-i', inv.file, '--json', '-e', extra, '-e', 'base_sysctl_live=best-effort']);
  t.is(soft.code, 0, soft.stdout);
  for (const h of inv.hosts) {
    const o = op(soft, h, 'base/sysctl-vm.max_map_count')!;
    t.is(o.status, 'changed');
    t.regex(JSON.stringify(o), /read-only/);
  }
  t.regex((await sshRun(deb, 'cat /etc/sysctl.d/90-cairn-base.conf')).stdout, /^vm\.max_map_count = 262144$/m);
  const again = await cairn(['apply', '-i', inv.file, '--json', '-e', extra, '-e', 'base_sysctl_live=best-effort']);
  for (const h of inv.hosts) t.is(op(again, h, 'base/sysctl-vm.max_map_count')!.status, 'warning', 'persisted; live still differs: a warning, not a change');
  t.is(jsonOf(again).hosts[deb.name]!.changed, 0);
});

test.serial('bed limit: a module that is neither loaded nor built in cannot be loaded (no /lib/modules) — named in the failure', async (t) => {
  const r = await cairn(['apply', '-i', inv.file, '--json', '-e', '{base_kernel_modules: [bridge, cairn_no_such_module]}']);
  t.is(r.code, 1);
  for (const h of inv.hosts) {
    const o = op(r, h, 'base/module-cairn_no_such_module')!;
    t.is(o.status, 'failed');
    t.regex(o.reason, /kernel module cairn_no_such_module is not loaded and cannot be loaded on .*: \/lib\/modules\/.* does not exist/);
  }
});
