/** What cairn knows about a host, gathered in one round trip (see facts/gather.ts). */
export type Arch = 'amd64' | 'arm64' | 'arm' | '386' | 'unknown';
export type Libc = 'musl' | 'glibc' | 'unknown';
export type InitSystem = 'openrc' | 'systemd' | 's6' | 'unknown';
export type PackageManager = 'apk' | 'apt' | 'unknown';
/** y = built in, m = module; absent = not set. */
export type KernelOption = 'y' | 'm';
/** Parsed CONFIG_* options (frozen: hosts of one kernel build share it). */
export type KernelConfig = Readonly<Record<string, KernelOption>>;

export interface Facts {
  hostname: string;
  os: {
    /** os-release ID: alpine, debian, raspbian, ... */
    id: string;
    /** os-release VERSION_ID: 3.19.4, 12, ... */
    versionId: string;
    /** ID_LIKE words, e.g. ['debian'] */
    like: string[];
    prettyName: string;
    family: 'alpine' | 'debian' | 'unknown';
  };
  /** `uname -m` as printed: x86_64, aarch64, armv7l */
  machine: string;
  /** normalised: aarch64 -> arm64, x86_64 -> amd64, armv7l/armv6l -> arm */
  arch: Arch;
  libc: Libc;
  /** The init system running as PID 1 (or, in a chroot, the one installed). */
  init: InitSystem;
  /** Supervisors available on the host (s6 can run under OpenRC). */
  supervisors: { openrc: boolean; s6: boolean; systemd: boolean };
  packageManager: PackageManager;
  kernel: {
    release: string;
    /** Parsed CONFIG_* options (without the CONFIG_ prefix); undefined if no config was found. */
    config: KernelConfig | undefined;
    /** Where it was read: /proc/config.gz or /boot/config-<release> */
    configSource: string | undefined;
  };
  cgroup: {
    version: 1 | 2 | 0;
    /** Controllers available (v2: cgroup.controllers; v1: mounted hierarchies). */
    controllers: string[];
  };
  /** MemTotal in MiB (Ansible's memtotal_mb); 0 when unknown. */
  memoryMb: number;
  /** Online CPUs the kernel lists in /proc/cpuinfo (Ansible's processor_vcpus); 0 when unknown. */
  cpus: number;
  /** True when the target is a chroot / mounted root, not a booted system. */
  chroot: boolean;
}
