import test from 'ava';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forgetLocalFiles, hashCacheDir, readLocalFile } from '../../../src/core/local-file.ts';

const env = () => ({ CAIRN_CACHE_DIR: mkdtempSync(join(tmpdir(), 'cairn-local-cache-')) });

test('a local file is read once and shared while unchanged; read again when it changes', (t) => {
  const e = env();
  const p = join(mkdtempSync(join(tmpdir(), 'cairn-local-')), 'agent');
  writeFileSync(p, 'v1');
  const a = readLocalFile(p, e);
  t.is(readLocalFile(p, e).content(), a.content(), 'the same Buffer for the next host');
  t.is(a.sha256, '3bfc269594ef649228e9a74bab00f042efc91d5acc6fbee31a382e80d42388fe');
  t.is(a.size, 2);
  writeFileSync(p, 'v2!');
  utimesSync(p, new Date(), new Date(Date.now() + 5000));
  const b = readLocalFile(p, e);
  t.not(b.content(), a.content());
  t.is(b.content().toString(), 'v2!');
});

test('the hash is remembered across runs (cache dir) for the same inode, size, mtime and ctime: a no-op run does not read the file', (t) => {
  const e = env();
  const p = join(mkdtempSync(join(tmpdir(), 'cairn-local-')), 'big');
  writeFileSync(p, 'x'.repeat(1000));
  const first = readLocalFile(p, e);
  const [entry] = readdirSync(hashCacheDir(e));
  t.truthy(entry);
  // another run: it trusts what the cache says (proved by a made-up hash), without reading
  const doc = JSON.parse(readFileSync(join(hashCacheDir(e), entry!), 'utf8')) as { sha256: string };
  t.is(doc.sha256, first.sha256);
  writeFileSync(join(hashCacheDir(e), entry!), JSON.stringify({ ...doc, sha256: 'f'.repeat(64) }));
  forgetLocalFiles();
  t.is(readLocalFile(p, e).sha256, 'f'.repeat(64));
  // the file written again (ctime changes even with the same size and mtime): hashed again
  writeFileSync(p, 'y'.repeat(1000));
  forgetLocalFiles();
  const again = readLocalFile(p, e);
  t.not(again.sha256, 'f'.repeat(64));
  t.is(again.content().toString(), 'y'.repeat(1000));
});

test('a cache dir that cannot be written only costs a hash per run', (t) => {
  const p = join(mkdtempSync(join(tmpdir(), 'cairn-local-')), 'f');
  writeFileSync(p, 'abc');
  // the cache dir's parent is a file: nothing can be made below it
  const f = readLocalFile(p, { CAIRN_CACHE_DIR: join(p, 'cache') });
  t.is(f.sha256, 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
