/**
 * One host: overlay root (shared read-only lower per kind + per-host upper), per-host
 * identity files, boot under systemd-nspawn in its own netns, wait for real ssh, stop.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import type { Kind } from './config.ts';
import { KINDS } from './config.ts';
import { run, sleep } from './exec.ts';
import { settleSystemd } from './settle.ts';
import { inOwnCgroups, removeContainerCgroups } from './cgroup.ts';
import type { FleetState, HostState, StateWriter } from './state.ts';
import { writeFileMode } from './util.ts';

// ------------------------------------------------------------------ processes

export function readCmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`).toString('utf8').split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
  } catch {
    return [];
  }
}

/** Is `pid` a systemd-nspawn process started for `machine` (checked on its command line)? */
export function isOurNspawn(pid: number | undefined, machine: string): boolean {
  if (!pid || pid <= 1) return false;
  const argv = readCmdline(pid);
  if (!argv[0] || basename(argv[0]) !== 'systemd-nspawn') return false;
  return argv.some((a, i) => a === `--machine=${machine}` || ((a === '-M' || a === '--machine') && argv[i + 1] === machine));
}

/** Direct children of `pid` (from /proc/<n>/stat). */
export function childrenOf(pid: number): number[] {
  const kids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(d));
    } catch {
      /* gone */
    }
  }
  return kids;
}

// ------------------------------------------------------------------ preparation

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

export async function mountOverlay(w: StateWriter, h: HostState): Promise<void> {
  for (const d of [h.upper, h.work, h.root]) mkdirSync(d, { recursive: true });
  await w.recordMount(h.root);
  await run(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${h.lower},upperdir=${h.upper},workdir=${h.work}`, h.root]);
}

/** Per-host files, written through the overlay into the host's upper dir. */
/** Fails its first start of each boot, then succeeds: a transient boot failure (settle.ts). */
const FLAKY_UNIT = `[Unit]
Description=cairn test bed: fails once per boot
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'if [ -e /run/cairn-bed-flaky ]; then exit 0; fi; touch /run/cairn-bed-flaky; echo "cairn-bed-flaky: failing once, as asked"; exit 1'
[Install]
WantedBy=multi-user.target
`;

export async function personalise(s: FleetState, h: HostState): Promise<void> {
  const r = h.root;
  writeFileSync(join(r, 'etc/hostname'), `${h.name}\n`);
  const peers = s.hosts.map((p) => `${p.address}\t${p.name}`).join('\n');
  writeFileSync(join(r, 'etc/hosts'), `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n# cairn test bed fleet ${s.fleet}\n${peers}\n`);
  // own resolv.conf; no resolver is reachable in the bed (the gateway answers nothing)
  rmSync(join(r, 'etc/resolv.conf'), { force: true });
  writeFileSync(join(r, 'etc/resolv.conf'), `# cairn test bed host ${h.name}\nsearch bed.test\nnameserver ${s.gateway}\n`);
  const key = join(r, 'etc/ssh/ssh_host_ed25519_key');
  rmSync(key, { force: true });
  rmSync(`${key}.pub`, { force: true });
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `root@${h.name}`, '-f', key]);
  const pub = readFileSync(`${key}.pub`, 'utf8').trim().split(/\s+/);
  h.hostKey = `${pub[0]} ${pub[1]} root@${h.name}`;
  if (KINDS[h.kind].init === 'systemd') {
    writeFileMode(join(r, 'etc/machine-id'), randomBytes(16).toString('hex') + '\n', 0o444);
    // tests: CAIRN_BED_FLAKY_UNIT=deb1 gives deb1 a unit that fails the first time per boot
    if ((process.env.CAIRN_BED_FLAKY_UNIT ?? '').split(',').includes(h.name)) {
      const sys = join(r, 'etc/systemd/system');
      writeFileMode(join(sys, 'cairn-bed-flaky.service'), FLAKY_UNIT, 0o644);
      mkdirSync(join(sys, 'multi-user.target.wants'), { recursive: true });
      symlinkSync('/etc/systemd/system/cairn-bed-flaky.service', join(sys, 'multi-user.target.wants/cairn-bed-flaky.service'));
    }
  }
  if (KINDS[h.kind].os === 'alpine' && s.s6 && existsSync(join(r, 'etc/init.d/toys6'))) {
    for (const svc of ['s6-svscan', 'toys6']) {
      const l = join(r, 'etc/runlevels/default', svc);
      if (!isLink(l)) symlinkSync(`/etc/init.d/${svc}`, l);
    }
  }
}

// ------------------------------------------------------------------ boot

export function nspawnBootArgv(h: HostState): string[] {
  return [
    'systemd-nspawn',
    `--directory=${h.root}`,
    `--machine=${h.machine}`,
    '--register=no',
    '--keep-unit',
    `--network-namespace-path=/run/netns/${h.netns}`,
    '--capability=CAP_NET_ADMIN',
    '--resolv-conf=off',
    '--timezone=off',
    '--link-journal=no',
    '--console=read-only',
    `--bind-ro=${h.repo}:${h.repoTarget}`,
    '--boot',
  ];
}

/** TCP connect and read the SSH banner. */
function sshBanner(address: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port: 22 });
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      sock.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => finish(false), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => finish(d.startsWith('SSH-')));
    sock.on('error', () => finish(false));
    sock.on('close', () => finish(false));
  });
}

export function consoleTail(h: HostState, lines = 25): string {
  try {
    return readFileSync(h.console, 'utf8')
      .replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
      .split('\n')
      .slice(-lines)
      .join('\n');
  } catch {
    return '(no console log)';
  }
}

/**
 * Boot a host; when the first boot does not reach ssh in time (seen once in a few dozen runs
 * on a loaded machine), power it off and boot it once more, as one would a stuck board.
 * CAIRN_BED_FAIL_FIRST_BOOT=alp1,deb1 makes those hosts' first boot time out at once (tests).
 */
export async function bootHostWithRetry(w: StateWriter, h: HostState, log: (m: string) => void): Promise<void> {
  const failFirst = (process.env.CAIRN_BED_FAIL_FIRST_BOOT ?? '').split(',').includes(h.name);
  try {
    await bootHost(w, h, failFirst ? 0 : KINDS[h.kind].bootTimeoutSec, log);
  } catch (e) {
    log(`${h.name}: first boot failed, powering it off and booting it once more: ${(e as Error).message.split('\n')[0]}`);
    await stopHost(h, log);
    await w.update(() => {
      h.boots = (h.boots ?? 1) + 1;
    });
    await bootHost(w, h, KINDS[h.kind].bootTimeoutSec, log);
  }
}

/** Start the container and wait until `ssh -F ssh_config <name> true` succeeds (strict host key checking) and, on systemd, the boot has finished. */
export async function bootHost(w: StateWriter, h: HostState, timeoutSec: number, log: (m: string) => void): Promise<void> {
  const argv = inOwnCgroups(h.machine, nspawnBootArgv(h));
  const consoleFd = openSync(h.console, 'a');
  const t0 = Date.now();
  // /proc/sys/net writable: the host has its own netns, so sysctl roles can really be shown
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', consoleFd, consoleFd], env: { ...process.env, SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network' } });
  closeSync(consoleFd);
  const pid = child.pid;
  if (!pid) throw new Error(`${h.name}: could not start systemd-nspawn`);
  let exited: string | undefined;
  child.on('exit', (code, sig) => (exited = `systemd-nspawn exited (${sig ?? code})`));
  child.on('error', (e) => (exited = `systemd-nspawn: ${e.message}`));
  child.unref();
  // the cgroup wrapper (a shell) execs systemd-nspawn at once; until it has, stopHost would
  // not recognise the PID as this host's nspawn and a retry could boot a second copy
  for (let i = 0; i < 250 && !exited && !isOurNspawn(pid, h.machine); i++) await sleep(20);
  await w.update(() => {
    h.nspawnPid = pid;
  });
  const deadline = t0 + timeoutSec * 1000;
  let lastErr = '';
  for (;;) {
    if (exited) throw new Error(`${h.name}: ${exited} before ssh answered; console:\n${consoleTail(h)}`);
    if (Date.now() > deadline) {
      throw new Error(`${h.name}: no ssh after ${timeoutSec} s (${lastErr || 'no banner'}); console:\n${consoleTail(h)}`);
    }
    if (await sshBanner(h.address, 1000)) {
      const r = await run(['ssh', '-F', w.state.files.sshConfig, h.name, 'true'], { allowFail: true, timeoutMs: 20_000 });
      if (r.code === 0) break;
      lastErr = r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`;
    }
    await sleep(100);
  }
  if (KINDS[h.kind].init === 'systemd') await settleSystemd(w, h, Math.max(10, Math.round((deadline - Date.now()) / 1000)), log);
  const bootMs = Date.now() - t0;
  const init = childrenOf(pid)[0];
  await w.update(() => {
    h.bootMs = bootMs;
    if (init) h.initPid = init;
  });
}

// ------------------------------------------------------------------ stop

/** Poweroff request understood by the guest's PID 1. */
function poweroffSignal(kind: Kind): NodeJS.Signals | number {
  switch (kind) {
    case 'alpine':
    case 'alpine-arm':
      return 'SIGUSR2'; // busybox init: poweroff (runs ::shutdown: openrc shutdown)
    case 'debian':
      return 34 + 4; // SIGRTMIN+4: systemd poweroff
    case 'debian-arm':
      // qemu-user (7.2) keeps the two lowest host real-time signals for itself and shifts the rest
      // down by two: host SIGRTMIN+6 arrives as guest SIGRTMIN+4 (nspawn's own SIGRTMIN+3 halt
      // request arrives as SIGRTMIN+1 = rescue.target, which is why SIGTERM to nspawn does not work).
      return 34 + 6;
  }
}

async function waitGone(pid: number, machine: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (!isOurNspawn(pid, machine)) return true;
    await sleep(100);
  }
  return !isOurNspawn(pid, machine);
}

function kill(pid: number, sig: NodeJS.Signals | number): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** Stop one host; only PIDs recorded for it and verified as its systemd-nspawn (and that process's child) are signalled. */
export async function stopHost(h: HostState, log: (m: string) => void): Promise<boolean> {
  const stopped = await stopNspawn(h, log);
  removeContainerCgroups(h.machine);
  return stopped;
}

async function stopNspawn(h: HostState, log: (m: string) => void): Promise<boolean> {
  const pid = h.nspawnPid;
  if (!pid || !isOurNspawn(pid, h.machine)) return false;
  const init = childrenOf(pid)[0];
  if (init) kill(init, poweroffSignal(h.kind));
  const grace = KINDS[h.kind].arch === 'aarch64' ? 30_000 : 15_000;
  if (await waitGone(pid, h.machine, grace)) return true;
  log(`${h.name}: no poweroff after ${grace / 1000} s: SIGTERM to systemd-nspawn ${pid}`);
  kill(pid, 'SIGTERM');
  if (await waitGone(pid, h.machine, 5000)) return true;
  kill(pid, 'SIGTERM'); // a second SIGTERM: immediate termination
  if (await waitGone(pid, h.machine, 5000)) return true;
  log(`${h.name}: still running: SIGKILL to its init and systemd-nspawn ${pid}`);
  const init2 = childrenOf(pid)[0];
  if (init2) kill(init2, 'SIGKILL'); // PID 1 of the container: the kernel kills the whole pid namespace
  kill(pid, 'SIGKILL');
  if (!(await waitGone(pid, h.machine, 5000))) throw new Error(`${h.name}: systemd-nspawn ${pid} does not die`);
  return true;
}
