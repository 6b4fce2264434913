import test from 'ava';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sha256 } from '../../../src/artifacts/cache.ts';
import { artifact, prepareArtifacts, type ArtifactParams } from '../../../src/operations/artifact.ts';
import { ShellCommand, sh } from '../../../src/shell/sh.ts';
import { batch, strict } from '../../../src/engine/batch.ts';
import { removeToyBinaries, tempDir, toyBinary } from '../artifacts/_fixtures.ts';
import { AlpineChroot, alpine, chrootUnavailable, ctx, debian, expectInstall, result, sections, summary, withFacts } from './_sysops.ts';

let dir: string;
test.before(() => {
  dir = tempDir('cairn-artifact-op-');
});
test.after.always(() => {
  rmSync(dir, { recursive: true, force: true });
  removeToyBinaries();
});

/** An artifact op over a local file holding `bin`, prepared. */
async function prepared(bin: Buffer, over: Partial<ArtifactParams> = {}) {
  const file = join(dir, `toy-${sha256(bin).slice(0, 8)}`);
  writeFileSync(file, bin);
  const op = artifact({ id: 'toy', file, sha256: sha256(bin), dest: '/usr/local/bin/toy', versionCommand: ['version'], cacheDir: join(dir, 'cache'), ...over });
  await op.prepare();
  return op;
}

const INSTALL = (hex: string) =>
  expectInstall(`printf '%s  %s\\n' ${hex} /usr/local/bin/toy.cairn-tmp | sha256sum -c - && chmod 0755 /usr/local/bin/toy.cairn-tmp`, '/usr/local/bin/toy');
const VERSION =
  `out=$(/usr/local/bin/toy version 2>&1 </dev/null) || { printf '%s\\n' "$out" >&2; echo 'cairn: /usr/local/bin/toy version failed after install (the previous binary is kept as /usr/local/bin/toy.cairn-bak.<time>)' >&2; exit 1; }\n` +
  `printf '%s\\n' "$out" | head -n 5`;

test('glibc build on a glibc host: mkdir, upload, verify + install on the host, version', async (t) => {
  const bin = toyBinary('glibc');
  if (!bin) return t.pass('skipped: no gcc');
  const op = await prepared(bin);
  const hex = sha256(bin);
  const plan = op.plan(result(sections({ sha: 'f'.repeat(64) })), ctx(debian.arch === 'amd64' ? debian : withFacts(debian, { arch: 'amd64', machine: 'x86_64' })));
  const s = summary(plan);
  t.is(s.kind, 'change', s.text);
  t.deepEqual(s.commands, [
    'mkdir -p /usr/local/bin',
    `upload /usr/local/bin/toy.cairn-tmp mode 600: toy from ${join(dir, `toy-${hex.slice(0, 8)}`)} (${bin.length} bytes)`,
    INSTALL(hex),
    VERSION,
  ]);
  t.is(plan.kind === 'change' ? plan.diff : '', `/usr/local/bin/toy: sha256 ${'f'.repeat(64)} -> ${hex}`);
});

const amd64Debian = withFacts(debian, { arch: 'amd64', machine: 'x86_64' });

test('glibc build aimed at a musl host: refused with the reason and the fix', async (t) => {
  const bin = toyBinary('glibc');
  if (!bin) return t.pass('skipped: no gcc');
  const s = summary((await prepared(bin)).plan(result(''), ctx(alpine)));
  t.is(s.kind, 'fail');
  t.regex(s.text, /^glibc build of toy aimed at musl host h1: it would fail with '\.\/toy: not found' \(its loader \/lib64\/ld-linux-x86-64\.so\.2 does not exist there; official Nomad zips link glibc\); use a musl build \(Alpine's community package, e\.g\. community\/nomad, or a musl artifact\)/);
});

test('musl build aimed at a glibc host: refused', async (t) => {
  const bin = toyBinary('musl');
  if (!bin) return t.pass('skipped: no musl-gcc');
  t.regex(summary((await prepared(bin)).plan(result(''), ctx(amd64Debian))).text, /^musl build of toy aimed at glibc host h1/);
});

test('static build: fine on both libcs; wrong arch refused', async (t) => {
  const bin = toyBinary('static');
  if (!bin) return t.pass('skipped: no gcc -static');
  const op = await prepared(bin);
  t.is(op.plan(result(''), ctx(alpine)).kind, 'change');
  t.is(op.plan(result(''), ctx(amd64Debian)).kind, 'change');
  t.regex(summary(op.plan(result(''), ctx(withFacts(alpine, { arch: 'arm64', machine: 'aarch64' })))).text, /^amd64 build of toy aimed at arm64 host h1 \(uname -m: aarch64\): use the arm64 artifact/);
});

test('arm64 build on an arm64 host; unknown host arch or libc -> change with warnings', async (t) => {
  const bin = toyBinary('arm64-glibc');
  if (!bin) return t.pass('skipped: no aarch64-linux-gnu-gcc');
  const op = await prepared(bin);
  t.is(op.plan(result(''), ctx(debian)).kind, 'change');
  const p = op.plan(result(''), ctx(withFacts(debian, { arch: 'unknown', machine: 'riscv64', libc: 'unknown' })));
  t.is(p.kind, 'change');
  t.deepEqual(p.kind === 'change' ? p.warnings : [], [
    "h1's arch is unknown (uname -m: riscv64): cannot check that the arm64 build of toy runs there",
    "h1's libc is unknown: cannot check that the glibc build of toy runs there",
  ]);
});

test('same sha on the host -> noop, with the version the probe read', async (t) => {
  const bin = toyBinary('static');
  if (!bin) return t.pass('skipped: no gcc -static');
  const op = await prepared(bin);
  const s = summary(op.plan(result(sections({ sha: sha256(bin), version: 'toy v1.2.3' })), ctx(alpine)));
  t.deepEqual(s, { kind: 'noop', text: `/usr/local/bin/toy is up to date (sha256 ${sha256(bin).slice(0, 12)}…): toy v1.2.3` });
});

test('probe: sha256sum, and the version command only once prepared, live, and the hash matches', async (t) => {
  const bin = toyBinary('static');
  if (!bin) return t.pass('skipped: no gcc -static');
  const file = join(dir, 'toy-probe');
  writeFileSync(file, bin);
  const op = artifact({ id: 'toy', file, sha256: sha256(bin), dest: '/usr/local/bin/toy', versionCommand: ['version'], cacheDir: join(dir, 'cache') });
  t.notRegex(op.probe(ctx(alpine))!.display, /version/);
  t.is(summary(op.plan(result(''), ctx(alpine))).kind, 'fail');
  t.regex(summary(op.plan(result(''), ctx(alpine))).text, /not prepared: the engine must await prepare\(\)/);
  await op.prepare();
  t.regex(op.probe(ctx(alpine))!.display, new RegExp(`h=\\$\\(sha256sum /usr/local/bin/toy \\| cut -d ' ' -f 1\\)[\\s\\S]*if \\[ "\\$h" = ${sha256(bin)} \\]; then[\\s\\S]*/usr/local/bin/toy version 2>&1 </dev/null \\| head -n 5`));
  t.notRegex(op.probe(ctx(alpine, true))!.display, /version/);
});

test('bake mode: install without running the binary', async (t) => {
  const bin = toyBinary('static');
  if (!bin) return t.pass('skipped: no gcc -static');
  const s = summary((await prepared(bin)).plan(result(''), ctx(alpine, true)));
  t.is(s.commands?.length, 3);
  t.notRegex(s.commands!.join('\n'), /toy version/);
});

test('a mislabelled artifact is caught on the controller by its ELF header', async (t) => {
  const bin = toyBinary('glibc');
  if (!bin) return t.pass('skipped: no gcc');
  await t.throwsAsync(prepared(bin, { libc: 'musl' }), { message: /^artifact 'toy' \(toy\): declared libc musl, but the ELF header of .* says amd64 glibc \(\/lib64\/ld-linux-x86-64\.so\.2\)$/ });
  await t.throwsAsync(prepared(bin, { arch: 'arm64' }), { message: /declared arch arm64, but the ELF header .* says amd64 glibc/ });
  await t.throwsAsync(prepared(Buffer.from('#!/bin/sh\n'), { arch: 'amd64' }), { message: /is not an ELF binary, but the step declares amd64/ });
  const ok = await prepared(bin, { libc: 'glibc', arch: 'amd64' });
  t.is(ok.prepared?.elf?.libc, 'glibc');
});

test('a non-ELF artifact (a script) without declared libc/arch is not checked against the host', async (t) => {
  const op = await prepared(Buffer.from('#!/bin/sh\necho toy\n'));
  t.is(op.plan(result(''), ctx(alpine)).kind, 'change');
});

test('prepareArtifacts: every failure at once', async (t) => {
  const ops = [
    artifact({ id: 'a', file: join(dir, 'missing-a'), sha256: 'a'.repeat(64), dest: '/a', cacheDir: join(dir, 'cache') }),
    artifact({ id: 'b', file: join(dir, 'missing-b'), sha256: 'b'.repeat(64), dest: '/b', cacheDir: join(dir, 'cache') }),
  ];
  const err = await t.throwsAsync(prepareArtifacts(ops));
  t.regex(err!.message, /^2 artifact\(s\) could not be prepared:\n {2}artifact 'a' \(a\): cannot read .*missing-a: ENOENT\n {2}artifact 'b' \(b\): cannot read .*missing-b: ENOENT$/);
});

const base: ArtifactParams = { id: 'x', url: 'https://example.com/x.zip', sha256: 'a'.repeat(64), dest: '/usr/local/bin/x' };
for (const [what, over, re] of [
  ['both url and file', { file: './x' }, /artifact 'x': param `url\/file` needs exactly one of url and file; fix:/],
  ['neither url nor file', { url: undefined }, /needs exactly one of url and file/],
  ['an ftp url', { url: 'ftp://x/y' }, /`url` must be an http\(s\) URL/],
  ['a short sha', { sha256: 'abc' }, /`sha256` must be 64 hex digits/],
  ['a sums spec without a name', { sha256: { sumsFile: 'https://x/SUMS', name: '' } }, /`sha256` must be a hex string or \{ sumsFile, name \}/],
  ['a relative dest', { dest: 'bin/x' }, /`dest` must be an absolute file path/],
  ['a bad mode', { mode: '755x' }, /`mode` must be an octal mode string/],
  ['an empty member', { extract: { member: '' } }, /`extract.member` must name the file/],
  ['a bad libc', { libc: 'uclibc' as 'musl' }, /`libc` must be one of musl, glibc, static/],
  ['a bad arch', { arch: 'x86_64' as 'amd64' }, /`arch` must be one of amd64, arm64, arm/],
  ['a versionCommand string', { versionCommand: 'version' as unknown as string[] }, /`versionCommand` must be a non-empty list/],
  ['an empty versionCommand', { versionCommand: [] }, /`versionCommand` must be a non-empty list/],
] as [string, Partial<ArtifactParams>, RegExp][]) {
  test(`artifact: rejects ${what}`, (t) => {
    t.throws(() => artifact({ ...base, ...over }), { message: re });
  });
}

const why = chrootUnavailable();
test('artifact: install a musl build in an Alpine 3.19 chroot (busybox sha256sum -c), run its version, then noop', async (t) => {
  if (why) return t.pass(`skipped: ${why}`);
  const bin = toyBinary('musl');
  if (!bin) return t.pass('skipped: no musl-gcc');
  const root = new AlpineChroot();
  try {
    const op = await prepared(bin, { libc: 'musl', arch: 'amd64' });
    const live = withFacts(alpine, { chroot: true });
    const first = root.apply(op, live, false);
    t.is(first.plan.kind, 'change');
    t.deepEqual(first.errors, []);
    t.is(root.sh('/usr/local/bin/toy version').stdout, 'toy v1.2.3\n');
    t.is(root.sh('stat -c %a /usr/local/bin/toy').stdout, '755\n');
    const again = root.apply(op, live, false);
    t.deepEqual(summary(again.plan), { kind: 'noop', text: `/usr/local/bin/toy is up to date (sha256 ${sha256(bin).slice(0, 12)}…): toy v1.2.3` });

    // a new version replaces it and keeps a backup of the old one
    const v2 = Buffer.concat([bin, Buffer.from('padding')]);
    const op2 = await prepared(v2, { libc: 'musl' });
    t.deepEqual(root.apply(op2, live, false).errors, []);
    t.regex(root.sh('ls /usr/local/bin').stdout, /^toy\ntoy\.cairn-bak\.\d+\n$/);

    // a corrupted upload is caught on the host by sha256sum -c and leaves nothing behind
    const plan = op.plan(result(''), { host: 'h1', facts: live, bake: false });
    const install = plan.kind === 'change' ? plan.commands[2] : undefined;
    t.true(install instanceof ShellCommand);
    writeFileSync(join(root.root, 'usr/local/bin/toy.cairn-tmp'), Buffer.from('tampered'));
    const r = root.sh(strict([install as ShellCommand]).text);
    t.not(r.exitCode, 0);
    t.regex(r.stdout + r.stderr, /FAILED/);
    t.is(root.sh('ls /usr/local/bin/toy.cairn-tmp').exitCode, 1);
    t.true(readFileSync(join(root.root, 'usr/local/bin/toy')).equals(v2), 'the installed binary is untouched');

    // what the libc guard prevents: a glibc build on Alpine fails with "not found"
    const glibc = toyBinary('glibc');
    if (glibc) {
      writeFileSync(join(root.root, 'tmp/toy-glibc'), glibc, { mode: 0o755 });
      const g = root.sh(batch([sh`/tmp/toy-glibc version`]).command.text);
      t.regex(g.stdout, /toy-glibc: not found/);
    }
  } finally {
    root.remove();
  }
});
