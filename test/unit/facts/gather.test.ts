import { cpus } from 'node:os';
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { factsCommand } from '../../../src/facts/gather.ts';
import { parseFacts } from '../../../src/facts/parse.ts';

const shells = [['/bin/sh'], ...(existsSync('/usr/bin/busybox') || existsSync('/bin/busybox') ? [['busybox', 'sh']] : [])];

test('one command, no interpolated user text, exits 0', (t) => {
  const cmd = factsCommand();
  t.is(cmd.text, cmd.display);
  t.regex(cmd.text, /^s\(\) \{ echo "@@cairn:\$1"; \}/);
  t.true(cmd.text.trimEnd().endsWith('exit 0'));
});

for (const argv of shells) {
  test(`runs on ${argv.join(' ')} and parses`, (t) => {
    const [file, ...args] = argv as [string, ...string[]];
    const out = execFileSync(file, [...args, '-c', factsCommand().text], { encoding: 'utf8', maxBuffer: 64 << 20 });
    const f = parseFacts(out, { chroot: false });
    t.not(f.machine, '');
    t.not(f.arch, 'unknown');
    t.not(f.os.id, '');
    t.not(f.libc, 'unknown');
    t.true(f.memoryMb > 0);
    t.is(f.cpus, cpus().length, 'the CPUs of this machine');
  });
}

test('busybox sh and dash print the same facts', (t) => {
  if (shells.length < 2) return t.fail('busybox is not installed on this controller: test/install-deps.sh installs it');
  const run = (argv: string[]) => {
    const [file, ...args] = argv as [string, ...string[]];
    return parseFacts(execFileSync(file, [...args, '-c', factsCommand().text], { encoding: 'utf8', maxBuffer: 64 << 20 }), { chroot: false });
  };
  const a = run(shells[0] ?? []);
  const b = run(shells[1] ?? []);
  t.deepEqual({ ...a, cgroup: a.cgroup.version }, { ...b, cgroup: b.cgroup.version });
});
