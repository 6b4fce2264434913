/**
 * Cached Debian 12 roots (our Raspberry Pi OS stand-in) and their local APT repository.
 *
 *   1. mmdebstrap tarball (minbase + systemd + openssh-server + ...), keyed by its recipe;
 *   2. local APT repository: the packages tests install, with every dependency not
 *      already in that root, downloaded by apt inside a throwaway copy of the root
 *      (the only step that talks to deb.debian.org), indexed with dpkg-scanpackages;
 *   3. the customised root (overlay lower): the local repository as the ONLY apt source
 *      (bound read-only at /media/debs; lists pre-fetched), sshd enabled without host
 *      keys (each host gets its own), toyd.service, user tester with sudo NOPASSWD.
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CACHE_BASE } from './config.ts';
import { run, runLoud } from './exec.ts';
import { nspawnRun } from './nspawn.ts';
import type { BaseRoot } from './alpine.ts';
import { addUser, TESTER_UID } from './alpine.ts';
import { buildOnce, recipeHash, sha256, writeFileMode } from './util.ts';

const RECIPE_VERSION = 4;
const MIRROR = 'http://deb.debian.org/debian';
const SUITE = 'bookworm';
const ROOT_PKGS = ['systemd', 'systemd-sysv', 'openssh-server', 'dbus', 'iproute2', 'procps', 'kmod', 'ca-certificates', 'sudo'];
/** What the local APT repository must be able to install offline. */
export const REPO_PKGS = [
  'unbound', 'dnsutils', 's6', 'ca-certificates', 'iproute2', 'kmod', 'procps', 'sudo', 'docker.io',
  'containernetworking-plugins', 'iptables', 'curl', 'busybox',
  // the bed's own smoke test installs and removes this one: no role or other test uses it
  'hello',
];

export type DebArch = 'amd64' | 'arm64';

function tarRecipe(arch: DebArch) {
  return { suite: SUITE, variant: 'minbase', arch, include: ROOT_PKGS, mirror: MIRROR };
}

/** Stage 1: the mmdebstrap tarball. */
async function debianTarball(arch: DebArch): Promise<{ tar: string; key: string }> {
  const recipe = tarRecipe(arch);
  const key = recipeHash(recipe);
  const dir = join(CACHE_BASE, 'debian', `mmdebstrap-${arch}-${key}`);
  await buildOnce(dir, `Debian ${SUITE} ${arch} root tarball (mmdebstrap)`, async (tmp) => {
    writeFileSync(join(tmp, 'recipe.json'), JSON.stringify(recipe, null, 2) + '\n');
    await runLoud([
      'mmdebstrap',
      '--variant=minbase',
      `--architectures=${arch}`,
      `--include=${ROOT_PKGS.join(',')}`,
      SUITE,
      join(tmp, 'root.tar'),
      MIRROR,
    ]);
  });
  return { tar: join(dir, 'root.tar'), key };
}

async function extract(tar: string, dest: string): Promise<void> {
  mkdirSync(dest, { recursive: true });
  chmodSync(dest, 0o755);
  await run(['tar', '--numeric-owner', '--xattrs', '--xattrs-include=*', '-xf', tar, '-C', dest]);
}

/** Stage 2: local APT repository for that root. */
async function debianRepo(arch: DebArch, tar: { tar: string; key: string }): Promise<{ dir: string; key: string }> {
  const recipe = { v: RECIPE_VERSION, root: tar.key, pkgs: REPO_PKGS, recommends: false };
  const key = recipeHash(recipe);
  const dir = join(CACHE_BASE, 'debian', `repo-${arch}-${key}`);
  await buildOnce(dir, `local APT repository (${arch}: ${REPO_PKGS.join(' ')})`, async (tmp) => {
    writeFileSync(join(tmp, 'recipe.json'), JSON.stringify(recipe, null, 2) + '\n');
    const work = join(tmp, 'work-root');
    const debs = join(tmp, 'debs');
    mkdirSync(join(debs, 'partial'), { recursive: true });
    await extract(tar.tar, work);
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    await nspawnRun(work, ['apt-get', '-q', 'update'], { network: 'host', loud: true, env });
    const out = [{ src: debs, dst: '/out' }];
    // the listed packages themselves (even those already in the root) ...
    await nspawnRun(work, ['apt-get', '-q', 'download', ...REPO_PKGS], { network: 'host', loud: true, env, binds: out, chdir: '/out' });
    // ... and every dependency the root does not have yet
    await nspawnRun(
      work,
      ['apt-get', '-q', '-y', '--no-install-recommends', '--download-only', '-o', 'Dir::Cache::Archives=/out', 'install', ...REPO_PKGS],
      { network: 'host', loud: true, env, binds: out },
    );
    rmSync(work, { recursive: true, force: true });
    rmSync(join(debs, 'partial'), { recursive: true, force: true });
    rmSync(join(debs, 'lock'), { force: true });
    await indexRepo(debs, arch);
  });
  return { dir: join(dir, 'debs'), key };
}

/** Packages, Packages.gz and an (unsigned: the source is [trusted=yes]) Release for a flat repository. */
async function indexRepo(dir: string, arch: DebArch): Promise<void> {
  const n = readdirSync(dir).filter((f) => f.endsWith('.deb')).length;
  if (n === 0) throw new Error(`no .deb downloaded into ${dir}`);
  const packages = (await run(['dpkg-scanpackages', '--multiversion', '.', '/dev/null'], { cwd: dir })).stdout;
  const gz = gzipSync(packages, { level: 9 });
  writeFileSync(join(dir, 'Packages'), packages);
  writeFileSync(join(dir, 'Packages.gz'), gz);
  const sums = [
    ['Packages', Buffer.from(packages)],
    ['Packages.gz', gz],
  ] as const;
  const release = [
    'Origin: cairn-bed',
    'Label: cairn-bed local',
    'Suite: cairn-bed',
    'Codename: cairn-bed',
    `Architectures: ${arch} all`,
    `Date: ${new Date().toUTCString()}`,
    'SHA256:',
    ...sums.map(([name, data]) => ` ${sha256(data)} ${String(data.length).padStart(10)} ${name}`),
  ].join('\n');
  writeFileSync(join(dir, 'Release'), release + '\n');
  process.stderr.write(`bed: local APT repository ${dir}: ${n} packages\n`);
}

const TOYD = `#!/bin/sh
# cairn-bed toy daemon: its pid in /run/toyd.child.pid; systemd restarts it (Restart=always)
exec >>/var/log/toyd.log 2>&1
echo $$ > /run/toyd.child.pid
echo "toyd started pid $$ at $(date)"
trap 'echo "toyd $$ got TERM"; exit 0' TERM
while :; do date +%s > /run/toyd.heartbeat; sleep 1 & wait $!; done
`;

const TOYD_UNIT = `[Unit]
Description=cairn-bed toy daemon (respawned by systemd)
After=local-fs.target

[Service]
Type=simple
ExecStart=/usr/local/bin/toyd
Restart=always
RestartSec=1

[Install]
WantedBy=multi-user.target
`;

/** Units whose credential set-up fails under qemu-user ("Failed to set up credentials: Invalid argument"). */
const CREDENTIAL_UNITS = [
  'procps', 'systemd-firstboot', 'systemd-sysctl', 'systemd-sysusers', 'systemd-tmpfiles-clean',
  'systemd-tmpfiles-setup-dev', 'systemd-tmpfiles-setup',
];

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

function link(target: string, at: string): void {
  mkdirSync(join(at, '..'), { recursive: true });
  if (isLink(at) || existsSync(at)) unlinkSync(at);
  symlinkSync(target, at);
}

/** Stage 3: the customised root. */
export async function debianBase(arch: DebArch, clientPub: string): Promise<BaseRoot> {
  const tar = await debianTarball(arch);
  const repo = await debianRepo(arch, tar);
  const authKey = readFileSync(clientPub, 'utf8').trim();
  const recipe = { v: RECIPE_VERSION, tar: tar.key, repo: repo.key, authKey, arch };
  const key = recipeHash(recipe);
  const dir = join(CACHE_BASE, 'roots', `debian-${arch}-${key}`);
  await buildOnce(dir, `Debian ${arch} base root`, async (tmp) => {
    writeFileSync(join(tmp, 'recipe.json'), JSON.stringify(recipe, null, 2) + '\n');
    const root = join(tmp, 'root');
    await extract(tar.tar, root);
    await customise(root, arch, repo.dir, authKey);
  });
  return { root: join(dir, 'root'), repo: repo.dir, repoTarget: '/media/debs', key };
}

async function customise(root: string, arch: DebArch, repoDir: string, authKey: string): Promise<void> {
  const sys = join(root, 'etc/systemd/system');
  // sshd: enabled, only the per-host ed25519 key
  for (const f of readdirSync(join(root, 'etc/ssh'))) if (f.startsWith('ssh_host_')) rmSync(join(root, 'etc/ssh', f));
  writeFileMode(join(root, 'etc/ssh/sshd_config.d/cairn-bed.conf'), '# cairn-bed\nHostKey /etc/ssh/ssh_host_ed25519_key\nUseDNS no\n', 0o644);
  link('/lib/systemd/system/ssh.service', join(sys, 'multi-user.target.wants/ssh.service'));
  link('/lib/systemd/system/ssh.service', join(sys, 'sshd.service'));
  // the keys are provisioned: never let a boot regenerate them
  writeFileMode(join(root, 'root/.ssh/authorized_keys'), authKey + '\n', 0o600);
  chmodSync(join(root, 'root/.ssh'), 0o700);

  // tester: sudo without password
  addUser(root, 'tester', TESTER_UID, '/bin/bash', authKey);
  writeFileMode(join(root, 'etc/sudoers.d/cairn-bed-tester'), 'tester ALL=(ALL:ALL) NOPASSWD: ALL\n', 0o440);

  // toy supervised service
  writeFileMode(join(root, 'usr/local/bin/toyd'), TOYD, 0o755);
  writeFileMode(join(sys, 'toyd.service'), TOYD_UNIT, 0o644);
  link('/etc/systemd/system/toyd.service', join(sys, 'multi-user.target.wants/toyd.service'));

  // quiet, deterministic boots: no periodic apt/dpkg/e2scrub jobs
  for (const t of ['apt-daily.timer', 'apt-daily-upgrade.timer', 'dpkg-db-backup.timer', 'e2scrub_all.timer', 'e2scrub_reap.service']) {
    link('/dev/null', join(sys, t));
  }
  // it failed once in CI (a host left 'degraded' for a utmp runlevel record, which nothing on
  // the bed reads); the cause was most likely the cgroup all containers shared (cgroup.ts)
  link('/dev/null', join(sys, 'systemd-update-utmp-runlevel.service'));
  if (arch === 'arm64') {
    for (const u of CREDENTIAL_UNITS) {
      writeFileMode(join(sys, `${u}.service.d/cairn-bed-qemu.conf`), '# qemu-user cannot set up unit credentials\n[Service]\nLoadCredential=\n', 0o644);
    }
  }

  // APT: the local repository is the only source
  rmSync(join(root, 'etc/apt/sources.list'), { force: true });
  const sld = join(root, 'etc/apt/sources.list.d');
  if (existsSync(sld)) for (const f of readdirSync(sld)) rmSync(join(sld, f), { force: true, recursive: true });
  writeFileMode(join(sld, 'cairn-bed.list'), 'deb [trusted=yes] file:/media/debs ./\n', 0o644);
  writeFileMode(join(root, 'etc/apt/apt.conf.d/90cairn-bed'), 'Acquire::Languages "none";\n', 0o644);
  mkdirSync(join(root, 'media/debs'), { recursive: true });
  await nspawnRun(root, ['apt-get', '-q', 'update'], { binds: [{ src: repoDir, dst: '/media/debs', ro: true }] });
  await nspawnRun(root, ['apt-get', 'clean']);

  // identity comes per host: machine-id, hostname, resolv.conf, host keys
  writeFileSync(join(root, 'etc/machine-id'), '');
  const dbusId = join(root, 'var/lib/dbus/machine-id');
  if (existsSync(dbusId) && !isLink(dbusId)) rmSync(dbusId);
  writeFileSync(join(root, 'etc/hostname'), 'debian-bed\n');
  rmSync(join(root, 'etc/resolv.conf'), { force: true });
  writeFileSync(join(root, 'etc/motd'), 'cairn test bed host\n');
  if (!statSync(join(root, 'usr/bin/sudo')).isFile()) throw new Error('sudo missing from the Debian root');
}
