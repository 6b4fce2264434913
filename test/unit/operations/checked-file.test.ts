import test from 'ava';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { checkedFile } from '../../../src/operations/checked-file.ts';
import { whenExists } from '../../../src/operations/when-exists.ts';
import { file } from '../../../src/operations/file.ts';
import { sh } from '../../../src/shell/sh.ts';
import { apply, applyTwice, targets } from './_run-local.ts';

// the "validator": a config is valid when it has no line saying "broken"
const validate = (tmp: string) => sh`! grep -q broken ${tmp}`;

for (const target of targets()) {
  test(`${target.name}: checkedFile writes a config that passes its check, once`, (t) => {
    const dir = target.tempDir();
    const path = `${dir}/app.conf`;
    const op = checkedFile({ id: 'conf', path, content: 'port = 53\n', mode: '0644', validate });
    const plan = applyTwice(t, target, op);
    t.regex(plan.kind === 'change' ? plan.reason : '', /^create .*app\.conf \(checked with ! grep -q broken <new>\)$/);
    t.is(readFileSync(target.outside(path), 'utf8'), 'port = 53\n');
  });

  test(`${target.name}: checkedFile keeps the old file when the new one fails its check`, (t) => {
    const dir = target.tempDir();
    const path = `${dir}/app.conf`;
    writeFileSync(target.outside(path), 'port = 53\n');
    const r = apply(target, checkedFile({ id: 'conf', path, content: 'port = broken\n', validate }));
    t.is(r.plan.kind, 'change');
    t.not(r.exitCode, 0);
    t.regex(r.stderr, /the new .*app\.conf failed its check .*the old file is kept/);
    t.is(readFileSync(target.outside(path), 'utf8'), 'port = 53\n');
    t.deepEqual(readdirSync(target.outside(dir)), ['app.conf'], 'no temp file, no backup left behind');
  });

  test(`${target.name}: whenExists runs the op only where the path exists`, (t) => {
    const dir = target.tempDir();
    const op = whenExists(`${dir}/hooks.d`, file({ id: 'hook', path: `${dir}/hooks.d/hook`, content: 'x\n' }), 'dhclient is not installed');
    const absent = apply(target, op);
    t.deepEqual(absent.plan, { kind: 'noop', reason: `${dir}/hooks.d does not exist: dhclient is not installed` });
    t.false(existsSync(target.outside(`${dir}/hooks.d`)));
    target.sh(`mkdir ${dir}/hooks.d`);
    applyTwice(t, target, op);
    t.is(readFileSync(target.outside(`${dir}/hooks.d/hook`), 'utf8'), 'x\n');
  });
}
