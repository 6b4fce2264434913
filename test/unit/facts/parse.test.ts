import test from 'ava';
import {
  detectLibc,
  installedInit,
  normaliseArch,
  osFamily,
  parseCgroup,
  parseFacts,
  parseKernelConfig,
  parseOsRelease,
  runningInit,
  splitSections,
} from '../../../src/facts/parse.ts';

const archCases: Array<[string, ReturnType<typeof normaliseArch>]> = [
  ['x86_64', 'amd64'],
  ['aarch64', 'arm64'],
  ['armv7l', 'arm'],
  ['armv6l', 'arm'],
  ['i686', '386'],
  ['i386', '386'],
  ['riscv64', 'unknown'],
  ['', 'unknown'],
];
for (const [machine, arch] of archCases) {
  test(`arch ${machine || '(empty)'} -> ${arch}`, (t) => t.is(normaliseArch(machine), arch));
}

test('os family from ID / ID_LIKE', (t) => {
  t.is(osFamily('alpine', ''), 'alpine');
  t.is(osFamily('debian', ''), 'debian');
  t.is(osFamily('raspbian', 'debian'), 'debian');
  t.is(osFamily('raspbian', ''), 'debian');
  t.is(osFamily('ubuntu', 'debian'), 'debian');
  t.is(osFamily('linuxmint', 'ubuntu debian'), 'debian');
  t.is(osFamily('fedora', ''), 'unknown');
});

test('os-release quoting', (t) => {
  t.deepEqual(parseOsRelease(['ID=raspbian', 'ID_LIKE=debian', 'PRETTY_NAME="Raspbian GNU/Linux 12 (bookworm)"', "X='a b'", 'Y="say \\"hi\\""', '# comment', '']), {
    ID: 'raspbian',
    ID_LIKE: 'debian',
    PRETTY_NAME: 'Raspbian GNU/Linux 12 (bookworm)',
    X: 'a b',
    Y: 'say "hi"',
  });
});

test('libc detection', (t) => {
  t.is(detectLibc(['musl libc (aarch64)', 'Version 1.1.18'], [], undefined), 'musl');
  t.is(detectLibc(['ldd (Debian GLIBC 2.36-9+deb12u4) 2.36'], [], 'glibc 2.36'), 'glibc');
  t.is(detectLibc(['sh: ldd: not found'], ['/lib/ld-musl-armhf.so.1'], undefined), 'musl');
  t.is(detectLibc(['sh: ldd: not found'], ['/lib/ld-linux-armhf.so.3'], undefined), 'glibc');
  t.is(detectLibc([], [], 'glibc 2.31'), 'glibc');
  t.is(detectLibc([], ['/lib/ld-musl-x86_64.so.1', '/lib64/ld-linux-x86-64.so.2'], undefined), 'unknown');
  t.is(detectLibc([], [], undefined), 'unknown');
});

test('running init from PID 1', (t) => {
  t.is(runningInit('systemd', '/usr/lib/systemd/systemd', ['/run/systemd/system'], false), 'systemd');
  t.is(runningInit('init', '/lib/systemd/systemd', ['/run/systemd/system'], false), 'systemd');
  t.is(runningInit('init', '/bin/busybox', ['/run/openrc'], false), 'openrc');
  t.is(runningInit('init', '/bin/busybox', ['/run/openrc'], true), 'openrc');
  t.is(runningInit('openrc-init', '/sbin/openrc-init', [], false), 'openrc');
  t.is(runningInit('s6-svscan', '/package/admin/s6/command/s6-svscan', [], true), 's6');
  t.is(runningInit('init', '/bin/busybox', [], true), 's6');
  t.is(runningInit('process_api', '', [], false), 'unknown');
  t.is(runningInit('', '', [], false), 'unknown');
});

test('installed init (chroot)', (t) => {
  t.is(installedInit({ openrc: true, systemd: false, s6: true }), 'openrc');
  t.is(installedInit({ openrc: false, systemd: true, s6: false }), 'systemd');
  t.is(installedInit({ openrc: false, systemd: false, s6: true }), 's6');
  t.is(installedInit({ openrc: false, systemd: false, s6: false }), 'unknown');
});

test('kernel config: only y/m, source kept, absent -> undefined', (t) => {
  t.deepEqual(parseKernelConfig(['source=/boot/config-6.6.31+rpt-rpi-v8', 'CONFIG_VETH=m', 'CONFIG_NAMESPACES=y', 'CONFIG_X="str"', 'junk']), {
    config: { VETH: 'm', NAMESPACES: 'y' },
    configSource: '/boot/config-6.6.31+rpt-rpi-v8',
  });
  t.deepEqual(parseKernelConfig([]), { config: undefined, configSource: undefined });
});

test('hosts of one kernel build share one frozen config; another build gets its own', (t) => {
  const a = parseKernelConfig(['source=/proc/config.gz', 'CONFIG_VETH=m', 'CONFIG_NAMESPACES=y']).config;
  const b = parseKernelConfig(['source=/boot/config-6.6', ' CONFIG_VETH=m', 'CONFIG_NAMESPACES=y', 'CONFIG_X="s"']).config;
  const c = parseKernelConfig(['source=/proc/config.gz', 'CONFIG_VETH=y', 'CONFIG_NAMESPACES=y']).config;
  t.is(a, b);
  t.true(Object.isFrozen(a));
  t.not(a, c);
  t.deepEqual(c, { VETH: 'y', NAMESPACES: 'y' });
});

test('cgroup v2 / v1 / none', (t) => {
  t.deepEqual(parseCgroup('63677270', 'cpuset cpu io memory hugetlb pids rdma misc', []), {
    version: 2,
    controllers: ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'],
  });
  const procCgroups = ['#subsys_name\thierarchy\tnum_cgroups\tenabled', 'cpuset\t3\t1\t1', 'memory\t0\t1\t0', 'pids\t8\t1\t1', 'net_cls\t0\t1\t1'];
  t.deepEqual(parseCgroup('1021994', undefined, procCgroups), { version: 1, controllers: ['cpuset', 'pids'] });
  // pure v2 host: /proc/cgroups lists every controller at hierarchy 0
  t.deepEqual(parseCgroup('63677270', 'cpu memory', ['cpu\t0\t80\t1']), { version: 2, controllers: ['cpu', 'memory'] });
  // chroot without /sys
  t.deepEqual(parseCgroup('', undefined, procCgroups), { version: 0, controllers: [] });
});

test('sections: banner before the first section is ignored, CRLF tolerated', (t) => {
  const s = splitSections('Welcome!\r\n@@cairn:facts\r\n1\r\n@@cairn:hostname\r\npi\r\n\r\n@@cairn:end\r\n');
  t.deepEqual([...s.entries()], [
    ['facts', ['1']],
    ['hostname', ['pi']],
    ['end', []],
  ]);
});

test('refuses output that is not facts output or was cut short', (t) => {
  t.throws(() => parseFacts('hello', { chroot: false }), { message: /no @@cairn:facts/ });
  t.throws(() => parseFacts('@@cairn:facts\n9\n@@cairn:end\n', { chroot: false }), { message: /unknown format 9/ });
  t.throws(() => parseFacts('@@cairn:facts\n1\n@@cairn:hostname\nx\n', { chroot: false }), { message: /cut short/ });
});

const raspbianOut = `@@cairn:facts
1
@@cairn:hostname
pi4
@@cairn:os-release
PRETTY_NAME="Raspbian GNU/Linux 12 (bookworm)"
ID=raspbian
ID_LIKE=debian
VERSION_ID="12"
@@cairn:machine
armv7l
@@cairn:kernel-release
6.6.31+rpt-rpi-v7l
@@cairn:ldd
ldd (Debian GLIBC 2.36-9+rpt2+deb12u4) 2.36
@@cairn:pid1
comm=systemd
exe=
@@cairn:root-ids
root=179:2
pid1root=
@@cairn:init-dirs
/run/systemd/system
@@cairn:init-bins
/usr/lib/systemd/systemd
@@cairn:pkg
/usr/bin/apt-get
@@cairn:kernel-config
source=/boot/config-6.6.31+rpt-rpi-v7l
CONFIG_NAMESPACES=y
CONFIG_VETH=m
@@cairn:cgroup-fs
63677270
@@cairn:cgroup-v2
cpuset cpu io pids
@@cairn:meminfo
MemTotal:        3885316 kB
@@cairn:end
`;

test('raspbian 32-bit, non-root user (no PID 1 exe): systemd, arm, debian family, cgroup v2 without memory', (t) => {
  const f = parseFacts(raspbianOut, { chroot: false });
  t.like(f, { hostname: 'pi4', arch: 'arm', machine: 'armv7l', libc: 'glibc', init: 'systemd', packageManager: 'apt', chroot: false, memoryMb: 3794 });
  t.deepEqual(f.os, { id: 'raspbian', versionId: '12', like: ['debian'], prettyName: 'Raspbian GNU/Linux 12 (bookworm)', family: 'debian' });
  t.deepEqual(f.cgroup, { version: 2, controllers: ['cpuset', 'cpu', 'io', 'pids'] });
  t.deepEqual(f.kernel, { release: '6.6.31+rpt-rpi-v7l', config: { NAMESPACES: 'y', VETH: 'm' }, configSource: '/boot/config-6.6.31+rpt-rpi-v7l' });
});

test('chroot detected from the root ids even when the connector does not say so', (t) => {
  const out = raspbianOut.replace('pid1root=', 'pid1root=8:1');
  const f = parseFacts(out, { chroot: false });
  t.true(f.chroot);
  t.is(f.init, 'systemd'); // from what is installed
});
