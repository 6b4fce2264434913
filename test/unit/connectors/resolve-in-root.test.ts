import test from 'ava';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveInRoot, RootEscapeError } from '../../../src/connectors/chroot.ts';

function makeRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'cairn-root-'));
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'etc'));
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  writeFileSync(join(root, 'bin/busybox'), '');
  symlinkSync('/bin/busybox', join(root, 'bin/sh')); // absolute, like Alpine
  symlinkSync('busybox', join(root, 'bin/ash')); // relative
  symlinkSync('/etc/passwd', join(root, 'etc/abs-link'));
  symlinkSync('../../../../../../etc', join(root, 'usr/lib/escape'));
  symlinkSync('usr/lib', join(root, 'lib'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  return root;
}

test('plain paths map under the root', async (t) => {
  const root = makeRoot();
  t.is(await resolveInRoot(root, '/etc/hostname'), join(root, 'etc/hostname'));
  t.is(await resolveInRoot(root, '/'), root);
  t.is(await resolveInRoot(root, '/etc/./x/../hostname'), join(root, 'etc/hostname'));
});

test('absolute symlinks are resolved inside the root (busybox /bin/sh)', async (t) => {
  const root = makeRoot();
  t.is(await resolveInRoot(root, '/bin/sh'), join(root, 'bin/busybox'));
  t.is(await resolveInRoot(root, '/bin/ash'), join(root, 'bin/busybox'));
  t.is(await resolveInRoot(root, '/etc/abs-link'), join(root, 'etc/passwd'), 'never the controller /etc/passwd');
  t.is(await resolveInRoot(root, '/lib/x.so'), join(root, 'usr/lib/x.so'));
});

test('followLast false keeps a final symlink', async (t) => {
  const root = makeRoot();
  t.is(await resolveInRoot(root, '/bin/sh', { followLast: false }), join(root, 'bin/sh'));
});

test('.. above the root is refused, in the path or in a link', async (t) => {
  const root = makeRoot();
  await t.throwsAsync(resolveInRoot(root, '/../etc/passwd'), { instanceOf: RootEscapeError });
  await t.throwsAsync(resolveInRoot(root, '/etc/../../x'), { instanceOf: RootEscapeError });
  await t.throwsAsync(resolveInRoot(root, '/usr/lib/escape/passwd'), { instanceOf: RootEscapeError });
});

test('relative paths and symlink loops are errors', async (t) => {
  const root = makeRoot();
  await t.throwsAsync(resolveInRoot(root, 'etc/x'), { message: /must be absolute/ });
  await t.throwsAsync(resolveInRoot(root, '/loop1'), { message: /too many levels/ });
});
