// The plain-OpenSSH floors the benchmark's ratios are taken against, measured in the
// same run on the same hosts: one `ssh` per host, all in parallel. The push floor
// streams the whole payload as one tar per host; the check floor runs one script per
// host that reads what a no-op run must read (each file's mode, owner and sha256, the
// users).
import { spawn } from 'node:child_process';
import type { BedHost } from '../bed/fleet.ts';
import { sshArgs } from '../bed/fleet.ts';
import { sh, type ShellCommand } from '../../src/shell/sh.ts';

/** Paths the workload manages (the check floor stats and hashes each). */
export const MANAGED_FILES = ['/opt/bench/bin/agent', '/etc/bench/agent.conf', '/etc/bench/limits.conf', '/opt/bench/share/bundle/README'];

/** Run a command line on the controller (built with the sh tag); its exit code. */
function run(cmd: ShellCommand): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn('sh', ['-c', cmd.text], { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', reject);
    p.on('close', (c) => resolve(c ?? 1));
  });
}



/** Seconds for one tar stream per host of `dir` into /tmp/cairn-floor (removed again after). */
export async function pushFloor(hosts: readonly BedHost[], dir: string): Promise<number> {
  const t0 = Date.now();
  const codes = await Promise.all(
    hosts.map((h) => run(sh`tar -C ${dir} -cf - . | ${sshArgs(h)} ${'rm -rf /tmp/cairn-floor && mkdir -p /tmp/cairn-floor && tar -xf - -C /tmp/cairn-floor'}`)),
  );
  const s = (Date.now() - t0) / 1000;
  await Promise.all(hosts.map((h) => run(sh`${sshArgs(h)} ${'rm -rf /tmp/cairn-floor'}`)));
  if (codes.some((c) => c !== 0)) throw new Error(`push floor: ssh/tar failed on ${codes.filter((c) => c !== 0).length} hosts`);
  return s;
}

/** The check floor's script: what a no-op run has to learn, in one shell. */
export const CHECK_SCRIPT = `for f in ${MANAGED_FILES.join(' ')}; do stat -c '%a %u %g %s' "$f"; sha256sum "$f"; done; id benchagent; id benchops; cat /etc/bench/limits.conf >/dev/null`;

/** Seconds for one ssh per host running CHECK_SCRIPT. */
export async function checkFloor(hosts: readonly BedHost[]): Promise<number> {
  const t0 = Date.now();
  const codes = await Promise.all(hosts.map((h) => run(sh`${sshArgs(h)} ${CHECK_SCRIPT}`)));
  const s = (Date.now() - t0) / 1000;
  if (codes.some((c) => c !== 0)) throw new Error(`check floor: the script failed on ${codes.filter((c) => c !== 0).length} hosts (is the workload applied?)`);
  return s;
}
