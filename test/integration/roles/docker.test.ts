// The docker role on real test-bed hosts. What the bed allows (docs/roles-host.md):
// Alpine's offline repository has no docker: the role stops before installing
// anything, naming the community repository. On Debian, docker.io installs,
// daemon.json lands, the unit is enabled and dockerd runs (storage falls back to
// vfs on the overlay root; the bed's /proc/sys/net is writable so docker0 and its
// iptables rules are made) — but no container can start: runc cannot create its
// cgroups in the container's read-only cgroup v1 hierarchies. That is shown too.
import test from 'ava';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory, type TestInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf, type CliResult } from '../../helpers/cli.ts';
import { sshRun, type BedHost } from '../../bed/fleet.ts';

let claim: Claim;
let alp: BedHost;
let deb: BedHost;
const op = (r: CliResult, host: string, id: string) => jsonOf(r).hosts[host]!.ops.find((o) => `${o.role}/${o.id}` === id);

function inventory(hosts: BedHost[], vars: Record<string, unknown> = {}): TestInventory {
  const names = hosts.map((h) => h.name);
  return fleetInventory({ hosts: names, groups: { nodes: { hosts: names, roles: ['docker'] } }, vars });
}

/** A docker-archive tarball whose image says architecture arm64, loaded under `name` (made on the host). */
const LOAD_ARM64 = (name: string) => `set -e; d=$(mktemp -d); cd "$d"; mkdir -p img/layer r; echo pause > r/pause; tar -C r -cf img/layer/layer.tar .
l=$(sha256sum img/layer/layer.tar | cut -c1-64)
printf '{"architecture":"arm64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$l" > img/config.json
c=$(sha256sum img/config.json | cut -c1-64); mv img/config.json "img/$c.json"
printf '[{"Config":"%s.json","RepoTags":["${name}"],"Layers":["layer/layer.tar"]}]' "$c" > img/manifest.json
tar -C img -cf img.tar . && docker load -i img.tar && docker image inspect --format '{{.Architecture}}' '${name}'; rm -rf "$d"`;

test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 });
  alp = claim.hosts.find((h) => h.kind === 'alpine')!;
  deb = claim.hosts.find((h) => h.kind === 'debian')!;
});
test.after.always(() => claim?.release());

test.serial('Alpine: docker is not in the offline repository -> stopped before anything is installed, naming the community repository', async (t) => {
  const r = await cairn(['apply', '-i', inventory([alp]).file, '--json']);
  t.is(r.code, 1);
  const a = op(r, alp.name, 'docker/available')!;
  t.is(a.status, 'failed');
  t.regex(a.reason, /^docker cannot be installed on .*: no configured apk repository offers it \(repositories: \/media\/apks\)\. Alpine ships docker in its community repository/);
  t.is(op(r, alp.name, 'docker/packages'), undefined, 'the install step never ran');
  t.not((await sshRun(alp, 'apk info -e docker')).code, 0);
});

test.serial('an infra image named for another arch stops the host first, before docker is installed', async (t) => {
  const r = await cairn(['apply', '-i', inventory([deb], { nomad_infra_image: 'gcr.io/google_containers/pause-arm64:3.0' }).file, '--json']);
  t.is(r.code, 1);
  t.regex(op(r, deb.name, 'docker/infra-image-arch')!.reason, /is the arm64 image, but this host is amd64/);
  t.is(op(r, deb.name, 'docker/packages'), undefined);
});

test.serial('Debian: docker.io, daemon.json, the unit enabled and dockerd running with json-file logs; a second apply changes nothing', async (t) => {
  const inv = inventory([deb]);
  const first = await cairn(['apply', '-i', inv.file, '--json']);
  t.is(first.code, 0, first.stdout);
  const second = await cairn(['apply', '-i', inv.file, '--json']);
  t.is(second.code, 0);
  t.is(jsonOf(second).hosts[deb.name]!.changed, 0, JSON.stringify(jsonOf(second).hosts[deb.name]!.ops.filter((o) => o.status !== 'ok')));
  t.is(op(second, deb.name, 'docker/running')!.reason, 'dockerd answers docker info');
  const info = await sshRun(deb, "docker info --format '{{.LoggingDriver}}'; systemctl is-enabled docker; systemctl is-active docker; cat /etc/docker/daemon.json");
  const [driver, enabled, active, ...json] = info.stdout.split('\n');
  t.deepEqual([driver, enabled, active], ['json-file', 'enabled', 'active']);
  t.deepEqual(JSON.parse(json.join('\n')), { 'log-driver': 'json-file', 'log-opts': { 'max-size': '10m', 'max-file': '3' } });
});

test.serial('bed limit: no container can start here (runc cannot create cgroups in the read-only v1 hierarchies)', async (t) => {
  const r = await sshRun(deb, 'd=$(mktemp -d); echo x > "$d/x"; tar -C "$d" -cf "$d.tar" . && docker import "$d.tar" cairn/empty:test >/dev/null; rm -rf "$d" "$d.tar"; docker run --rm --network none cairn/empty:test /x; echo "exit=$?"; docker image rm cairn/empty:test >/dev/null');
  t.regex(r.stdout + r.stderr, /exit=125/);
  t.regex(r.stderr, /unable to apply cgroup configuration: mkdir \/sys\/fs\/cgroup\/\w+\/docker: read-only file system/);
});

test.serial('a daemon.json dockerd refuses: the restart handler fails with dockerd\'s own log lines; the defaults bring it back', async (t) => {
  // overlay2 cannot mount on the bed's overlay root filesystem
  const bad = await cairn(['apply', '-i', inventory([deb], { docker_daemon_extra: { 'storage-driver': 'overlay2' } }).file, '--json']);
  t.is(bad.code, 1);
  const restart = jsonOf(bad).hosts[deb.name]!.ops.find((o) => o.id === 'restart')!;
  t.is(restart.status, 'failed');
  t.regex(restart.error ?? '', /dockerd did not come back after the restart; its last log lines:[\s\S]*driver not supported/);
  const good = await cairn(['apply', '-i', inventory([deb]).file, '--json']);
  t.is(good.code, 0, good.stdout);
  const ops = jsonOf(good).hosts[deb.name]!.ops;
  t.is(ops.find((o) => o.id === 'service')!.status, 'changed', 'started again (it was failed)');
});

test.serial('a cached infra image of the wrong arch is removed (docker would never pull it again); then nothing to do', async (t) => {
  const image = 'registry.k8s.io/pause:3.9';
  const loaded = await sshRun(deb, LOAD_ARM64(image));
  t.regex(loaded.stdout, /arm64/, loaded.stderr);
  const inv = inventory([deb], { nomad_infra_image: image });
  const r = await cairn(['apply', '-i', inv.file, '--json']);
  t.is(r.code, 0, r.stdout);
  const cache = op(r, deb.name, 'docker/infra-image-cache')!;
  t.is(cache.status, 'changed');
  t.is(cache.reason, `remove the cached arm64 copy of ${image} (host is amd64; docker would never pull it again)`);
  t.not((await sshRun(deb, `docker image inspect ${image}`)).code, 0);
  const again = await cairn(['apply', '-i', inv.file, '--json']);
  t.regex(op(again, deb.name, 'docker/infra-image-cache')!.reason, /not cached yet, docker pulls the amd64 image on first use/);
  t.is(jsonOf(again).hosts[deb.name]!.changed, 0);
});
