import test from 'ava';
import { configText, type ConsulVars } from '../../../roles/consul/index.ts';
import { FACTS, ctxFor, inventory, role, step, validationCtx, wantedContent, planAbsent } from './_nomad-consul.ts';

const KEY = Buffer.alloc(32, 7).toString('base64');

const INV = (servers: string[], extra = '') => `
vars:
  consul_encrypt: !secret "${KEY}"
hosts:
  s1: { address: 10.9.0.11 }
  s2: { address: 10.9.0.12 }
  s3: { address: 10.9.0.13 }
  c1: { address: c1.lan }
groups:
  servers:
    hosts: [${servers.join(', ')}]
  fleet:
    hosts: [s1, s2, s3, c1]
    roles: [consul]
${extra}`;

test('server config: bootstrap_expect = servers of the datacenter, retry_join their addresses, key rendered', async (t) => {
  const r = await role('consul');
  const inv = inventory(INV(['s1', 's2', 's3']));
  t.deepEqual(r.def.validate!(validationCtx(r, inv)), []);
  const ctx = ctxFor<ConsulVars>(r, inv, 's2', FACTS.alpine);
  const ops = r.def.steps(ctx);
  const hcl = configText(ctx);
  t.true(hcl.includes(`encrypt = "${KEY}"`));
  t.regex(hcl, /^server = true$/m);
  t.regex(hcl, /^bootstrap_expect = 3$/m);
  t.regex(hcl, /^retry_join = \["10\.9\.0\.11", "10\.9\.0\.12", "10\.9\.0\.13"\]$/m);
  t.regex(hcl, /^advertise_addr = "10\.9\.0\.12"$/m);
  t.regex(hcl, /^log_file += "\/var\/log\/consul\/consul.log"$/m);
  t.regex(hcl, /^log_rotate_max_files = 10$/m);
  t.regex(hcl, /enabled = true/);
  // the gossip key is in the file but never in what cairn shows
  t.is(wantedContent(step(ops, 'config')), '');
  const plan = planAbsent(step(ops, 'config'));
  t.is(plan.kind, 'change');
  t.notRegex(JSON.stringify(plan), new RegExp(KEY.replace(/[+/=]/g, '.')));
});

test('client config: server = false, no bootstrap_expect, joins the servers; advertise template when the address is a name', async (t) => {
  const r = await role('consul');
  const inv = inventory(INV(['s1', 's2', 's3']));
  const ctx = ctxFor<ConsulVars>(r, inv, 'c1', FACTS.debian);
  const ops = r.def.steps(ctx);
  const hcl = configText(ctx);
  t.regex(hcl, /^server = false$/m);
  t.notRegex(hcl, /bootstrap_expect/);
  t.regex(hcl, /^advertise_addr = "\{\{ GetPrivateIP \}\}"$/m);
  t.regex(hcl, /retry_join = \["10\.9\.0\.11"/);
  t.regex(hcl, /ui_config \{\n  enabled = false/);
  t.deepEqual(
    ops.map((o) => o.id),
    ['group', 'user', 'data-dir', 'config-dir', 'config', 'service-log-dir', 'service-unit', 'service', 'service-running-current', 'wait-api'],
  );
});

test('two servers are refused before connecting, at the group line, with the fix', async (t) => {
  const r = await role('consul');
  const inv = inventory(INV(['s1', 's2']));
  const ps = r.def.validate!(validationCtx(r, inv));
  t.is(ps.length, 1);
  t.regex(ps[0]!.message, /datacenter 'dc1' would have bootstrap_expect = 2 .*no fault tolerance/);
  t.regex(ps[0]!.fix!, /use 1 or 3 servers.*allow_even_servers: true/);
  t.is(ps[0]!.location.line, 10); // `servers:` under groups
  const allowed = inventory(INV(['s1', 's2']).replace('vars:\n', 'vars:\n  allow_even_servers: true\n'));
  t.deepEqual(r.def.validate!(validationCtx(r, allowed)), []);
});

test('servers of different datacenters are different clusters; explicit even bootstrap_expect is refused at its line', async (t) => {
  const r = await role('consul');
  const yaml = `
hosts:
  a: { vars: { consul_server: true, consul_datacenter: one } }
  b: { vars: { consul_server: true, consul_datacenter: two } }
  c: { vars: { consul_server: true, consul_datacenter: three, consul_bootstrap_expect: 4 } }
groups:
  fleet: { hosts: [a, b, c], roles: [consul] }
`;
  const inv = inventory(yaml);
  const ps = r.def.validate!(validationCtx(r, inv));
  t.is(ps.length, 1);
  t.regex(ps[0]!.message, /datacenter 'three' would have bootstrap_expect = 4/);
  t.is(ps[0]!.location.line, 5);
  t.regex(wantedContent(step(r.def.steps(ctxFor(r, inv, 'a', FACTS.alpine)), 'config')), /^bootstrap_expect = 1$/m);
});

test('plain-text gossip key, log_rotate_max_files 0 and a datacenter without servers are refused', async (t) => {
  const r = await role('consul');
  const yaml = `
vars:
  consul_encrypt: ${KEY}
  consul_log_rotate_max_files: 0
hosts:
  a: {}
groups:
  fleet: { hosts: [a], roles: [consul] }
`;
  const ps = r.def.validate!(validationCtx(r, inventory(yaml)));
  const text = ps.map((p) => `${p.location.line}: ${p.message}`).join('\n');
  t.regex(text, /3: consul_encrypt is a gossip encryption key written as plain text/);
  t.regex(text, /4: consul_log_rotate_max_files must be a whole number >= 1, got 0 \(0 keeps every rotated log file forever/);
  t.regex(text, /datacenter 'dc1' has no server/);
  t.false(text.includes(KEY));
});

test('a bad secret key is refused without showing it', async (t) => {
  const r = await role('consul');
  const ps = r.def.validate!(validationCtx(r, inventory(INV(['s1']).replace(KEY, 'c2hvcnQ='))));
  t.is(ps.length, 1);
  t.regex(ps[0]!.message, /not a base64 encoded 16, 24 or 32 byte key/);
});

test('handlers: servers observe the leader, restart, wait for the API and the cluster; serial only for servers', async (t) => {
  const r = await role('consul');
  const inv = inventory(INV(['s1', 's2', 's3']));
  const h = r.def.handlers!(ctxFor(r, inv, 's1', FACTS.alpine));
  t.deepEqual(h['restart consul']!.map((o) => o.id), ['quorum-before-restart', 'leader-before-restart', 'service-restart', 'wait-api-after-restart', 'wait-cluster-after-restart']);
  // the gate is on by default; consul_quorum_gate: false leaves it out
  const ungated = r.def.handlers!(ctxFor(r, inv, 's1', FACTS.alpine, { extra: { consul_quorum_gate: false } }));
  t.deepEqual(ungated['restart consul']!.map((o) => o.id), ['leader-before-restart', 'service-restart', 'wait-api-after-restart', 'wait-cluster-after-restart']);
  t.true(h['restart consul']!.slice(3).every((o) => o.barrier === true));
  t.regex(h['restart consul']![4]!.probe({ host: 's1', facts: FACTS.alpine, bake: false })!.text, /\/v1\/operator\/autopilot\/health/, 'after the restart: wait for Healthy too');
  // a single server is not gated: it has no quorum to keep
  const solo = r.def.handlers!(ctxFor(r, inventory(INV(['s1'])), 's1', FACTS.alpine))['restart consul']![0]!;
  t.is(solo.probe({ host: 's1', facts: FACTS.alpine, bake: false }), undefined);
  t.like(solo.plan(undefined, { host: 's1', facts: FACTS.alpine, bake: false }), { kind: 'noop' });
  const hc = r.def.handlers!(ctxFor(r, inv, 'c1', FACTS.alpine));
  t.deepEqual(hc['restart consul']!.map((o) => o.id), ['service-restart', 'wait-api-after-restart']);
  t.is(r.def.serial, 1);
  t.true(r.def.serialWhen!(inv.hosts.get('s1')!, { consul_server_groups: ['consul_servers', 'servers'] }));
  t.false(r.def.serialWhen!(inv.hosts.get('c1')!, {}));
});

test('single server: waits for a leader after the first start; bake mode: no waits, identity forgotten, enabled only', async (t) => {
  const r = await role('consul');
  const inv = inventory(INV(['s1']));
  t.truthy(r.def.steps(ctxFor(r, inv, 's1', FACTS.alpine)).find((o) => o.id === 'wait-leader'));
  const bake = r.def.steps(ctxFor(r, inv, 's1', FACTS.alpine, { bake: true }));
  t.falsy(bake.find((o) => o.kind === 'wait'));
  t.truthy(bake.find((o) => o.id === 'forget-identity'));
  t.falsy(bake.find((o) => o.id === 'service-running-current'));
});

test('consul servers get the OOM protection nomad has (systemd OOMScoreAdjust=-1000); clients do not', async (t) => {
  const r = await role('consul');
  const inv = inventory(INV(['s1', 's2', 's3']));
  const unitOf = (host: string) => wantedContent(r.def.steps(ctxFor(r, inv, host, FACTS.debian)).find((o) => o.id === 'service-unit')!, FACTS.debian);
  t.true(unitOf('s1').split('\n').includes('OOMScoreAdjust=-1000'));
  t.notRegex(unitOf('c1'), /OOMScoreAdjust/);
});
