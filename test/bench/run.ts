// npm run bench: cairn's speed and memory, as ratios against plain-OpenSSH floors
// measured in the same run on the same test-bed hosts (real OpenSSH, Alpine/OpenRC and
// Debian/systemd). For N = 1, 10, 30, 100 (CAIRN_BENCH_SIZES) hosts: the board-bootstrap
// workload cold, no-op and check; the floors; round trips per host; host CPU; peak RSS;
// the demo roles at the largest N; the upload rate on one host against one tar stream.
// cairn runs as users get it: the package's compiled dist/ (built first), the bench's
// roles through tsx. Not a test: prints the table, exits 1 when a target is missed.
// Nothing else should run meanwhile (2 cores).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadFleet, sshRun, type BedHost } from '../bed/fleet.ts';
import { readState } from '../bed/state.ts';
import { measure, withHostCpu, type Measured } from './measure.ts';
import { checkFloor, pushFloor } from './floors.ts';
import { inventoryFor, makeBlob, makePayload, RESET_SCRIPT, type Workload } from './workload.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const fleetName = process.env.CAIRN_BENCH_FLEET ?? 'bench';
const alpine = Number(process.env.CAIRN_BENCH_ALPINE ?? 94);
const debian = Number(process.env.CAIRN_BENCH_DEBIAN ?? 6);
const sizes = (process.env.CAIRN_BENCH_SIZES ?? '1,10,30,100').split(',').map(Number);
/** The upload-rate file, MiB. */
const uploadMb = Number(process.env.CAIRN_BENCH_UPLOAD_MB ?? 256);
const keepBed = process.env.CAIRN_BENCH_KEEP_BED === '1';

/** The targets (ratios to the floors, round trips, memory). */
const TARGETS = { coldToPush: 2, coldTrips: 4, noopToCheck: 1.5, checkToCheck: 1.5, hostCpuToFloor: 2, peakRssMb: 150, uploadRate: 0.8 };

interface Row {
  workload: Workload;
  n: number;
  cold: Measured & { hostCpu?: number; trips: number };
  noop: Measured & { hostCpu?: number; trips: number };
  check: Measured & { hostCpu?: number; trips: number };
  pushFloor: number;
  checkFloor: number;
  checkFloorCpu?: number;
}

function bed(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(repo, 'test/bed/cli.ts'), ...args, '--fleet', fleetName], { stdio: 'inherit' });
    p.on('close', (c) => resolve(c ?? 1));
  });
}

async function cairn(args: string[], machines: string[]): Promise<Measured & { hostCpu?: number; trips: number }> {
  const { result, hostCpu } = await withHostCpu(machines, () => measure([process.execPath, join(repo, 'src/cli/bin.js'), ...args, '--json'], { ...process.env, CI: '1', CAIRN_DIST: '1' }));
  let trips = 0;
  try {
    const j = JSON.parse(result.stdout) as { hosts: Record<string, { roundTrips: number }> };
    trips = Math.max(...Object.values(j.hosts).map((h) => h.roundTrips));
  } catch {
    throw new Error(`cairn ${args.join(' ')}: exit ${result.code}, no JSON report: ${result.stderr.slice(-2000)}`);
  }
  return { ...result, trips, ...(hostCpu === undefined ? {} : { hostCpu }) };
}

/** The first n hosts, kinds interleaved (Alpine and Debian in the fleet's proportion). */
function pick(hosts: BedHost[], n: number): BedHost[] {
  const byKind = new Map<string, BedHost[]>();
  for (const h of hosts) byKind.set(h.kind, [...(byKind.get(h.kind) ?? []), h]);
  const out: BedHost[] = [];
  const lists = [...byKind.values()];
  for (let i = 0; out.length < Math.min(n, hosts.length); i++) for (const l of lists) if (l[i] && out.length < n) out.push(l[i]!);
  return out;
}

async function measureRow(workload: Workload, fleetHosts: BedHost[], n: number, payload: string): Promise<Row> {
  const fleet = loadFleet(fleetName);
  const hosts = pick(fleetHosts, n);
  const state = readState(fleetName)!;
  const machines = hosts.map((h) => state.hosts.find((s) => s.name === h.name)!.machine);
  await Promise.all(hosts.map((h) => sshRun(h, RESET_SCRIPT)));
  const inv = inventoryFor(fleet, hosts.map((h) => h.name), workload, payload);
  const forks = String(Math.max(n, 1));
  const cold = await cairn(['apply', '-i', inv, '--forks', forks], machines);
  if (cold.code !== 0) throw new Error(`${workload} N=${n}: the cold apply exited ${cold.code}: ${cold.stdout.slice(-3000)}`);
  const noop = await cairn(['apply', '-i', inv, '--forks', forks], machines);
  const check = await cairn(['check', '-i', inv, '--forks', forks], machines);
  const cf = workload === 'bootstrap' ? await withHostCpu(machines, () => checkFloor(hosts)) : { result: Number.NaN, hostCpu: undefined };
  // the demo roles send no payload: no push floor for them
  const pf = workload === 'bootstrap' ? await pushFloor(hosts, payload) : Number.NaN;
  return { workload, n, cold, noop, check, pushFloor: pf, checkFloor: cf.result, ...(cf.hostCpu === undefined ? {} : { checkFloorCpu: cf.hostCpu }) };
}

interface UploadRow {
  bytes: number;
  /** Seconds a cold apply of the big file takes beyond one of a small file (best of 3). */
  cairnS: number;
  /** The same for one tar stream over plain ssh. */
  floorS: number;
  peakRssMb: number;
}

/**
 * Upload rate on one host: the extra seconds a cold apply of a big file takes over a
 * cold apply of a small one (so connecting, facts and probing cancel out), against the
 * same difference for one tar stream over plain ssh. Best of 3 each.
 */
async function uploadRow(host: BedHost): Promise<UploadRow> {
  const fleet = loadFleet(fleetName);
  const bytes = uploadMb * 1024 * 1024;
  const big = makeBlob(bytes);
  const small = makeBlob(100 * 1024);
  const machine = readState(fleetName)!.hosts.find((s) => s.name === host.name)!.machine;
  try {
    const invBig = inventoryFor(fleet, [host.name], 'upload', big);
    const invSmall = inventoryFor(fleet, [host.name], 'upload', small);
    let cairnS = Infinity;
    let floorS = Infinity;
    let peak = 0;
    for (let k = 0; k < 3; k++) {
      await sshRun(host, RESET_SCRIPT);
      const s = await cairn(['apply', '-i', invSmall], [machine]);
      await sshRun(host, RESET_SCRIPT);
      const b = await cairn(['apply', '-i', invBig], [machine]);
      if (s.code !== 0 || b.code !== 0) throw new Error(`upload: a cold apply exited ${s.code}/${b.code}: ${b.stdout.slice(-2000)}`);
      cairnS = Math.min(cairnS, b.seconds - s.seconds);
      peak = Math.max(peak, b.peakRssMb);
      floorS = Math.min(floorS, (await pushFloor([host], dirname(big))) - (await pushFloor([host], dirname(small))));
    }
    await sshRun(host, RESET_SCRIPT);
    return { bytes, cairnS, floorS, peakRssMb: peak };
  } finally {
    rmSync(dirname(big), { recursive: true, force: true });
    rmSync(dirname(small), { recursive: true, force: true });
  }
}

const f1 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(1));
const f2 = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '-' : x.toFixed(2));

function table(rows: Row[]): string {
  const head = ['workload', 'N', 'cold s', 'push floor s', 'cold/floor', 'trips cold', 'no-op s', 'check s', 'check floor s', 'no-op/floor', 'check/floor', 'trips no-op', 'host CPU no-op s', 'host CPU floor s', 'RSS cold MB', 'RSS no-op MB'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    lines.push(
      `| ${[r.workload, r.n, f1(r.cold.seconds), f1(r.pushFloor), f2(r.cold.seconds / r.pushFloor), r.cold.trips, f1(r.noop.seconds), f1(r.check.seconds), f1(r.checkFloor), f2(r.noop.seconds / r.checkFloor), f2(r.check.seconds / r.checkFloor), r.noop.trips, f1(r.noop.hostCpu), f1(r.checkFloorCpu), Math.round(r.cold.peakRssMb), Math.round(r.noop.peakRssMb)].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

let failed = false;
const target = (name: string, value: number, limit: number, way: 'at most' | 'at least' = 'at most') => {
  const ok = way === 'at most' ? value <= limit : value >= limit;
  if (!ok) failed = true;
  console.log(`${ok ? 'ok  ' : 'MISS'} ${name.padEnd(58)} ${f2(value).padStart(8)}  (target ${way === 'at most' ? '<=' : '>='} ${limit})`);
};

const want = Math.max(...sizes);
if (alpine + debian < want) throw new Error(`CAIRN_BENCH_SIZES asks for ${want} hosts; the fleet has ${alpine + debian}`);
console.log(`== bench: ${alpine} Alpine + ${debian} Debian hosts, fleet '${fleetName}', N = ${sizes.join(', ')}`);
// what users run: the compiled package
const built = await new Promise<number>((resolve) => spawn('npm', ['run', '-s', 'build'], { cwd: repo, stdio: 'inherit' }).on('close', (c) => resolve(c ?? 1)));
if (built !== 0) throw new Error('npm run build failed');
const up = readState(fleetName)?.status === 'up' ? 0 : await bed(['up', '--alpine', String(alpine), '--debian', String(debian), '--alpine-arm', '0', '--debian-arm', '0']);
if (up !== 0) process.exit(1);
const payload = makePayload();
const rows: Row[] = [];
try {
  const all = loadFleet(fleetName).hosts;
  for (const n of sizes) rows.push(await measureRow('bootstrap', all, n, payload));
  rows.push(await measureRow('demo', all, want, payload));
  const upl = await uploadRow(pick(all, 1)[0]!);
  console.log(`\n${table(rows)}\n`);
  const mbs = (s: number) => (upl.bytes / 1048576 / s).toFixed(0);
  console.log(`upload rate, one host, ${uploadMb} MiB (extra seconds over a 100 KiB file, best of 3): cairn ${upl.cairnS.toFixed(2)} s (${mbs(upl.cairnS)} MiB/s), one tar stream ${upl.floorS.toFixed(2)} s (${mbs(upl.floorS)} MiB/s), peak RSS ${Math.round(upl.peakRssMb)} MB\n`);
  const big = rows.find((r) => r.workload === 'bootstrap' && r.n === want)!;
  console.log(`targets at N = ${want} (bootstrap workload):`);
  target('first apply / push floor', big.cold.seconds / big.pushFloor, TARGETS.coldToPush);
  target('round trips per host, first apply (max)', big.cold.trips, TARGETS.coldTrips);
  target('no-op apply / check floor', big.noop.seconds / big.checkFloor, TARGETS.noopToCheck);
  target('check / check floor', big.check.seconds / big.checkFloor, TARGETS.checkToCheck);
  if (big.noop.hostCpu !== undefined && big.checkFloorCpu) target('host CPU of the no-op apply / the floor script', big.noop.hostCpu / big.checkFloorCpu, TARGETS.hostCpuToFloor);
  else console.log('---- host CPU: the containers\' cgroups cannot be read here');
  target('upload rate: cairn\'s / one tar stream\'s', upl.floorS / upl.cairnS, TARGETS.uploadRate, 'at least');
  target(`peak RSS of cairn at N = ${want}, MB (the target is for N = 100)`, Math.max(big.cold.peakRssMb, big.noop.peakRssMb), TARGETS.peakRssMb);
  for (const r of rows.filter((x) => x.noop.code !== 0 || x.check.code !== 0)) {
    failed = true;
    console.log(`MISS ${r.workload} N = ${r.n}: the no-op apply exited ${r.noop.code}, the check ${r.check.code} (0 wanted: drift after an apply)`);
    console.log(r.noop.code !== 0 ? r.noop.stdout.slice(0, 3000) : r.check.stdout.slice(0, 3000));
  }
  if (want < 100) console.log(`not measured: N = 100 (CAIRN_BENCH_SIZES asks for at most ${want})`);
} finally {
  rmSync(payload, { recursive: true, force: true });
  if (!keepBed) await bed(['down']);
}
process.exit(failed ? 1 : 0);
