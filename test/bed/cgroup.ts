import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One cgroup per container. systemd-nspawn with --keep-unit --register=no (no systemd
 * on this machine to ask for a scope) puts the container in `<its caller's cgroup>/payload`,
 * so every container the bed started shared /payload, and their systemds created and
 * removed the same /payload/system.slice/<unit> directories: under concurrent boots a
 * unit failed with 219/CGROUP (seen: systemd-sysctl, systemd-user-sessions). Each
 * nspawn now starts in `<caller's cgroup>/<machine>` of the hierarchies a booted systemd
 * uses: name=systemd (cgroup v1, hybrid layout) and the unified one (v2).
 */
export function containerCgroupDirs(machine: string): string[] {
  const v2 = ['/sys/fs/cgroup', '/sys/fs/cgroup/unified'].find((m) => existsSync(join(m, 'cgroup.controllers')));
  const v1 = existsSync('/sys/fs/cgroup/systemd/cgroup.procs') ? '/sys/fs/cgroup/systemd' : undefined;
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === 'name=systemd' && v1) out.push(join(v1, m[2]!, machine));
    if (m[1] === '' && v2) out.push(join(v2, m[2]!, machine));
  }
  return out;
}

/**
 * argv that moves itself into the container's own cgroups, then execs `argv` (same
 * PID). A hierarchy that refuses (no permission, not delegated) is skipped: the
 * container then shares its caller's, as before.
 */
export function inOwnCgroups(machine: string, argv: readonly string[]): string[] {
  const procs: string[] = [];
  for (const d of containerCgroupDirs(machine)) {
    try {
      mkdirSync(d, { recursive: true });
      procs.push(join(d, 'cgroup.procs'));
    } catch {
      /* not ours to create */
    }
  }
  if (procs.length === 0) return [...argv];
  const script = 'while [ "$1" != -- ]; do echo $$ 2>/dev/null >"$1" || :; shift; done; shift; exec "$@"';
  return ['/bin/sh', '-c', script, 'sh', ...procs, '--', ...argv];
}

/** Remove a stopped container's cgroups (empty directories, deepest first). */
export function removeContainerCgroups(machine: string): void {
  const rm = (d: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e);
      try {
        if (statSync(p).isDirectory()) rm(p);
      } catch {
        /* gone meanwhile */
      }
    }
    try {
      rmdirSync(d);
    } catch {
      /* still has a process, or already gone */
    }
  };
  for (const d of containerCgroupDirs(machine)) rm(d);
}
