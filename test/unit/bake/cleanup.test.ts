/**
 * bake-cleanup as data (items, selections, plans from fake probe output) and for
 * real: every item's probe and change run through the engine's batch wrapper on
 * dash, busybox ash and Alpine chroots (3.19 x86_64, 3.7 aarch64) against a
 * scratch tree (the `prefix` option), then once more to show a clean tree is a noop.
 */
import test from 'ava';
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { ShellCommand } from '../../../src/shell/sh.ts';
import { IDENTITY_ITEMS, dataDirs, extraSelections, skippedItems, type IdentityItem, type Selection } from '../../../src/bake/identity.ts';
import { BAKE_ONLY_MESSAGE, REASON_MAX_PATHS, cleanupCommands, cleanupOp, cleanupPlan, cleanupProbe, cleanupStep, parseCleanupProbe } from '../../../src/bake/cleanup-op.ts';
import { bakeFinalRoles, BAKE_CLEANUP_ROLE } from '../../../src/bake/auto-role.ts';
import { withFinalRoles } from '../../../src/engine/prepare.ts';
import { SECTION_PREFIX } from '../../../src/facts/gather.ts';
import { apply, ctxFor, probeResult, runProbe, targets, type Target } from '../operations/_run-local.ts';

const openrc = stubFacts[0] as Facts;
const systemd = stubFacts[1] as Facts;
const item = (id: string): IdentityItem => IDENTITY_ITEMS.find((i) => i.id === id)!;
const bake = { host: 'h', facts: openrc, bake: true };
const live = { host: 'h', facts: openrc, bake: false };
const sections = (parts: Record<string, string[]>) =>
  Object.entries(parts)
    .map(([k, lines]) => `\n${SECTION_PREFIX}${k}\n${lines.join('\n')}`)
    .join('') + '\n';

// ---------------------------------------------------------------- the list

test('every item has a unique id, a name, a reason and well-formed selections for Alpine and Debian hosts', (t) => {
  const ids = IDENTITY_ITEMS.map((i) => i.id);
  t.is(new Set(ids).size, ids.length);
  for (const facts of stubFacts) {
    for (const it of IDENTITY_ITEMS) {
      t.regex(it.id, /^[a-z][a-z0-9-]*$/);
      t.true(it.what.length > 0 && it.why.length > 20, it.id);
      const sels = it.selections({ facts, vars: {} });
      t.true(sels.length > 0, it.id);
      for (const s of sels) {
        t.true(s.under.startsWith('/') && !s.under.split('/').includes('..'), `${it.id}: ${s.under}`);
        t.true(['remove', 'truncate'].includes(s.action));
        if (s.action === 'truncate') t.true(s.nonEmpty === true && s.type === 'f', `${it.id}: truncate only non-empty regular files`);
        t.true((s.minDepth ?? 1) >= 1, 'never the searched directory itself');
      }
    }
  }
});

test('the list covers what DOMAIN.md names: machine id, SSH host keys, Nomad client/, Consul node-id, logs, package caches', (t) => {
  const all = IDENTITY_ITEMS.flatMap((i) => i.selections({ facts: openrc, vars: {} }).map((s) => ({ id: i.id, ...s })));
  const has = (under: string, name?: string) => all.some((s) => s.under === under && (!name || !s.names || s.names.includes(name)));
  t.true(has('/etc', 'machine-id'));
  t.true(has('/etc/ssh', 'ssh_host_*'));
  t.true(has('/opt/nomad/data', 'client'));
  t.true(has('/var/lib/nomad', 'client'));
  t.true(has('/opt/consul', 'node-id'));
  t.true(has('/var/log'));
  t.true(has('/var/cache/apk'));
  t.true(has('/var/cache/apt/archives', '*.deb'));
  t.true(has('/var/lib/apt/lists'));
  t.true(has('/root', '.ash_history'));
  t.true(has('/tmp'));
  t.true(has('/', '*.cairn-bak.*'));
  // Nomad's plugin dir is configuration, not identity
  t.false(all.some((s) => s.id === 'nomad-state' && s.names?.includes('plugins')));
});

test('machine-id: systemd hosts keep an empty file (regenerated at first boot), others lose it', (t) => {
  const [sd] = item('machine-id').selections({ facts: systemd, vars: {} });
  t.like(sd, { under: '/etc', names: ['machine-id'], action: 'truncate', nonEmpty: true });
  const [rc] = item('machine-id').selections({ facts: openrc, vars: {} });
  t.like(rc, { under: '/etc', names: ['machine-id'], action: 'remove' });
});

test('data dirs: the inventory names them first (nomad_data_dir, nomad.data_dir), the known defaults follow', (t) => {
  t.deepEqual(dataDirs({}, 'nomad'), ['/opt/nomad/data', '/var/lib/nomad']);
  t.deepEqual(dataDirs({ nomad_data_dir: '/srv/nomad/' }, 'nomad'), ['/srv/nomad', '/opt/nomad/data', '/var/lib/nomad']);
  t.deepEqual(dataDirs({ consul: { data_dir: '/data/consul' }, consul_data_dir: ['/opt/consul'] }, 'consul'), ['/opt/consul', '/data/consul', '/opt/consul/data', '/var/consul', '/var/lib/consul']);
  t.deepEqual(dataDirs({ nomad_data_dir: 'relative', nomad: 'x' }, 'nomad'), ['/opt/nomad/data', '/var/lib/nomad']);
});

test('bake_cleanup_paths: absolute paths with a glob only in the last component', (t) => {
  t.deepEqual(extraSelections(['/var/lib/app/instance-id', '/etc/app/*.key']).selections, [
    { under: '/var/lib/app', names: ['instance-id'], action: 'remove' },
    { under: '/etc/app', names: ['*.key'], action: 'remove' },
  ]);
  t.deepEqual(extraSelections(undefined), { selections: [], problems: [] });
  const bad = extraSelections(['rel/x', '/a/*/b', '/a/../b', 3, '/']).problems;
  t.is(bad.length, 5, bad.join('\n'));
  t.regex(extraSelections('/x').problems[0]!, /must be a list/);
});

test('bake_cleanup_skip: known item ids only', (t) => {
  t.deepEqual([...skippedItems(['tmp', 'logs']).skip], ['tmp', 'logs']);
  t.regex(skippedItems(['tmpp']).problems[0]!, /unknown item "tmpp" \(known: machine-id, /);
  t.regex(skippedItems('tmp').problems[0]!, /must be a list/);
});

test('--bake puts bake-cleanup last (added, or moved from where it was listed); without --bake the list is unchanged', (t) => {
  t.deepEqual(withFinalRoles(['base', 'nomad'], bakeFinalRoles(true)), ['base', 'nomad', BAKE_CLEANUP_ROLE]);
  t.deepEqual(withFinalRoles([BAKE_CLEANUP_ROLE, 'base'], bakeFinalRoles(true)), ['base', BAKE_CLEANUP_ROLE]);
  t.deepEqual(withFinalRoles(['base', BAKE_CLEANUP_ROLE], bakeFinalRoles(false)), ['base', BAKE_CLEANUP_ROLE]);
  t.deepEqual(withFinalRoles([], bakeFinalRoles(true)), [BAKE_CLEANUP_ROLE]);
});

// ---------------------------------------------------------------- plans from probe output

const keys = cleanupStep(item('ssh-host-keys'), { facts: openrc, vars: {} });

test('outside bake mode the op does not look and refuses', (t) => {
  t.is(keys.op.probe(live), undefined);
  const plan = keys.op.plan(undefined, live);
  t.deepEqual(plan, { kind: 'fail', message: BAKE_ONLY_MESSAGE });
  t.regex(BAKE_ONLY_MESSAGE, /only runs in image-bake mode/);
});

test('a clean root is a noop that says where it looked', (t) => {
  const plan = keys.op.plan(probeResult(sections({ sel0: [], odd0: [] })), bake);
  t.deepEqual(plan, { kind: 'noop', reason: 'no SSH host keys found (looked in /etc/ssh, /etc/dropbear)' });
});

test('what is found is named in the reason and the diff, and exactly that is removed', (t) => {
  const plan = keys.op.plan(probeResult(sections({ sel0: ['/etc/ssh/ssh_host_rsa_key.pub', '/etc/ssh/ssh_host_rsa_key'], sel1: ['/etc/dropbear/dropbear_ed25519_host_key'] })), bake);
  if (plan.kind !== 'change') return t.fail(JSON.stringify(plan));
  t.is(plan.reason, 'SSH host keys: remove 3: /etc/ssh/ssh_host_rsa_key, /etc/ssh/ssh_host_rsa_key.pub, /etc/dropbear/dropbear_ed25519_host_key');
  t.is(plan.diff, '- /etc/ssh/ssh_host_rsa_key\n- /etc/ssh/ssh_host_rsa_key.pub\n- /etc/dropbear/dropbear_ed25519_host_key\n');
  t.deepEqual(
    plan.commands.map((c) => (c as ShellCommand).display),
    ['rm -rf -- /etc/ssh/ssh_host_rsa_key /etc/ssh/ssh_host_rsa_key.pub /etc/dropbear/dropbear_ed25519_host_key'],
  );
});

test('logs: rotated files are removed, live ones truncated; long lists are cut in the reason, complete in the diff', (t) => {
  const logs = cleanupStep(item('logs'), { facts: openrc, vars: {} });
  const many = Array.from({ length: REASON_MAX_PATHS + 5 }, (_, i) => `/var/log/app/${String(i).padStart(2, '0')}.log`);
  const plan = logs.op.plan(probeResult(sections({ sel0: ['/var/log/messages.0'], sel2: many })), bake);
  if (plan.kind !== 'change') return t.fail(JSON.stringify(plan));
  t.regex(plan.reason, /^logs: remove 1: \/var\/log\/messages\.0; truncate 25: \/var\/log\/app\/00\.log, .* \(\+5 more, see the diff\)$/);
  t.is(plan.diff!.split('\n').filter(Boolean).length, 26);
  const cmds = plan.commands.map((c) => (c as ShellCommand).display);
  t.is(cmds[0], 'rm -rf -- /var/log/messages.0');
  t.is(cmds[1], ': > /var/log/app/00.log');
  t.is(cmds.length, 26);
});

test('a probe line outside the searched directory fails the plan (never removes it)', (t) => {
  const plan = keys.op.plan(probeResult(sections({ sel0: ['/etc/passwd'] })), bake);
  t.is(plan.kind, 'fail');
  t.regex((plan as { message: string }).message, /"\/etc\/passwd", which is not below \/etc\/ssh/);
  t.is(keys.op.plan(probeResult('', 1, 'find: boom'), bake).kind, 'fail');
});

test('paths below a removed directory get no command of their own; rm is chunked', (t) => {
  const sel: Selection = { under: '/tmp', action: 'remove' };
  const found = [{ selection: sel, paths: ['/tmp/a', '/tmp/a/b', '/tmp/ab'], odd: 0 }];
  t.deepEqual(cleanupCommands(found).map((c) => c.display), ['rm -rf -- /tmp/a /tmp/ab']);
  const lots = Array.from({ length: 450 }, (_, i) => `/tmp/f${i}`);
  t.is(cleanupCommands([{ selection: sel, paths: lots, odd: 0 }]).length, 3);
});

test('entries whose names hold a newline are counted, reported and removed by find itself', (t) => {
  const sel: Selection = { under: '/tmp', action: 'remove' };
  const plan = cleanupPlan({ ...item('tmp'), selections: () => [sel] }, [{ selection: sel, paths: [], odd: 2 }]);
  if (plan.kind !== 'change') return t.fail(JSON.stringify(plan));
  t.regex(plan.reason, /remove 2 more whose names contain a newline/);
  t.regex(plan.commands.map((c) => (c as ShellCommand).display).join('\n'), /-exec rm -rf -- \{\} \+/);
});

test('the probe stays on one file system, follows a symlinked directory, and skips the engine batch directory', (t) => {
  const text = cleanupProbe(item('tmp').selections({ facts: openrc, vars: {} })).text;
  t.regex(text, /find -H \/tmp -mindepth 1 -maxdepth 1 -xdev /);
  t.regex(text, /! -path "\$\{__cairn_d:-\/\/\}"/);
  const backups = cleanupProbe(item('cairn-backups').selections({ facts: openrc, vars: {} })).text;
  t.notRegex(backups, /-xdev/);
  t.regex(backups, /\\\( -path \/proc -o -path \/sys .* \\\) -prune -o/);
});

// ---------------------------------------------------------------- for real, on every local shell

/** A used-looking tree below `prefix` (as the target sees it); returns the paths by item. */
function plant(target: Target, prefix: string): void {
  const put = (p: string, content = 'x\n') => {
    const o = target.outside(prefix + p);
    mkdirSync(dirname(o), { recursive: true });
    writeFileSync(o, content);
  };
  put('/etc/machine-id', 'abc\n');
  put('/etc/ssh/ssh_host_ed25519_key');
  put('/etc/ssh/ssh_host_ed25519_key.pub');
  put('/etc/ssh/sshd_config', 'Port 22\n');
  put('/opt/nomad/data/client/client-id');
  put('/opt/nomad/data/plugins/driver');
  put('/opt/nomad/data/node-id');
  put('/opt/consul/node-id');
  put('/opt/consul/serf/local.keyring');
  put('/var/log/messages', 'log line\n');
  put('/var/log/messages.1');
  put('/var/log/nginx/access.log.2.gz');
  put('/var/log/empty.log', '');
  put('/var/log/journal/0123abcd/system.journal');
  put('/var/log/s6/current', 'tick\n');
  put('/var/log/s6/@400000006543210a.s');
  put('/var/cache/apk/APKINDEX.x.tar.gz');
  put('/var/cache/apt/archives/curl_1.deb');
  put('/var/cache/apt/archives/lock', '');
  put('/var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease');
  put('/var/lib/apt/lists/lock', '');
  put('/root/.ash_history');
  put('/home/pi/.bash_history');
  put('/home/pi/notes.txt');
  put('/tmp/junk');
  put(`/tmp/odd\nname`);
  put('/var/tmp/dir/file');
  put('/var/lib/misc/random-seed');
  put('/var/lib/dhcpcd/eth0.lease');
  put('/etc/motd.cairn-bak.1700000000');
  put('/usr/local/etc/app.conf.cairn-tmp');
  // kept: the usual symlink to /etc/machine-id
  mkdirSync(target.outside(`${prefix}/var/lib/dbus`), { recursive: true });
  symlinkSync('/etc/machine-id', target.outside(`${prefix}/var/lib/dbus/machine-id`));
}

for (const target of targets()) {
  test(`${target.name}: every item removes what it finds, keeps the rest, and is a noop the second time`, (t) => {
    const prefix = target.tempDir();
    plant(target, prefix);
    const ctx = ctxFor(target, true);
    const env = { facts: target.facts, vars: {} };
    const reasons: string[] = [];
    for (const it of IDENTITY_ITEMS) {
      const { op } = cleanupStep(it, env, { prefix });
      const first = apply(target, op, ctx);
      t.is(first.exitCode, 0, `${it.id}: ${first.stderr}`);
      t.not(first.plan.kind, 'fail', `${it.id}: ${JSON.stringify(first.plan)}`);
      if (first.plan.kind === 'change') reasons.push(first.plan.reason);
      const second = op.plan(runProbe(target, op, ctx), ctx);
      t.is(second.kind, 'noop', `${it.id} second time: ${JSON.stringify(second)}`);
    }
    t.log(reasons.join('\n'));
    t.is(reasons.length, IDENTITY_ITEMS.length, reasons.join('\n'));
    const at = (p: string) => target.outside(prefix + p);
    if (target.facts.init === 'systemd') t.is(statSync(at('/etc/machine-id')).size, 0, 'systemd: machine-id emptied');
    else t.false(existsSync(at('/etc/machine-id')), 'machine-id removed');
    for (const gone of [
      '/etc/ssh/ssh_host_ed25519_key',
      '/etc/ssh/ssh_host_ed25519_key.pub',
      '/opt/nomad/data/client',
      '/opt/nomad/data/node-id',
      '/opt/consul/node-id',
      '/opt/consul/serf',
      '/var/log/messages.1',
      '/var/log/nginx/access.log.2.gz',
      '/var/log/journal/0123abcd',
      '/var/log/s6/@400000006543210a.s',
      '/var/cache/apk/APKINDEX.x.tar.gz',
      '/var/cache/apt/archives/curl_1.deb',
      '/var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease',
      '/root/.ash_history',
      '/home/pi/.bash_history',
      '/tmp/junk',
      '/tmp/odd\nname',
      '/var/tmp/dir',
      '/var/lib/misc/random-seed',
      '/var/lib/dhcpcd/eth0.lease',
      '/etc/motd.cairn-bak.1700000000',
      '/usr/local/etc/app.conf.cairn-tmp',
    ]) {
      t.false(existsSync(at(gone)), `${gone} removed`);
    }
    for (const kept of ['/etc/ssh/sshd_config', '/opt/nomad/data/plugins/driver', '/var/cache/apt/archives/lock', '/var/lib/apt/lists/lock', '/home/pi/notes.txt', '/var/log/journal', '/var/log/nginx']) {
      t.true(existsSync(at(kept)), `${kept} kept`);
    }
    t.is(statSync(at('/var/log/messages')).size, 0, 'live log truncated');
    t.is(statSync(at('/var/log/s6/current')).size, 0);
    t.true(lstatSync(at('/var/lib/dbus/machine-id')).isSymbolicLink(), 'the dbus symlink stays');
  });
}

test(`the engine's own batch directory in /tmp is never reported`, (t) => {
  const target = targets()[0]!;
  const prefix = target.tempDir();
  mkdirSync(target.outside(`${prefix}/tmp/tmp.batch`), { recursive: true });
  writeFileSync(target.outside(`${prefix}/tmp/other`), 'x');
  const sels = item('tmp').selections({ facts: openrc, vars: {} });
  const res = target.sh(`__cairn_d=${prefix}/tmp/tmp.batch\n${cleanupProbe(sels, prefix).text}`);
  t.is(res.exitCode, 0, res.stderr);
  const found = parseCleanupProbe(res.stdout, sels, prefix);
  t.deepEqual(found[0]!.paths, [`${prefix}/tmp/other`]);
});

test('a systemd host truncates /etc/machine-id to an empty file (kept for first-boot generation)', (t) => {
  const target = targets()[0]!;
  const prefix = target.tempDir();
  mkdirSync(target.outside(`${prefix}/etc`), { recursive: true });
  writeFileSync(target.outside(`${prefix}/etc/machine-id`), 'abc\n');
  const ctx = { ...ctxFor(target, true), facts: systemd };
  const { op } = cleanupStep(item('machine-id'), { facts: systemd, vars: {} }, { prefix });
  const r = apply(target, op, ctx);
  t.is(r.exitCode, 0, r.stderr);
  t.regex((r.plan as { reason: string }).reason, /truncate 1: .*\/etc\/machine-id/);
  t.is(readFileSync(target.outside(`${prefix}/etc/machine-id`), 'utf8'), '');
  t.is(op.plan(runProbe(target, op, ctx), ctx).kind, 'noop');
});

test('bake_cleanup_paths become one more op that removes the listed paths', (t) => {
  const target = targets()[0]!;
  const prefix = target.tempDir();
  mkdirSync(target.outside(`${prefix}/etc/app`), { recursive: true });
  for (const f of ['a.key', 'b.key', 'app.conf']) writeFileSync(target.outside(`${prefix}/etc/app/${f}`), 'x');
  const op = cleanupOp('extra-paths', { what: 'paths listed in bake_cleanup_paths' }, extraSelections(['/etc/app/*.key']).selections, { facts: openrc, vars: {} }, prefix);
  const r = apply(target, op, ctxFor(target, true));
  t.is(r.exitCode, 0, r.stderr);
  t.regex((r.plan as { reason: string }).reason, /^paths listed in bake_cleanup_paths: remove 2: /);
  t.false(existsSync(target.outside(`${prefix}/etc/app/a.key`)));
  t.true(existsSync(target.outside(`${prefix}/etc/app/app.conf`)));
});
