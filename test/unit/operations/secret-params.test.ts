import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MASK, Secret, mask, secretText } from '../../../src/core/secret.ts';
import { sh, ShellCommand } from '../../../src/shell/sh.ts';
import { line } from '../../../src/operations/line.ts';
import { file } from '../../../src/operations/file.ts';
import { command } from '../../../src/operations/command.ts';
import { checkedFile } from '../../../src/operations/checked-file.ts';
import { wait } from '../../../src/operations/wait.ts';
import type { ChangePlan, OpContext } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { apply, fakePathProbe, targets } from './_run-local.ts';

const ctx: OpContext = { host: 'h', facts: stubFacts[0] as Facts, bake: false };
const coerced = "contains a secret turned into text ('pw=' + secret gives 'pw=********', not the value); fix: pass the Secret itself, or build the text with secretText`pw=${secret}` or ctx.template";

/** The bytes an inline write sends (the base64 after `printf %s`), decoded. */
function written(cmd: ShellCommand): string {
  const m = /printf %s '?([A-Za-z0-9+/=]+)'? \| base64 -d/.exec(cmd.text);
  return m ? Buffer.from(m[1]!, 'base64').toString('utf8') : '';
}

test('a secret turned into text is refused by every text param', (t) => {
  const pw = new Secret('op-secret-value-1');
  t.throws(() => line({ id: 'l', path: '/etc/app.env', line: 'pw=' + pw }), { message: `line 'l': param \`line\` ${coerced}` });
  t.throws(() => line({ id: 'l', path: '/etc/app.env', line: `pw=${pw}` }), { message: /^line 'l': param `line` contains a secret turned into text/ });
  t.throws(() => file({ id: 'f', path: '/etc/app.env', content: `pw=${pw}\n` }), { message: `file 'f': param \`content\` ${coerced}` });
  t.throws(() => file({ id: 'f', path: '/etc/app.env', content: secretText`a=${pw}\nb=${'x' + pw}\n` }), { message: /^file 'f': param `content` contains a secret turned into text/ });
  t.throws(() => checkedFile({ id: 'c', path: '/etc/app.conf', content: `pw ${pw}\n`, validate: (tmp) => sh`test -s ${tmp}` }), { message: /^checkedFile 'c': param `content` contains a secret/ });
  t.throws(() => command({ id: 'c', run: sh`app --password ${'' + pw}`, notIdempotent: true }), { message: `command 'c': param \`run\` ${coerced}` });
  t.throws(() => command({ id: 'c', run: sh`app`, unless: sh`app check ${`${pw}`}` }), { message: /^command 'c': param `unless` contains a secret/ });
  t.throws(() => wait({ id: 'w', command: sh`app ping ${'' + pw}` }), { message: /^wait 'w': param `command` contains a secret/ });
});

test('text with stars that is not a mask is kept', (t) => {
  t.notThrows(() => file({ id: 'f', path: '/etc/motd', content: `${'*'.repeat(40)}\n* welcome *\n${'*'.repeat(40)}\n` }));
  t.notThrows(() => line({ id: 'l', path: '/etc/x', line: '/* ******* */' }));
  // a Buffer is taken as it is (the way to write a literal mask)
  t.notThrows(() => file({ id: 'f', path: '/etc/x', content: Buffer.from(`pw=${MASK}\n`) }));
});

test('line({ line: secretText }) writes the real value, shows the mask', (t) => {
  const pw = new Secret('op-secret-value-2');
  const op = line({ id: 'pw', path: '/etc/app.env', line: secretText`pw=${pw}`, regexp: '^pw=' });
  const p = op.plan(fakePathProbe({ type: 'file', stat: '600 0 0 root root 12', content: 'user=a\npw=old\n' }), ctx) as ChangePlan;
  t.is(p.kind, 'change');
  const cmd = p.commands[0] as ShellCommand;
  t.is(written(cmd), 'user=a\npw=op-secret-value-2\n');
  const shown = [p.reason, p.diff ?? '', cmd.display, String(cmd)].join('\n');
  t.false(shown.includes('op-secret-value-2'));
  t.false(shown.includes(Buffer.from('user=a\npw=op-secret-value-2\n').toString('base64')));
  t.regex(cmd.display, /printf %s '?\*{8}'? \| base64 -d/);
  t.is(p.reason, 'edit /etc/app.env: replace line 2');
  t.is(p.diff, '--- /etc/app.env (host)\n+++ /etc/app.env (wanted)\n(secret content not shown)');
  // already there: a noop whose reason does not show it either
  const again = op.plan(fakePathProbe({ type: 'file', stat: '600 0 0 root root 12', content: 'user=a\npw=op-secret-value-2\n' }), ctx);
  t.deepEqual(again, { kind: 'noop', reason: '/etc/app.env: the line is present' });
});

test('line({ line: Secret }) and file({ content: secretText }) are accepted and hidden', (t) => {
  const pw = new Secret('op-secret-value-3');
  const l = line({ id: 'l', path: '/etc/token', line: pw, create: true }).plan(fakePathProbe({ type: 'absent' }), ctx) as ChangePlan;
  t.is(written(l.commands[0] as ShellCommand), 'op-secret-value-3\n');
  t.false((l.commands[0] as ShellCommand).display.includes('op-secret-value-3'));
  const f = file({ id: 'f', path: '/etc/app.env', content: secretText`pw=${pw}\n` }).plan(fakePathProbe({ type: 'absent' }), ctx) as ChangePlan;
  t.is(written(f.commands[0] as ShellCommand), 'pw=op-secret-value-3\n');
  t.regex(f.diff ?? '', /secret content not shown/);
  t.false(mask(JSON.stringify(f)).includes('op-secret-value-3'));
});

test('a line that is a secret with a newline does not show it in the error', (t) => {
  const pw = new Secret('op-secret-value-4\nx');
  t.throws(() => line({ id: 'l', path: '/etc/x', line: pw }), { message: "line 'l': param `line` must be one line of text, got a secret with a newline; fix: give a single line without newlines, or use the file operation" });
});

test('command: a secretText argument runs with the real value, shown masked', (t) => {
  const tok = new Secret('op-secret-value-5');
  const op = command({ id: 'c', run: sh`app login ${secretText`--token=${tok}`}`, notIdempotent: true });
  const p = op.plan(undefined, ctx) as ChangePlan;
  const cmd = p.commands[0] as ShellCommand;
  t.is(cmd.text, 'app login --token=op-secret-value-5');
  t.is(cmd.display, `app login '--token=${MASK}'`);
  t.is(p.reason, `run ${cmd.display}`);
});

test('line with secretText, applied for real: the host gets the value', (t) => {
  const pw = new Secret('op-secret-value-6');
  const local = targets().filter((x) => x.name === 'dash' || x.name === 'busybox');
  t.true(local.length > 0);
  for (const target of local) {
    const dir = target.tempDir();
    writeFileSync(target.outside(join(dir, 'app.env')), 'user=a\npw=old\n');
    const op = line({ id: 'pw', path: join(dir, 'app.env'), line: secretText`pw=${pw}`, regexp: '^pw=' });
    const first = apply(target, op);
    t.is(first.exitCode, 0, first.stderr);
    t.is(readFileSync(target.outside(join(dir, 'app.env')), 'utf8'), 'user=a\npw=op-secret-value-6\n');
    t.is(apply(target, op).plan.kind, 'noop');
  }
});
