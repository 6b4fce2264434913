// A 3-server Consul datacenter + Nomad region on 3 Alpine bed hosts with the
// roles artifacts + supervision + consul + nomad and the stand-in agents
// (test/agent), which form a cluster over their retry_join lists: the leader is
// the live server with the lowest address once bootstrap_expect (3) are live.
// Proves the cluster forms, the second apply changes nothing, and a config
// change restarts the servers ONE AT A TIME: each server is stopped only after
// the previously restarted one saw a leader again (from the agents' logs).
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStandin } from '../../agent/standin.ts';
import { sshRun, type BedHost } from '../../bed/fleet.ts';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { cairn, jsonOf, type CliResult } from '../../helpers/cli.ts';
import { resetAgents } from './_reset-agents.ts';
import { stackInventory } from './_stack-inventory.ts';

process.env.CAIRN_BED_FLEET ??= 'cluster';
process.env.CAIRN_CACHE_DIR ??= mkdtempSync(join(tmpdir(), 'cairn-cache-'));

const KEY = Buffer.alloc(32, 7).toString('base64');
const a = buildStandin();
const ROLES = ['artifacts', 'supervision', 'consul', 'nomad'];
let claim: Claim;
let hosts: BedHost[];
let invFile: string;

/** All claimed hosts in group `servers`, one datacenter / region; the gossip key as !secret. */
function writeInventory(vars: Record<string, unknown> = {}): string {
  return stackInventory({
    hosts,
    roles: ROLES,
    standin: a,
    gossipKey: KEY,
    vars: {
      consul_datacenter: 'dc-cluster',
      nomad_region: 'r-cluster',
      nomad_datacenter: 'dc-cluster',
      // the stand-in servers find each other over their HTTP port (real Consul uses
      // its RPC/serf ports): Consul's HTTP listener must be reachable from the others
      consul_client_addr: '0.0.0.0',
      ...vars,
    },
    hostVars: (h) => ({ node_address: h.address }),
  });
}

const fails = (j: ReturnType<typeof jsonOf>, h: string) => JSON.stringify(j.hosts[h]?.ops.filter((o) => o.status === 'failed') ?? j.hosts[h], null, 1);
const notOk = (j: ReturnType<typeof jsonOf>, h: string) => JSON.stringify(j.hosts[h]?.ops.filter((o) => o.status !== 'ok' && o.status !== 'skipped'), null, 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** GET http://127.0.0.1:<port><path> on the host (busybox wget on Alpine). */
async function get(h: BedHost, port: number, path: string): Promise<unknown> {
  const r = await sshRun(h, `wget -q -T 5 -O - http://127.0.0.1:${port}${path}`);
  if (r.code !== 0) throw new Error(`${h.name}: GET :${port}${path}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as unknown;
}

const PRODUCTS = [
  { name: 'consul', port: 8500, rpc: 8300, log: '/var/log/consul/consul.log' },
  { name: 'nomad', port: 4646, rpc: 4647, log: '/var/log/nomad/nomad.log' },
] as const;

/** Every server reports the same non-empty leader and all 3 servers as peers (polled: the cluster may still be forming). */
async function clusterView(p: (typeof PRODUCTS)[number]): Promise<{ leaders: string[]; peers: string[][] }> {
  let v = { leaders: [] as string[], peers: [] as string[][] };
  for (let i = 0; i < 30; i++) {
    v = { leaders: [], peers: [] };
    for (const h of hosts) {
      v.leaders.push((await get(h, p.port, '/v1/status/leader').catch(() => '')) as string);
      v.peers.push(((await get(h, p.port, '/v1/status/peers').catch(() => [])) as string[]).slice().sort());
    }
    if (v.leaders[0] && v.leaders.every((l) => l === v.leaders[0]) && v.peers.every((ps) => ps.length === 3)) return v;
    await sleep(1000);
  }
  return v;
}

test.before(async () => {
  claim = await claimHosts({ alpine: 3 });
  hosts = claim.hosts;
  invFile = writeInventory();
});
test.after.always(async () => {
  // the next file that claims these hosts may run the agents under another supervisor
  if (claim) await resetAgents(claim.hosts);
  claim?.release();
});

test.serial('first apply forms a 3-server Consul datacenter and Nomad region; the second apply changes nothing', async (t) => {
  t.timeout(20 * 60_000);
  t.is(hosts.length, 3);
  const first = await cairn(['apply', '-i', invFile, '--json']);
  const j1 = jsonOf(first);
  for (const h of hosts) t.is(j1.hosts[h.name]?.failed, 0, `${h.name}: ${fails(j1, h.name)}`);
  t.is(first.code, 0, first.stderr);

  const addrs = hosts.map((h) => h.address).sort();
  for (const p of PRODUCTS) {
    const v = await clusterView(p);
    t.regex(v.leaders[0] ?? '', new RegExp(`^[0-9.]+:${p.rpc}$`), `${p.name}: leaders ${JSON.stringify(v.leaders)}`);
    t.deepEqual(v.leaders, hosts.map(() => v.leaders[0]), `${p.name}: every server reports the same leader`);
    for (const ps of v.peers) t.deepEqual(ps, addrs.map((x) => `${x}:${p.rpc}`).sort(), `${p.name}: 3 peers`);
    t.log(`${p.name}: leader ${v.leaders[0]}, peers ${v.peers[0]?.join(' ')}`);
  }
  for (const h of hosts) {
    const hcl = await sshRun(h, 'grep -h -e bootstrap_expect -e retry_join /etc/consul.d/consul.hcl /etc/nomad.d/nomad.hcl');
    t.regex(hcl.stdout, /bootstrap_expect = 3[\s\S]*retry_join[\s\S]*bootstrap_expect *= 3[\s\S]*retry_join/, `${h.name}: ${hcl.stdout}`);
  }

  const second = await cairn(['apply', '-i', invFile, '--json']);
  const j2 = jsonOf(second);
  t.is(second.code, 0, second.stderr);
  for (const h of hosts) t.is(j2.hosts[h.name]?.changed, 0, `${h.name} changed on the second apply: ${notOk(j2, h.name)}`);
});

/** Timestamps (ISO, UTC, same clock: the bed hosts share the machine) of the last stop, last start and the first leader after it. */
async function restartTimes(h: BedHost, log: string): Promise<{ host: string; stop: string; start: string; leader: string }> {
  const r = await sshRun(h, `cat ${log}`);
  const lines = r.stdout.split('\n');
  const ts = (l: string | undefined) => (l ? (/^\s*(\S+Z) \[/.exec(l)?.[1] ?? '') : '');
  const lastIdx = (re: RegExp) => lines.reduce((acc, l, i) => (re.test(l) ? i : acc), -1);
  const stopI = lastIdx(/\] agent: requesting shutdown/);
  const startI = lastIdx(/\] agent: started/);
  const leaderI = lines.findIndex((l, i) => i > startI && /(entering leader state|cluster leader is)/.test(l));
  return { host: h.name, stop: ts(lines[stopI]), start: ts(lines[startI]), leader: ts(lines[leaderI]) };
}

test.serial('a config change on every server restarts them one at a time, each after the previous one has a leader again', async (t) => {
  t.timeout(20 * 60_000);
  const changed = writeInventory({ consul_log_level: 'DEBUG', nomad_log_level: 'DEBUG' });
  const before = new Date().toISOString();
  const r = await cairn(['apply', '-i', changed, '--json']);
  const j = jsonOf(r);
  for (const h of hosts) t.is(j.hosts[h.name]?.failed, 0, `${h.name}: ${fails(j, h.name)}`);
  t.is(r.code, 0, r.stderr);
  for (const h of hosts) {
    for (const p of PRODUCTS) {
      const ops = j.hosts[h.name]!.ops.filter((o) => o.role === p.name);
      const by = (id: string) => ops.find((o) => o.id === id);
      t.is(by('config')?.status, 'changed', `${h.name} ${p.name}`);
      t.is(by('service-restart')?.status, 'changed', `${h.name} ${p.name}: ${JSON.stringify(ops)}`);
      t.is(by('wait-cluster-after-restart')?.status, 'ok', `${h.name} ${p.name}: waited for the cluster: ${JSON.stringify(by('wait-cluster-after-restart'))}`);
    }
  }

  for (const p of PRODUCTS) {
    const times = await Promise.all(hosts.map((h) => restartTimes(h, p.log)));
    times.sort((x, y) => x.stop.localeCompare(y.stop));
    t.log(`${p.name}: ${times.map((x) => `${x.host} stop ${x.stop} start ${x.start} leader ${x.leader}`).join('; ')}`);
    for (const x of times) {
      t.true(x.stop > before && x.start > x.stop && x.leader >= x.start, `${p.name} ${x.host}: restarted in this apply and saw a leader: ${JSON.stringify(x)}`);
    }
    for (let i = 1; i < times.length; i++) {
      t.true(times[i]!.stop > times[i - 1]!.leader, `${p.name}: ${times[i]!.host} stopped only after ${times[i - 1]!.host} was back with a leader: ${JSON.stringify(times)}`);
    }
    const v = await clusterView(p);
    t.truthy(v.leaders[0], `${p.name}: a leader at the end`);
    t.deepEqual(v.leaders, hosts.map(() => v.leaders[0]));
    for (const ps of v.peers) t.is(ps.length, 3);
  }

  const again = await cairn(['apply', '-i', changed, '--json']);
  const j2 = jsonOf(again);
  t.is(again.code, 0, again.stderr);
  for (const h of hosts) t.is(j2.hosts[h.name]?.changed, 0, `${h.name} changed on the final apply: ${notOk(j2, h.name)}`);
});

/** GET on the host with the HTTP status (busybox wget prints none: curl-less Alpine gets 200 or 'error'). */
async function health(h: BedHost): Promise<{ Healthy?: boolean; FailureTolerance?: number } | undefined> {
  return (await get(h, 8500, '/v1/operator/autopilot/health').catch(() => undefined)) as { Healthy?: boolean; FailureTolerance?: number } | undefined;
}

test.serial('one server down: a config change restarts no server (exit 1 naming it), files written, restart pending; back up: one at a time, each after Healthy', async (t) => {
  t.timeout(20 * 60_000);
  const [s1, s2, s3] = hosts as [BedHost, BedHost, BedHost];
  // the cluster is healthy and tolerates one failure
  for (let i = 0; i < 20 && (await health(s1))?.FailureTolerance !== 1; i++) await sleep(1000);
  t.like(await health(s1), { Healthy: true, FailureTolerance: 1 });
  // s2 goes down (a powered-off board: cairn cannot reach its agent either)
  t.is((await sshRun(s2, 'rc-service consul stop')).code, 0);
  await sleep(4000); // the others notice within a few seconds (busybox wget reads no 429 body: not polled)
  t.truthy((await get(s1, 8500, '/v1/status/leader')) as string, 'the two others keep a leader (majority)');
  t.is(((await get(s1, 8500, '/v1/status/peers')) as string[]).length, 3, 'peers: the raft configuration, not the live servers');

  const changed = writeInventory({ consul_log_level: 'TRACE' });
  const pidOf = async (h: BedHost) => (await sshRun(h, 'pgrep -x consul')).stdout.trim();
  const pids = await Promise.all([s1, s3].map(pidOf));
  const r = await cairn(['apply', '-i', changed, '--json', '--limit', `${s1.name},${s3.name}`]);
  t.is(r.code, 1, r.stdout.slice(0, 3000) + r.stderr);
  const j = jsonOf(r);
  const refused = [s1, s3].map((h) => j.hosts[h.name]!.ops.find((o) => o.id === 'quorum-before-restart' && o.status === 'failed')).filter(Boolean);
  t.true(refused.length >= 1, JSON.stringify([s1, s3].map((h) => j.hosts[h.name]!.ops.filter((o) => o.role === 'consul' && o.status !== 'ok'))));
  t.regex(refused[0]!.error ?? '', new RegExp(`consul server ${s2.name}\\b.*is not healthy.*restarting \\S+ would lose the quorum; bring ${s2.name} back or pass --allow-quorum-loss`));
  t.deepEqual(await Promise.all([s1, s3].map(pidOf)), pids, 'no server was restarted');
  for (const h of [s1, s3]) t.regex((await sshRun(h, 'cat /etc/consul.d/consul.hcl')).stdout, /log_level\s+= "TRACE"/, `${h.name}: the file is written`);
  const check = await cairn(['check', '-i', changed, '--json', '--limit', `${s1.name},${s3.name}`]);
  t.is(check.code, 2, 'the restart is pending: drift');
  const pending = jsonOf(check).hosts[s1.name]!.ops.find((o) => o.role === 'consul' && /is pending: notified by .*consul\/config/.test(o.reason));
  t.truthy(pending, JSON.stringify(jsonOf(check).hosts[s1.name]!.ops.filter((o) => o.status !== 'ok')));

  // s2 back: the next apply restarts the three one at a time, each once the cluster is Healthy
  t.is((await sshRun(s2, 'rc-service consul start')).code, 0);
  for (let i = 0; i < 30 && (await health(s1))?.FailureTolerance !== 1; i++) await sleep(1000);
  const before = new Date().toISOString();
  const back = await cairn(['apply', '-i', changed, '--json']);
  const jb = jsonOf(back);
  t.is(back.code, 0, back.stdout.slice(0, 3000) + back.stderr);
  for (const h of hosts) {
    const ops = jb.hosts[h.name]!.ops.filter((o) => o.role === 'consul');
    t.is(ops.find((o) => o.id === 'service-restart')?.status, 'changed', `${h.name}: restarted: ${JSON.stringify(ops.filter((o) => o.status !== 'ok'))}`);
    t.is(ops.find((o) => o.id === 'wait-cluster-after-restart')?.status, 'ok', `${h.name}: waited for Healthy`);
  }
  const times = (await Promise.all(hosts.map((h) => restartTimes(h, PRODUCTS[0].log)))).sort((x, y) => x.stop.localeCompare(y.stop));
  t.log(times.map((x) => `${x.host} stop ${x.stop} start ${x.start} leader ${x.leader}`).join('; '));
  for (const x of times) t.true(x.stop > before, `${x.host} restarted in this apply`);
  for (let i = 1; i < times.length; i++) t.true(times[i]!.stop > times[i - 1]!.leader, `one at a time: ${JSON.stringify(times)}`);
  t.like(await health(s1), { Healthy: true, FailureTolerance: 1 });
  const last = await cairn(['apply', '-i', changed, '--json']);
  for (const h of hosts) t.is(jsonOf(last).hosts[h.name]?.changed, 0, `${h.name}: ${notOk(jsonOf(last), h.name)}`);
});
