import test from 'ava';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { extractMember } from '../../../src/artifacts/extract.ts';
import { listZip } from '../../../src/artifacts/zip.ts';
import { have, run, tempDir } from './_fixtures.ts';

const BIN = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(300_000, 'nomad-binary-')]);
const LONG = `${'deep/'.repeat(25)}nomad`;

let dir: string;
test.before(() => {
  dir = tempDir('cairn-arch-');
  mkdirSync(join(dir, 'in', 'bin'), { recursive: true });
  mkdirSync(join(dir, 'in', ...LONG.split('/').slice(0, -1)), { recursive: true });
  writeFileSync(join(dir, 'in', 'nomad'), BIN);
  writeFileSync(join(dir, 'in', 'LICENSE.txt'), 'license text\n'.repeat(50));
  writeFileSync(join(dir, 'in', 'bin', 'bridge'), BIN.subarray(0, 1000));
  writeFileSync(join(dir, 'in', LONG), BIN.subarray(0, 77));
});
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const zipCases: [string, string[]][] = [
  ['deflate', ['-q', '-r']],
  ['stored (-0)', ['-q', '-r', '-0']],
  ['zip64 (-fz)', ['-q', '-r', '-fz']],
];
for (const [what, flags] of zipCases) {
  test(`zip ${what}: member extracted byte for byte`, (t) => {
    if (!have('zip')) return t.pass('skipped: no zip');
    const out = join(dir, `a-${flags.join('')}.zip`);
    run('zip', [...flags, out, 'nomad', 'LICENSE.txt', 'bin'], join(dir, 'in'));
    const zip = readFileSync(out);
    t.true(extractMember(zip, 'nomad', out).equals(BIN));
    t.true(extractMember(zip, './bin/bridge', out).equals(BIN.subarray(0, 1000)));
    t.deepEqual(
      listZip(zip).map((e) => e.name),
      ['nomad', 'LICENSE.txt', 'bin/', 'bin/bridge'],
    );
  });
}

test('zip: a member that is not there names what the archive has', (t) => {
  if (!have('zip')) return t.pass('skipped: no zip');
  const out = join(dir, 'b.zip');
  run('zip', ['-q', out, 'nomad', 'LICENSE.txt'], join(dir, 'in'));
  t.throws(() => extractMember(readFileSync(out), 'consul', 'nomad.zip'), { message: 'consul is not in nomad.zip (it has: nomad, LICENSE.txt)' });
});

/** A one-entry zip written by hand (what Go's archive/zip does: data descriptor flag, deflate). */
function handZip(name: string, data: Buffer, corruptCrc = false): Buffer {
  const comp = deflateRawSync(data);
  const crc = (crc32(data) ^ (corruptCrc ? 1 : 0)) >>> 0;
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 6); // data descriptor follows: sizes in the central directory only
  local.writeUInt16LE(8, 8);
  local.writeUInt16LE(n.length, 26);
  const desc = Buffer.alloc(16);
  desc.writeUInt32LE(0x08074b50, 0);
  desc.writeUInt32LE(crc, 4);
  desc.writeUInt32LE(comp.length, 8);
  desc.writeUInt32LE(data.length, 12);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 8);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(comp.length, 20);
  central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(n.length, 28);
  central.writeUInt32LE(0, 42);
  const cdOffset = local.length + n.length + comp.length + desc.length;
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(1, 8);
  eocd.writeUInt16LE(1, 10);
  eocd.writeUInt32LE(central.length + n.length, 12);
  eocd.writeUInt32LE(cdOffset, 16);
  return Buffer.concat([local, n, comp, desc, central, n, eocd]);
}

test('zip with a data descriptor (sizes only in the central directory)', (t) => {
  t.true(extractMember(handZip('consul', BIN), 'consul', 'consul.zip').equals(BIN));
});

test('zip: a CRC mismatch is an error', (t) => {
  t.throws(() => extractMember(handZip('consul', BIN, true), 'consul', 'consul.zip'), { message: /CRC mismatch in consul/ });
});

test('tar.gz (GNU tar): members, ./ prefixes, GNU long names', (t) => {
  const out = join(dir, 'a.tgz');
  run('tar', ['-czf', out, './nomad', './bin', LONG], join(dir, 'in'));
  const tgz = readFileSync(out);
  t.true(extractMember(tgz, 'nomad', out).equals(BIN));
  t.true(extractMember(tgz, 'bin/bridge', out).equals(BIN.subarray(0, 1000)));
  t.true(extractMember(tgz, LONG, out).equals(BIN.subarray(0, 77)));
});

test('tar.gz in pax format (long path in a pax header)', (t) => {
  const out = join(dir, 'pax.tar.gz');
  run('tar', ['--format=pax', '-czf', out, LONG, 'nomad'], join(dir, 'in'));
  t.true(extractMember(readFileSync(out), LONG, out).equals(BIN.subarray(0, 77)));
});

test('plain tar (not gzipped) is read too', (t) => {
  const out = join(dir, 'a.tar');
  run('tar', ['-cf', out, 'nomad'], join(dir, 'in'));
  t.true(extractMember(readFileSync(out), 'nomad', out).equals(BIN));
});

test('tar: a directory or a missing member is a clear error', (t) => {
  const out = join(dir, 'b.tgz');
  run('tar', ['-czf', out, 'bin', 'nomad'], join(dir, 'in'));
  const tgz = readFileSync(out);
  t.throws(() => extractMember(tgz, 'bin', 'b.tgz'), { message: /bin in b\.tgz is not a regular file \(tar type '5'\)/ });
  t.throws(() => extractMember(tgz, 'loopback', 'b.tgz'), { message: /loopback is not in b\.tgz \(it has: bin\/, bin\/bridge, nomad\)/ });
});

test('neither zip nor tar', (t) => {
  t.throws(() => extractMember(Buffer.from('hello world'.repeat(100)), 'x', 'x.bin'), { message: 'x.bin is not a zip, tar.gz or tar archive (cannot extract x)' });
  t.throws(() => extractMember(gzipSync(Buffer.alloc(1024, 7)), 'x', 'x.gz'), { message: /tar: bad header checksum/ });
});
