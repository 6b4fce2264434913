import test from 'ava';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ArtifactCache, defaultCacheDir, sha256 } from '../../../src/artifacts/cache.ts';
import { resolveArtifact } from '../../../src/artifacts/resolve.ts';
import { parseSums, hashFromSums } from '../../../src/artifacts/sums.ts';
import { have, run, serve, tempDir, toyBinary, removeToyBinaries } from './_fixtures.ts';

const BLOB = Buffer.from('pretend this is consul\n'.repeat(1000));
const HEX = sha256(BLOB);
const dirs: string[] = [];
const fresh = () => {
  const d = tempDir();
  dirs.push(d);
  return d;
};
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  removeToyBinaries();
});

test('cache dir: CAIRN_CACHE_DIR, then XDG_CACHE_HOME/cairn, then ~/.cache/cairn', (t) => {
  t.is(defaultCacheDir({ CAIRN_CACHE_DIR: '/x/y', XDG_CACHE_HOME: '/c' }), '/x/y');
  t.is(defaultCacheDir({ XDG_CACHE_HOME: '/c' }), '/c/cairn');
  t.is(defaultCacheDir({ XDG_CACHE_HOME: 'relative' }), join(homedir(), '.cache', 'cairn'));
  t.is(defaultCacheDir({}), join(homedir(), '.cache', 'cairn'));
});

test('a URL is downloaded once, verified, stored by sha256; the next fetch needs no server', async (t) => {
  const srv = await serve({ '/consul.zip': BLOB });
  const cache = new ArtifactCache(fresh());
  try {
    t.true((await cache.fetch(`${srv.url}/consul.zip`, HEX)).equals(BLOB));
    t.true((await cache.fetch(`${srv.url}/consul.zip`, HEX.toUpperCase())).equals(BLOB));
    t.is(srv.hits.get('/consul.zip'), 1);
    t.true(readFileSync(join(cache.dir, 'sha256', HEX)).equals(BLOB));
  } finally {
    await srv.close();
  }
  t.true((await cache.fetch('http://127.0.0.1:9/gone', HEX)).equals(BLOB));
});

test('sha mismatch: clear error (expected vs got, source), nothing cached', async (t) => {
  const srv = await serve({ '/consul.zip': BLOB });
  const cache = new ArtifactCache(fresh());
  const wrong = 'ab'.repeat(32);
  try {
    await t.throwsAsync(cache.fetch(`${srv.url}/consul.zip`, wrong), {
      message: `sha256 mismatch for ${srv.url}/consul.zip: expected ${wrong}, got ${HEX} (nothing was cached: check the source or the expected hash)`,
    });
    t.false(existsSync(join(cache.dir, 'sha256', wrong)));
    t.false(existsSync(join(cache.dir, 'sha256', HEX)));
  } finally {
    await srv.close();
  }
});

test('HTTP errors and unreachable servers are named', async (t) => {
  const srv = await serve({});
  const cache = new ArtifactCache(fresh());
  try {
    await t.throwsAsync(cache.fetch(`${srv.url}/nope.zip`, HEX), { message: `download of ${srv.url}/nope.zip failed: HTTP 404 Not Found` });
  } finally {
    await srv.close();
  }
  // the closed server's port: nothing listens there any more
  await t.throwsAsync(cache.fetch(`${srv.url}/x`, HEX), { message: new RegExp(`^download of ${srv.url}/x failed: (connect ECONNREFUSED|other side closed)`) });
});

test('a local file is copied into the cache; a missing one is named', async (t) => {
  const d = fresh();
  const f = join(d, 'consul');
  writeFileSync(f, BLOB);
  const cache = new ArtifactCache(join(d, 'cache'));
  t.true((await cache.fetch(f, HEX)).equals(BLOB));
  t.true(existsSync(cache.pathFor(HEX)));
  await t.throwsAsync(cache.fetch(join(d, 'missing'), 'cd'.repeat(32)), { message: /cannot read .*missing: ENOENT/ });
});

test('a corrupt cache entry is dropped and fetched again', async (t) => {
  const d = fresh();
  const f = join(d, 'consul');
  writeFileSync(f, BLOB);
  const cache = new ArtifactCache(join(d, 'cache'));
  await cache.fetch(f, HEX);
  writeFileSync(cache.pathFor(HEX), 'bit rot');
  t.true((await cache.fetch(f, HEX)).equals(BLOB));
  t.true(readFileSync(cache.pathFor(HEX)).equals(BLOB));
});

test('sums files: HashiCorp SHA256SUMS lines, * binary marker, ./ prefix', (t) => {
  const text = `${HEX}  consul_1.18.0_linux_arm64.zip\n${'0'.repeat(64)} *consul_1.18.0_linux_amd64.zip\n${'1'.repeat(64)}  ./cni.tgz\nnot a line\n`;
  t.deepEqual([...parseSums(text).keys()], ['consul_1.18.0_linux_arm64.zip', 'consul_1.18.0_linux_amd64.zip', 'cni.tgz']);
  t.is(hashFromSums(text, 'consul_1.18.0_linux_arm64.zip', 'SUMS'), HEX);
  t.throws(() => hashFromSums(text, 'consul_1.18.0_linux_arm.zip', 'SUMS'), {
    message: 'consul_1.18.0_linux_arm.zip is not listed in the sums file SUMS (it lists: consul_1.18.0_linux_arm64.zip, consul_1.18.0_linux_amd64.zip, cni.tgz)',
  });
  t.throws(() => hashFromSums('<html>', 'x', 'SUMS'), { message: /no `hex  filename` lines found/ });
});

test('resolveArtifact: sums file URL + zip member, fetched once for many hosts; works offline afterwards', async (t) => {
  if (!have('zip')) return t.pass('skipped: no zip');
  const bin = toyBinary('static');
  if (!bin) return t.pass('skipped: no gcc');
  const d = fresh();
  writeFileSync(join(d, 'consul'), bin);
  run('zip', ['-q', 'consul_1.0.0_linux_amd64.zip', 'consul'], d);
  const zip = readFileSync(join(d, 'consul_1.0.0_linux_amd64.zip'));
  const sums = `${sha256(zip)}  consul_1.0.0_linux_amd64.zip\n${'0'.repeat(64)}  consul_1.0.0_linux_arm64.zip\n`;
  const srv = await serve({ '/consul_1.0.0_linux_amd64.zip': zip, '/consul_1.0.0_SHA256SUMS': sums });
  const cacheDir = join(d, 'cache');
  const spec = {
    url: `${srv.url}/consul_1.0.0_linux_amd64.zip`,
    sha256: { sumsFile: `${srv.url}/consul_1.0.0_SHA256SUMS`, name: 'consul_1.0.0_linux_amd64.zip' },
    extract: { member: 'consul' },
  };
  try {
    const [a, b] = await Promise.all([resolveArtifact(spec, { cache: new ArtifactCache(cacheDir) }), resolveArtifact(spec, { cache: new ArtifactCache(cacheDir) })]);
    t.is(a, b);
    t.true(a.content.equals(bin));
    t.is(a.sha256, sha256(bin));
    t.is(a.source, `${srv.url}/consul_1.0.0_linux_amd64.zip!consul`);
    t.is(a.elf?.libc, 'static');
    t.is(srv.hits.get('/consul_1.0.0_linux_amd64.zip'), 1);
    t.is(srv.hits.get('/consul_1.0.0_SHA256SUMS'), 1);
  } finally {
    await srv.close();
  }
  // another process (no memo): the cache alone is enough, the server is gone
  const { resolveArtifact: again } = await import(`../../../src/artifacts/resolve.ts?fresh=${Date.now()}`);
  const c = await again(spec, { cache: new ArtifactCache(cacheDir) });
  t.true(c.content.equals(bin));
});

test('resolveArtifact: a name missing from the sums file, and a sums file that is not one, are errors (not cached)', async (t) => {
  const d = fresh();
  const srv = await serve({ '/SUMS': `${HEX}  other.zip\n`, '/portal': '<html>login</html>' });
  const cache = new ArtifactCache(join(d, 'cache'));
  try {
    await t.throwsAsync(resolveArtifact({ url: `${srv.url}/x.zip`, sha256: { sumsFile: `${srv.url}/SUMS`, name: 'x.zip' } }, { cache }), {
      message: `x.zip is not listed in the sums file ${srv.url}/SUMS (it lists: other.zip)`,
    });
    await t.throwsAsync(resolveArtifact({ url: `${srv.url}/x.zip`, sha256: { sumsFile: `${srv.url}/portal`, name: 'x.zip' } }, { cache }), { message: /no `hex  filename` lines/ });
    await t.throwsAsync(resolveArtifact({ url: `${srv.url}/x.zip`, sha256: { sumsFile: `${srv.url}/portal`, name: 'x.zip' } }, { cache }), { message: /no `hex  filename` lines/ });
    t.is(srv.hits.get('/portal'), 2);
  } finally {
    await srv.close();
  }
});

test('resolveArtifact: a local tar.gz with a sums file on disk', async (t) => {
  const bin = toyBinary('musl');
  if (!bin) return t.pass('skipped: no musl-gcc');
  const d = fresh();
  writeFileSync(join(d, 'loopback'), bin);
  run('tar', ['-czf', 'cni.tgz', './loopback'], d);
  writeFileSync(join(d, 'cni.tgz.sha256'), `${sha256(readFileSync(join(d, 'cni.tgz')))}  cni.tgz\n`);
  const p = await resolveArtifact({ file: join(d, 'cni.tgz'), sha256: { sumsFile: join(d, 'cni.tgz.sha256'), name: 'cni.tgz' }, extract: { member: 'loopback' } }, { cache: new ArtifactCache(join(d, 'cache')) });
  t.true(p.content.equals(bin));
  t.is(p.elf?.libc, 'musl');
});

test('a sums file on the controller is read as it is now (not kept in the cache)', async (t) => {
  const d = fresh();
  const f = join(d, 'SHA256SUMS');
  const cache = new ArtifactCache(join(d, 'cache'));
  writeFileSync(f, `${HEX}  a.zip\n`);
  t.is(await cache.fetchText(f), `${HEX}  a.zip\n`);
  writeFileSync(f, `${HEX}  b.zip\n`);
  t.is(await cache.fetchText(f), `${HEX}  b.zip\n`);
  t.false(existsSync(join(cache.dir, 'sums')));
});
