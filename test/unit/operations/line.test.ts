import test from 'ava';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Secret } from '../../../src/core/secret.ts';
import { ShellCommand } from '../../../src/shell/sh.ts';
import { editLines, line } from '../../../src/operations/line.ts';
import type { ChangePlan, OpContext, Plan } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { applyTwice, fakePathProbe, probeResult, targets } from './_run-local.ts';

const ctx: OpContext = { host: 'h', facts: stubFacts[0] as Facts, bake: false };
const file = (content: string) => fakePathProbe({ type: 'file', stat: `644 0 0 root root ${Buffer.byteLength(content)}`, content });

// editLines: the pure edit, like Ansible's lineinfile
const edits: Array<[string, string, string, RegExp | undefined, 'present' | 'absent', string]> = [
  ['append to a file with a final newline', 'a\nb\n', 'c', undefined, 'present', 'a\nb\nc\n'],
  ['append to a file without a final newline', 'a\nb', 'c', undefined, 'present', 'a\nb\nc\n'],
  ['append to an empty file', '', 'c', undefined, 'present', 'c\n'],
  ['present already', 'a\nc\nb\n', 'c', undefined, 'present', 'a\nc\nb\n'],
  ['replace the LAST match', 'x=1\ny\nx=2\n', 'x=3', /^x=/, 'present', 'x=1\ny\nx=3\n'],
  ['match already equal', 'x=1\nx=3\n', 'x=3', /^x=/, 'present', 'x=1\nx=3\n'],
  ['no match -> append', 'a\n', 'x=3', /^x=/, 'present', 'a\nx=3\n'],
  ['no match but the line exists -> unchanged', 'x = 3\nx=3\n', 'x=3', /^y=/, 'present', 'x = 3\nx=3\n'],
  ['absent by regexp removes every match', '#a\nb\n#c\n', '', /^#/, 'absent', 'b\n'],
  ['absent by line', 'a\nb\na\n', 'a', undefined, 'absent', 'b\n'],
  ['absent keeps a missing final newline', 'a\nb', 'a', undefined, 'absent', 'b'],
  ['absent, nothing to remove', 'a\n', 'z', undefined, 'absent', 'a\n'],
  ['absent, everything removed', 'a\n', 'a', undefined, 'absent', ''],
  ['regexp special chars in the line are plain text', 'a\n', 'PS1=\'$(whoami)\\$ \' # [x]', undefined, 'present', 'a\nPS1=\'$(whoami)\\$ \' # [x]\n'],
];
for (const [name, before, wanted, re, state, after] of edits) {
  test(`edit: ${name}`, (t) => t.is(editLines(before, wanted, re, state).after, after));
}

test('plan: sshd_config PermitRootLogin replaced, diff shown, whole file written atomically', (t) => {
  const before = 'Port 22\n#PermitRootLogin prohibit-password\nPermitRootLogin yes\nUsePAM yes\n';
  const op = line({ id: 'sshd', path: '/etc/ssh/sshd_config', regexp: '^#?PermitRootLogin\\s', line: 'PermitRootLogin prohibit-password' });
  const p = op.plan(file(before), ctx) as ChangePlan;
  t.is(p.kind, 'change');
  t.is(p.reason, 'edit /etc/ssh/sshd_config: replace line 3');
  t.is(p.diff, '--- /etc/ssh/sshd_config (host)\n+++ /etc/ssh/sshd_config (wanted)\n@@ -1,4 +1,4 @@\n Port 22\n #PermitRootLogin prohibit-password\n-PermitRootLogin yes\n+PermitRootLogin prohibit-password\n UsePAM yes');
  const cmd = (p.commands[0] as ShellCommand).display;
  t.regex(cmd, /base64 -d > \/etc\/ssh\/sshd_config\.cairn-tmp/);
  t.regex(cmd, /chmod 0644/);
  t.regex(cmd, /mv -f \/etc\/ssh\/sshd_config\.cairn-tmp \/etc\/ssh\/sshd_config/);
});

test('plan: present -> noop with the reason', (t) => {
  const op = line({ id: 'l', path: '/etc/rc.conf', line: 'rc_cgroup_mode="unified"', regexp: /^#?rc_cgroup_mode=/ });
  t.deepEqual(op.plan(file('rc_cgroup_mode="unified"\n'), ctx), { kind: 'noop', reason: '/etc/rc.conf: the line is present' });
});

test('plan: missing file -> fail unless create', (t) => {
  const probe = fakePathProbe({ type: 'absent' });
  t.deepEqual(line({ id: 'l', path: '/etc/x', line: 'a' }).plan(probe, ctx), { kind: 'fail', message: "line 'l': /etc/x does not exist; set create: true to create it" });
  const p = line({ id: 'l', path: '/etc/x', line: 'a', create: true, mode: '0600' }).plan(probe, ctx) as ChangePlan;
  t.is(p.reason, 'create /etc/x: append the line');
  t.regex((p.commands[0] as ShellCommand).display, /chmod 0600 \/etc\/x\.cairn-tmp/);
  t.is(line({ id: 'l', path: '/etc/x', line: 'a', state: 'absent' }).plan(probe, ctx).kind, 'noop');
});

test('plan: too large, binary, symlink, directory -> fail', (t) => {
  const op = line({ id: 'l', path: '/x', line: 'a' });
  t.regex((op.plan(fakePathProbe({ type: 'file', stat: '644 0 0 root root 9999999' }), ctx) as { message: string }).message, /larger than 1048576 bytes/);
  t.regex((op.plan(fakePathProbe({ type: 'file', stat: '644 0 0 root root 3', content: Buffer.from([0, 1, 2]) }), ctx) as { message: string }).message, /not a text file/);
  t.regex((op.plan(fakePathProbe({ type: 'link', resolved: 'file', target: '/y' }), ctx) as { message: string }).message, /is a symlink \(to \/y\); give the real file's path/);
  t.is(op.plan(fakePathProbe({ type: 'dir', stat: '755 0 0 root root 1' }), ctx).kind, 'fail');
  t.is(op.plan(probeResult('', 2, 'boom'), ctx).kind, 'fail');
});

test('plan: content unchanged but mode drift -> chmod only', (t) => {
  const op = line({ id: 'l', path: '/etc/doas.conf', line: 'permit nopass root', mode: '0400' });
  const p = op.plan(file('permit nopass root\n'), ctx) as ChangePlan;
  t.is(p.reason, '/etc/doas.conf: mode 0644 -> 0400');
  t.deepEqual(p.commands.map((c) => (c as ShellCommand).display), ['chmod 0400 /etc/doas.conf']);
});

test('plan: a line holding a secret is never shown', (t) => {
  const pw = new Secret('hunter2-line-test');
  const op = line({ id: 'l', path: '/etc/app.env', line: `PASSWORD=${pw.reveal()}`, regexp: '^PASSWORD=' });
  const p = op.plan(file('USER=a\nPASSWORD=old\n'), ctx) as ChangePlan;
  t.is(p.diff, '--- /etc/app.env (host)\n+++ /etc/app.env (wanted)\n(secret content not shown)');
  const shown = `${p.reason}\n${(p.commands[0] as ShellCommand).display}`;
  t.false(shown.includes('hunter2-line-test'));
  t.false(shown.includes(Buffer.from('USER=a\nPASSWORD=hunter2-line-test\n').toString('base64')));
});

test('invalid params', (t) => {
  t.throws(() => line({ id: 'l', path: '/x', line: 'a\nb' }), { message: /line 'l': param `line` must be one line of text/ });
  t.throws(() => line({ id: 'l', path: '/x', line: 'a', regexp: '(' }), { message: /param `regexp` does not compile/ });
  t.throws(() => line({ id: 'l', path: '/x', line: 'a', state: 'gone' as never }), { message: /param `state`/ });
  t.throws(() => line({ id: 'l', path: 'x', line: 'a' }), { message: /absolute path/ });
});

test('a global regexp is used without its lastIndex state', (t) => {
  const op = line({ id: 'l', path: '/x', line: 'k=2', regexp: /^k=/g });
  const p = op.plan(file('k=1\nk=1\n'), ctx) as ChangePlan;
  t.is(p.reason, 'edit /x: replace line 2');
});

for (const target of targets()) {
  test(`${target.name}: edit hostile content, twice; keeps mode; then remove`, (t) => {
    const path = `${target.tempDir()}/it's a $(file).conf`;
    const before = "# it's \"quoted\" $(id) `id`\nkey = 'old'\n\\backslash\\\n";
    writeFileSync(target.outside(path), before);
    chmodSync(target.outside(path), 0o640);
    const wanted = "key = '$(new)' \"x\" \\ `y`";
    applyTwice(t, target, line({ id: 'k', path, regexp: /^key\s*=/, line: wanted }));
    t.is(readFileSync(target.outside(path), 'utf8'), `# it's "quoted" $(id) \`id\`\n${wanted}\n\\backslash\\\n`);
    t.is(statSync(target.outside(path)).mode & 0o7777, 0o640);
    applyTwice(t, target, line({ id: 'k', path, regexp: /^key\s*=/, line: '', state: 'absent', backup: false }));
    t.is(readFileSync(target.outside(path), 'utf8'), `# it's "quoted" $(id) \`id\`\n\\backslash\\\n`);
  });

  test(`${target.name}: create a missing file, twice`, (t) => {
    const path = `${target.tempDir()}/new file`;
    applyTwice(t, target, line({ id: 'n', path, line: 'hello', create: true, mode: '0600' }));
    t.is(readFileSync(target.outside(path), 'utf8'), 'hello\n');
    t.is(statSync(target.outside(path)).mode & 0o7777, 0o600);
  });
}
