/**
 * The image-bake proof for one architecture, as ava tests:
 *
 *  1. a fresh Alpine root, made to look used (SSH host keys, machine id, Nomad
 *     and Consul node ids, logs, history, temp files, apk cache, random seed, a
 *     cairn backup), is baked by the real CLI (`cairn apply --bake`, chroot
 *     connection from the inventory) with the demo roles and the stand-in
 *     nomad/consul agents as services: every service is enabled, none runs,
 *     and bake-cleanup (added by --bake) names and removes every planted file;
 *  2. a second bake over the same root changes nothing (cleanup included);
 *  3. bake-cleanup refuses to run without --bake (exit 65, nothing touched);
 *  4. two copies of the image boot side by side under systemd-nspawn: sshd,
 *     hello, consul and nomad come up, and the two hosts have different SSH
 *     host keys and agent node ids, none equal to the planted ones.
 */
import test from 'ava';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cairn, jsonOf } from '../../helpers/cli.ts';
import { buildStandin } from '../../agent/standin.ts';
import { BootedHost, Workspace, cannotRun, imageKind, plantBuildLeftovers, type ImageKind } from './_image.ts';

type Json = ReturnType<typeof jsonOf>;

export function bakeAndBootSuite(name: 'x86_64' | 'aarch64'): void {
  const skipReason = cannotRun(name);
  const serial = skipReason ? test.serial.skip : test.serial;
  if (skipReason) test.serial.skip(`bake ${name}: ${skipReason}`, () => undefined);

  let kind: ImageKind;
  let ws: Workspace;
  let root = '';
  let inv = '';
  let planted: Record<string, string[]> = {};
  let first: Json | undefined;

  test.before(() => {
    if (skipReason) return;
    kind = imageKind(name);
    ws = new Workspace(`${name}`);
  });
  test.after.always(async () => {
    if (ws) await ws.dispose();
  });

  serial(`${name}: --bake enables services without starting them and bake-cleanup names and removes every planted identity`, async (t) => {
    const agents = buildStandin();
    root = ws.makeRoot(kind);
    planted = plantBuildLeftovers(root);
    ws.bindRepo(root, kind);
    inv = ws.inventory({
      root,
      roles: ['motd', 'toolbox', 'tuning', 'hello', 'standin-agents'],
      vars: {
        standin_consul_bin: agents.bin('consul', kind.standin),
        standin_nomad_bin: agents.bin('nomad', kind.standin),
        // vlan conflicts with ifupdown-ng in the 3.19 test repo
        toolbox_packages: { alpine: ['e2fsprogs'], debian: [] },
      },
    });
    const r = await cairn(['apply', '--bake', '-i', inv, '--json']);
    t.is(r.code, 0, r.stdout + r.stderr);
    first = jsonOf(r);
    const host = first.hosts.image!;
    t.is(host.failed, 0);
    const ops = host.ops;
    // the cleanup is the last role, after every handler
    const lastRole = ops.at(-1)!.role;
    t.is(lastRole, 'bake-cleanup');
    t.true(ops.findIndex((o) => o.role === 'bake-cleanup') > ops.map((o) => o.role).lastIndexOf('standin-agents'));
    for (const svc of ['hello/service', 'standin-agents/consul', 'standin-agents/nomad']) {
      const op = ops.find((o) => `${o.role}/${o.id}` === svc);
      t.is(op?.status, 'changed', svc);
      t.regex(op!.reason, /enable/);
      t.notRegex(op!.reason, /start/);
    }
    for (const [item, paths] of Object.entries(planted)) {
      const op = ops.find((o) => o.role === 'bake-cleanup' && o.id === item);
      t.is(op?.status, 'changed', `bake-cleanup/${item}: ${JSON.stringify(op)}`);
      for (const p of paths) t.true(op!.diff!.includes(` ${p}`), `bake-cleanup/${item} names ${p}:\n${op!.diff}`);
      t.log(`bake-cleanup/${item}: ${op!.reason}`);
    }
    // what is left in the image
    for (const p of Object.values(planted).flat()) {
      if (p.startsWith('/var/log/') && !/\.\d$/.test(p)) {
        t.is(statSync(join(root, p)).size, 0, `${p} is truncated, kept`);
      } else t.false(existsSync(join(root, p)), `${p} is gone`);
    }
    t.deepEqual(readdirSync(join(root, 'etc/ssh')).filter((f) => f.startsWith('ssh_host_')), []);
    t.true(existsSync(join(root, 'opt/nomad/data')), 'the data dir itself stays');
    for (const s of ['hello', 'consul', 'nomad', 'sshd']) {
      const link = join(root, 'etc/runlevels/default', s);
      t.true(lstatSync(link, { throwIfNoEntry: false })?.isSymbolicLink() === true && readlinkSync(link) === `/etc/init.d/${s}`, `${s} enabled`);
    }
    t.false(existsSync(join(root, 'run/openrc/started/hello')), 'nothing was started');
    t.false(existsSync(join(root, 'opt/consul/node-id')), 'the agents never ran in the chroot');
    // the chroot connector unmounted what it mounted
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
    for (const m of ['proc', 'sys', 'dev']) t.false(mounts.includes(` ${join(root, m)} `), `${m} unmounted`);
  });

  serial(`${name}: a second bake over the same root changes nothing, cleanup included`, async (t) => {
    t.truthy(first, 'needs the first bake');
    const r = await cairn(['apply', '--bake', '-i', inv, '--json']);
    t.is(r.code, 0, r.stdout + r.stderr);
    const host = jsonOf(r).hosts.image!;
    const changed = host.ops.filter((o) => o.status === 'changed');
    t.deepEqual(changed.map((o) => `${o.role}/${o.id}: ${o.reason}`), []);
    t.is(host.changed, 0);
    t.true(host.ops.filter((o) => o.role === 'bake-cleanup').every((o) => o.status === 'ok' && /^no /.test(o.reason)));
    const check = await cairn(['check', '--bake', '-i', inv, '--json']);
    t.is(check.code, 0, 'check --bake finds no drift');
  });

  serial(`${name}: bake-cleanup refuses to run without --bake`, async (t) => {
    const refusing = ws.inventory({ root, roles: ['motd', 'bake-cleanup'], file: 'listed.yml' });
    const r = await cairn(['apply', '-i', refusing]);
    t.is(r.code, 65, r.stdout + r.stderr);
    t.regex(r.stderr, /runs role 'bake-cleanup' without --bake/);
    t.regex(r.stderr, /nothing was changed/);
  });

  serial(`${name}: two hosts booted from the one image come up with their own SSH host keys and node ids`, async (t) => {
    t.truthy(first, 'needs the baked image');
    ws.unbindRepo(root);
    const [h1, h2] = await Promise.all([ws.boot(root, 'h1', kind), ws.boot(root, 'h2', kind)]);
    const hosts = [h1!, h2!];
    const seen = (h: BootedHost) => ({
      hostKey: h.scannedHostKey(),
      consul: h.read('/opt/consul/node-id')?.trim(),
      nomad: h.read('/opt/nomad/data/client/client-id')?.trim(),
      machineId: h.read('/etc/machine-id')?.trim(),
    });
    for (const h of hosts) {
      const uname = h.ssh('uname -m; cat /etc/alpine-release');
      t.is(uname.status, 0, uname.stderr);
      t.true(uname.stdout.startsWith(name), uname.stdout);
      await h.until('consul and nomad wrote their node ids', () => !!h.read('/opt/consul/node-id') && !!h.read('/opt/nomad/data/client/client-id'));
      const status = h.ssh('rc-status default 2>&1 </dev/null');
      for (const s of kind.services) t.regex(status.stdout, new RegExp(`${s}\\s.*started`), `${s} on ${h.machine}:\n${status.stdout}`);
      const health = h.ssh('wget -q -O - http://127.0.0.1:4646/v1/agent/health');
      t.regex(health.stdout, /"ok":\s*true/, `nomad health on ${h.machine}: ${health.stdout}${health.stderr}`);
    }
    const [a, b] = hosts.map(seen) as [ReturnType<typeof seen>, ReturnType<typeof seen>];
    t.log(`${h1!.machine}: ${JSON.stringify(a)}`);
    t.log(`${h2!.machine}: ${JSON.stringify(b)}`);
    t.not(a.hostKey, b.hostKey, 'SSH host keys differ');
    t.not(a.consul, b.consul, 'Consul node ids differ');
    t.not(a.nomad, b.nomad, 'Nomad node ids differ');
    for (const s of [a, b]) {
      t.not(s.consul, 'planted-consul-id');
      t.not(s.nomad, 'planted-nomad-id');
      // Alpine has no /etc/machine-id of its own: the planted one is gone and stays gone
      t.not(s.machineId, '0123456789abcdef0123456789abcdef');
    }
    if (a.machineId !== undefined || b.machineId !== undefined) t.not(a.machineId, b.machineId, 'machine ids differ');
  });
}
