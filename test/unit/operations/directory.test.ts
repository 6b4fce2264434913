import test from 'ava';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { ShellCommand } from '../../../src/shell/sh.ts';
import { directory } from '../../../src/operations/directory.ts';
import type { OpContext, Plan } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { HOSTILE_NAMES, apply, applyTwice, fakePathProbe, targets } from './_run-local.ts';

const ctx: OpContext = { host: 'h', facts: stubFacts[0] as Facts, bake: false };
const displays = (p: Plan) => (p.kind === 'change' ? p.commands.map((c) => (c instanceof ShellCommand ? c.display : c.description)) : []);

const cases: Array<{ name: string; params: Parameters<typeof directory>[0]; probe: Parameters<typeof fakePathProbe>[0]; kind: Plan['kind']; reason?: string; commands?: string[] }> = [
  { name: 'absent -> mkdir -p, chown, chmod', params: { id: 'd', path: '/opt/app data', mode: '0750', owner: 'nomad', group: 'nomad' }, probe: { type: 'absent' }, kind: 'change', reason: 'create /opt/app data', commands: ["mkdir -p '/opt/app data'", "chown nomad:nomad '/opt/app data'", "chmod 0750 '/opt/app data'"] },
  { name: 'absent, no attributes -> mkdir only', params: { id: 'd', path: '/etc/nomad.d' }, probe: { type: 'absent' }, kind: 'change', commands: ['mkdir -p /etc/nomad.d'] },
  { name: 'present with attributes -> noop', params: { id: 'd', path: '/etc/nomad.d', mode: '755', owner: 'root' }, probe: { type: 'dir', stat: '755 0 0 root root 4096' }, kind: 'noop', reason: '/etc/nomad.d exists with the wanted attributes' },
  { name: 'present, mode drift -> chmod', params: { id: 'd', path: '/var/lib/nomad', mode: '0700' }, probe: { type: 'dir', stat: '755 0 0 root root 4096' }, kind: 'change', reason: '/var/lib/nomad: mode 0755 -> 0700', commands: ['chmod 0700 /var/lib/nomad'] },
  { name: 'present, group drift -> chown :group', params: { id: 'd', path: '/var/lib/consul', group: 'consul' }, probe: { type: 'dir', stat: '755 0 0 root root 4096' }, kind: 'change', commands: ['chown :consul /var/lib/consul'] },
  { name: 'symlink to a directory counts as the directory', params: { id: 'd', path: '/var/run' }, probe: { type: 'link', resolved: 'dir', target: '/run', stat: '755 0 0 root root 4096' }, kind: 'noop' },
  { name: 'a file at the path -> fail', params: { id: 'd', path: '/etc/x' }, probe: { type: 'file', stat: '644 0 0 root root 1' }, kind: 'fail' },
  { name: 'absent wanted, exists -> rm -rf', params: { id: 'd', path: '/opt/old app', state: 'absent' }, probe: { type: 'dir', stat: '755 0 0 root root 4096' }, kind: 'change', reason: 'remove /opt/old app', commands: ["rm -rf '/opt/old app'"] },
  { name: 'absent wanted, already absent -> noop', params: { id: 'd', path: '/opt/old', state: 'absent' }, probe: { type: 'absent' }, kind: 'noop', reason: '/opt/old is already absent' },
  { name: 'absent wanted, a symlink there -> fail (never follows)', params: { id: 'd', path: '/opt/link', state: 'absent' }, probe: { type: 'link', resolved: 'dir', target: '/', stat: '755 0 0 root root 4096' }, kind: 'fail' },
];
for (const c of cases) {
  test(`plan: ${c.name}`, (t) => {
    const plan = directory(c.params).plan(fakePathProbe(c.probe), ctx);
    t.is(plan.kind, c.kind, JSON.stringify(plan));
    if (c.reason && plan.kind !== 'fail' && plan.kind !== 'warn') t.is(plan.reason, c.reason);
    if (c.commands) t.deepEqual(displays(plan), c.commands);
  });
}

const refused: Array<[string, Record<string, unknown>, RegExp]> = [
  ['absent /', { path: '/', state: 'absent' }, /"\/" is too close to \/ to remove/],
  ['absent //', { path: '//', state: 'absent' }, /too close to \//],
  ['absent /etc', { path: '/etc', state: 'absent' }, /"\/etc" is too close/],
  ['absent /usr/', { path: '/usr/', state: 'absent' }, /"\/usr" is too close/],
  ['absent empty path', { path: '', state: 'absent' }, /param `path` must be an absolute path/],
  ['absent with a mode', { path: '/opt/x', state: 'absent', mode: '0755' }, /absent takes no mode/],
  ['relative', { path: 'opt/x' }, /absolute path/],
  ['dot-dot escaping the check', { path: '/opt/..', state: 'absent' }, /must not contain \. or \.\./],
  ['bad state', { path: '/opt/x', state: 'gone' }, /param `state` must be present or absent/],
  ['bad mode', { path: '/opt/x', mode: 'rwx' }, /param `mode`/],
];
for (const [name, params, message] of refused) {
  test(`refused: ${name}`, (t) => {
    t.throws(() => directory({ id: 'd', ...params } as never), { message });
  });
}

for (const target of targets()) {
  test(`${target.name}: create nested with attributes, hostile names, twice`, (t) => {
    const base = target.tempDir();
    for (const name of HOSTILE_NAMES) {
      const path = `${base}/${name}/sub dir/${name}`;
      applyTwice(t, target, directory({ id: name, path, mode: '0750', owner: 'nobody', group: '65534' }));
      const st = statSync(target.outside(path));
      t.true(st.isDirectory());
      t.is(st.mode & 0o7777, 0o750);
      t.is(st.uid, 65534);
    }
  });

  test(`${target.name}: mode drift on an existing directory, sticky bit`, (t) => {
    const path = `${target.tempDir()}/shared`;
    mkdirSync(target.outside(path), { mode: 0o755 });
    applyTwice(t, target, directory({ id: 'd', path, mode: '1777' }));
    t.is(statSync(target.outside(path)).mode & 0o7777, 0o1777);
  });

  test(`${target.name}: remove a tree, twice`, (t) => {
    const path = `${target.tempDir()}/old $(x) app`;
    mkdirSync(target.outside(`${path}/a/b`), { recursive: true });
    writeFileSync(target.outside(`${path}/a/b/f`), 'x');
    applyTwice(t, target, directory({ id: 'd', path, state: 'absent' }));
    t.false(existsSync(target.outside(path)));
  });

  test(`${target.name}: a file in the way fails the plan`, (t) => {
    const path = `${target.tempDir()}/file`;
    writeFileSync(target.outside(path), 'x');
    t.is(apply(target, directory({ id: 'd', path })).plan.kind, 'fail');
  });
}
