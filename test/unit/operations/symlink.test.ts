import test from 'ava';
import { mkdirSync, readlinkSync, symlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { ShellCommand } from '../../../src/shell/sh.ts';
import { symlink } from '../../../src/operations/symlink.ts';
import type { OpContext, Plan } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { HOSTILE_NAMES, apply, applyTwice, fakePathProbe, targets } from './_run-local.ts';

const ctx: OpContext = { host: 'h', facts: stubFacts[1] as Facts, bake: false };
const displays = (p: Plan) => (p.kind === 'change' ? p.commands.map((c) => (c instanceof ShellCommand ? c.display : c.description)) : []);

const cases: Array<{ name: string; params: Parameters<typeof symlink>[0]; probe: Parameters<typeof fakePathProbe>[0]; kind: Plan['kind']; reason?: string; commands?: string[]; message?: RegExp }> = [
  { name: 'absent -> ln -sfn', params: { id: 'l', path: '/usr/local/bin/nomad', target: '/opt/nomad/1.7.5/nomad' }, probe: { type: 'absent' }, kind: 'change', reason: 'create /usr/local/bin/nomad -> /opt/nomad/1.7.5/nomad', commands: ['ln -sfn -- /opt/nomad/1.7.5/nomad /usr/local/bin/nomad'] },
  { name: 'same target -> noop', params: { id: 'l', path: '/etc/alt', target: '../x y' }, probe: { type: 'link', resolved: 'absent', target: '../x y' }, kind: 'noop', reason: '/etc/alt already points to ../x y' },
  { name: 'other target -> repoint', params: { id: 'l', path: '/opt/current', target: '/opt/v2' }, probe: { type: 'link', resolved: 'dir', target: '/opt/v1', stat: '755 0 0 root root 4096' }, kind: 'change', reason: 'repoint /opt/current: /opt/v1 -> /opt/v2', commands: ['ln -sfn -- /opt/v2 /opt/current'] },
  { name: 'a file without force -> fail', params: { id: 'l', path: '/etc/resolv.conf', target: '/run/resolv.conf' }, probe: { type: 'file', stat: '644 0 0 root root 1' }, kind: 'fail', message: /exists and is not a symlink; set force: true/ },
  { name: 'a file with force -> rm + ln', params: { id: 'l', path: '/etc/resolv.conf', target: '/run/resolv.conf', force: true }, probe: { type: 'file', stat: '644 0 0 root root 1' }, kind: 'change', commands: ['rm -f /etc/resolv.conf', 'ln -sfn -- /run/resolv.conf /etc/resolv.conf'] },
  { name: 'a directory, even with force -> fail', params: { id: 'l', path: '/opt/current', target: '/opt/v2', force: true }, probe: { type: 'dir', stat: '755 0 0 root root 4096' }, kind: 'fail', message: /is a directory; remove it first/ },
];
for (const c of cases) {
  test(`plan: ${c.name}`, (t) => {
    const plan = symlink(c.params).plan(fakePathProbe(c.probe), ctx);
    t.is(plan.kind, c.kind, JSON.stringify(plan));
    if (c.reason && plan.kind !== 'fail' && plan.kind !== 'warn') t.is(plan.reason, c.reason);
    if (c.commands) t.deepEqual(displays(plan), c.commands);
    if (c.message && plan.kind === 'fail') t.regex(plan.message, c.message);
  });
}

test('invalid params', (t) => {
  t.throws(() => symlink({ id: 'l', path: 'rel', target: '/x' }), { message: /symlink 'l': param `path` must be an absolute path/ });
  t.throws(() => symlink({ id: 'l', path: '/x', target: '' }), { message: /param `target` must be a non-empty path/ });
  t.throws(() => symlink({ id: 'l', path: '/x', target: 'a\nb' }), { message: /without newlines/ });
  t.throws(() => symlink({ id: 'l', path: '/', target: '/x' }), { message: /cannot be \// });
});

for (const target of targets()) {
  test(`${target.name}: hostile names and targets, twice; repoint a link to a directory`, (t) => {
    const dir = target.tempDir();
    for (const name of HOSTILE_NAMES) {
      const path = `${dir}/${name}.link`;
      const to = `-${name}`; // relative, dangling, starting with a dash
      applyTwice(t, target, symlink({ id: name, path, target: to }));
      t.is(readlinkSync(target.outside(path)), to);
    }
    mkdirSync(target.outside(`${dir}/v1`));
    mkdirSync(target.outside(`${dir}/v2`));
    symlinkSync(`${dir}/v1`, target.outside(`${dir}/current`));
    applyTwice(t, target, symlink({ id: 'cur', path: `${dir}/current`, target: `${dir}/v2` }));
    t.is(readlinkSync(target.outside(`${dir}/current`)), `${dir}/v2`);
    t.false(lstatSync(target.outside(`${dir}/v1/v2`), { throwIfNoEntry: false })?.isSymbolicLink() ?? false, 'no link created inside the old target');
  });

  test(`${target.name}: force replaces a file; without force the plan fails`, (t) => {
    const dir = target.tempDir();
    writeFileSync(target.outside(`${dir}/f`), 'x');
    t.is(apply(target, symlink({ id: 'l', path: `${dir}/f`, target: '/etc/hostname' })).plan.kind, 'fail');
    applyTwice(t, target, symlink({ id: 'l', path: `${dir}/f`, target: '/etc/hostname', force: true }));
    t.true(lstatSync(target.outside(`${dir}/f`)).isSymbolicLink());
  });
}
