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
import { join, resolve } from 'node:path';
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
  x86: AlpineFlavor;
  arm: AlpineFlavor;
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

export async function dataSource(): Promise<DataSource> {
  const dir = sharedTestbedDir();
  if (dir) return sharedSource(dir);
  return downloadSource();
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

// ---------------------------------------------------------------- download fallback (untested offline)

const DL_DIR = join(CACHE_BASE, 'downloads', 'alpine');
const PIN_FILE = join(REPO_ROOT, 'test', 'bed', 'data', 'alpine-downloads.sha256');

interface Pin {
  sha256: string;
  path: string;
  url: string;
}

function pins(): Pin[] {
  return readFileSync(PIN_FILE, 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'))
    .map((l) => {
      const [sha, path, url] = l.trim().split(/\s+/);
      if (!sha || !/^[0-9a-f]{64}$/.test(sha) || !path || !url) throw new Error(`${PIN_FILE}: bad line: ${l}`);
      return { sha256: sha, path, url };
    });
}

async function download(url: string, dest: string, sha: string): Promise<void> {
  if (existsSync(dest) && (await sha256File(dest)) === sha) return;
  process.stderr.write(`bed: downloading ${url}\n`);
  const res = await fetch(url, { redirect: 'follow' });
  if (!res.ok) throw new Error(`download ${url}: HTTP ${res.status}`);
  const buf = Buffer.from(await res.arrayBuffer());
  mkdirSync(join(dest, '..'), { recursive: true });
  const tmp = `${dest}.part-${process.pid}`;
  writeFileSync(tmp, buf);
  const got = await sha256File(tmp);
  if (got !== sha) {
    rmSync(tmp, { force: true });
    throw new Error(`download ${url}: sha256 ${got}, expected ${sha} (pinned in ${PIN_FILE})`);
  }
  renameSync(tmp, dest);
}

/** Fetch `pkgs` (+ dependencies) and the matching signed APKINDEX into <out>/<arch>/, with the minirootfs's own apk. */
async function fetchApks(tarball: string, mirror: string, arch: string, pkgs: string[], out: string): Promise<void> {
  const tools = `${out}.tools`;
  rmSync(tools, { recursive: true, force: true });
  mkdirSync(tools, { recursive: true });
  try {
    await run(['tar', '--numeric-owner', '-xzf', tarball, '-C', tools]);
    writeFileSync(join(tools, 'etc/apk/repositories'), `${mirror}\n`);
    const archDir = join(out, arch);
    mkdirSync(archDir, { recursive: true });
    const bind = [{ src: archDir, dst: '/out' }];
    await nspawnRun(tools, ['/sbin/apk', 'update'], { network: 'host', loud: true });
    await nspawnRun(tools, ['/sbin/apk', 'fetch', '--recursive', '-o', '/out', ...pkgs], { network: 'host', binds: bind, loud: true });
    const idx = readdirSync(join(tools, 'var/cache/apk')).filter((f) => /^APKINDEX\..*\.tar\.gz$/.test(f));
    if (idx.length !== 1) throw new Error(`expected one APKINDEX in the apk cache after 'apk update', found ${idx.length}`);
    copyFileSync(join(tools, 'var/cache/apk', idx[0]!), join(archDir, 'APKINDEX.tar.gz'));
  } finally {
    rmSync(tools, { recursive: true, force: true });
  }
}

async function downloadSource(): Promise<DataSource> {
  process.stderr.write(
    `bed: no testbed data dir ($CAIRN_TESTBED_DIR or ${resolve(REPO_ROOT, '../shared/testbed')}): using downloads from dl-cdn.alpinelinux.org\n`,
  );
  const p = pins();
  const pin = (path: string) => {
    const x = p.find((e) => e.path === path);
    if (!x) throw new Error(`${PIN_FILE} has no line for ${path}`);
    return x;
  };
  const x86Tar = pin('minirootfs/alpine-minirootfs-3.19.4-x86_64.tar.gz');
  const armTar = pin('minirootfs/alpine-minirootfs-3.7.3-aarch64.tar.gz');
  for (const t of [x86Tar, armTar]) await download(t.url, join(DL_DIR, t.path), t.sha256);

  const s6pkgs = ['s6', 'execline'];
  const x86Pkgs = [...X86_PKGS, 'e2fsprogs', ...s6pkgs];
  const armPkgs = [...ARM_PKGS, 'e2fsprogs'];
  await buildOnce(join(DL_DIR, 'repo', 'v3.19'), 'Alpine v3.19 x86_64 apk download', (tmp) =>
    fetchApks(join(DL_DIR, x86Tar.path), 'https://dl-cdn.alpinelinux.org/alpine/v3.19/main', 'x86_64', x86Pkgs, tmp),
  );
  await buildOnce(join(DL_DIR, 'repo', 'v3.7'), 'Alpine v3.7 aarch64 apk download', (tmp) =>
    fetchApks(join(DL_DIR, armTar.path), 'http://dl-cdn.alpinelinux.org/alpine/v3.7/main', 'aarch64', armPkgs, tmp),
  );
  await verifyRecordedSums(p);

  // no shared test key: make one for this machine
  const keyDir = join(DL_DIR, 'keys');
  const key = join(keyDir, 'client_ed25519');
  if (!existsSync(key)) {
    mkdirSync(keyDir, { recursive: true, mode: 0o700 });
    await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'cairn-bed-client', '-f', key]);
  }
  return {
    mode: 'download',
    label: `downloads in ${DL_DIR}`,
    x86: {
      release: '3.19',
      arch: 'x86_64',
      tarball: join(DL_DIR, x86Tar.path),
      repoDir: join(DL_DIR, 'repo', 'v3.19'),
      extraKeys: [],
      pkgs: X86_PKGS,
      hasDoas: true,
      s6: { kind: 'apk', pkgs: s6pkgs },
    },
    arm: {
      release: '3.7',
      arch: 'aarch64',
      tarball: join(DL_DIR, armTar.path),
      repoDir: join(DL_DIR, 'repo', 'v3.7'),
      extraKeys: [],
      pkgs: ARM_PKGS,
      hasDoas: false,
    },
    clientKey: key,
    clientPub: `${key}.pub`,
  };
}

/** Record (first use) and re-check (later uses) the sha256 of every downloaded file; enforce pinned ones. */
async function verifyRecordedSums(p: Pin[]): Promise<void> {
  const sumsFile = join(DL_DIR, 'SHA256SUMS');
  const recorded = new Map<string, string>();
  if (existsSync(sumsFile)) {
    for (const l of readFileSync(sumsFile, 'utf8').split('\n')) {
      const [sha, path] = l.trim().split(/\s+/);
      if (sha && path) recorded.set(path, sha);
    }
  }
  const files: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(DL_DIR, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(r);
      else if (r.startsWith('repo/') || r.startsWith('minirootfs/')) files.push(r);
    }
  };
  walk('');
  const lines: string[] = [];
  for (const f of files.sort()) {
    const got = await sha256File(join(DL_DIR, f));
    const want = p.find((x) => x.path === f)?.sha256 ?? recorded.get(f);
    if (want && want !== got) throw new Error(`${join(DL_DIR, f)}: sha256 ${got}, expected ${want}: remove ${DL_DIR} to download again`);
    lines.push(`${got}  ${f}`);
  }
  writeFileSync(sumsFile, lines.join('\n') + '\n');
}
