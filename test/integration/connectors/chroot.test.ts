import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sh } from '../../../src/shell/sh.ts';
import { UnreachableError } from '../../../src/core/errors.ts';
import { ChrootConnector, RootEscapeError } from '../../../src/connectors/chroot.ts';

/**
 * Real Alpine minirootfs trees (x86_64 and aarch64 via qemu-user binfmt),
 * extracted to temp dirs. Needs root.
 */
const repo = fileURLToPath(new URL('../../..', import.meta.url));
const MINIROOTFS = join(repo, '../shared/testbed/alpine/minirootfs');
const tarball = (arch: string): string => join(MINIROOTFS, `alpine-minirootfs-3.19.4-${arch}.tar.gz`);
const isRoot = process.getuid?.() === 0;
const made: string[] = [];

function extract(arch: string): string {
  const dir = mkdtempSync('/var/tmp/cairn-chroot-');
  made.push(dir);
  execFileSync('tar', ['-xzf', tarball(arch), '-C', dir]);
  return dir;
}

function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === root || m.startsWith(`${root}/`));
}

/** qemu-aarch64 binfmt with the F flag (register it if missing, as the brief says). */
function aarch64Ready(): boolean {
  const f = '/proc/sys/fs/binfmt_misc/qemu-aarch64';
  if (!existsSync(f)) {
    if (!existsSync('/proc/sys/fs/binfmt_misc/register')) spawnSync('mount', ['-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc']);
    spawnSync('update-binfmts', ['--enable', 'qemu-aarch64']);
  }
  return existsSync(f) && /flags: .*F/.test(readFileSync(f, 'utf8'));
}

const conn = (root: string): ChrootConnector => new ChrootConnector({ name: `chroot:${root}`, root }, { commandTimeoutMs: 0 });

test.after.always(() => {
  for (const d of made) {
    if (mountsUnder(d).length === 0) rmSync(d, { recursive: true, force: true });
  }
});

const rootTest = isRoot ? test : test.skip;

rootTest('x86_64 Alpine root: runs commands inside, mounts /proc /sys /dev /dev/pts and removes them on close', async (t) => {
  const root = extract('x86_64');
  const c = conn(root);
  await c.connect();
  try {
    t.deepEqual(mountsUnder(root), ['/proc', '/sys', '/dev', '/dev/pts'].map((m) => join(root, m)));
    t.deepEqual(c.mounted, ['/proc', '/sys', '/dev', '/dev/pts'].map((m) => join(root, m)));
    t.is((await c.run(sh`uname -m`)).stdout, 'x86_64\n');
    t.regex((await c.run(sh`cat /etc/os-release`)).stdout, /ID=alpine\nVERSION_ID=3\.19\.4/);
    t.is((await c.run(sh`readlink /bin/sh`)).stdout, '/bin/busybox\n', 'busybox sh');
    t.is((await c.run(sh`echo $PATH`)).stdout, '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n');
    t.is((await c.run(sh`test -e /proc/self/status && test -c /dev/null && test -d /sys/kernel && test -d /dev/pts && echo ok`)).stdout, 'ok\n');
    t.is((await c.run(sh`cat`, { stdin: 'in' })).stdout, 'in');
    t.is((await c.run(sh`exit 9`)).exitCode, 9);
    t.is((await c.run(sh`sleep 20`, { timeoutMs: 300 })).exitCode, 124);
    // apk works in the chroot: /etc/apk exists and the database is readable
    t.regex((await c.run(sh`apk info 2>/dev/null | head -n 3`)).stdout, /\S/);
  } finally {
    await c.close();
  }
  t.deepEqual(mountsUnder(root), [], 'exactly what it mounted is unmounted');
  t.deepEqual(c.mounted, []);
});

rootTest('aarch64 Alpine root through qemu-user binfmt reports aarch64', async (t) => {
  if (!aarch64Ready()) return t.fail('qemu-aarch64 binfmt (with F flag) is not available');
  const root = extract('aarch64');
  const c = conn(root);
  try {
    await c.connect();
    t.is((await c.run(sh`uname -m`)).stdout, 'aarch64\n');
    t.regex((await c.run(sh`cat /etc/os-release`)).stdout, /ID=alpine/);
    t.is((await c.run(sh`file_type=$(head -c 20 /bin/busybox | od -An -tx1 | tr -d ' \n'); echo $file_type`)).stdout.trim().slice(36, 40), 'b700', 'the ELF machine is aarch64');
  } finally {
    await c.close();
  }
  t.deepEqual(mountsUnder(root), []);
});

rootTest('upload/download write inside the root, symlinks resolved inside it, escapes refused', async (t) => {
  const root = extract('x86_64');
  const c = conn(root);
  try {
    await c.upload('/etc/cairn-test', Buffer.from('inside\n'), { mode: 0o600 });
    t.is(readFileSync(join(root, 'etc/cairn-test'), 'utf8'), 'inside\n');
    t.is(statSync(join(root, 'etc/cairn-test')).mode & 0o777, 0o600);
    t.is((await c.run(sh`cat /etc/cairn-test`)).stdout, 'inside\n');
    t.deepEqual(await c.download('/etc/cairn-test'), Buffer.from('inside\n'));
    t.is(await c.download('/etc/missing'), undefined);
    t.is(await c.download('/no/such/dir/file'), undefined);
    t.deepEqual(await c.download('/etc/alpine-release'), readFileSync(join(root, 'etc/alpine-release')));
    // an absolute symlink points inside the root, never at the controller
    mkdirSync(join(root, 'data'));
    symlinkSync('/data/real', join(root, 'etc/link'));
    await c.upload('/etc/link', Buffer.from('through link'));
    t.is(readFileSync(join(root, 'data/real'), 'utf8'), 'through link');
    symlinkSync('/etc/hostname', join(root, 'etc/abs-to-hostname'));
    writeFileSync(join(root, 'etc/hostname'), 'in-root\n');
    t.deepEqual(await c.download('/etc/abs-to-hostname'), Buffer.from('in-root\n'));
    // escapes
    await t.throwsAsync(c.upload('/../../etc/cairn-escape', Buffer.from('x')), { instanceOf: RootEscapeError });
    symlinkSync('../../../../../../../../tmp', join(root, 'etc/up'));
    await t.throwsAsync(c.upload('/etc/up/cairn-escape', Buffer.from('x')), { instanceOf: RootEscapeError });
    t.false(existsSync('/tmp/cairn-escape'));
  } finally {
    await c.close();
  }
});

rootTest('mounts that were already there are left alone', async (t) => {
  const root = extract('x86_64');
  execFileSync('mount', ['-t', 'proc', 'proc', join(root, 'proc')]);
  try {
    const c = conn(root);
    await c.connect();
    t.deepEqual(c.mounted, ['/sys', '/dev', '/dev/pts'].map((m) => join(root, m)));
    await c.close();
    t.deepEqual(mountsUnder(root), [join(root, 'proc')], 'the proc mount it did not make stays');
  } finally {
    execFileSync('umount', [join(root, 'proc')]);
  }
});

rootTest('close() unmounts even when a mount is busy (lazy) and after failed commands', async (t) => {
  const root = extract('x86_64');
  const c = conn(root);
  await c.connect();
  t.is((await c.run(sh`false`)).exitCode, 1);
  // a process inside keeps /dev busy past close()
  const busy = c.run(sh`exec sleep 3 < /dev/null`);
  await new Promise((r) => setTimeout(r, 300));
  await c.close();
  t.deepEqual(mountsUnder(root), [], 'detached even though busy');
  await busy;
});

rootTest('a directory that is not a root file system is refused', async (t) => {
  const dir = mkdtempSync('/var/tmp/cairn-chroot-');
  made.push(dir);
  const c = conn(dir);
  const err = await t.throwsAsync(c.connect(), { instanceOf: UnreachableError });
  t.regex(err!.message, /does not look like a root file system: neither \/bin\/sh nor \/usr\/bin\/sh/);
  t.deepEqual(mountsUnder(dir), []);
  await c.close();
  const missing = conn('/var/tmp/cairn-does-not-exist');
  await t.throwsAsync(missing.connect(), { message: /does not exist/ });
});

rootTest('a /bin/sh symlink that points outside the root does not count', async (t) => {
  const dir = mkdtempSync('/var/tmp/cairn-chroot-');
  made.push(dir);
  mkdirSync(join(dir, 'bin'));
  symlinkSync('../../../../../../bin/dash', join(dir, 'bin/sh'));
  await t.throwsAsync(conn(dir).connect(), { message: /does not look like a root file system/ });
});
