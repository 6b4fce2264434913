// The preflight role on real test-bed hosts: reads facts only, never changes the
// host; a missing kernel feature is named with what it breaks and stops the host
// before later roles (here: base) run, or only warns in warn mode.
import test from 'ava';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory, type TestInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf } from '../../helpers/cli.ts';

let claim: Claim;
let inv: TestInventory;

test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 });
  const names = claim.hosts.map((h) => h.name);
  inv = fleetInventory({
    hosts: names,
    groups: { nodes: { hosts: names, roles: ['preflight', 'base'] } },
    vars: { base_packages: { alpine: [], debian: [] } },
  });
});
test.after.always(() => claim?.release());

test.serial('defaults: the bed kernel has every feature and the cgroup controllers (v1 hierarchies): ok, nothing changed', async (t) => {
  const r = await cairn(['check', '-i', inv.file, '--json', '-t', 'preflight']);
  const j = jsonOf(r);
  t.is(r.code, 0, r.stdout);
  for (const h of inv.hosts) {
    const ops = j.hosts[h]!.ops;
    t.deepEqual(ops.map((o) => `${o.id}:${o.status}`), ['kernel-config:ok', 'cgroups:ok']);
    t.regex(ops[0]!.reason, /the 18 features checked are present in \/proc\/config\.gz/);
    t.regex(ops[1]!.reason, /cpuset, cpu, blkio, memory, pids \(cgroup v1/);
    t.is(j.hosts[h]!.changed, 0);
  }
});

test.serial('overlay networks required: CONFIG_IPVLAN is missing on the bed kernel — named, with what breaks; the host stops before base', async (t) => {
  const r = await cairn(['apply', '-i', inv.file, '--json', '-e', '{preflight_overlay_networks: true}']);
  t.is(r.code, 1);
  const j = jsonOf(r);
  for (const h of inv.hosts) {
    const ops = j.hosts[h]!.ops;
    const kernel = ops.find((o) => o.id === 'kernel-config')!;
    t.is(kernel.status, 'failed');
    t.regex(kernel.reason, /CONFIG_IPVLAN is missing in \/proc\/config\.gz: No ipvlan: ipvlan networks for tasks cannot be created\./);
    t.notRegex(kernel.reason, /CONFIG_VXLAN|CONFIG_MACVLAN/, 'only what is missing');
    t.false(ops.some((o) => o.role === 'base' && o.status !== 'skipped'), `${h}: base must not run: ${JSON.stringify(ops.map((o) => `${o.role}/${o.id}:${o.status}`))}`);
  }
});

test.serial('warn mode: the same finding is a warning and the run goes on', async (t) => {
  const r = await cairn(['apply', '-i', inv.file, '--json', '-e', '{preflight_overlay_networks: true}', '-e', 'preflight_mode=warn']);
  t.is(r.code, 0, r.stdout);
  for (const h of inv.hosts) {
    const ops = jsonOf(r).hosts[h]!.ops;
    t.is(ops.find((o) => o.id === 'kernel-config')!.status, 'warning');
    t.true(ops.some((o) => o.role === 'base'));
  }
});

test.serial('an unknown mode is an input error before any connection', async (t) => {
  const r = await cairn(['apply', '-i', inv.file, '-e', 'preflight_mode=ignore']);
  t.is(r.code, 65);
  t.regex(r.stderr + r.stdout, /preflight_mode must be one of fail, warn, got "ignore"/);
});
