// Tests for the cairn stand-in agent (test/agent/agent.c) and its
// release-shaped artifacts (test/agent/build.sh). Runs the x86_64 glibc build
// locally; the Alpine chroot checks run only as root with the minirootfs
// tarballs present. Only 127.0.0.1 is used; only processes started here are
// signalled.
import test, { type ExecutionContext } from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  VERIFY_SCRIPT,
  buildStandin,
  cniFingerprintVersion,
  compareVersions,
  defaultOutDir,
  elfInfo,
  freePort,
  httpGet,
  killStartedAgents,
  readZip,
  run,
  startAgent,
  type RunningAgent,
  type StandinArtifacts,
  type StartOptions,
} from './standin.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let artifacts: StandinArtifacts | undefined;
function arts(): StandinArtifacts {
  artifacts ??= buildStandin(defaultOutDir());
  return artifacts;
}
const nomadBin = () => arts().bin('nomad', 'amd64_glibc');
const consulBin = () => arts().bin('consul', 'amd64_glibc');

const scratch: string[] = [];
function tmp(prefix = 'cairn-agent-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  scratch.push(d);
  return d;
}

function nomadConfig(dir: string, port: number, extra = ''): string {
  const cfg = join(dir, 'nomad.d');
  mkdirSync(cfg, { recursive: true });
  writeFileSync(
    join(cfg, '10-base.hcl'),
    `# rendered by cairn (test)
data_dir   = "${dir}/data"   // trailing comment
bind_addr  = "127.0.0.1"
datacenter = "home"
name       = "n1"
log_file   = "${dir}/log/"

ports {
  http = ${port}
}
/* multi-line
   comment */
${extra}`,
  );
  writeFileSync(
    join(cfg, '20-server.hcl'),
    `server {
  enabled          = true
  bootstrap_expect = 1
  server_join {
    retry_join = ["127.0.0.1", "127.0.0.2",]
  }
}

client {
  enabled = true
  options = {
    "driver.allowlist" = "docker,exec"
  }
  host_volume "data" {
    path      = "/srv/data"
    read_only = false
  }
}

plugin "docker" {
  config {
    infra_image = "registry.k8s.io/pause-amd64:3.3"
  }
}
`,
  );
  mkdirSync(join(dir, 'log'), { recursive: true });
  return cfg;
}

/** startAgent + teardown that SIGKILLs this agent if the test did not stop it */
async function start(t: ExecutionContext, o: StartOptions): Promise<RunningAgent> {
  const ag = await startAgent(o);
  t.teardown(async () => {
    await ag.stop('SIGKILL', 1000);
  });
  return ag;
}

function sha256File(p: string): string {
  return createHash('sha256').update(readFileSync(p)).digest('hex');
}

test.before(() => {
  arts();
});
// tests run concurrently: each test tears down only its own agents (start());
// killStartedAgents() is the end-of-file safety net.
test.after.always(() => killStartedAgents());
test.after.always(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

// ------------------------------------------------------------------ build

test('build.sh produces release-shaped zips, SHA256SUMS and CNI tarballs', (t) => {
  const a = arts();
  t.is(a.nomadVersion, '1.9.7');
  t.is(a.consulVersion, '1.20.2');
  for (const p of ['nomad', 'consul'] as const) {
    const sums = readFileSync(a.sums(p), 'utf8').trim().split('\n');
    t.is(sums.length, 4, `${p} SHA256SUMS lists 4 zips`);
    for (const line of sums) {
      const m = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
      t.truthy(m, `sha256sum line format: ${line}`);
      if (!m) continue;
      t.is(sha256File(join(a.dir, m[2]!)), m[1]!, `${m[2]} matches its SHA256SUMS line`);
    }
    for (const arch of ['amd64', 'arm64'] as const) {
      for (const fl of ['glibc', 'musl'] as const) {
        const entries = readZip(a.zip(p, arch, fl));
        t.is(entries.length, 1, 'zip holds a single file');
        t.is(entries[0]!.name, p, 'named like the product');
        t.is(entries[0]!.mode & 0o777, 0o755, 'executable');
      }
    }
  }
  for (const v of ['1.4.0', '1.2.0']) {
    for (const arch of ['amd64', 'arm64'] as const) {
      const tgz = a.cni(arch, v);
      const line = readFileSync(`${tgz}.sha256`, 'utf8').trim();
      t.is(line, `${sha256File(tgz)}  cni-plugins-linux-${arch}-v${v}.tgz`);
      const list = spawnSync('tar', ['-tzf', tgz], { encoding: 'utf8' }).stdout.split('\n');
      for (const p of ['loopback', 'bridge', 'host-local', 'firewall', 'portmap']) t.true(list.includes(`./${p}`), p);
    }
  }
});

test('binaries are linked like the real releases (glibc dynamic vs static)', (t) => {
  const a = arts();
  const fromZip = (p: 'nomad' | 'consul', arch: 'amd64' | 'arm64', fl: 'glibc' | 'musl') =>
    elfInfo(readZip(a.zip(p, arch, fl))[0]!.data);
  t.deepEqual(fromZip('nomad', 'amd64', 'glibc'), { machine: 'x86_64', interpreter: '/lib64/ld-linux-x86-64.so.2' });
  t.deepEqual(fromZip('nomad', 'amd64', 'musl'), { machine: 'x86_64', interpreter: null });
  t.deepEqual(fromZip('nomad', 'arm64', 'glibc'), { machine: 'aarch64', interpreter: '/lib/ld-linux-aarch64.so.1' });
  t.deepEqual(fromZip('nomad', 'arm64', 'musl'), { machine: 'aarch64', interpreter: null });
  // Consul releases are static: the plain zip serves Alpine too.
  t.deepEqual(fromZip('consul', 'amd64', 'glibc'), { machine: 'x86_64', interpreter: null });
  t.deepEqual(fromZip('consul', 'arm64', 'glibc'), { machine: 'aarch64', interpreter: null });
});

test('build.sh is cached: a second run is a no-op', (t) => {
  const a = arts();
  const before = statSync(a.zip('nomad', 'amd64')).mtimeMs;
  const t0 = Date.now();
  const again = buildStandin(a.dir);
  t.true(Date.now() - t0 < 3000, 'fast');
  t.regex(again.buildLog, /up to date/);
  t.is(statSync(a.zip('nomad', 'amd64')).mtimeMs, before, 'artifacts untouched');
});

// ------------------------------------------------------------------ version

test('`nomad version` / `consul version` print like the real ones', (t) => {
  const n = run(nomadBin(), ['version']);
  t.is(n.status, 0);
  const nl = n.stdout.split('\n');
  t.is(nl[0], 'Nomad v1.9.7');
  t.true(nl.some((l) => /^Revision [0-9a-f]{40}$/.test(l)), n.stdout);

  const c = run(consulBin(), ['version']);
  t.is(c.status, 0);
  t.is(c.stdout.split('\n')[0], 'Consul v1.20.2');
  t.regex(c.stdout, /^Revision [0-9a-f]{8}$/m);

  // explicit product as first argument, and argv[0] basename
  t.is(run(nomadBin(), ['consul', 'version']).stdout.split('\n')[0], 'Consul v1.20.2');
  const d = tmp();
  symlinkSync(nomadBin(), join(d, 'consul'));
  t.is(run(join(d, 'consul'), ['-version']).stdout.split('\n')[0], 'Consul v1.20.2');
});

// ------------------------------------------------------------------ agent

test('valid config dir: starts, serves health/leader/peers/self, writes node-id, SIGINT exits 0', async (t) => {
  const d = tmp();
  const port = await freePort();
  const cfg = nomadConfig(d, port);
  const ag = await start(t, { bin: nomadBin(), configDir: cfg, port });

  const health = await ag.get('/v1/agent/health');
  t.is(health.status, 200);
  t.deepEqual(health.json(), { client: { ok: true, message: 'ok' }, server: { ok: true, message: 'ok' } });
  t.is((await ag.get('/v1/status/leader')).json(), '127.0.0.1:4647');
  t.deepEqual((await ag.get('/v1/status/peers')).json(), ['127.0.0.1:4647']);
  t.is((await ag.get('/v1/jobs')).status, 404);

  const nodeId = readFileSync(join(d, 'data', 'node-id'), 'utf8').trim();
  t.regex(nodeId, UUID_V4);
  t.is(readFileSync(join(d, 'data', 'client', 'client-id'), 'utf8').trim(), nodeId);
  t.is(statSync(join(d, 'data')).mode & 0o777, 0o700, 'data_dir created 0700');

  const self = (await ag.get('/v1/agent/self')).json() as { standin: Record<string, unknown> };
  t.like(self.standin, {
    product: 'nomad',
    version: '1.9.7',
    node_id: nodeId,
    datacenter: 'home',
    name: 'n1',
    server: true,
    client: true,
    bootstrap_expect: 1,
    pid: ag.pid,
  });
  t.deepEqual(self.standin['config_files'], [join(cfg, '10-base.hcl'), join(cfg, '20-server.hcl')]);

  t.regex(ag.stdout(), /==> Nomad agent started! Log data will stream in below:/);
  t.regex(ag.stdout(), new RegExp(`\\[INFO\\] agent: node_id=${nodeId}`));

  const exit = await ag.stop('SIGINT');
  t.deepEqual(exit, { code: 0, signal: null });
  t.regex(ag.stdout(), /Caught signal: interrupt/);
  const log = readFileSync(join(d, 'log', 'nomad.log'), 'utf8');
  t.regex(log, /agent: node_id=/, 'log_file ending in / gets <dir>/nomad.log');
  t.regex(log, /Caught signal: interrupt/);
  // it did not fork: once our child exited, the port is free again
  await t.notThrowsAsync(
    () =>
      new Promise<void>((res, rej) => {
        const s = createServer().once('error', rej);
        s.listen(port, '127.0.0.1', () => s.close(() => res()));
      }),
  );
});

test('node-id is kept across restarts; removing client/ gives a new identity', async (t) => {
  const d = tmp();
  const port = await freePort();
  const cfg = nomadConfig(d, port);
  const first = await start(t, { bin: nomadBin(), configDir: cfg, port });
  const id1 = readFileSync(join(d, 'data', 'node-id'), 'utf8').trim();
  t.is((await first.stop()).code, 0);

  const second = await start(t, { bin: nomadBin(), configDir: cfg, port });
  const self = (await second.get('/v1/agent/self')).json() as { standin: { node_id: string } };
  t.is(self.standin.node_id, id1);
  t.is(readFileSync(join(d, 'data', 'node-id'), 'utf8').trim(), id1);
  t.is((await second.stop()).code, 0);

  rmSync(join(d, 'data', 'client'), { recursive: true });
  const third = await start(t, { bin: nomadBin(), configDir: cfg, port });
  const id3 = readFileSync(join(d, 'data', 'node-id'), 'utf8').trim();
  t.not(id3, id1, 'a baked image without data_dir/client/ gets a fresh node id');
  t.regex(id3, UUID_V4);
  t.is((await third.stop('SIGTERM')).code, 0);
  t.regex(third.stdout(), /Caught signal: terminated/);
});

test('runs with stdin closed and stdout/stderr to a file (supervisor style); SIGHUP does not stop it', async (t) => {
  const d = tmp();
  const port = await freePort();
  const cfg = nomadConfig(d, port);
  const outFile = join(d, 'output.log');
  // sh execs into the agent, so the pid we signal is the agent itself
  const child = spawn('sh', ['-c', 'exec 0<&- >"$1" 2>&1; exec "$2" agent -config "$3"', 'sh', outFile, nomadBin(), cfg], {
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  try {
    let ok = false;
    for (let i = 0; i < 100 && !ok; i++) {
      ok = await httpGet(`http://127.0.0.1:${port}/v1/agent/health`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ok) await new Promise((r) => setTimeout(r, 50));
    }
    t.true(ok, 'healthy');
    child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 200));
    t.is((await httpGet(`http://127.0.0.1:${port}/v1/agent/health`)).status, 200, 'still serving after SIGHUP');
    child.kill('SIGINT');
    t.is(await exited, 0);
    const out = readFileSync(outFile, 'utf8');
    t.regex(out, /Nomad agent started!/);
    t.regex(out, /Caught signal: hangup/);
    t.regex(out, /Caught signal: interrupt/);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});

test('broken HCL: exit 1 with file and line:col on stderr, nothing started', (t) => {
  const d = tmp();
  const cfg = join(d, 'nomad.d');
  mkdirSync(cfg);
  writeFileSync(join(cfg, '10-ok.hcl'), `data_dir = "${d}/data"\nserver { enabled = true }\n`);
  writeFileSync(join(cfg, '20-broken.hcl'), 'client {\n  enabled = true\n  servers = ["a", "b"\n}\n');
  const r = run(nomadBin(), ['agent', `-config=${cfg}`]);
  t.is(r.status, 1);
  t.regex(r.stderr, new RegExp(`Error loading configuration from ${cfg}/20-broken\\.hcl: At 4:1: `));
  t.false(existsSync(join(d, 'data')), 'did not get as far as creating data_dir');

  const cases: Array<[string, RegExp]> = [
    ['data_dir = "/x\n', /At 1:12: literal not terminated/],
    ['server {\n  enabled = true\n', /At 3:1: object expected closing RBRACE got: EOF/],
    ['data_dir "/x"\n', /At 1:1: key 'data_dir' expected start of object/],
    ['}\n', /At 1:1: expected: IDENT \| STRING got: RBRACE/],
    ['bind_addr = 127.0.0.1\n', /At 1:13: /],
  ];
  for (const [text, re] of cases) {
    writeFileSync(join(cfg, '20-broken.hcl'), text);
    const rr = run(nomadBin(), ['agent', '-config', cfg]);
    t.is(rr.status, 1, text);
    t.regex(rr.stderr, re, text);
    t.regex(rr.stderr, /20-broken\.hcl: At \d+:\d+: /);
  }
});

test('missing data_dir is an error (nomad and consul)', (t) => {
  const d = tmp();
  writeFileSync(join(d, 'a.hcl'), 'server { enabled = true }\n');
  const n = run(nomadBin(), ['agent', `-config=${join(d, 'a.hcl')}`]);
  t.is(n.status, 1);
  t.regex(n.stderr, /Must specify data directory \(data_dir\)/);

  const c = run(consulBin(), ['agent', `-config-dir=${d}`], {});
  t.is(c.status, 1);
  t.regex(c.stderr, /server: expected bool, got object/, 'consul wants `server = true`, not a block');
  writeFileSync(join(d, 'a.hcl'), 'server = true\n');
  const c2 = run(consulBin(), ['agent', `-config-dir=${d}`]);
  t.is(c2.status, 1);
  t.regex(c2.stderr, /data_dir cannot be empty/);

  const none = run(nomadBin(), ['agent', `-config=${join(d, 'missing')}`]);
  t.is(none.status, 1);
  t.regex(none.stderr, /no such file or directory/i);
});

test('port already in use: clear message, exit 1', async (t) => {
  const d = tmp();
  const port = await freePort();
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
  try {
    const r = run(nomadBin(), ['agent', `-config=${nomadConfig(d, port)}`]);
    t.is(r.status, 1);
    t.regex(r.stderr, new RegExp(`failed to start HTTP API: listen tcp 127\\.0\\.0\\.1:${port}: bind: address already in use`));
  } finally {
    await new Promise((r) => blocker.close(r));
  }
});

test('consul: JSON config, bootstrap_expect 3 has no leader, node-id in data_dir', async (t) => {
  const d = tmp();
  const port = await freePort();
  const cfg = join(d, 'consul.d');
  mkdirSync(cfg);
  writeFileSync(
    join(cfg, 'consul.json'),
    JSON.stringify({ data_dir: `${d}/data`, bind_addr: '127.0.0.1', server: true, bootstrap_expect: 3, datacenter: 'edge' }),
  );
  writeFileSync(join(cfg, 'ports.hcl'), `ports { http = ${port} }\nclient_addr = "127.0.0.1"\n`);
  writeFileSync(join(cfg, 'README.txt'), 'ignored: not .hcl/.json');
  const ag = await start(t, { bin: consulBin(), args: ['agent', '-config-dir', cfg], port });
  t.is((await ag.get('/v1/status/leader')).body, '""', 'no leader until 3 servers (never, for the stand-in)');
  t.deepEqual((await ag.get('/v1/status/peers')).json(), []);
  const self = (await ag.get('/v1/agent/self')).json() as { Config: Record<string, unknown> };
  t.like(self.Config, { Datacenter: 'edge', Server: true, Version: '1.20.2' });
  t.regex(readFileSync(join(d, 'data', 'node-id'), 'utf8'), UUID_V4);
  t.is(self.Config['NodeID'], readFileSync(join(d, 'data', 'node-id'), 'utf8').trim());
  t.regex(ag.stdout(), /Consul agent running!/);
  t.is((await ag.stop('SIGTERM')).code, 0);
});

/** a server of a 3-server cluster on 127.0.0.<ip>, all on one HTTP port, joined to the others */
function clusterConfig(product: 'nomad' | 'consul', ip: string, port: number, joins: string[]): string {
  const d = tmp(`cairn-agent-cluster-${ip}-`);
  const cfg = join(d, 'cfg');
  mkdirSync(cfg);
  const j = JSON.stringify(joins);
  writeFileSync(
    join(cfg, 'agent.hcl'),
    product === 'nomad'
      ? `data_dir = "${d}/data"\nbind_addr = "${ip}"\nname = "n${ip}"\nports { http = ${port} }\nserver {\n  enabled = true\n  bootstrap_expect = 3\n  server_join {\n    retry_join = ${j}\n  }\n}\n`
      : `data_dir = "${d}/data"\nbind_addr = "${ip}"\nclient_addr = "${ip}"\nnode_name = "n${ip}"\nserver = true\nbootstrap_expect = 3\nretry_join = ${j}\nports { http = ${port} }\n`,
  );
  return cfg;
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  let v = await f();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 150));
    v = await f();
  }
  return v;
}

interface AutopilotServer {
  ID: string;
  Name: string;
  Address: string;
  SerfStatus: string;
  Version: string;
  Leader: boolean;
  Voter: boolean;
  Healthy: boolean;
  LastContact: string;
  LastTerm: number;
  LastIndex: number;
  StableSince: string;
}
interface AutopilotHealth {
  Healthy: boolean;
  FailureTolerance: number;
  Servers: AutopilotServer[];
}

for (const product of ['nomad', 'consul'] as const) {
  test(`${product}: 3 servers with bootstrap_expect 3 form a cluster; a majority keeps the leader; peers list the raft configuration; autopilot health`, async (t) => {
    const ips = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
    const rpc = product === 'nomad' ? 4647 : 8300;
    const port = await freePort(ips[0]);
    // consul joins by bare address, nomad (here) with the serf port: the stand-in strips it
    const joins = product === 'nomad' ? ips.map((ip) => `${ip}:4648`) : ips;
    const cfgs = ips.map((ip) => clusterConfig(product, ip, port, joins));
    const bin = product === 'nomad' ? nomadBin() : consulBin();
    const up = (i: number) => start(t, { bin, configDir: cfgs[i], port, host: ips[i] });
    const leaderOf = async (ag: RunningAgent) => (await ag.get('/v1/status/leader')).json() as string;
    const peersOf = async (ag: RunningAgent) => (await ag.get('/v1/status/peers')).json() as string[];
    const health = async (ag: RunningAgent) => {
      const r = await ag.get('/v1/operator/autopilot/health');
      return { status: r.status, body: r.body, json: () => r.json() as AutopilotHealth };
    };
    const addr = (i: number) => `${ips[i]}:${rpc}`;
    const all = [addr(0), addr(1), addr(2)];

    const ag: (RunningAgent | undefined)[] = [await up(0)];
    await new Promise((r) => setTimeout(r, 1500));
    t.is(await leaderOf(ag[0]!), '', '1 of 3 up: no leader');
    t.deepEqual(await peersOf(ag[0]!), [], 'not bootstrapped: the raft configuration is empty');
    t.like(await health(ag[0]!), { status: 500, body: 'No cluster leader' });

    ag[1] = await up(1);
    await new Promise((r) => setTimeout(r, 1500));
    t.is(await leaderOf(ag[0]!), '', '2 of 3 up: still no leader (bootstrap_expect 3)');
    t.is(await leaderOf(ag[1]!), '');
    t.deepEqual(await peersOf(ag[1]!), []);

    ag[2] = await up(2);
    for (const a of ag) {
      t.is(await until(() => leaderOf(a!), (l) => l !== ''), addr(0), `3 of 3: ${a!.baseUrl} sees the lowest address as leader`);
      t.deepEqual(await until(() => peersOf(a!), (p) => p.length === 3), all);
    }
    t.regex(ag[0]!.stdout(), /entering leader state/);
    t.regex(ag[1]!.stdout(), new RegExp(`cluster leader is ${addr(0).replace(/\./g, '\\.')}`));
    const h3 = await until(() => health(ag[1]!), (h) => h.status === 200);
    t.is(h3.status, 200);
    const j3 = h3.json();
    t.like(j3, { Healthy: true, FailureTolerance: 1 });
    t.deepEqual(j3.Servers.map((s) => [s.Address, s.SerfStatus, s.Healthy, s.Leader, s.Voter]), [
      [addr(0), 'alive', true, true, true],
      [addr(1), 'alive', true, false, true],
      [addr(2), 'alive', true, false, true],
    ]);
    const self = (await ag[1]!.get('/v1/agent/self')).json() as { standin: { node_id: string } };
    const s1 = j3.Servers[1]!;
    t.is(s1.ID, self.standin.node_id, 'ID: the raft ID (node id)');
    t.is(s1.Name, product === 'nomad' ? 'n127.0.0.12.global' : 'n127.0.0.12', 'Name: nomad servers are <name>.<region>');
    t.is(s1.Version, product === 'nomad' ? '1.9.7' : '1.20.2');
    t.regex(s1.LastContact, /^\d+(\.\d+)?(ms|s)$/);
    t.regex(s1.StableSince, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    if (product === 'nomad') t.like(j3 as unknown as Record<string, unknown>, { Leader: j3.Servers[0]!.ID });
    // the HTTP server stays responsive while probing
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) await ag[2]!.get('/v1/agent/health');
    t.true(Date.now() - t0 < 2000, 'health answers promptly');

    // one of three down: the majority keeps the leader; the configuration still lists it
    t.is((await ag[2]!.stop('SIGTERM')).code, 0);
    const h2 = await until(() => health(ag[0]!), (h) => h.status === 429);
    t.is(h2.status, 429, 'not healthy: 429, as the real agents answer');
    t.like(h2.json(), { Healthy: false, FailureTolerance: 0 });
    t.like(h2.json().Servers[2], { Address: addr(2), SerfStatus: 'failed', Healthy: false, Leader: false });
    for (const a of [ag[0]!, ag[1]!]) {
      t.is(await leaderOf(a), addr(0), '2 of 3 live: same leader');
      t.deepEqual(await peersOf(a), all, 'peers: the raft configuration, live or not');
    }

    // two of three down: no quorum, no leader
    t.is((await ag[1]!.stop('SIGTERM')).code, 0);
    t.is(await until(() => leaderOf(ag[0]!), (l) => l === ''), '', '1 of 3 live: leader lost');
    t.deepEqual(await peersOf(ag[0]!), all);
    t.like(await health(ag[0]!), { status: 500, body: 'No cluster leader' });
    t.regex(ag[0]!.stdout(), /no cluster leader: 1 of 3 servers of the raft configuration live \(quorum 2\)/);

    // one back: quorum again, from the persisted configuration (no need for 3 at once)
    ag[1] = await up(1);
    t.is(await until(() => leaderOf(ag[1]!), (l) => l !== ''), addr(0), '2 of 3 again: a leader');
    ag[2] = await up(2);
    const back = await until(() => health(ag[2]!), (h) => h.status === 200);
    t.like(back.json(), { Healthy: true, FailureTolerance: 1 });

    // the leader goes: the next lowest takes over and keeps it when the old one returns
    t.is((await ag[0]!.stop('SIGTERM')).code, 0);
    t.is(await until(() => leaderOf(ag[2]!), (l) => l !== addr(0)), addr(1), 'leader down: a new leader among the live');
    ag[0] = await up(0);
    await until(() => health(ag[0]!), (h) => h.status === 200);
    for (const a of ag) t.is(await until(() => leaderOf(a!), (l) => l === addr(1)), addr(1), 'the current leader stays while it is live');
    for (const a of ag) t.is((await a!.stop('SIGTERM')).code, 0);
  });
}

test('nomad client: node, drain with a deadline migrates the allocations, eligibility (the Nodes HTTP API)', async (t) => {
  const d = tmp();
  const port = await freePort();
  const cfg = join(d, 'nomad.d');
  mkdirSync(cfg);
  writeFileSync(join(cfg, 'a.hcl'), `data_dir = "${d}/data"\nbind_addr = "127.0.0.1"\nname = "w1"\nports { http = ${port} }\nclient { enabled = true }\n`);
  mkdirSync(join(d, 'data', 'alloc'), { recursive: true });
  writeFileSync(join(d, 'data', 'alloc', 'standin-allocs'), '3\n');
  let ag = await start(t, { bin: nomadBin(), configDir: cfg, port });
  const self = (await ag.get('/v1/agent/self')).json() as { stats: { client: { node_id: string; num_allocations: string } } };
  const id = self.stats.client.node_id;
  t.is(self.stats.client.num_allocations, '3', 'stats values are strings, as in Nomad');
  const post = (path: string, body: unknown, method = 'POST') =>
    fetch(`${ag.baseUrl}${path}`, { method, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, body: await r.text() }));
  const node = async () => (await ag.get(`/v1/node/${id}`)).json() as Record<string, unknown>;

  const list = (await ag.get('/v1/nodes')).json() as Record<string, unknown>[];
  t.like(list, [{ ID: id, Name: 'w1', Drain: false, SchedulingEligibility: 'eligible', Status: 'ready' }]);
  t.like(await node(), { ID: id, Drain: false, DrainStrategy: null, SchedulingEligibility: 'eligible', LastDrain: null });

  writeFileSync(join(d, 'data', 'standin-drain-stuck'), '');
  const r = await post(`/v1/node/${id}/drain`, { DrainSpec: { Deadline: 300e9, IgnoreSystemJobs: false }, Meta: { message: 'cairn' } });
  t.is(r.status, 200);
  t.like(JSON.parse(r.body), { EvalIDs: null });
  const n1 = await node();
  t.like(n1, { Drain: true, SchedulingEligibility: 'ineligible', DrainStrategy: { Deadline: 300e9, IgnoreSystemJobs: false }, LastDrain: { Status: 'draining', Meta: { message: 'cairn' } } });
  t.like(await post(`/v1/node/${id}/eligibility`, { Eligibility: 'eligible' }), { status: 500, body: "can not set node's scheduling eligibility to eligible while it is draining" });
  rmSync(join(d, 'data', 'standin-drain-stuck'));
  const done = await until(node, (n) => n['DrainStrategy'] === null);
  t.like(done, { Drain: false, SchedulingEligibility: 'ineligible', LastDrain: { Status: 'complete' } });
  // the agent logs before it answers with the new state, but its stdout reaches this process through a pipe: polled
  t.regex(await until(async () => ag.stdout(), (o) => /drained 3 allocations/.test(o)), /drained 3 allocations \(migrated\)/);
  t.is(readFileSync(join(d, 'data', 'alloc', 'standin-allocs'), 'utf8').trim(), '0');

  // the servers keep the node: a restarted agent is still ineligible
  t.is((await ag.stop('SIGINT')).code, 0);
  ag = await start(t, { bin: nomadBin(), configDir: cfg, port });
  t.like(await node(), { SchedulingEligibility: 'ineligible' });
  t.like(await post(`/v1/node/${id}/eligibility`, { Eligibility: 'sometimes' }, 'PUT'), { status: 400 });
  t.like(await post(`/v1/node/${id}/eligibility`, { Eligibility: 'eligible' }, 'PUT'), { status: 200 });
  t.like(await node(), { SchedulingEligibility: 'eligible', Drain: false });

  // a deadline force-stops what does not migrate
  writeFileSync(join(d, 'data', 'alloc', 'standin-allocs'), '2\n');
  writeFileSync(join(d, 'data', 'standin-drain-stuck'), '');
  t.is((await post(`/v1/node/${id}/drain`, { DrainSpec: { Deadline: 1e9 } })).status, 200);
  t.like(await until(node, (n) => n['DrainStrategy'] === null, 6000), { LastDrain: { Status: 'complete' } });
  t.regex(await until(async () => ag.stdout(), (o) => /drained 2 allocations/.test(o)), /drained 2 allocations \(deadline reached: force-stopped\)/);

  t.is((await ag.get('/v1/node/00000000-0000-4000-8000-000000000000')).status, 404);
  t.is((await ag.get(`/v1/node/${id}/drain`)).status, 405);
  t.is((await ag.get('/v1/operator/autopilot/health')).status, 500, 'a client only: no servers');
  t.is((await ag.stop()).code, 0);
});

test('single server (bootstrap_expect 1): autopilot healthy with FailureTolerance 0', async (t) => {
  const d = tmp();
  const port = await freePort();
  const ag = await start(t, { bin: consulBin(), args: ['agent', '-server', '-bootstrap-expect=1', `-data-dir=${d}/data`, '-bind=127.0.0.1', '-client=127.0.0.1', `-http-port=${port}`, '-node=solo'], port });
  const h = await ag.get('/v1/operator/autopilot/health');
  t.is(h.status, 200);
  t.like(h.json() as AutopilotHealth, { Healthy: true, FailureTolerance: 0, Servers: [{ Name: 'solo', Leader: true, Voter: true, Healthy: true, SerfStatus: 'alive' }] });
  t.is((await ag.stop()).code, 0);
});

test('runtime knob: data_dir/standin-unhealthy makes /v1/agent/health answer 500', async (t) => {
  const d = tmp();
  const port = await freePort();
  const ag = await start(t, { bin: nomadBin(), configDir: nomadConfig(d, port), port });
  writeFileSync(join(d, 'data', 'standin-unhealthy'), 'disk full\n');
  const h = await ag.get('/v1/agent/health');
  t.is(h.status, 500);
  t.like(h.json() as object, { server: { ok: false, message: 'disk full' } });
  writeFileSync(join(d, 'data', 'standin-no-leader'), '');
  t.is((await ag.get('/v1/status/leader')).body, '""');
  rmSync(join(d, 'data', 'standin-unhealthy'));
  t.is((await ag.get('/v1/agent/health')).status, 200);
  t.is((await ag.stop()).code, 0);
});

test('validate / config validate: parse only, exit 0/1', (t) => {
  const d = tmp();
  const cfg = nomadConfig(d, 4646);
  const ok = run(nomadBin(), ['config', 'validate', cfg]);
  t.is(ok.status, 0, ok.stderr);
  t.regex(ok.stdout, /Configuration is valid!/);
  t.false(existsSync(join(d, 'data')), 'validate does not create data_dir');
  writeFileSync(join(cfg, '30-bad.hcl'), 'ports { http = }\n');
  const bad = run(nomadBin(), ['validate', cfg]);
  t.is(bad.status, 1);
  t.regex(bad.stderr, /30-bad\.hcl: At 1:16: /);
});

// ------------------------------------------------------------------ CNI

test('fake CNI plugins: about text on stderr, exit 0; Nomad-style version gate >= 1.3.0', (t) => {
  const a = arts();
  for (const [v, passes] of [
    ['1.4.0', true],
    ['1.2.0', false],
  ] as const) {
    const d = tmp();
    t.is(spawnSync('tar', ['-xzf', a.cni('amd64', v), '-C', d]).status, 0);
    for (const p of ['loopback', 'bridge', 'host-local', 'firewall', 'portmap']) {
      const env = { ...process.env };
      for (const k of Object.keys(env)) if (k.startsWith('CNI_')) delete env[k];
      const r = spawnSync(join(d, p), [], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] });
      t.is(r.status, 0, `${p} exits 0 like skel.PluginMain`);
      t.is(r.stdout, '');
      t.is(r.stderr.split('\n')[0], `CNI ${p} plugin v${v}`);
      t.regex(r.stderr, /^CNI protocol versions supported: 0\.1\.0, .*1\.0\.0$/m);
      const fp = cniFingerprintVersion(r.status, r.stdout + r.stderr);
      t.is(fp, `v${v}`);
      t.is(compareVersions(fp, '1.3.0') >= 0, passes, `${p} v${v} vs 1.3.0 gate`);
    }
    const ver = spawnSync(join(d, 'bridge'), [], { encoding: 'utf8', env: { ...process.env, CNI_COMMAND: 'VERSION' } });
    t.is(ver.status, 0);
    t.like(JSON.parse(ver.stdout), { cniVersion: '1.0.0' });
  }
  t.is(cniFingerprintVersion(1, 'CNI bridge plugin v1.4.0'), 'unknown', 'non-zero exit reads as unknown in Nomad');
});

// ------------------------------------------------------------------ Alpine chroots

const rootfsDir = '/work/shared/testbed/alpine/minirootfs';
const canChroot =
  process.getuid?.() === 0 && existsSync(join(rootfsDir, 'alpine-minirootfs-3.19.4-x86_64.tar.gz'));

let verifyOut: Promise<{ code: number | null; out: string }> | undefined;
function verify() {
  verifyOut ??= new Promise((resolve) => {
    const c = spawn('sh', [VERIFY_SCRIPT, arts().dir, rootfsDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    c.stderr.setEncoding('utf8').on('data', (s: string) => (out += s));
    c.on('exit', (code) => resolve({ code, out }));
  });
  return verifyOut;
}
const chrootTest = canChroot ? test : test.skip;

for (const [title, line] of [
  ['alpine x86_64: glibc nomad fails with "not found" (127), like nomad#1779', /^PASS alpine-x86_64: nomad glibc zip fails like the real one \(rc=127: .*not found\)$/m],
  ['alpine x86_64: chroot DIR /nomad version with the glibc build exits 127', /^PASS alpine-x86_64: chroot \/nomad version \(glibc\) -> 127/m],
  ['alpine x86_64: musl nomad zip verifies (busybox sha256sum), unzips and runs', /^PASS alpine-x86_64: nomad musl zip runs$/m],
  ['alpine x86_64: consul plain zip is static and runs', /^PASS alpine-x86_64: consul zip \(static\) runs$/m],
  ['alpine x86_64: musl agent serves HTTP in the chroot and exits 0 on SIGINT', /^PASS alpine-x86_64: musl agent serves/m],
  ['alpine x86_64: CNI plugins run under busybox', /^PASS alpine-x86_64: cni v1\.4\.0 plugins/m],
  ['alpine aarch64 (qemu): static nomad and consul run', /^PASS alpine-aarch64: nomad arm64 static zip runs[\s\S]*^PASS alpine-aarch64: consul arm64 zip/m],
  ['alpine aarch64 (qemu): glibc nomad cannot find its loader', /^PASS alpine-aarch64: nomad arm64 glibc zip fails like the real one/m],
  ['alpine aarch64 (qemu): CNI plugins run', /^PASS alpine-aarch64: cni v1\.4\.0 plugins/m],
] as const) {
  chrootTest(title, async (t) => {
    const v = await verify();
    t.regex(v.out, line, v.out);
  });
}

chrootTest('verify-rootfs.sh reports no failures', async (t) => {
  const v = await verify();
  t.is(v.code, 0, v.out);
  t.notRegex(v.out, /^FAIL /m);
});
