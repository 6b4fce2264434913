/**
 * cairn test bed: boots a fleet of real hosts (systemd-nspawn containers with their own
 * network namespaces on one bridge) and writes a cairn inventory + ssh_config for it.
 *
 *   npm run bed -- up [--fleet NAME] [--alpine N] [--debian N] [--alpine-arm N] [--debian-arm N] [--s6]
 *   npm run bed -- status [--fleet NAME]
 *   npm run bed -- down [--fleet NAME | --all]
 *
 * See docs/testbed.md.
 */
import { Command, InvalidArgumentError } from 'commander';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { alpineBase, type BaseRoot } from './alpine.ts';
import {
  bedNetnsName,
  checkFleetName,
  DEFAULT_FLEET,
  FIRST_HOST_OCTET,
  fleetDir,
  hostMachineName,
  KIND_ORDER,
  KINDS,
  LAST_HOST_OCTET,
  STATE_BASE,
  subnetPrefix,
  type BecomeMethod,
  type Kind,
  CONTROLLER_OCTET,
  GATEWAY_OCTET,
} from './config.ts';
import { debianBase } from './debian.ts';
import { pool, run, sleep, verbose } from './exec.ts';
import { writeFleetFiles } from './files.ts';
import { bootHostWithRetry, isOurNspawn, mountOverlay, personalise } from './hosts.ts';
import { pickSubnetIndex, rootVethName, setupBedNetwork, setupHostNetwork } from './net.ts';
import { dataSource } from './source.ts';
import { readState, StateWriter, type FleetState, type HostState } from './state.ts';
import { knownFleets, teardown } from './teardown.ts';
import { isPidAlive } from './util.ts';

const log = (m: string) => process.stderr.write(`bed: ${m}\n`);

function count(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 200) throw new InvalidArgumentError('a whole number 0..200');
  return n;
}

// ------------------------------------------------------------------ lock (one up/down per fleet at a time)

function tryLock(file: string): (() => void) | { holder: number } {
  mkdirSync(STATE_BASE, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder = 0;
      try {
        holder = Number(readFileSync(file, 'utf8').trim());
      } catch {
        /* removed meanwhile */
      }
      if (holder && isPidAlive(holder)) return { holder };
      rmSync(file, { force: true }); // stale
    }
  }
  throw new Error(`cannot lock ${file}`);
}

function lock(fleet: string): () => void {
  const file = join(STATE_BASE, `.${fleet}.lock`);
  const l = tryLock(file);
  if (typeof l !== 'function') throw new Error(`fleet ${fleet} is busy: pid ${l.holder} holds ${file}`);
  return l;
}

/** Machine-wide lock from picking a subnet until its bridge exists (fleets started at the same time). */
async function subnetLock(): Promise<() => void> {
  const file = join(STATE_BASE, '.subnet-allocation.lck');
  for (let i = 0; i < 600; i++) {
    const l = tryLock(file);
    if (typeof l === 'function') return l;
    await sleep(100);
  }
  throw new Error(`${file} held for a minute`);
}

// ------------------------------------------------------------------ up

interface UpOptions {
  fleet: string;
  alpine: number;
  debian: number;
  alpineArm: number;
  debianArm: number;
  s6: boolean;
  parallel: number;
  keepOnFailure: boolean;
}

/** binfmt 'C' flag: setuid binaries (sudo, doas) work under qemu-user only with it. */
function binfmtCredentials(): boolean {
  try {
    const flags = readFileSync('/proc/sys/fs/binfmt_misc/qemu-aarch64', 'utf8').match(/^flags: (\S*)/m)?.[1] ?? '';
    return flags.includes('C');
  } catch {
    return false;
  }
}

function becomeFor(kind: Kind, hasDoasArm: boolean): BecomeMethod {
  switch (kind) {
    case 'alpine':
      return 'doas';
    case 'debian':
      return 'sudo';
    case 'alpine-arm':
      return hasDoasArm && binfmtCredentials() ? 'doas' : 'none';
    case 'debian-arm':
      return binfmtCredentials() ? 'sudo' : 'none';
  }
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => d && existsSync(join(d, cmd)));
}

/** Clear errors for a machine that lacks what the bed needs (test/bed/install-deps.sh installs it). */
function preflight(counts: Record<Kind, number>): void {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('must run as root (namespaces, mounts, systemd-nspawn)');
  const cmds = ['systemd-nspawn', 'ip', 'mount', 'umount', 'tar', 'ssh', 'ssh-keygen'];
  if (counts.debian + counts['debian-arm'] > 0) cmds.push('mmdebstrap', 'dpkg-scanpackages');
  // mmdebstrap refuses a foreign architecture without arch-test ("E: install arch-test ...")
  if (counts['debian-arm'] > 0) cmds.push('arch-test');
  if (counts.alpine > 0) cmds.push('xz');
  for (const c of cmds) if (!onPath(c)) problems.push(`${c} not found`);
  if (counts['alpine-arm'] + counts['debian-arm'] > 0) {
    let reg = '';
    try {
      reg = readFileSync('/proc/sys/fs/binfmt_misc/qemu-aarch64', 'utf8');
    } catch {
      /* missing */
    }
    if (!/^enabled/m.test(reg) || !/^flags: \S*F/m.test(reg)) problems.push('binfmt qemu-aarch64 is not enabled with flag F (aarch64 hosts run under qemu-user)');
  }
  if (problems.length) throw new Error(`this machine is not ready:\n  ${problems.join('\n  ')}\nrun: bash test/bed/install-deps.sh`);
}

/**
 * Every container's root is the controller's root user (no user namespaces), so all their
 * inotify instances count against one per-user limit: the default 128 makes systemd in
 * the 10th-or-so Debian container fail ("Too many open files") and hang its boot.
 * Raise (never lower) the limits.
 */
function raiseInotifyLimits(): void {
  for (const [name, min] of [
    ['max_user_instances', 8192],
    ['max_user_watches', 524288],
  ] as const) {
    const f = `/proc/sys/fs/inotify/${name}`;
    const cur = Number(readFileSync(f, 'utf8').trim());
    if (cur < min) {
      writeFileSync(f, `${min}\n`);
      log(`raised fs.inotify.${name} ${cur} -> ${min}`);
    }
  }
}

async function up(o: UpOptions): Promise<number> {
  const fleet = checkFleetName(o.fleet);
  const counts: Record<Kind, number> = { alpine: o.alpine, debian: o.debian, 'alpine-arm': o.alpineArm, 'debian-arm': o.debianArm };
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (total === 0) throw new Error('no hosts requested');
  if (total > LAST_HOST_OCTET - FIRST_HOST_OCTET + 1) throw new Error(`at most ${LAST_HOST_OCTET - FIRST_HOST_OCTET + 1} hosts per fleet`);
  preflight(counts);
  raiseInotifyLimits();
  const unlock = lock(fleet);
  const tStart = Date.now();
  let t0 = tStart;
  let state: FleetState | undefined;
  try {
    if (readState(fleet) || existsSync(fleetDir(fleet))) {
      log(`fleet ${fleet}: cleaning up what a previous run left (recorded in its state file)`);
      const r = await teardown(fleet, log);
      if (r.problems.length) throw new Error(`cleanup of the previous run failed:\n${r.problems.join('\n')}`);
      log(`cleanup: ${r.stopped} containers stopped, ${r.unmounted} unmounted, ${r.netns} netns deleted (${r.ms} ms)`);
      t0 = Date.now();
    }

    // caches (built once, reused by every later run)
    const src = await dataSource({ x86: counts.alpine > 0, arm: counts['alpine-arm'] > 0 });
    const bases: Partial<Record<Kind, BaseRoot>> = {};
    await Promise.all(
      KIND_ORDER.filter((k) => counts[k] > 0).map(async (k) => {
        bases[k] =
          k === 'alpine' || k === 'alpine-arm'
            ? await alpineBase(k, src)
            : await debianBase(k === 'debian' ? 'amd64' : 'arm64', src.clientPub);
      }),
    );
    const tCaches = Date.now();

    // subnet choice and bridge creation under a machine-wide lock (fleets started together)
    const unlockSubnet = await subnetLock();
    let w: StateWriter;
    try {
      const index = await pickSubnetIndex(fleet);
      const p = subnetPrefix(index);
      const dir = fleetDir(fleet);
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      chmodSync(dir, 0o755);
      state = {
        version: 1,
        fleet,
        status: 'starting',
        createdAt: new Date().toISOString(),
        dir,
        subnetIndex: index,
        subnet: `${p}.0/24`,
        gateway: `${p}.${GATEWAY_OCTET}`,
        controllerAddress: `${p}.${CONTROLLER_OCTET}`,
        bedNetns: bedNetnsName(fleet),
        rootVeth: rootVethName(index),
        s6: o.s6,
        source: src.label,
        files: {
          inventory: join(dir, 'inventory.yml'),
          sshConfig: join(dir, 'ssh_config'),
          knownHosts: join(dir, 'known_hosts'),
          key: join(dir, 'id_ed25519'),
        },
        hosts: [],
        netns: [],
        mounts: [],
        links: [],
      };
      w = new StateWriter(state);
      w.saveSync();
      copyFileSync(src.clientKey, state.files.key);
      chmodSync(state.files.key, 0o600);
      copyFileSync(src.clientPub, `${state.files.key}.pub`);
      chmodSync(`${state.files.key}.pub`, 0o644);

      await setupBedNetwork(w);
    } finally {
      unlockSubnet();
    }
    const dir = state.dir;
    const p = subnetPrefix(state.subnetIndex);
    let octet = FIRST_HOST_OCTET;
    for (const k of KIND_ORDER) {
      const base = bases[k];
      if (!base) continue;
      for (let i = 1; i <= counts[k]; i++) {
        const name = `${KINDS[k].namePrefix}${i}`;
        const hdir = join(dir, 'hosts', name);
        const machine = hostMachineName(fleet, name);
        state.hosts.push({
          name,
          kind: k,
          arch: KINDS[k].arch,
          init: KINDS[k].init,
          become: becomeFor(k, src.arm?.hasDoas ?? false),
          address: `${p}.${octet}`,
          machine,
          netns: machine,
          bedIface: `v${octet}`,
          lower: base.root,
          upper: join(hdir, 'upper'),
          work: join(hdir, 'work'),
          root: join(hdir, 'root'),
          repo: base.repo,
          repoTarget: base.repoTarget,
          console: join(hdir, 'console.log'),
        });
        octet++;
      }
    }
    w.saveSync();
    await pool(state.hosts, 8, async (h) => {
      await mountOverlay(w, h);
      await personalise(state!, h);
      await setupHostNetwork(w, h);
    });
    writeFleetFiles(state);
    w.saveSync();
    const tPrepared = Date.now();
    log(`prepared ${state.hosts.length} hosts in ${tPrepared - tCaches} ms (caches ${tCaches - t0} ms); booting ${o.parallel} at a time`);

    // slow (qemu) kinds first, so they overlap with the fast ones
    const order = [...state.hosts].sort((a, b) => slowness(b.kind) - slowness(a.kind));
    await pool(order, o.parallel, async (h) => {
      await bootHostWithRetry(w, h, log);
      console.log(`  ${h.name.padEnd(9)} ${h.kind.padEnd(11)} ${h.arch.padEnd(8)} ${h.address.padEnd(14)} ssh after ${h.bootMs} ms${h.boots ? ` (boot ${h.boots})` : ''}`);
    });
    const tUp = Date.now();
    await w.update((s) => {
      s.status = 'up';
      s.timings = { prepareMs: tPrepared - t0, bootMs: tUp - tPrepared, totalMs: tUp - tStart };
    });
    writeFleetFiles(state);
    console.log(
      `fleet ${fleet}: ${state.hosts.length} hosts up in ${((tUp - tStart) / 1000).toFixed(1)} s ` +
        `(${t0 > tStart ? `cleanup of a previous run ${((t0 - tStart) / 1000).toFixed(1)} s, ` : ''}caches ${((tCaches - t0) / 1000).toFixed(1)} s, prepare ${((tPrepared - tCaches) / 1000).toFixed(1)} s, boot ${((tUp - tPrepared) / 1000).toFixed(1)} s)`,
    );
    console.log(`  inventory   ${state.files.inventory}`);
    console.log(`  ssh_config  ${state.files.sshConfig}   (ssh -F ${state.files.sshConfig} ${state.hosts[0]!.name})`);
    console.log(`  known_hosts ${state.files.knownHosts}`);
    console.log(`  state       ${join(dir, 'state.json')}`);
    return 0;
  } catch (e) {
    process.stderr.write(`bed: up failed: ${(e as Error).message}\n`);
    if (state && !o.keepOnFailure) {
      log('tearing down what was started (use --keep-on-failure to keep it for debugging)');
      const r = await teardown(fleet, log);
      for (const p of r.problems) log(p);
    } else if (state) {
      await new StateWriter(state).update((s) => {
        s.status = 'failed';
      });
      log(`kept: inspect ${state.dir}, then run: npm run bed -- down --fleet ${fleet}`);
    }
    return 1;
  } finally {
    unlock();
  }
}

function slowness(k: Kind): number {
  return { 'debian-arm': 3, 'alpine-arm': 2, debian: 1, alpine: 0 }[k];
}

// ------------------------------------------------------------------ down / status

async function down(fleet: string): Promise<number> {
  checkFleetName(fleet);
  const unlock = lock(fleet);
  try {
    if (!readState(fleet) && !existsSync(fleetDir(fleet))) {
      console.log(`fleet ${fleet}: nothing to take down`);
      return 0;
    }
    const r = await teardown(fleet, log);
    for (const p of r.problems) log(p);
    console.log(
      `fleet ${fleet}: ${r.stopped} hosts stopped, ${r.unmounted} overlays unmounted, ${r.netns} netns deleted in ${(r.ms / 1000).toFixed(1)} s` +
        (r.problems.length ? ` with ${r.problems.length} problem(s)` : ''),
    );
    return r.problems.length ? 1 : 0;
  } finally {
    unlock();
  }
}

async function status(fleet: string): Promise<number> {
  checkFleetName(fleet);
  const s = readState(fleet);
  if (!s) {
    console.log(`fleet ${fleet}: not up (no ${join(fleetDir(fleet), 'state.json')})`);
    return 1;
  }
  console.log(`fleet ${fleet}: ${s.status}, subnet ${s.subnet}, ${s.hosts.length} hosts, s6 ${s.s6 ? 'on' : 'off'}, data: ${s.source}`);
  console.log(`  inventory ${s.files.inventory}\n  ssh_config ${s.files.sshConfig}`);
  let bad = 0;
  await pool(s.hosts, 16, async (h: HostState) => {
    const alive = isOurNspawn(h.nspawnPid, h.machine);
    const t = Date.now();
    const r = alive
      ? await run(['ssh', '-F', s.files.sshConfig, h.name, 'true'], { allowFail: true, timeoutMs: 15_000 })
      : { code: -1, stderr: 'container not running' };
    const ok = r.code === 0;
    if (!ok) bad++;
    (h as HostState & { line?: string }).line =
      `  ${h.name.padEnd(9)} ${h.kind.padEnd(11)} ${h.arch.padEnd(8)} ${h.address.padEnd(14)} nspawn ${String(h.nspawnPid ?? '-').padEnd(8)} ` +
      (ok ? `ssh ok (${Date.now() - t} ms)` : `ssh FAILED: ${r.stderr.trim().split('\n').pop()}`);
  });
  for (const h of s.hosts) console.log((h as HostState & { line?: string }).line);
  return bad || s.status !== 'up' ? 1 : 0;
}

// ------------------------------------------------------------------ main

const program = new Command('bed')
  .description('cairn test bed: a fleet of real hosts (systemd-nspawn + own netns) with inventory and ssh_config')
  .option('-v, --verbose', 'print every command run', () => (verbose.on = true));

const fleetOpt = ['--fleet <name>', 'fleet name (env CAIRN_BED_FLEET)', process.env.CAIRN_BED_FLEET ?? DEFAULT_FLEET] as const;

program
  .command('up')
  .description('boot a fleet (cleans up a previous run of the same fleet first)')
  .option(...fleetOpt)
  .option('--alpine <n>', 'Alpine 3.19 x86_64 hosts (OpenRC)', count, 2)
  .option('--debian <n>', 'Debian 12 amd64 hosts (systemd)', count, 1)
  .option('--alpine-arm <n>', 'Alpine 3.7 aarch64 hosts (OpenRC, qemu-user)', count, 1)
  .option('--debian-arm <n>', 'Debian 12 arm64 hosts (systemd, qemu-user)', count, 1)
  .option('--s6', 'start s6-svscan and the toy s6 service toys6 at boot on the alpine hosts', false)
  .option('--parallel <n>', 'containers booting at the same time', count, 6)
  .option('--keep-on-failure', 'leave a failed fleet running for debugging', false)
  .action(async (o: UpOptions) => {
    process.exitCode = await up(o);
  });

program
  .command('down')
  .description('stop the fleet, remove its mounts, namespaces and state dir')
  .option(...fleetOpt)
  .option('--all', 'every fleet with a state dir')
  .action(async (o: { fleet: string; all?: boolean }) => {
    const fleets = o.all ? knownFleets() : [o.fleet];
    let rc = 0;
    for (const f of fleets) rc = Math.max(rc, await down(f));
    process.exitCode = rc;
  });

program
  .command('status')
  .description('list the hosts and whether each answers ssh')
  .option(...fleetOpt)
  .action(async (o: { fleet: string }) => {
    process.exitCode = await status(o.fleet);
  });

program.parseAsync(process.argv).catch((e: Error) => {
  process.stderr.write(`bed: ${e.message}\n`);
  process.exitCode = 1;
});
