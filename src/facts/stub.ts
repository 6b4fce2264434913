import type { Facts } from './types.ts';

/**
 * Facts of typical hosts, used before any connection to dry-build every role's
 * steps and render every template (so a missing variable is found up front).
 */
export const stubFacts: readonly Facts[] = [
  {
    hostname: 'alpine-stub',
    os: { id: 'alpine', versionId: '3.19.4', like: [], prettyName: 'Alpine Linux v3.19', family: 'alpine' },
    machine: 'x86_64',
    arch: 'amd64',
    libc: 'musl',
    init: 'openrc',
    supervisors: { openrc: true, s6: true, systemd: false },
    packageManager: 'apk',
    kernel: { release: '6.6.0', config: {}, configSource: undefined },
    cgroup: { version: 2, controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] },
    memoryMb: 1024,
    cpus: 1,
    chroot: false,
  },
  {
    hostname: 'raspbian-stub',
    os: { id: 'debian', versionId: '12', like: [], prettyName: 'Debian GNU/Linux 12 (bookworm)', family: 'debian' },
    machine: 'aarch64',
    arch: 'arm64',
    libc: 'glibc',
    init: 'systemd',
    supervisors: { openrc: false, s6: false, systemd: true },
    packageManager: 'apt',
    kernel: { release: '6.12.0', config: {}, configSource: undefined },
    cgroup: { version: 2, controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] },
    memoryMb: 4096,
    cpus: 4,
    chroot: false,
  },
];
