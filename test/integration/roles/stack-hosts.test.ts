// The built-in roles artifacts + supervision + consul + nomad on real bed hosts:
// Alpine x86_64 / OpenRC (supervise-daemon), Alpine x86_64 / s6 (cairn_supervisor:
// s6, OpenRC's s6 support), Debian / systemd and Alpine 3.7 aarch64 / OpenRC 0.24
// (no output_log). Each host is a single-server Consul datacenter and Nomad
// region of its own (bootstrap_expect 1), with the stand-in agents
// (test/agent) installed from release-shaped zips + SHA256SUMS like real ones.
import test from 'ava';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildStandin } from '../../agent/standin.ts';
import { loadFleet, sshRun, type BedHost, type Kind } from '../../bed/fleet.ts';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { cairn, jsonOf, type CliResult } from '../../helpers/cli.ts';
import { resetAgents } from './_reset-agents.ts';
import { stackInventory, standinArtifactVars } from './_stack-inventory.ts';

process.env.CAIRN_BED_FLEET ??= 'stack';
process.env.CAIRN_CACHE_DIR ??= mkdtempSync(join(tmpdir(), 'cairn-cache-'));

const KEY = Buffer.alloc(32, 42).toString('base64');
const a = buildStandin();
let claim: Claim;
let hosts: BedHost[];
let s6Host: string | undefined;
let invFile: string;
const outputs: CliResult[] = [];

const ARTIFACTS = standinArtifactVars(a);

/** An inventory of the claimed hosts (bed addresses, keys) with the stack roles; the gossip key as !secret. */
const writeInventory = (opts: { hosts: BedHost[]; roles: string[]; vars?: Record<string, unknown>; hostVars?: (h: BedHost) => Record<string, unknown> }): string =>
  stackInventory({ ...opts, standin: a, gossipKey: KEY });

async function run(args: string[]): Promise<CliResult> {
  const r = await cairn(args);
  outputs.push(r);
  return r;
}

const fails = (j: ReturnType<typeof jsonOf>, h: string) => JSON.stringify(j.hosts[h]?.ops.filter((o) => o.status === 'failed') ?? j.hosts[h], null, 1);
/** GET http://127.0.0.1:<portPath> on the host: curl, busybox wget, or bash's /dev/tcp (Debian minbase has neither). Exit 0 only on 200. */
const get = (h: BedHost, portPath: string) => {
  const port = portPath.split('/')[0]!;
  const path = portPath.slice(port.length);
  return sshRun(
    h,
    `u=http://127.0.0.1:${portPath}; if command -v curl >/dev/null; then curl -fsS --max-time 5 $u; elif command -v wget >/dev/null; then wget -q -T 5 -O - $u; ` +
      `else timeout 6 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}; printf "GET ${path} HTTP/1.0\\r\\n\\r\\n" >&3; r=$(cat <&3); case "$r" in "HTTP/1."?" 200"*) printf "%s" "\${r#*$(printf "\\r\\n\\r\\n")}";; *) exit 22;; esac'; fi`,
  );
};

test.before(async () => {
  const fleet = loadFleet();
  const have = (k: Kind) => fleet.hosts.filter((h) => h.kind === k).length;
  const want: Partial<Record<Kind, number>> = { alpine: Math.min(2, have('alpine')), debian: Math.min(1, have('debian')), 'alpine-arm': Math.min(1, have('alpine-arm')) };
  claim = await claimHosts(want);
  hosts = claim.hosts;
  // the second x86_64 Alpine host runs the agents under s6 when the fleet has s6
  s6Host = fleet.s6 ? hosts.filter((h) => h.kind === 'alpine')[1]?.name : undefined;
  invFile = writeInventory({
    hosts,
    roles: ['artifacts', 'supervision', 'consul', 'nomad'],
    vars: { supervision_services: [{ name: 'cairn-sleeper', command: '/bin/sleep', args: ['1000000'], user: 'nobody' }] },
    hostVars: (h) => ({ node_address: h.address, ...(h.kind === 'alpine-arm' ? { openrc_need_net: false } : {}), consul_datacenter: `dc-${h.name}`, nomad_region: `r-${h.name}`, ...(h.name === s6Host ? { cairn_supervisor: 's6' } : {}) }),
  });
});
test.after.always(async () => {
  // the next file that claims these hosts may run the agents under another supervisor
  if (claim) await resetAgents(claim.hosts);
  claim?.release();
});

test.serial('first apply brings every host to a working Consul + Nomad; the second reports changed=0', async (t) => {
  t.timeout(20 * 60_000);
  const first = await run(['apply', '-i', invFile, '--json']);
  const j1 = jsonOf(first);
  for (const h of hosts) t.is(j1.hosts[h.name]?.failed, 0, `${h.name} (${h.kind}): ${fails(j1, h.name)}`);
  t.is(first.code, 0, first.stderr);
  const second = await run(['apply', '-i', invFile, '--json']);
  const j2 = jsonOf(second);
  t.is(second.code, 0, second.stderr);
  for (const h of hosts) {
    t.is(j2.hosts[h.name]?.changed, 0, `${h.name} changed on the second apply: ${JSON.stringify(j2.hosts[h.name]?.ops.filter((o) => o.status !== 'ok'), null, 1)}`);
    t.is(j2.hosts[h.name]?.failed, 0);
  }
  const check = await run(['check', '-i', invFile]);
  t.is(check.code, 0, check.stdout + check.stderr);
  t.log(`hosts: ${hosts.map((h) => `${h.name}=${h.kind}${h.name === s6Host ? '+s6' : ''}`).join(', ')}`);
});

test.serial('agents answer health; Consul has a leader; the supervisor is the expected one', async (t) => {
  for (const h of hosts) {
    const health = await get(h, '4646/v1/agent/health');
    t.is(health.code, 0, `${h.name}: ${health.stderr}`);
    t.regex(health.stdout, /"ok":true/);
    const leader = await get(h, '8500/v1/status/leader');
    t.regex(leader.stdout.trim(), /^"[0-9.]+:8300"$/, `${h.name}: ${leader.stdout} ${leader.stderr}`);
    const sup = await sshRun(h, 'if [ -d /run/systemd/system ]; then systemctl is-active nomad consul; elif [ -L /run/openrc/s6-scan/nomad ]; then s6-svstat /run/openrc/s6-scan/nomad; s6-svstat /run/openrc/s6-scan/consul; else rc-service nomad status; rc-service consul status; fi');
    if (h.init === 'systemd') t.is(sup.stdout.trim(), 'active\nactive');
    else if (h.name === s6Host) t.regex(sup.stdout, /^up .*\nup /);
    else t.regex(sup.stdout, /started[\s\S]*started/, `${h.name}: ${sup.stdout}${sup.stderr}`);
    const user = await sshRun(h, "ps -o user,comm 2>/dev/null | grep -w consul || ps -eo user,comm | grep -w consul");
    t.regex(user.stdout, /^\s*consul\s/m, `${h.name}: consul runs as the consul user: ${user.stdout}`);
  }
});

test.serial('kill -9 of an agent: its supervisor starts it again (one copy), health comes back', async (t) => {
  t.timeout(12 * 60_000);
  for (const h of hosts) {
    for (const [name, port, path] of [['nomad', 4646, '/v1/agent/health'], ['consul', 8500, '/v1/status/leader']] as const) {
      const r = await sshRun(
        h,
        `p1=$(pidof ${name}); [ -n "$p1" ] || { echo "no ${name} running"; exit 1; }; kill -9 $p1
i=0; while [ $i -lt 40 ]; do p2=$(pidof ${name}); if [ -n "$p2" ] && [ "$p2" != "$p1" ]; then break; fi; sleep 0.5; i=$((i+1)); done
echo "$p1 -> $p2"; [ -n "$p2" ] && [ "$p2" != "$p1" ] && [ "$(echo $p2 | wc -w)" -eq 1 ]`,
        { timeoutMs: 60_000 },
      );
      t.is(r.code, 0, `${h.name} ${name}: not respawned: ${r.stdout} ${r.stderr}`);
      let ok = false;
      for (let i = 0; i < 30 && !ok; i++) {
        ok = (await get(h, `${port}${path}`)).code === 0;
        if (!ok) await new Promise((res) => setTimeout(res, 1000));
      }
      t.true(ok, `${h.name}: ${name} answers ${path} again`);
      t.log(`${h.name} (${h.kind}${h.name === s6Host ? '+s6' : ''}) ${name} respawned: ${r.stdout.trim()}`);
    }
  }
});

test.serial('the agents run with oom_score_adj -1000 under every supervisor (systemd OOMScoreAdjust, OpenRC start_pre, s6 run)', async (t) => {
  for (const h of hosts) {
    // a bed host whose root lacks CAP_SYS_RESOURCE cannot lower a score: there the start says so in the log
    const canLower = (await sshRun(h, 'sh -c \'echo -1000 > /proc/$$/oom_score_adj\' 2>/dev/null')).code === 0;
    for (const p of ['nomad', 'consul']) {
      const label = `${h.name} (${h.kind}${h.name === s6Host ? ', s6' : ''}) ${p}`;
      const r = await sshRun(h, `pid=$(pidof ${p}); cat /proc/$pid/oom_score_adj`);
      if (canLower) t.is(r.stdout.trim(), '-1000', `${label}: ${r.stdout}${r.stderr}`);
      else if (h.kind.startsWith('debian')) {
        // systemd skips an OOMScoreAdjust= the host refuses: the unit must still ask for it
        t.is((await sshRun(h, `systemctl show -p OOMScoreAdjust ${p}`)).stdout.trim(), 'OOMScoreAdjust=-1000', label);
        t.log(`${label}: oom_score_adj ${r.stdout.trim()} (this host's root cannot lower it; the unit asks for -1000)`);
      } else {
        const log = await sshRun(h, `cat /var/log/${p}/output.log /var/log/${p}/current 2>/dev/null; journalctl -u ${p} -o cat --no-pager 2>/dev/null; :`);
        t.regex(log.stdout, new RegExp(`${p}: cannot set oom_score_adj -1000 here; starting without it`), `${label}: root cannot lower OOM scores on this host; the start must say so`);
        t.log(`${label}: oom_score_adj ${r.stdout.trim()} (this host's root cannot lower it; the start said so)`);
      }
    }
  }
});

test.serial('logs land in files: the agents log_file and the supervisor capture', async (t) => {
  for (const h of hosts) {
    const agent = await sshRun(h, 'grep -c "agent: started" /var/log/nomad/nomad.log /var/log/consul/consul.log');
    t.regex(agent.stdout, /nomad.log:[1-9][\s\S]*consul.log:[1-9]/, `${h.name}: ${agent.stdout}${agent.stderr}`);
    const captured =
      h.init === 'systemd'
        ? await sshRun(h, 'journalctl -u nomad --no-pager -n 200 | grep -c "Nomad agent started"')
        : h.name === s6Host
          ? await sshRun(h, 'grep -c "Nomad agent started" /var/log/nomad/current')
          : await sshRun(h, 'grep -c "Nomad agent started" /var/log/nomad/output.log');
    t.regex(captured.stdout.trim(), /^[1-9]/, `${h.name}: supervisor capture: ${captured.stdout}${captured.stderr}`);
  }
});

test.serial('the rendered config: arch-specific pause image, single-server cluster, the gossip key on the host only', async (t) => {
  for (const h of hosts) {
    const hcl = await sshRun(h, 'cat /etc/nomad.d/nomad.hcl; grep -c encrypt /etc/consul.d/consul.hcl; stat -c "%a %U:%G" /var/lib/nomad /etc/consul.d/consul.hcl /var/lib/consul');
    const arch = h.arch === 'aarch64' ? 'arm64' : 'amd64';
    t.true(hcl.stdout.includes(`infra_image = "registry.k8s.io/pause-${arch}:3.3"`), `${h.name}: ${hcl.stdout}`);
    t.regex(hcl.stdout, /bootstrap_expect = 1/);
    t.regex(hcl.stdout, /^700 root:root\n640 root:consul\n750 consul:consul$/m);
    const key = await sshRun(h, `grep -c '${KEY}' /etc/consul.d/consul.hcl`);
    t.is(key.stdout.trim(), '1', `${h.name}: the key is in the file`);
  }
});

test.serial('a config change restarts the agent through the handler (rolling: servers one at a time) and waits for the cluster', async (t) => {
  t.timeout(10 * 60_000);
  const changed = writeInventory({
    hosts,
    roles: ['artifacts', 'supervision', 'consul', 'nomad'],
    vars: { nomad_log_level: 'DEBUG', supervision_services: [{ name: 'cairn-sleeper', command: '/bin/sleep', args: ['1000000'], user: 'nobody' }] },
    hostVars: (h) => ({ node_address: h.address, ...(h.kind === 'alpine-arm' ? { openrc_need_net: false } : {}), consul_datacenter: `dc-${h.name}`, nomad_region: `r-${h.name}`, ...(h.name === s6Host ? { cairn_supervisor: 's6' } : {}) }),
  });
  // one client runs (stand-in) allocations: its restart must drain it first
  const busy = hosts.find((x) => x.kind === 'alpine' && x.name !== s6Host) ?? hosts[0]!;
  t.is((await sshRun(busy, 'mkdir -p /var/lib/nomad/alloc && echo 2 > /var/lib/nomad/alloc/standin-allocs')).code, 0);
  const mark = Number((await sshRun(busy, 'wc -l < /var/log/nomad/nomad.log')).stdout.trim());
  const r = await run(['apply', '-i', changed, '--json', '--diff']);
  const j = jsonOf(r);
  t.is(r.code, 0, r.stderr);
  for (const h of hosts) {
    const ops = j.hosts[h.name]!.ops.filter((o) => o.role === 'nomad');
    const by = (id: string) => ops.find((o) => o.id === id);
    t.is(by('config')?.status, 'changed', h.name);
    t.is(by('service-restart')?.status, 'changed', `${h.name}: ${JSON.stringify(ops)}`);
    t.truthy(by('wait-cluster-after-restart'), `${h.name}: waited for the cluster`);
    t.not(by('wait-cluster-after-restart')?.status, 'failed');
    t.is(by('drain-before-restart')?.status, h === busy ? 'changed' : 'ok', `${h.name}: drained only with allocations: ${JSON.stringify(by('drain-before-restart'))}`);
  }
  // on the busy client: the drain completed (allocations migrated) before the agent shut down, eligible again after
  const log = (await sshRun(busy, `tail -n +${mark + 1} /var/log/nomad/nomad.log`)).stdout.split('\n');
  const at = (re: RegExp) => log.findIndex((l) => re.test(l));
  t.true(at(/drained 2 allocations \(migrated\)/) >= 0, log.join('\n').slice(-3000));
  t.true(at(/drained 2 allocations/) < at(/agent: requesting shutdown/), 'drained before the restart');
  t.true(at(/agent: requesting shutdown/) < log.findIndex((l, i) => i > at(/agent: requesting shutdown/) && /eligibility set: .*eligibility=eligible/.test(l)), 'eligible again after the restart');
  t.is((await sshRun(busy, 'cat /var/lib/nomad/alloc/standin-allocs')).stdout.trim(), '0');
  const again = await run(['apply', '-i', changed, '--json']);
  for (const h of hosts) t.is(jsonOf(again).hosts[h.name]?.changed, 0);
  // back to the first configuration for later tests
  const back = await run(['apply', '-i', invFile, '--json']);
  t.is(back.code, 0);
});

test.serial('a glibc Nomad aimed at Alpine is refused with the reason, nothing installed', async (t) => {
  const alp = hosts.find((h) => h.kind === 'alpine');
  if (!alp) return t.pass('no Alpine host in this fleet');
  const file = writeInventory({
    hosts: [alp],
    roles: ['artifacts'],
    vars: { artifacts_products: ['nomad'], nomad_bin: '/usr/local/bin/nomad-glibc-test', nomad_artifacts: { glibc_amd64: ARTIFACTS.nomad_artifacts.glibc_amd64 } },
  });
  const r = await run(['apply', '-i', file, '--json']);
  t.is(r.code, 1);
  const op = jsonOf(r).hosts[alp.name]!.ops.find((o) => o.role === 'artifacts' && o.id === 'nomad')!;
  t.is(op.status, 'failed');
  t.regex(op.reason, /glibc build of nomad\S* aimed at musl host \S+: it would fail with '\.\/nomad\S*: not found'.*use a musl build/);
  const present = await sshRun(alp, 'test -e /usr/local/bin/nomad-glibc-test && echo present || echo absent');
  t.is(present.stdout.trim(), 'absent');
});

test.serial('recover-nomad-client: agent stopped, alloc mounts unmounted, alloc/ and client/ moved aside, agent healthy again', async (t) => {
  t.timeout(5 * 60_000);
  const h = hosts.find((x) => x.kind === 'alpine' && x.name !== s6Host) ?? hosts[0]!;
  const prep = await sshRun(h, 'mkdir -p /var/lib/nomad/alloc/a1/secrets && (mount -t tmpfs tmpfs /var/lib/nomad/alloc/a1/secrets && echo mounted || echo no-mount)');
  const file = writeInventory({ hosts: [h], roles: ['recover-nomad-client'], hostVars: () => ({}) });
  const r = await run(['apply', '-i', file, '--json']);
  const j = jsonOf(r);
  t.is(r.code, 0, fails(j, h.name));
  const ids = j.hosts[h.name]!.ops.map((o) => `${o.id}:${o.status}`);
  // a client without allocations needs no drain first (drain-before-recovery: ok)
  t.deepEqual(ids.slice(0, 6), ['drain-before-recovery:ok', 'stop-agent:changed', 'stop-alloc-containers:changed', 'unmount-alloc:changed', 'move-state-aside:changed', 'start-agent:changed']);
  const after = await sshRun(h, 'ls /var/lib/nomad; grep -c " /var/lib/nomad/alloc/" /proc/mounts || :');
  t.regex(after.stdout, /alloc\.cairn-recovered\.\d{8}-\d{6}/);
  t.regex(after.stdout, /client\.cairn-recovered\./);
  if (prep.stdout.includes('mounted')) t.regex(after.stdout, /^0$/m);
  t.is((await get(h, '4646/v1/agent/health')).code, 0);
  await sshRun(h, 'rm -rf /var/lib/nomad/*.cairn-recovered.*');
});

test.serial('the gossip key never appears in any output of cairn (plain, --json, --diff)', (t) => {
  t.true(outputs.length >= 5);
  for (const o of outputs) t.false((o.stdout + o.stderr).includes(KEY));
});
