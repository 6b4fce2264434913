/**
 * Smoke test of the running test bed (npm run bed -- up): on every host, over real
 * OpenSSH (ssh -F <ssh_config> <name>, strict host key checking): OS, architecture,
 * init system, an offline package install from the local repository, the toy
 * service respawned after kill -9, and become root as the user tester.
 *
 * REQUIRES a running fleet (env CAIRN_BED_FLEET, default 'default'): fails, never skips.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadFleet, sshRun, type BedHost, type Fleet, type SshResult } from '../../bed/fleet.ts';
import { loadInventory } from '../../../src/inventory/load.ts';

let fleet: Fleet | undefined;
let loadError: Error | undefined;
try {
  fleet = loadFleet();
} catch (e) {
  loadError = e as Error;
}

// at most this many ssh sessions at once (2 cores; the aarch64 hosts run under qemu)
let slots = 8;
const waiting: (() => void)[] = [];
async function ssh(h: BedHost, command: string, opts: { user?: string; timeoutMs?: number } = {}): Promise<SshResult> {
  while (slots === 0) await new Promise<void>((r) => waiting.push(r));
  slots--;
  try {
    return await sshRun(h, command, { timeoutMs: 180_000, ...opts });
  } finally {
    slots++;
    waiting.shift()?.();
  }
}

const EXPECT: Record<BedHost['kind'], { id: string; version: RegExp }> = {
  alpine: { id: 'alpine', version: /^3\.19\./ },
  'alpine-arm': { id: 'alpine', version: /^3\.7\./ },
  debian: { id: 'debian', version: /^12$/ },
  'debian-arm': { id: 'debian', version: /^12$/ },
};

test('loadFleet() of a fleet that is not up says how to start it', (t) => {
  const e = t.throws(() => loadFleet('no-such-fleet'));
  t.is(e?.message, 'fleet no-such-fleet is not up: run npm run bed -- up --fleet no-such-fleet');
});

if (!fleet) {
  test('the test bed fleet is up', (t) => {
    t.fail(loadError?.message ?? 'loadFleet() failed');
  });
} else {
  const f = fleet;

  test('inventory.yml lists every host and loads with cairn inventory loader', (t) => {
    const doc = parse(readFileSync(f.inventory, 'utf8')) as {
      connection: { known_hosts: string };
      hosts: Record<string, { address: string; port: number; user: string; identity: string; vars: Record<string, string> }>;
      groups: Record<string, { hosts: string[] }>;
    };
    t.is(doc.connection.known_hosts, f.knownHosts);
    t.deepEqual(Object.keys(doc.hosts), f.hosts.map((h) => h.name));
    for (const h of f.hosts) {
      const e = doc.hosts[h.name]!;
      t.like(e, { address: h.address, port: 22, user: 'root', identity: f.key });
      t.like(e.vars, { bed_kind: h.kind, bed_arch: h.arch });
    }
    const inv = loadInventory(f.inventory);
    t.is(inv.hosts.size, f.hosts.length);
    t.deepEqual(doc.groups.alpine?.hosts ?? [], f.hosts.filter((h) => h.kind === 'alpine').map((h) => h.name));
    t.deepEqual(doc.groups.debian?.hosts ?? [], f.hosts.filter((h) => h.kind === 'debian').map((h) => h.name));
    t.deepEqual(doc.groups.arm?.hosts ?? [], f.hosts.filter((h) => h.arch === 'aarch64').map((h) => h.name));
  });

  for (const h of f.hosts) {
    const openrc = h.init === 'openrc';

    test(`${h.name} (${h.kind}): os-release, uname -m, hostname, address, init`, async (t) => {
      const r = await ssh(
        h,
        'set -e; . /etc/os-release; echo "$ID"; echo "$VERSION_ID"; uname -m; hostname; ' +
          "ip -4 -o addr show dev eth0 | awk '{print $4}'; cat /proc/1/comm; " +
          (openrc ? 'rc-status --runlevel; rc-service sshd status </dev/null 2>&1 | tail -1' : 'systemctl is-system-running --wait || systemctl --failed --no-legend; systemctl is-active ssh'),
      );
      t.is(r.code, 0, r.stderr);
      for (const n of h.bootNotes) t.log(`bed at boot: ${n}`);
      const [id, version, arch, hostname, addr, pid1, ...init] = r.stdout.trim().split('\n');
      t.is(id, EXPECT[h.kind].id);
      t.regex(version ?? '', EXPECT[h.kind].version);
      t.is(arch, h.arch);
      t.is(hostname, h.name);
      t.is(addr, `${h.address}/24`);
      if (openrc) {
        t.is(pid1, 'init', 'PID 1 is busybox init');
        t.is(init[0], 'default', 'OpenRC reached runlevel default');
        t.regex(init[1] ?? '', /started/, 'sshd started by OpenRC');
      } else {
        t.is(pid1, 'systemd', 'PID 1 is systemd');
        if (init[0] !== 'running') {
          // say why: the failed units' own words from this boot's journal
          const why = await ssh(h, 'for u in $(systemctl --failed --no-legend --plain | awk \'{print $1}\'); do journalctl -b --no-pager -n 15 -u "$u"; done');
          t.log(why.stdout + why.stderr);
        }
        t.deepEqual(init, ['running', 'active'], 'systemd state running, ssh.service active');
      }
    });

    // Packages no role or other test file installs (the demo 'toolbox' role installs e2fsprogs
    // and curl on these same hosts, maybe at the same time), so add+remove here races nothing.
    test(`${h.name} (${h.kind}): offline package install from the local repository`, async (t) => {
      if (h.kind === 'alpine' || h.kind === 'alpine-arm') {
        const r = await ssh(
          h,
          'set -e; cat /etc/apk/repositories; ! apk info -e usb-modeswitch >/dev/null; ' +
            'apk add --wait 120 --no-progress usb-modeswitch >/dev/null; apk info -e usb-modeswitch; apk info -e libusb; ' +
            'test -x /usr/sbin/usb_modeswitch && echo binary; ' +
            'apk del --wait 120 --no-progress usb-modeswitch >/dev/null; ! apk info -e usb-modeswitch >/dev/null; ! apk info -e libusb >/dev/null; echo removed',
        );
        t.is(r.code, 0, r.stdout + r.stderr);
        t.deepEqual(
          r.stdout.trim().split('\n'),
          ['/media/apks', 'usb-modeswitch', 'libusb', 'binary', 'removed'],
          'local repository is the only one; package and its dependency installed, then removed',
        );
      } else {
        const apt = 'apt-get -q -y -o DPkg::Lock::Timeout=120';
        const r = await ssh(
          h,
          'set -e; export DEBIAN_FRONTEND=noninteractive; cat /etc/apt/sources.list.d/*.list; ' +
            'test ! -e /etc/apt/sources.list; ! dpkg -s hello >/dev/null 2>&1; ' +
            `${apt} install --no-install-recommends hello >/dev/null; hello; ${apt} purge hello >/dev/null; ! command -v hello >/dev/null; echo removed`,
        );
        t.is(r.code, 0, r.stdout + r.stderr);
        t.deepEqual(r.stdout.trim().split('\n'), ['deb [trusted=yes] file:/media/debs ./', 'Hello, world!', 'removed']);
      }
    });

    test(`${h.name} (${h.kind}): toy service respawned after kill -9 of its child`, async (t) => {
      const r = await ssh(
        h,
        'P1=$(cat /run/toyd.child.pid) && kill -0 "$P1" && kill -9 "$P1" || exit 2; i=0; ' +
          'while [ $i -lt 30 ]; do sleep 1; P2=$(cat /run/toyd.child.pid 2>/dev/null); ' +
          'if [ -n "$P2" ] && [ "$P2" != "$P1" ] && kill -0 "$P2" 2>/dev/null; then echo "$P1 $P2"; exit 0; fi; i=$((i+1)); done; exit 1',
      );
      t.is(r.code, 0, `toyd not respawned: ${r.stdout}${r.stderr}`);
      const [p1, p2] = r.stdout.trim().split(' ');
      t.truthy(p1 && p2 && p1 !== p2);
      t.log(`toyd child ${p1} killed, respawned as ${p2}`);
      if (!openrc) {
        const s = await ssh(h, 'systemctl is-active toyd; systemctl show -p Restart --value toyd');
        t.deepEqual(s.stdout.trim().split('\n'), ['active', 'always']);
      }
    });

    test(`${h.name} (${h.kind}): user tester logs in with the key and becomes root (${h.become})`, async (t) => {
      const who = await ssh(h, 'id -un', { user: 'tester' });
      t.is(who.code, 0, who.stderr);
      t.is(who.stdout.trim(), 'tester');
      if (h.become === 'none') {
        t.log(`${h.kind}: no become method under qemu-user here (see docs/testbed.md)`);
        return;
      }
      const r = await ssh(h, `${h.become} -n id -u`, { user: 'tester' });
      t.is(r.code, 0, r.stderr);
      t.is(r.stdout.trim(), '0');
    });

    if (h.kind === 'alpine') {
      test(`${h.name} (${h.kind}): s6 ${f.s6 ? 'supervises toys6 (respawn after kill -9)' : 'binaries are installed'}`, async (t) => {
        if (!f.s6) {
          const r = await ssh(h, 'command -v s6-svscan && test -x /etc/init.d/toys6 && echo ok');
          t.is(r.code, 0, r.stderr);
          t.regex(r.stdout, /ok$/m);
          return;
        }
        const r = await ssh(
          h,
          // let OpenRC finish starting it first (s6_start sleeps 3 s), so the kill races nothing
          'i=0; until rc-status default </dev/null 2>&1 | grep -q "toys6 .*started"; do i=$((i+1)); [ $i -gt 20 ] && exit 3; sleep 1; done; ' +
          'L=/run/openrc/s6-scan/toys6; P1=$(cat /run/toys6.child.pid) || exit 2; kill -9 "$P1"; i=0; ' +
            'while [ $i -lt 20 ]; do sleep 1; P2=$(cat /run/toys6.child.pid); ' +
            'if [ "$P2" != "$P1" ] && kill -0 "$P2" 2>/dev/null && s6-svstat $L | grep -q "^up"; then echo "$P1 $P2"; exit 0; fi; i=$((i+1)); done; exit 1',
        );
        t.is(r.code, 0, r.stdout + r.stderr);
      });
    }
  }
}
