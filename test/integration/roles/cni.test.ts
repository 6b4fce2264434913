// The cni role on real test-bed hosts, with the stand-in plugin tarballs of
// test/agent/build.sh (v1.4.0 passes, v1.2.0 fails) and Debian's REAL
// containernetworking-plugins 1.1.1 repacked as a release tarball: the role stops
// at the bridge version gate (Nomad's CNI CHECK on restore needs >= 1.3.0).
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory, type TestInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf, type CliResult } from '../../helpers/cli.ts';
import { sshRun, type BedHost } from '../../bed/fleet.ts';
import { CACHE_BASE } from '../../bed/config.ts';
import { buildStandin, type StandinArtifacts } from '../../agent/standin.ts';

let claim: Claim;
let hosts: BedHost[];
let agent: StandinArtifacts;
let work: string;
let debianTgz: string;
const cache = mkdtempSync(join(tmpdir(), 'cairn-cni-cache-'));

const op = (r: CliResult, host: string, id: string) => jsonOf(r).hosts[host]!.ops.find((o) => `${o.role}/${o.id}` === id);
const env = { CAIRN_CACHE_DIR: cache };

function inventory(version: string, tgz: string): TestInventory {
  const names = hosts.map((h) => h.name);
  return fleetInventory({
    hosts: names,
    groups: { nodes: { hosts: names, roles: ['cni'] } },
    vars: { cni_version: version, cni_artifacts: { amd64: { file: tgz, sha256_file: `${tgz}.sha256` } } },
  });
}

/** Debian's containernetworking-plugins .deb: from the bed's apt repository cache, else apt-get download. */
function debianDeb(dir: string): string {
  const repos = join(CACHE_BASE, 'debian');
  if (existsSync(repos)) {
    for (const r of readdirSync(repos).filter((d) => d.startsWith('repo-amd64'))) {
      const debs = join(repos, r, 'debs');
      const deb = existsSync(debs) ? readdirSync(debs).find((f) => /^containernetworking-plugins_.*_amd64\.deb$/.test(f)) : undefined;
      if (deb) return join(debs, deb);
    }
  }
  const r = spawnSync('apt-get', ['download', 'containernetworking-plugins'], { cwd: dir, encoding: 'utf8' });
  const deb = readdirSync(dir).find((f) => f.endsWith('.deb'));
  if (r.status !== 0 || !deb) throw new Error(`cannot find or download containernetworking-plugins: ${r.stderr}`);
  return join(dir, deb);
}

test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 });
  hosts = claim.hosts;
  agent = buildStandin();
  work = mkdtempSync(join(tmpdir(), 'cairn-cni-'));
  // Debian's real plugins (/usr/lib/cni/*) as a release-shaped tarball
  const deb = debianDeb(work);
  execFileSync('dpkg-deb', ['-x', deb, join(work, 'deb')]);
  debianTgz = join(work, 'cni-plugins-linux-amd64-v1.1.1.tgz');
  execFileSync('tar', ['-C', join(work, 'deb/usr/lib/cni'), '-czf', debianTgz, '.']);
  writeFileSync(`${debianTgz}.sha256`, `${createHash('sha256').update(readFileSync(debianTgz)).digest('hex')}  cni-plugins-linux-amd64-v1.1.1.tgz\n`);
  for (const h of hosts) await sshRun(h, 'rm -rf /opt/cni /var/lib/cairn/artifacts/cni-plugins-*');
});
test.after.always(() => {
  claim?.release();
  rmSync(cache, { recursive: true, force: true });
  if (work) rmSync(work, { recursive: true, force: true });
});

test.serial('v1.4.0: uploaded, verified, extracted, checked; a second apply changes nothing', async (t) => {
  const inv = inventory('1.4.0', agent.cni('amd64', '1.4.0'));
  const first = await cairn(['apply', '-i', inv.file, '--json'], env);
  t.is(first.code, 0, first.stdout + first.stderr);
  for (const h of inv.hosts) {
    t.is(op(first, h, 'cni/tarball')!.status, 'changed');
    t.is(op(first, h, 'cni/plugins')!.status, 'changed');
    t.regex(op(first, h, 'cni/check')!.reason, /CNI plugins present in \/opt\/cni\/bin \(loopback, bridge, host-local, firewall, portmap\); bridge v1\.4\.0 >= 1\.3\.0/);
  }
  const second = await cairn(['apply', '-i', inv.file, '--json'], env);
  t.is(second.code, 0);
  for (const h of inv.hosts) t.is(jsonOf(second).hosts[h]!.changed, 0);
  for (const h of hosts) {
    const about = await sshRun(h, '/opt/cni/bin/bridge </dev/null 2>&1; ls /opt/cni/bin');
    t.regex(about.stdout, /CNI bridge plugin v1\.4\.0/);
    t.regex(about.stdout, /portmap/);
  }
});

test.serial('v1.2.0: extracted, then the version gate stops the host (exit 1) naming 1.3.0 and nomad#24292', async (t) => {
  const r = await cairn(['apply', '-i', inventory('1.2.0', agent.cni('amd64', '1.2.0')).file, '--json'], env);
  t.is(r.code, 1);
  for (const h of hosts) {
    const check = op(r, h.name, 'cni/check')!;
    t.is(check.status, 'failed');
    t.regex(check.reason, /the CNI bridge plugin in \/opt\/cni\/bin is v1\.2\.0, older than 1\.3\.0: Nomad runs CNI CHECK on restore only with a bridge plugin reporting a parseable version >= 1\.3\.0.*hashicorp\/nomad#24292/);
  }
});

test.serial("Debian's real containernetworking-plugins 1.1.1: no parseable version -> stopped at the gate", async (t) => {
  const r = await cairn(['apply', '-i', inventory('1.1.1', debianTgz).file, '--json'], env);
  t.is(r.code, 1);
  for (const h of hosts) {
    const check = op(r, h.name, 'cni/check')!;
    t.is(check.status, 'failed');
    t.regex(check.reason, />= 1\.3\.0/);
    if (h.kind === 'debian') t.regex(check.reason, /does not report a parseable version \(it printed: "CNI bridge plugin version unknown"\)/);
    // Debian builds its plugins dynamically against glibc: they do not even run on Alpine
    else t.regex(check.reason, /cannot run on .* \(musl, amd64\)/);
  }
});

test.serial('back to v1.4.0: the gate passes again (a changed tarball is extracted again)', async (t) => {
  const r = await cairn(['apply', '-i', inventory('1.4.0', agent.cni('amd64', '1.4.0')).file, '--json'], env);
  t.is(r.code, 0, r.stdout);
  for (const h of hosts) t.regex(op(r, h.name, 'cni/check')!.reason, /bridge v1\.4\.0 >= 1\.3\.0/);
});

test.serial('a tarball that is not on the controller is an input error before any connection', async (t) => {
  const r = await cairn(['apply', '-i', inventory('1.4.0', '/nonexistent/cni.tgz').file], env);
  t.is(r.code, 65);
  t.regex(r.stderr + r.stdout, /cni_artifacts\.amd64\.file is not a file on the controller/);
});
