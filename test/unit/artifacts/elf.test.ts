import test from 'ava';
import { inspectElf, describeElf, type ElfInfo } from '../../../src/artifacts/elf.ts';
import { removeToyBinaries, toyBinary, type Build } from './_fixtures.ts';

test.after.always(removeToyBinaries);

const expected: [Build, { arch: ElfInfo['arch']; libc: ElfInfo['libc']; interp?: RegExp }][] = [
  ['glibc', { arch: 'amd64', libc: 'glibc', interp: /^\/lib64\/ld-linux-x86-64\.so\.2$/ }],
  ['static', { arch: 'amd64', libc: 'static' }],
  ['musl', { arch: 'amd64', libc: 'musl', interp: /^\/lib\/ld-musl-x86_64\.so\.1$/ }],
  ['musl-static', { arch: 'amd64', libc: 'static' }],
  ['arm64-glibc', { arch: 'arm64', libc: 'glibc', interp: /^\/lib\/ld-linux-aarch64\.so\.1$/ }],
  ['arm64-static', { arch: 'arm64', libc: 'static' }],
];

for (const [build, want] of expected) {
  test(`ELF of a ${build} build: ${want.arch} ${want.libc}`, (t) => {
    const bin = toyBinary(build);
    if (!bin) return t.pass(`skipped: no compiler for ${build}`);
    const e = inspectElf(bin);
    t.truthy(e);
    t.is(e!.arch, want.arch);
    t.is(e!.libc, want.libc);
    t.is(e!.bits, 64);
    if (want.interp) t.regex(e!.interpreter ?? '', want.interp);
    else t.is(e!.interpreter, undefined);
  });
}

test('not ELF: a script, an empty file, a truncated header', (t) => {
  t.is(inspectElf(Buffer.from('#!/bin/sh\necho hi\n')), undefined);
  t.is(inspectElf(Buffer.alloc(0)), undefined);
  t.is(inspectElf(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1])), undefined);
});

test('a 32-bit ARM header (built by hand): arm, static', (t) => {
  const h = Buffer.alloc(52);
  h.writeUInt32BE(0x7f454c46, 0);
  h[4] = 1; // 32-bit
  h[5] = 1; // little endian
  h.writeUInt16LE(2, 0x10);
  h.writeUInt16LE(40, 0x12);
  t.deepEqual(inspectElf(h), { bits: 32, machine: 40, arch: 'arm', libc: 'static', interpreter: undefined });
});

test('describeElf', (t) => {
  t.is(describeElf({ bits: 64, machine: 62, arch: 'amd64', libc: 'glibc', interpreter: '/lib64/ld-linux-x86-64.so.2' }), 'amd64 glibc (/lib64/ld-linux-x86-64.so.2)');
  t.is(describeElf({ bits: 64, machine: 183, arch: 'arm64', libc: 'static', interpreter: undefined }), 'arm64 static');
});
