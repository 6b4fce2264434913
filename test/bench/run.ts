// npm run bench: cairn's speed and memory targets, measured on a 30-host test-bed fleet
// (real OpenSSH, real Alpine/OpenRC and Debian/systemd hosts). Not a test: it prints
// the numbers and exits 1 when a target is missed.
import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { loadFleet } from '../bed/fleet.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const fleetName = process.env.CAIRN_BENCH_FLEET ?? 'bench';
const alpine = Number(process.env.CAIRN_BENCH_ALPINE ?? 24);
const debian = Number(process.env.CAIRN_BENCH_DEBIAN ?? 6);

/** Targets (2 cores, 30 hosts). */
const TARGETS = {
  firstApplySeconds: 60,
  noopApplySeconds: 10,
  noopRoundTripsPerHost: 3,
  peakRssMb: 250,
};

interface Measured {
  code: number;
  seconds: number;
  peakRssMb: number;
  stdout: string;
}

/** Run the real CLI under /usr/bin/time-like accounting: wall time and the child's peak RSS. */
function cairn(args: string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(process.execPath, [join(repo, 'src/cli/bin.js'), ...args], { env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let peak = 0;
    const sample = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) / 1024);
      } catch {
        /* exited */
      }
    }, 50);
    p.stdout.on('data', (d) => (stdout += d));
    p.on('error', reject);
    p.on('close', (code) => {
      clearInterval(sample);
      resolve({ code: code ?? 1, seconds: Number(process.hrtime.bigint() - t0) / 1e9, peakRssMb: peak, stdout });
    });
  });
}

function bed(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(repo, 'test/bed/cli.ts'), ...args, '--fleet', fleetName], { stdio: 'inherit' });
    p.on('close', (c) => resolve(c ?? 1));
  });
}

let failed = false;
const check = (name: string, value: number, target: number, unit: string) => {
  const ok = value <= target;
  if (!ok) failed = true;
  console.log(`${ok ? 'ok  ' : 'MISS'} ${name.padEnd(34)} ${value.toFixed(2).padStart(8)} ${unit.padEnd(3)} (target <= ${target})`);
};

console.log(`== bench: ${alpine} Alpine + ${debian} Debian hosts, fleet '${fleetName}'`);
if ((await bed(['up', '--alpine', String(alpine), '--debian', String(debian), '--alpine-arm', '0', '--debian-arm', '0'])) !== 0) process.exit(1);
try {
  const fleet = loadFleet(fleetName);
  const bedInv = parse(readFileSync(fleet.inventory, 'utf8')) as { connection: unknown; hosts: Record<string, unknown> };
  const dir = mkdtempSync(join(tmpdir(), 'cairn-bench-'));
  symlinkSync(join(repo, 'inventory/roles'), join(dir, 'roles'));
  const names = Object.keys(bedInv.hosts);
  const inv = join(dir, 'inventory.yml');
  writeFileSync(inv, stringify({ connection: bedInv.connection, vars: { site_name: 'bench' }, hosts: bedInv.hosts, groups: { all_hosts: { hosts: names, roles: ['motd', 'toolbox', 'tuning', 'hello'] } } }));
  const args = ['apply', '-i', inv, '--forks', '30', '--json'];
  const first = await cairn(args);
  const noop = await cairn(args);
  const j = JSON.parse(noop.stdout) as { hosts: Record<string, { changed: number; failed: number; roundTrips: number }> };
  const hosts = Object.values(j.hosts);
  const maxTrips = Math.max(...hosts.map((h) => h.roundTrips));
  const changed = hosts.reduce((n, h) => n + h.changed + h.failed, 0);
  console.log(`\nfirst apply exit ${first.code}, no-op apply exit ${noop.code}, changed+failed on the no-op run: ${changed}`);
  if (first.code !== 0 || noop.code !== 0 || changed !== 0) failed = true;
  check('first apply (30 hosts)', first.seconds, TARGETS.firstApplySeconds, 's');
  check('no-op apply (30 hosts)', noop.seconds, TARGETS.noopApplySeconds, 's');
  check('no-op round trips per host (max)', maxTrips, TARGETS.noopRoundTripsPerHost, '');
  check('peak RSS of cairn, first apply', first.peakRssMb, TARGETS.peakRssMb, 'MB');
  check('peak RSS of cairn, no-op apply', noop.peakRssMb, TARGETS.peakRssMb, 'MB');
} finally {
  await bed(['down']);
}
process.exit(failed ? 1 : 0);
