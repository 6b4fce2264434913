import { sh, type ShellCommand } from '../shell/sh.ts';

/** Marks the start of a section in the facts output: `@@cairn:<name>` on its own line. */
export const SECTION_PREFIX = '@@cairn:';

/** Bumped when the output format changes, so a parser can refuse output it does not know. */
export const FACTS_FORMAT = 1;

/**
 * The binaries whose presence tells which init systems / supervisors are installed.
 * Printed one per line in the `init-bins` section when executable.
 */
export const INIT_BINARIES = [
  '/sbin/openrc-run',
  '/usr/sbin/openrc-run',
  '/sbin/openrc',
  '/usr/sbin/openrc',
  '/lib/systemd/systemd',
  '/usr/lib/systemd/systemd',
  '/bin/s6-svscan',
  '/usr/bin/s6-svscan',
  '/sbin/s6-svscan',
  '/command/s6-svscan',
  '/package/admin/s6/command/s6-svscan',
] as const;

/**
 * One read-only command printing every fact in `@@cairn:<section>` blocks (see
 * parse.ts for the reader). POSIX sh only: runs on busybox ash (1.27+) and dash.
 * Every probe tolerates a missing file or tool (chroot without /proc or /sys, non-root
 * user) and the command always exits 0.
 *
 * Sections, in order:
 *   facts           format version
 *   hostname        `hostname` (or /proc/sys/kernel/hostname)
 *   etc-hostname    /etc/hostname (the image's own name in a chroot)
 *   os-release      /etc/os-release (or /usr/lib/os-release) verbatim
 *   machine         `uname -m`
 *   kernel-release  `uname -r`
 *   ldd             first lines of `ldd --version 2>&1` (musl prints "musl libc")
 *   loaders         dynamic loaders present, one path a line
 *   glibc           `getconf GNU_LIBC_VERSION`
 *   pid1            comm=<PID 1 comm>, exe=<PID 1 exe link>
 *   root-ids        root=<dev:ino of />, pid1root=<dev:ino of /proc/1/root> (chroot hint)
 *   init-dirs       /run/openrc, /run/systemd/system when they exist
 *   init-bins       INIT_BINARIES that are executable, plus `command -v` hits
 *   s6-running      `running` when a process named s6-svscan exists
 *   pkg             `command -v apk`, `command -v apt-get`
 *   kernel-config   source=<path>, then only CONFIG_X=y|m lines
 *   cgroup-fs       `stat -f -c %t /sys/fs/cgroup` (63677270 = cgroup2)
 *   cgroup-v2       /sys/fs/cgroup/cgroup.controllers
 *   cgroup-v1       /proc/cgroups verbatim
 *   meminfo         the MemTotal line of /proc/meminfo
 *   cpus            the number of `processor` lines of /proc/cpuinfo (Ansible's processor_vcpus)
 *   end
 */
export function factsCommand(): ShellCommand {
  return sh`s() { echo "@@cairn:$1"; }
s facts; echo ${FACTS_FORMAT}
s hostname; hostname 2>/dev/null || cat /proc/sys/kernel/hostname 2>/dev/null
s etc-hostname; cat /etc/hostname 2>/dev/null
s os-release; cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null
s machine; uname -m
s kernel-release; uname -r
s ldd; ldd --version 2>&1 | head -n 3
s loaders; for f in /lib/ld-musl-*.so.1 /lib/ld-linux*.so* /lib64/ld-linux*.so* /lib/*-linux-gnu*/ld-linux*.so*; do [ -e "$f" ] && echo "$f"; done
s glibc; getconf GNU_LIBC_VERSION 2>/dev/null
s pid1; echo "comm=$(cat /proc/1/comm 2>/dev/null)"; echo "exe=$(readlink /proc/1/exe 2>/dev/null)"
s root-ids; echo "root=$(stat -c %d:%i / 2>/dev/null)"; echo "pid1root=$(stat -c %d:%i /proc/1/root/ 2>/dev/null)"
s init-dirs; for d in /run/openrc /run/systemd/system; do [ -d "$d" ] && echo "$d"; done
s init-bins; for f in ${[...INIT_BINARIES]}; do [ -x "$f" ] && echo "$f"; done; command -v openrc-run 2>/dev/null; command -v s6-svscan 2>/dev/null
s s6-running; grep -qx s6-svscan /proc/[0-9]*/comm 2>/dev/null && echo running
s pkg; command -v apk 2>/dev/null; command -v apt-get 2>/dev/null
s kernel-config
r=$(uname -r)
if [ -r /proc/config.gz ]; then echo source=/proc/config.gz; { zcat /proc/config.gz 2>/dev/null || gzip -dc /proc/config.gz 2>/dev/null; } | grep -E '^CONFIG_[A-Za-z0-9_]+=[ym]$'
elif [ -r "/boot/config-$r" ]; then echo "source=/boot/config-$r"; grep -E '^CONFIG_[A-Za-z0-9_]+=[ym]$' "/boot/config-$r"
fi
s cgroup-fs; stat -f -c %t /sys/fs/cgroup 2>/dev/null
s cgroup-v2; cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null
s cgroup-v1; cat /proc/cgroups 2>/dev/null
s meminfo; grep '^MemTotal:' /proc/meminfo 2>/dev/null
s cpus; grep -c '^processor' /proc/cpuinfo 2>/dev/null
s end
exit 0`;
}

