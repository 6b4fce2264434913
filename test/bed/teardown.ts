/**
 * `down`, and the crash cleanup at the start of `up`: undo exactly what the state file
 * records (processes verified by command line, mounts, netns and links by our prefix),
 * then remove the state dir.
 */
import { existsSync, readdirSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { fleetDir, PREFIX, ROOT_VETH_PREFIX, STATE_BASE } from './config.ts';
import { pool, run } from './exec.ts';
import { stopHost } from './hosts.ts';
import { linkExists, netnsExists } from './net.ts';
import { readState, StateWriter, type FleetState } from './state.ts';

/** Mount points (unescaped) from /proc/self/mountinfo. */
export function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
}

function under(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`);
}

export interface TeardownReport {
  stopped: number;
  unmounted: number;
  netns: number;
  ms: number;
  problems: string[];
}

export async function teardown(fleet: string, log: (m: string) => void = (m) => process.stderr.write(`bed: ${m}\n`)): Promise<TeardownReport> {
  const t0 = Date.now();
  const dir = fleetDir(fleet);
  const report: TeardownReport = { stopped: 0, unmounted: 0, netns: 0, ms: 0, problems: [] };
  const s = readState(fleet);
  if (!s) {
    if (existsSync(dir)) removeDir(dir, report);
    report.ms = Date.now() - t0;
    return report;
  }
  if (s.dir !== dir) throw new Error(`state file of fleet ${fleet} names dir ${s.dir}, expected ${dir}: refusing`);
  const w = new StateWriter(s);
  await w.update((st) => {
    st.status = 'stopping';
  });

  // 1. containers (parallel: each waits for its own clean poweroff)
  await pool(s.hosts, 32, async (h) => {
    try {
      if (await stopHost(h, log)) report.stopped++;
    } catch (e) {
      report.problems.push((e as Error).message);
    }
  });

  if (report.problems.length) {
    report.problems.push(`state kept in ${dir}: fix the above and run down again`);
    report.ms = Date.now() - t0;
    return report;
  }

  // 2. overlay mounts (only those recorded, only under our state dir)
  const mounted = new Set(mountPoints());
  for (const m of [...s.mounts].reverse()) {
    if (!under(m, dir)) {
      report.problems.push(`recorded mount ${m} is outside ${dir}: left alone`);
      continue;
    }
    if (!mounted.has(m)) continue;
    const r = await run(['umount', m], { allowFail: true });
    if (r.code !== 0) {
      log(`umount ${m} failed (${r.stderr.trim()}): lazy unmount`);
      await run(['umount', '-l', m], { allowFail: true });
    }
    report.unmounted++;
  }

  // 3. network namespaces (host ones first, then the bed) and the controller's veth
  const nsList = [...s.netns].sort((a, b) => (a === s.bedNetns ? 1 : b === s.bedNetns ? -1 : 0));
  for (const ns of nsList) {
    if (!ns.startsWith(`${PREFIX}-${fleet}`)) {
      report.problems.push(`recorded netns ${ns} lacks our prefix: left alone`);
      continue;
    }
    if (!netnsExists(ns)) continue;
    const r = await run(['ip', 'netns', 'del', ns], { allowFail: true });
    if (r.code !== 0) report.problems.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
    else report.netns++;
  }
  for (const l of s.links) {
    if (!l.startsWith(ROOT_VETH_PREFIX)) continue;
    if (linkExists(l)) await run(['ip', 'link', 'del', l], { allowFail: true });
  }

  // 4. what systemd-nspawn leaves behind for our machine names (empty dirs)
  for (const h of s.hosts) {
    const d = join('/run/systemd/nspawn/propagate', h.machine);
    try {
      if (existsSync(d)) rmdirSync(d);
    } catch {
      /* not empty: leave it */
    }
  }

  // 5. the state dir
  removeDir(dir, report);
  report.ms = Date.now() - t0;
  return report;
}

function removeDir(dir: string, report: TeardownReport): void {
  const left = mountPoints().filter((m) => under(m, dir));
  if (left.length) {
    report.problems.push(`still mounted under ${dir}: ${left.join(', ')}: state dir kept`);
    return;
  }
  rmSync(dir, { recursive: true, force: true });
}

/** Fleets that have a state dir. */
export function knownFleets(): string[] {
  if (!existsSync(STATE_BASE)) return [];
  return readdirSync(STATE_BASE, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(STATE_BASE, d.name, 'state.json')))
    .map((d) => d.name);
}

export type { FleetState };
