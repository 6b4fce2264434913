import test from 'ava';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseFacts } from '../../../src/facts/parse.ts';
import type { Facts } from '../../../src/facts/types.ts';

// Captured real output (test/fixtures/facts/capture.ts) paired with the checked parse.
const dir = fileURLToPath(new URL('../../fixtures/facts/', import.meta.url));
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -'.json'.length));

test('there are fixtures for every host kind', (t) => {
  for (const kind of [
    'debian12-amd64-sandbox',
    'debian12-amd64-systemd-booted',
    'alpine319-amd64-chroot',
    'alpine319-arm64-chroot',
    'alpine37-arm64-chroot',
    'alpine319-amd64-openrc-chroot',
    'alpine319-amd64-openrc-booted',
    'alpine319-amd64-openrc-s6-booted',
    'alpine37-arm64-openrc-booted',
    'debian12-amd64-bed-systemd',
    'debian12-amd64-bed-nonroot',
    'debian12-arm64-systemd-booted',
  ]) {
    t.true(names.includes(kind), kind);
  }
});

for (const name of names) {
  test(`fixture ${name}`, (t) => {
    const expected = JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8')) as { options: { chroot: boolean }; facts: Facts };
    const out = readFileSync(`${dir}${name}.txt`, 'utf8');
    t.deepEqual(parseFacts(out, expected.options), expected.facts);
  });
}

// The headline fields, spelled out so a wrong regeneration of the json cannot hide them.
const headline: Record<string, Partial<Record<'arch' | 'libc' | 'init' | 'packageManager' | 'family', string>> & { chroot: boolean }> = {
  'debian12-amd64-sandbox': { arch: 'amd64', libc: 'glibc', init: 'unknown', packageManager: 'apt', family: 'debian', chroot: false },
  'debian12-amd64-systemd-booted': { arch: 'amd64', libc: 'glibc', init: 'systemd', packageManager: 'apt', family: 'debian', chroot: false },
  'alpine319-amd64-chroot': { arch: 'amd64', libc: 'musl', init: 'unknown', packageManager: 'apk', family: 'alpine', chroot: true },
  'alpine319-arm64-chroot': { arch: 'arm64', libc: 'musl', init: 'unknown', packageManager: 'apk', family: 'alpine', chroot: true },
  'alpine37-arm64-chroot': { arch: 'arm64', libc: 'musl', init: 'unknown', packageManager: 'apk', family: 'alpine', chroot: true },
  'alpine319-amd64-openrc-chroot': { arch: 'amd64', libc: 'musl', init: 'openrc', packageManager: 'apk', family: 'alpine', chroot: true },
  'alpine319-amd64-openrc-booted': { arch: 'amd64', libc: 'musl', init: 'openrc', packageManager: 'apk', family: 'alpine', chroot: false },
  'alpine319-amd64-openrc-s6-booted': { arch: 'amd64', libc: 'musl', init: 'openrc', packageManager: 'apk', family: 'alpine', chroot: false },
  'alpine37-arm64-openrc-booted': { arch: 'arm64', libc: 'musl', init: 'openrc', packageManager: 'apk', family: 'alpine', chroot: false },
  'debian12-amd64-bed-systemd': { arch: 'amd64', libc: 'glibc', init: 'systemd', packageManager: 'apt', family: 'debian', chroot: false },
  'debian12-amd64-bed-nonroot': { arch: 'amd64', libc: 'glibc', init: 'systemd', packageManager: 'apt', family: 'debian', chroot: false },
  'debian12-arm64-systemd-booted': { arch: 'arm64', libc: 'glibc', init: 'systemd', packageManager: 'apt', family: 'debian', chroot: false },
};

for (const [name, want] of Object.entries(headline)) {
  test(`fixture ${name}: headline facts`, (t) => {
    const { options } = JSON.parse(readFileSync(`${dir}${name}.json`, 'utf8')) as { options: { chroot: boolean } };
    const f = parseFacts(readFileSync(`${dir}${name}.txt`, 'utf8'), options);
    t.like(
      { arch: f.arch, libc: f.libc, init: f.init, packageManager: f.packageManager, family: f.os.family, chroot: f.chroot },
      want,
    );
    t.truthy(f.kernel.config?.NAMESPACES, 'kernel config read');
    t.true(f.memoryMb > 0);
  });
}

test('alpine 3.7 chroot: the image hostname, not the controller one', (t) => {
  const f = parseFacts(readFileSync(`${dir}alpine37-arm64-chroot.txt`, 'utf8'), { chroot: true });
  t.is(f.hostname, 'localhost');
  t.is(f.os.versionId, '3.7.3');
  t.is(f.cgroup.version, 0);
});

test('s6 running under OpenRC: init stays openrc, s6 is a supervisor', (t) => {
  const f = parseFacts(readFileSync(`${dir}alpine319-amd64-openrc-s6-booted.txt`, 'utf8'), { chroot: false });
  t.deepEqual(f.supervisors, { openrc: true, s6: true, systemd: false });
});

test('debian with the musl package: ldd decides glibc', (t) => {
  const out = readFileSync(`${dir}debian12-amd64-sandbox.txt`, 'utf8');
  t.true(out.includes('/lib/ld-musl-x86_64.so.1'));
  t.is(parseFacts(out, { chroot: false }).libc, 'glibc');
});

test('under qemu-user PID 1 exe is the emulator: init still read from comm and /run', (t) => {
  const out = readFileSync(`${dir}alpine37-arm64-openrc-booted.txt`, 'utf8');
  t.true(out.includes('exe=/usr/bin/qemu-aarch64-static'));
  t.is(parseFacts(out, { chroot: false }).init, 'openrc');
});

test('non-root login: PID 1 exe unreadable, systemd still detected', (t) => {
  const out = readFileSync(`${dir}debian12-amd64-bed-nonroot.txt`, 'utf8');
  t.true(out.includes('\nexe=\n'));
  t.is(parseFacts(out, { chroot: false }).init, 'systemd');
});
