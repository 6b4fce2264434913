/**
 * Where the Alpine data comes from:
 *
 * 1. 'shared': $CAIRN_TESTBED_DIR, else <repo>/../shared/testbed (minirootfs tarballs,
 *    signed local apk repositories, s6-overlay, test keys, reference scripts);
 * 2. 'download': neither exists -> the official minirootfs tarballs (sha256-pinned in
 *    test/bed/data/alpine-downloads.sha256) and the needed apks from dl-cdn.alpinelinux.org
 *    (apk verifies the signed index with the keys of the pinned minirootfs), cached in
 *    <cache>/downloads/alpine. UNTESTED here (no route to dl-cdn from the dev machine).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CACHE_BASE, REPO_ROOT } from './config.ts';
import { run } from './exec.ts';
import { nspawnRun } from './nspawn.ts';
import { buildOnce, sha256File } from './util.ts';

export interface AlpineFlavor {
  release: string;
  arch: 'x86_64' | 'aarch64';
  tarball: string;
  /** Parent of <arch>/ : bound read-only at /media/apks in the guest. */
  repoDir: string;
  /** Extra apk signing keys for /etc/apk/keys (the local repo's key). */
  extraKeys: string[];
  /** Packages installed into the root. */
  pkgs: string[];
  /** s6 for the x86_64 hosts: the s6-overlay tarball + add-s6-overlay.sh, or apks. */
  s6?: { kind: 'overlay'; tarxz: string; script: string } | { kind: 'apk'; pkgs: string[] };
  /** doas is in the repository (the aarch64 3.7 repo has none). */
  hasDoas: boolean;
}

export interface DataSource {
  mode: 'shared' | 'download';
  /** For messages and state.json. */
  label: string;
  /** Alpine 3.19 x86_64 / 3.7 aarch64 (download mode: only the flavors asked for). */
  x86?: AlpineFlavor;
  arm?: AlpineFlavor;
  /** Test client key pair (private key is copied to the state dir with mode 600). */
  clientKey: string;
  clientPub: string;
}

const X86_PKGS = 'openrc openssh-server openssh-server-common-openrc openssh-sftp-server openssh-client-default busybox-openrc busybox-suid doas tzdata'.split(' ');
/** RECIPE.md's PKGS override for the 3.7.3 aarch64 root. */
const ARM_PKGS = 'openrc openssh-server openssh-sftp-server openssh-client busybox-initscripts busybox-suid tzdata'.split(' ');

/** The testbed dir in use (the one holding alpine/), if any. */
export function sharedTestbedDir(): string | undefined {
  const candidates = [process.env.CAIRN_TESTBED_DIR, resolve(REPO_ROOT, '../shared/testbed')].filter((d): d is string => !!d);
  for (const d of candidates) {
    if (existsSync(join(d, 'alpine', 'minirootfs'))) return join(d, 'alpine');
    if (existsSync(join(d, 'minirootfs'))) return d;
  }
  return undefined;
}

/**
 * The data source; `need` says which Alpine flavors will be used (download mode fetches only those).
 * env CAIRN_BED_SOURCE=shared|download forces one (download: e.g. to try a private mirror).
 */
export async function dataSource(need: { x86: boolean; arm: boolean } = { x86: true, arm: true }): Promise<DataSource> {
  const force = process.env.CAIRN_BED_SOURCE;
  const dir = sharedTestbedDir();
  if (force === 'download') return downloadSource(need);
  if (dir) return sharedSource(dir);
  if (force === 'shared') throw new Error(`CAIRN_BED_SOURCE=shared but no testbed dir ($CAIRN_TESTBED_DIR or ${resolve(REPO_ROOT, '../shared/testbed')})`);
  return downloadSource(need);
}

function sharedSource(dir: string): DataSource {
  const need = (p: string) => {
    const f = join(dir, p);
    if (!existsSync(f)) throw new Error(`test bed data dir ${dir} has no ${p}`);
    return f;
  };
  const s6tar = join(dir, 's6-overlay', 's6-overlay-x86_64.tar.xz');
  const s6script = join(dir, 'bin', 'add-s6-overlay.sh');
  return {
    mode: 'shared',
    label: `shared testbed ${dir}`,
    x86: {
      release: '3.19',
      arch: 'x86_64',
      tarball: need('minirootfs/alpine-minirootfs-3.19.4-x86_64.tar.gz'),
      repoDir: need('repo/v3.19'),
      extraKeys: [need('keys/alpine-tb-local.rsa.pub')],
      pkgs: X86_PKGS,
      hasDoas: true,
      ...(existsSync(s6tar) && existsSync(s6script) ? { s6: { kind: 'overlay' as const, tarxz: s6tar, script: s6script } } : {}),
    },
    arm: {
      release: '3.7',
      arch: 'aarch64',
      tarball: need('minirootfs/alpine-minirootfs-3.7.3-aarch64.tar.gz'),
      repoDir: need('repo/v3.7'),
      extraKeys: [],
      pkgs: ARM_PKGS,
      hasDoas: false,
    },
    clientKey: need('keys/test-client-id_ed25519'),
    clientPub: need('keys/test-client-id_ed25519.pub'),
  };
}

// ---------------------------------------------------------------- download fallback (untested against dl-cdn)

/** Release files (minirootfs), fetched by node: https. */
const FILE_MIRROR = process.env.CAIRN_BED_ALPINE_MIRROR ?? 'https://dl-cdn.alpinelinux.org/alpine';
/**
 * Package repositories, fetched by the minirootfs's own apk: plain http by default
 * (the 2017 apk/libressl of 3.7 may not handle today's TLS; apk checks the index
 * signature and every package checksum, so the transport needs no trust).
 */
const APK_MIRROR = process.env.CAIRN_BED_ALPINE_MIRROR ?? 'http://dl-cdn.alpinelinux.org/alpine';
/** Optional dir of extra *.rsa.pub keys a private mirror signs its indexes with. */
const EXTRA_KEYS_DIR = process.env.CAIRN_BED_ALPINE_KEYS;

const dlDir = () => join(CACHE_BASE, 'downloads', 'alpine');
const PIN_FILE = join(REPO_ROOT, 'test', 'bed', 'data', 'alpine-downloads.sha256');

interface Pin {
  sha256: string;
  /** Path in the download cache. */
  path: string;
  /** Path under the mirror (…/alpine/). */
  url: string;
}

function pins(): Pin[] {
  return readFileSync(PIN_FILE, 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [sha, path, url] = l.trim().split(/\s+/);
      if (!sha || !/^[0-9a-f]{64}$/.test(sha) || !path || !url || path.includes('..')) throw new Error(`${PIN_FILE}: bad line: ${l}`);
      return { sha256: sha, path, url };
    });
}

async function download(url: string, dest: string, sha: string): Promise<void> {
  if (existsSync(dest) && (await sha256File(dest)) === sha) return;
  process.stderr.write(`bed: downloading ${url}\n`);
  const res = await fetch(url, { redirect: 'follow' });
  if (!res.ok) throw new Error(`download ${url}: HTTP ${res.status}`);
  const buf = Buffer.from(await res.arrayBuffer());
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.part-${process.pid}`;
  writeFileSync(tmp, buf);
  const got = await sha256File(tmp);
  if (got !== sha) {
    rmSync(tmp, { force: true });
    throw new Error(`download ${url}: sha256 ${got}, expected ${sha} (pinned in ${PIN_FILE})`);
  }
  renameSync(tmp, dest);
}

function extraKeys(): string[] {
  if (!EXTRA_KEYS_DIR) return [];
  return readdirSync(EXTRA_KEYS_DIR)
    .filter((f) => f.endsWith('.rsa.pub'))
    .map((f) => join(EXTRA_KEYS_DIR, f));
}

/**
 * Fetch `pkgs` (+ all dependencies) and the matching signed APKINDEX into <out>/<arch>/,
 * with the (sha256-verified) minirootfs's own apk and keys.
 */
async function fetchApks(tarball: string, repo: string, arch: string, pkgs: string[], out: string): Promise<void> {
  const tools = join(out, '.tools');
  mkdirSync(tools, { recursive: true });
  await run(['tar', '--numeric-owner', '-xzf', tarball, '-C', tools]);
  for (const k of extraKeys()) copyFileSync(k, join(tools, 'etc/apk/keys', basename(k)));
  writeFileSync(join(tools, 'etc/apk/repositories'), `${repo}\n`);
  const archDir = join(out, arch);
  mkdirSync(archDir, { recursive: true });
  const bind = [{ src: archDir, dst: '/out' }];
  await nspawnRun(tools, ['/sbin/apk', 'update'], { network: 'host', loud: true });
  await nspawnRun(tools, ['/sbin/apk', 'fetch', '--recursive', '-o', '/out', ...pkgs], { network: 'host', binds: bind, loud: true });
  const cache = join(tools, 'var/cache/apk');
  const idx = readdirSync(cache).filter((f) => /^APKINDEX\..*\.tar\.gz$/.test(f));
  if (idx.length !== 1) throw new Error(`expected one APKINDEX in ${cache} after 'apk update', found ${idx.length}`);
  copyFileSync(join(cache, idx[0]!), join(archDir, 'APKINDEX.tar.gz'));
  rmSync(tools, { recursive: true, force: true });
}

async function downloadSource(need: { x86: boolean; arm: boolean }): Promise<DataSource> {
  const DL = dlDir();
  process.stderr.write(`bed: using Alpine downloads from ${FILE_MIRROR} (cache ${DL}): no testbed data dir or CAIRN_BED_SOURCE=download\n`);
  const p = pins();
  const pin = (path: string) => {
    const x = p.find((e) => e.path === path);
    if (!x) throw new Error(`${PIN_FILE} has no line for ${path}`);
    return x;
  };
  const keys = extraKeys();
  const src: DataSource = { mode: 'download', label: `downloads from ${FILE_MIRROR} in ${DL}`, clientKey: '', clientPub: '' };

  if (need.x86) {
    const tar = pin('minirootfs/alpine-minirootfs-3.19.4-x86_64.tar.gz');
    await download(`${FILE_MIRROR}/${tar.url}`, join(DL, tar.path), tar.sha256);
    const s6pkgs = ['s6', 'execline'];
    await buildOnce(join(DL, 'repo', 'v3.19'), 'Alpine v3.19 x86_64 apk download', (tmp) =>
      fetchApks(join(DL, tar.path), `${APK_MIRROR}/v3.19/main`, 'x86_64', [...X86_PKGS, 'e2fsprogs', ...s6pkgs], tmp),
    );
    src.x86 = {
      release: '3.19',
      arch: 'x86_64',
      tarball: join(DL, tar.path),
      repoDir: join(DL, 'repo', 'v3.19'),
      extraKeys: keys,
      pkgs: X86_PKGS,
      hasDoas: true,
      s6: { kind: 'apk', pkgs: s6pkgs },
    };
  }
  if (need.arm) {
    const tar = pin('minirootfs/alpine-minirootfs-3.7.3-aarch64.tar.gz');
    await download(`${FILE_MIRROR}/${tar.url}`, join(DL, tar.path), tar.sha256);
    await buildOnce(join(DL, 'repo', 'v3.7'), 'Alpine v3.7 aarch64 apk download', (tmp) =>
      fetchApks(join(DL, tar.path), `${APK_MIRROR}/v3.7/main`, 'aarch64', [...ARM_PKGS, 'e2fsprogs'], tmp),
    );
    src.arm = {
      release: '3.7',
      arch: 'aarch64',
      tarball: join(DL, tar.path),
      repoDir: join(DL, 'repo', 'v3.7'),
      extraKeys: keys,
      pkgs: ARM_PKGS,
      hasDoas: false,
    };
  }
  await verifyRecordedSums(DL, p);

  // no shared test key: one for this machine
  const key = join(DL, 'keys', 'client_ed25519');
  if (!existsSync(key)) {
    mkdirSync(dirname(key), { recursive: true, mode: 0o700 });
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'cairn-bed-client', '-f', key]);
  }
  src.clientKey = key;
  src.clientPub = `${key}.pub`;
  return src;
}

/** Record (first use) and re-check (later uses) the sha256 of every downloaded file; enforce pinned ones. */
async function verifyRecordedSums(DL: string, p: Pin[]): Promise<void> {
  const sumsFile = join(DL, 'SHA256SUMS');
  const recorded = new Map<string, string>();
  if (existsSync(sumsFile)) {
    for (const l of readFileSync(sumsFile, 'utf8').split('\n')) {
      const [sha, path] = l.trim().split(/\s+/);
      if (sha && path) recorded.set(path, sha);
    }
  }
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(DL, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if ((r.startsWith('repo/') || r.startsWith('minirootfs/')) && !r.includes('.part-')) files.push(r);
    }
  };
  walk('');
  for (const f of files.sort()) {
    const got = await sha256File(join(DL, f));
    const want = p.find((x) => x.path === f)?.sha256 ?? recorded.get(f);
    if (want && want !== got) throw new Error(`${join(DL, f)}: sha256 ${got}, expected ${want}: remove ${DL} to download again`);
    recorded.set(f, got);
  }
  writeFileSync(sumsFile, [...recorded].sort(([a], [b]) => a.localeCompare(b)).map(([f, sha]) => `${sha}  ${f}`).join('\n') + '\n');
}
