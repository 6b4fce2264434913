import test from 'ava';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { bootFile } from '../../../src/operations/boot-file.ts';
import { Secret } from '../../../src/core/secret.ts';
import type { ChangePlan } from '../../../src/operations/operation.ts';
import { ShellCommand } from '../../../src/shell/sh.ts';
import { apply, applyTwice, targets } from './_run-local.ts';

const texts = (p: ChangePlan) => p.commands.map((c) => (c instanceof ShellCommand ? c.display : c.description)).join('\n');

test('params: content is text or a Secret, accept a function, unknown params refused', (t) => {
  t.throws(() => bootFile({ id: 'x', path: 'ssh', content: '' }), { message: /absolute path/ });
  t.throws(() => bootFile({ id: 'x', path: '/boot/firmware/ssh' } as never), { message: /content` must be a string or a Secret, got nothing/ });
  t.throws(() => bootFile({ id: 'x', path: '/boot/firmware/ssh', content: '', accept: 'yes' } as never), { message: /accept` must be a function/ });
  t.throws(() => bootFile({ id: 'x', path: '/boot/firmware/ssh', content: '', mode: '0644' } as never), { message: /unknown param `mode`/ });
  t.throws(() => bootFile({ id: 'x', path: '/boot/firmware/u', content: `pi:${new Secret('coerced-secret-value')}` }), { message: /secret turned into text/ });
});

for (const target of targets()) {
  test(`${target.name}: bootFile makes an empty marker file once, with no chmod, chown or cp -p`, (t) => {
    const dir = target.tempDir();
    const op = bootFile({ id: 'ssh', path: `${dir}/ssh`, content: '' });
    const plan = applyTwice(t, target, op) as ChangePlan;
    t.is(plan.reason, `create ${dir}/ssh`);
    t.notRegex(texts(plan), /chmod|chown|cp -p/);
    t.is(readFileSync(target.outside(`${dir}/ssh`), 'utf8'), '');
    t.deepEqual(readdirSync(target.outside(dir)), ['ssh']);
  });

  test(`${target.name}: bootFile replaces other content (plain-copy backup) and leaves accepted content alone`, (t) => {
    const dir = target.tempDir();
    const path = `${dir}/config.txt`;
    writeFileSync(target.outside(path), 'arm_64bit=0\n');
    const accept = (text: string) => text.startsWith('arm_64bit=1');
    const r = apply(target, bootFile({ id: 'config', path, content: 'arm_64bit=1\n', accept }));
    t.is(r.exitCode, 0, r.stderr);
    t.regex((r.plan as ChangePlan).diff ?? '', /-arm_64bit=0\n\+arm_64bit=1/);
    t.is(readFileSync(target.outside(path), 'utf8'), 'arm_64bit=1\n');
    t.true(readdirSync(target.outside(dir)).some((f) => f.startsWith('config.txt.cairn-bak.')), 'backup kept');
    writeFileSync(target.outside(path), 'arm_64bit=1 # by hand\n');
    t.deepEqual(apply(target, bootFile({ id: 'config', path, content: 'arm_64bit=1\n', accept })).plan, { kind: 'noop', reason: `${path} has content that is accepted as it is` });
  });

  test(`${target.name}: bootFile with a Secret: the value reaches the file, never the command text or the diff`, (t) => {
    const dir = target.tempDir();
    const path = `${dir}/userconf.txt`;
    const value = 'pi:$6$not-a-real-hash-but-secret\n';
    const op = bootFile({ id: 'userconf', path, content: new Secret(value), backup: false });
    const plan = applyTwice(t, target, op) as ChangePlan;
    t.is(readFileSync(target.outside(path), 'utf8'), value);
    const shown = `${texts(plan)}\n${plan.diff}\n${plan.reason}`;
    t.false(shown.includes('not-a-real-hash'), shown);
    t.false(shown.includes(Buffer.from(value).toString('base64')), 'nor its base64');
    t.regex(plan.diff ?? '', /secret content not shown: absent -> 33 bytes/);
  });
}
