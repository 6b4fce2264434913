import test from 'ava';
import { configText, type NomadVars } from '../../../roles/nomad/index.ts';
import { FACTS, ctxFor, inventory, role, step, validationCtx, wantedContent } from './_nomad-consul.ts';

const INV = `
hosts:
  n1: { address: 10.9.0.21 }
  n2: { address: 10.9.0.22 }
  n3: { address: 10.9.0.23 }
  pi1: { address: 10.9.0.31, vars: { node_address: 192.168.1.31 } }
groups:
  nomad_servers:
    hosts: [n1, n2, n3]
  nodes:
    hosts: [n1, n2, n3, pi1]
    roles: [consul, nomad]
  consul_servers:
    hosts: [n1]
`;

test('server + client config: bootstrap_expect 3, retry_join, data_dir, log rotation, cni_path, consul wired', async (t) => {
  const r = await role('nomad');
  const inv = inventory(INV);
  t.deepEqual(r.def.validate!(validationCtx(r, inv)), []);
  const ctx = ctxFor<NomadVars>(r, inv, 'n1', FACTS.alpine);
  const hcl = configText(ctx);
  t.regex(hcl, /server \{\n  enabled          = true\n  bootstrap_expect = 3\n/);
  t.regex(hcl, /retry_join = \["10\.9\.0\.21", "10\.9\.0\.22", "10\.9\.0\.23"\]/);
  t.regex(hcl, /^data_dir   = "\/var\/lib\/nomad"$/m);
  t.regex(hcl, /^log_file             = "\/var\/log\/nomad\/nomad.log"$/m);
  t.regex(hcl, /^log_rotate_max_files = 10$/m);
  t.regex(hcl, /cni_path = "\/opt\/cni\/bin"/);
  t.regex(hcl, /infra_image = "registry.k8s.io\/pause-amd64:3.3"/);
  t.regex(hcl, /consul \{\n  address = "127.0.0.1:8500"\n\}/);
  t.regex(hcl, /rpc  = "10\.9\.0\.21"/);
  // the rendered file is what the config step writes
  t.is(wantedContent(step(r.def.steps(ctx), 'config')), hcl.replace(/\n$/, ''));
});

test('client on aarch64: arm64 pause image, joins the servers, advertises node_address; data dir root 0700', async (t) => {
  const r = await role('nomad');
  const inv = inventory(INV);
  const ctx = ctxFor<NomadVars>(r, inv, 'pi1', FACTS.alpine37arm);
  const hcl = configText(ctx);
  t.notRegex(hcl, /^server \{/m);
  t.regex(hcl, /infra_image = "registry.k8s.io\/pause-arm64:3.3"/);
  t.regex(hcl, /client \{\n  enabled  = true\n  cni_path = "\/opt\/cni\/bin"\n\n  server_join \{\n    retry_join = \["10\.9\.0\.21", "10\.9\.0\.22", "10\.9\.0\.23"\]/);
  t.regex(hcl, /http = "192\.168\.1\.31"/);
  const ops = r.def.steps(ctx);
  t.regex(JSON.stringify(ops.find((o) => o.id === 'data-dir')!.plan({ command: '', durationMs: 0, exitCode: 0, stdout: '\n@@cairn:state\ntype=absent\n', stderr: '' }, { host: 'pi1', facts: FACTS.alpine37arm, bake: false })), /0700/);
  // old OpenRC (Alpine 3.7): the command keeps its own log
  t.regex(wantedContent(step(ops, 'service-confd'), FACTS.alpine37arm), /^command=\/bin\/sh$/m);
});

test('var overrides: infra image, cni_path, consul off, server-only', async (t) => {
  const r = await role('nomad');
  const inv = inventory(INV);
  const hcl = configText(ctxFor(r, inv, 'n2', FACTS.debian, { extra: { nomad_infra_image: 'my.registry/pause:{arch}-1', cni_path: '/usr/lib/cni', nomad_consul_address: false, nomad_client: false } }));
  t.notRegex(hcl, /client \{|consul \{|plugin "docker"/);
  const hcl2 = configText(ctxFor(r, inv, 'n2', FACTS.debian, { extra: { nomad_infra_image: 'my.registry/pause:{arch}-1', cni_path: '/usr/lib/cni' } }));
  t.regex(hcl2, /infra_image = "my.registry\/pause:amd64-1"/);
  t.regex(hcl2, /cni_path = "\/usr\/lib\/cni"/);
});

test('unit per supervisor: systemd unit with the HashiCorp settings; s6 down-signal SIGINT', async (t) => {
  const r = await role('nomad');
  const inv = inventory(INV);
  const sd = r.def.steps(ctxFor(r, inv, 'n1', FACTS.debian));
  const unit = wantedContent(step(sd, 'service-unit'), FACTS.debian);
  for (const l of ['KillMode=process', 'KillSignal=SIGINT', 'OOMScoreAdjust=-1000', 'TasksMax=infinity', 'LimitNPROC=infinity', 'Type=simple', 'After=network-online.target consul.service docker.service']) t.true(unit.split('\n').includes(l), l);
  const notify = r.def.steps(ctxFor(r, inv, 'n1', FACTS.debian, { extra: { nomad_service_notify: true } }));
  t.regex(wantedContent(step(notify, 'service-unit'), FACTS.debian), /^Type=notify$/m);
  const s6 = r.def.steps(ctxFor(r, inv, 'n1', FACTS.alpineS6, { extra: { cairn_supervisor: 's6' } }));
  t.is(wantedContent(step(s6, 'service-s6-down-signal')), 'SIGINT');
  t.regex(wantedContent(step(s6, 'service-s6-run')), /^exec s6-setlock \/run\/cairn-s6-nomad.lock \/usr\/local\/bin\/nomad agent -config=\/etc\/nomad.d$/m);
});

test('docker role on a client: started after docker, never requiring it (docker is installed after nomad)', async (t) => {
  const r = await role('nomad');
  const inv = inventory(INV.replace('roles: [consul, nomad]', 'roles: [consul, nomad, docker]'));
  const initd = wantedContent(step(r.def.steps(ctxFor(r, inv, 'pi1', FACTS.alpine)), 'service-initd'));
  t.regex(initd, /need net\n\tafter firewall consul docker\n/);
  const unit = wantedContent(step(r.def.steps(ctxFor(r, inv, 'pi1', FACTS.debian)), 'service-unit'));
  t.regex(unit, /^After=.*docker\.service/m);
  t.notRegex(unit, /^Requires=.*docker/m);
});

test('two Nomad servers -> refused with the location and the fix; four per region too', async (t) => {
  const r = await role('nomad');
  const two = inventory(INV.replace('hosts: [n1, n2, n3]\n  nodes', 'hosts: [n1, n2]\n  nodes'));
  const ps = r.def.validate!(validationCtx(r, two));
  t.is(ps.length, 1);
  t.regex(ps[0]!.message, /nomad region 'global' would have bootstrap_expect = 2 \(servers: n1, n2\)/);
  t.is(ps[0]!.location.line, 8);
  const four = inventory(INV.replace('pi1: { address: 10.9.0.31, vars: { node_address: 192.168.1.31 } }', 'pi1: { address: 10.9.0.31, vars: { nomad_server: true } }'));
  t.regex(r.def.validate!(validationCtx(r, four))[0]!.message, /bootstrap_expect = 4/);
  const regions = inventory(INV.replace('pi1: { address: 10.9.0.31, vars: { node_address: 192.168.1.31 } }', 'pi1: { address: 10.9.0.31, vars: { nomad_server: true, nomad_region: pi } }'));
  t.deepEqual(r.def.validate!(validationCtx(r, regions)), []);
});

test('handlers and waits: servers wait for leader + peers after a restart; a forming multi-server cluster waits for the API only', async (t) => {
  const r = await role('nomad');
  const inv = inventory(INV);
  const h = r.def.handlers!(ctxFor(r, inv, 'n1', FACTS.alpine, { extra: { nomad_client: false } }));
  t.deepEqual(h['restart nomad']!.map((o) => o.id), ['quorum-before-restart', 'leader-before-restart', 'service-restart', 'wait-ready-after-restart', 'wait-cluster-after-restart']);
  // the gate is on by default; nomad_quorum_gate: false leaves it out
  const ungated = r.def.handlers!(ctxFor(r, inv, 'n1', FACTS.alpine, { extra: { nomad_client: false, nomad_quorum_gate: false } }));
  t.deepEqual(ungated['restart nomad']!.map((o) => o.id), ['leader-before-restart', 'service-restart', 'wait-ready-after-restart', 'wait-cluster-after-restart']);
  // a client: drained (when it runs allocations) before, eligible again after
  const hc = r.def.handlers!(ctxFor(r, inv, 'pi1', FACTS.alpine));
  t.deepEqual(hc['restart nomad']!.map((o) => o.id), ['drain-before-restart', 'service-restart', 'wait-ready-after-restart', 'eligible-after-restart']);
  // a server that is a client too: the gate first, then the drain
  const both = r.def.handlers!(ctxFor(r, inv, 'n1', FACTS.alpine));
  t.deepEqual(both['restart nomad']!.slice(0, 3).map((o) => o.id), ['quorum-before-restart', 'leader-before-restart', 'drain-before-restart']);
  const gate = h['restart nomad']![0]!;
  t.regex(gate.probe({ host: 'n1', facts: FACTS.alpine, bake: false })!.text, /\/v1\/operator\/autopilot\/health/);
  const refused = gate.plan({ command: '', durationMs: 0, exitCode: 0, stderr: '', stdout: `HTTP/1.1 429 Too Many Requests\r\n\r\n${JSON.stringify({ Healthy: false, FailureTolerance: 0, Servers: [
    { ID: 'a', Name: 'n1.global', Address: '10.9.0.11:4647', SerfStatus: 'alive', Leader: true, Voter: true, Healthy: true },
    { ID: 'b', Name: 'n2.global', Address: '10.9.0.12:4647', SerfStatus: 'failed', Leader: false, Voter: true, Healthy: false, LastContact: '1m2s' },
    { ID: 'c', Name: 'n3.global', Address: '10.9.0.13:4647', SerfStatus: 'alive', Leader: false, Voter: true, Healthy: true },
  ] })}` }, { host: 'n1', facts: FACTS.alpine, bake: false });
  t.like(refused, { kind: 'fail' });
  t.regex((refused as { message: string }).message, /nomad server n2\.global is not healthy \(serf status failed, last contact with the leader 1m2s ago\): restarting n1 would lose the quorum; bring n2\.global back or pass --allow-quorum-loss \(nomad_allow_quorum_loss: true\)/);
  const steps = r.def.steps(ctxFor(r, inv, 'n1', FACTS.alpine, { extra: { nomad_client: false } }));
  t.regex(step(steps, 'wait-ready').plan({ command: '', durationMs: 0, exitCode: 0, stdout: 'waiting\n', stderr: '' }, { host: 'n1', facts: FACTS.alpine, bake: false }).kind, /change/);
  const clientWait = step(r.def.steps(ctxFor(r, inv, 'pi1', FACTS.alpine)), 'wait-ready');
  const probe = clientWait.probe({ host: 'pi1', facts: FACTS.alpine, bake: false })!;
  t.regex(probe.text, /\/v1\/agent\/health/);
  t.regex(step(steps, 'wait-ready').probe({ host: 'n1', facts: FACTS.alpine, bake: false })!.text, /\/v1\/agent\/self/);
});

test('bake mode: files and enable only, no waits, data dir emptied of node identity', async (t) => {
  const r = await role('nomad');
  const ops = r.def.steps(ctxFor(r, inventory(INV), 'pi1', FACTS.debian, { bake: true }));
  t.falsy(ops.find((o) => o.kind === 'wait'));
  const forget = step(ops, 'forget-identity');
  t.regex(forget.probe({ host: 'pi1', facts: FACTS.debian, bake: true })!.text, /ls -A \/var\/lib\/nomad/);
  const svc = step(ops, 'service');
  const plan = svc.plan({ command: '', durationMs: 0, exitCode: 0, stdout: '\n@@cairn:enabled\ndisabled\n', stderr: '' }, { host: 'pi1', facts: FACTS.debian, bake: true });
  t.is(plan.kind, 'change');
  t.regex(JSON.stringify(plan), /systemctl enable nomad/);
  t.notRegex(JSON.stringify(plan), /--now|start/);
});

test('nomad_log_rotate_max_files: 0 and a plain-text gossip key are refused', async (t) => {
  const r = await role('nomad');
  const ps = r.def.validate!(validationCtx(r, inventory(INV.replace('hosts:\n  n1', 'vars:\n  nomad_log_rotate_max_files: 0\n  nomad_encrypt: abc\nhosts:\n  n1'))));
  const text = ps.map((p) => p.message).join('\n');
  t.regex(text, /nomad_log_rotate_max_files must be a whole number >= 1, got 0/);
  t.regex(text, /nomad_encrypt is a gossip encryption key written as plain text/);
});

test('nomad_drain_deadline and nomad_allow_quorum_loss are checked', async (t) => {
  const r = await role('nomad');
  const ps = r.def.validate!(validationCtx(r, inventory(INV.replace('hosts:\n  n1', "vars:\n  nomad_drain_deadline: soon\n  nomad_allow_quorum_loss: 'yes'\nhosts:\n  n1"))));
  const text = ps.map((p) => p.message).join('\n');
  t.regex(text, /nomad_drain_deadline must be a duration > 0 such as 5m/);
  t.regex(text, /nomad_allow_quorum_loss must be true or false/);
});
