import test from 'ava';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { editCmdline, kernelCmdline } from '../../../src/operations/cmdline.ts';
import type { ChangePlan, OpContext } from '../../../src/operations/operation.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import { SECTION_PREFIX } from '../../../src/facts/gather.ts';
import { ShellCommand } from '../../../src/shell/sh.ts';
import { apply, probeResult, targets } from './_run-local.ts';

const pi: OpContext = { host: 'pi1', facts: stubFacts[1] as Facts, bake: false };
const PI_LINE = 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet splash plymouth.ignore-serial-consoles cfg80211.ieee80211_regdom=GB';

/** Probe output of kernelCmdline: the file's content (or absence) and /proc/cmdline. */
function probe(content: string | undefined, running = 'BOOT_IMAGE=/vmlinuz root=/dev/sda1'): ReturnType<typeof probeResult> {
  const m = SECTION_PREFIX;
  const parts: string[] = [];
  if (content !== undefined) {
    parts.push(`\n${m}size\n${Buffer.byteLength(content)}`, `\n${m}content\n${Buffer.from(content).toString('base64')}`, `\n${m}sha256\n${'a'.repeat(64)}`);
  }
  parts.push(`\n${m}running\n${running}`);
  return probeResult(`${parts.join('\n')}\n`);
}

// the pure edit
const edits: Array<[string, string, string[], string[], string | undefined]> = [
  ['append to the one line, keeping the final newline', `${PI_LINE}\n`, ['cgroup_enable=memory'], [], `${PI_LINE} cgroup_enable=memory\n`],
  ['no final newline stays without one', 'root=/dev/mmcblk0p2 rootwait', ['cgroup_enable=memory'], [], 'root=/dev/mmcblk0p2 rootwait cgroup_enable=memory'],
  ['present already: nothing', `${PI_LINE} cgroup_enable=memory\n`, ['cgroup_enable=memory'], [], undefined],
  ['a token that only starts like it is not it', 'root=x cgroup_enable=memoryx\n', ['cgroup_enable=memory'], [], 'root=x cgroup_enable=memoryx cgroup_enable=memory\n'],
  ['another value of the same key is a different token', 'root=x cgroup_enable=cpuset\n', ['cgroup_enable=memory'], [], 'root=x cgroup_enable=cpuset cgroup_enable=memory\n'],
  ['remove a token, append another', 'root=x cgroup_disable=memory quiet\n', ['cgroup_enable=memory'], ['cgroup_disable=memory'], 'root=x quiet cgroup_enable=memory\n'],
  ['repeated whitespace is normalised only when the line changes', 'root=x   quiet\n', ['a=1'], [], 'root=x quiet a=1\n'],
  ['CRLF line end kept', 'root=x\r\n', ['a=1'], [], 'root=x a=1\r\n'],
  ['the same token asked twice is added once', 'root=x\n', ['a=1', 'a=1'], [], 'root=x a=1\n'],
];
for (const [name, before, add, remove, after] of edits) {
  test(`edit: ${name}`, (t) => t.is(editCmdline(before, add, remove).after, after));
}

test('plan: absent file -> noop, not a Raspberry Pi boot partition', (t) => {
  const op = kernelCmdline({ id: 'cmdline', add: ['cgroup_enable=memory'] });
  t.deepEqual(op.plan(probe(undefined), pi), { kind: 'noop', reason: '/boot/firmware/cmdline.txt does not exist: not a Raspberry Pi boot partition, nothing to do' });
});

test('plan: token missing -> change with diff, compare-and-swap, backup, sync, and a reboot warning', (t) => {
  const op = kernelCmdline({ id: 'cmdline', add: ['cgroup_enable=memory'] });
  const p = op.plan(probe(`${PI_LINE}\n`), pi) as ChangePlan;
  t.is(p.kind, 'change');
  t.is(p.reason, '/boot/firmware/cmdline.txt: append cgroup_enable=memory');
  t.deepEqual(p.warnings, ['reboot required: the kernel reads /boot/firmware/cmdline.txt at boot; append cgroup_enable=memory takes effect after the next reboot']);
  t.regex(p.diff ?? '', /^-console=serial0.*GB$/m);
  t.regex(p.diff ?? '', /^\+console=serial0.*GB cgroup_enable=memory$/m);
  const cmd = p.commands[0]!.toString();
  t.regex(cmd, /if \[ "\$1" != a{64} \]; then echo "kernelCmdline: \$p changed since it was read/);
  t.regex(cmd, /cp "\$p" "\$p\.cairn-bak\.\$\(date \+%s\)"/);
  t.regex(cmd, /mv -f "\$t" "\$p"\nsync/);
  t.notRegex(cmd, /chmod|chown|cp -p/, 'the boot partition is FAT: no modes, no owners');
});

test('plan: in the file and in /proc/cmdline -> noop', (t) => {
  const op = kernelCmdline({ id: 'cmdline', add: ['cgroup_enable=memory'] });
  t.is(op.plan(probe(`${PI_LINE} cgroup_enable=memory\n`, `cgroup_disable=memory ${PI_LINE} cgroup_enable=memory`), pi).kind, 'noop');
});

test('plan: in the file but not yet booted with -> warning (reboot required), never a second change', (t) => {
  const op = kernelCmdline({ id: 'cmdline', add: ['cgroup_enable=memory'] });
  const p = op.plan(probe(`${PI_LINE} cgroup_enable=memory\n`, PI_LINE), pi);
  t.is(p.kind, 'warn');
  t.regex(p.kind === 'warn' ? p.message : '', /reboot required/);
});

test('plan: two lines -> fail (the firmware reads only the first)', (t) => {
  const op = kernelCmdline({ id: 'cmdline', add: ['cgroup_enable=memory'] });
  const p = op.plan(probe(`${PI_LINE}\ncgroup_enable=memory\n`), pi);
  t.is(p.kind, 'fail');
  t.regex(p.kind === 'fail' ? p.message : '', /has 2 lines; the firmware reads only the first one/);
});

test('plan: empty file -> fail', (t) => {
  const op = kernelCmdline({ id: 'cmdline', add: ['cgroup_enable=memory'] });
  t.is(op.plan(probe('\n'), pi).kind, 'fail');
});

test('params: tokens with spaces or quotes, and nothing to do, are refused', (t) => {
  t.throws(() => kernelCmdline({ id: 'c', add: ['a b'] }), { message: /param `add` must be a list of kernel parameters/ });
  t.throws(() => kernelCmdline({ id: 'c', add: ['a="b c"'] }), { message: /param `add`/ });
  t.throws(() => kernelCmdline({ id: 'c', add: [] }), { message: /are both empty/ });
  t.throws(() => kernelCmdline({ id: 'c', add: ['x=1'], remove: ['x=1'] }), { message: /either added or removed/ });
  t.throws(() => kernelCmdline({ id: 'c', path: 'cmdline.txt', add: ['x=1'] }), { message: /absolute path/ });
});

// for real, on every local shell (dash, busybox, Alpine chroots)
for (const target of targets()) {
  test(`${target.name}: appended once, backup kept, second run noop-or-warning, absent file noop`, (t) => {
    const dir = target.tempDir();
    const path = `${dir}/cmdline.txt`;
    writeFileSync(target.outside(path), `${PI_LINE}\n`);
    const op = kernelCmdline({ id: 'cmdline', path, add: ['cgroup_enable=memory'] });
    const first = apply(target, op);
    t.is(first.plan.kind, 'change');
    t.is(first.exitCode, 0, first.stderr);
    t.is(readFileSync(target.outside(path), 'utf8'), `${PI_LINE} cgroup_enable=memory\n`);
    const backups = readdirSync(target.outside(dir)).filter((f) => f.startsWith('cmdline.txt.cairn-bak.'));
    t.is(backups.length, 1);
    t.is(readFileSync(join(target.outside(dir), backups[0]!), 'utf8'), `${PI_LINE}\n`);
    t.deepEqual(readdirSync(target.outside(dir)).filter((f) => f.endsWith('.cairn-tmp')), []);
    const second = apply(target, op);
    // the test machine's kernel was not booted with it: a warning (noop in a chroot without /proc), never a change
    t.is(second.plan.kind, target.sh('cat /proc/cmdline').exitCode === 0 ? 'warn' : 'noop');
    t.is(readFileSync(target.outside(path), 'utf8'), `${PI_LINE} cgroup_enable=memory\n`, 'never applied twice');
    const none = apply(target, kernelCmdline({ id: 'cmdline', path: `${dir}/absent.txt`, add: ['cgroup_enable=memory'] }));
    t.is(none.plan.kind, 'noop');
  });

  test(`${target.name}: a file changed between probe and change is not overwritten`, (t) => {
    const dir = target.tempDir();
    const path = `${dir}/cmdline.txt`;
    writeFileSync(target.outside(path), 'root=/dev/x\n');
    const op = kernelCmdline({ id: 'cmdline', path, add: ['cgroup_enable=memory'] });
    // planned from a probe that saw other content (its sha256 is not the file's)
    const plan = op.plan(probe('root=/dev/x\n'), { host: target.name, facts: target.facts, bake: false }) as ChangePlan;
    const res = target.sh(`set -e\n${(plan.commands[0] as ShellCommand).text}`);
    t.not(res.exitCode, 0);
    t.regex(res.stderr, /changed since it was read/);
    t.is(readFileSync(target.outside(path), 'utf8'), 'root=/dev/x\n');
  });
}
