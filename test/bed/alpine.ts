/**
 * Cached Alpine base roots (the read-only overlay lower of every alpine / alpine-arm host).
 *
 * Same recipe as ../shared/testbed/alpine/bin/mk-alpine-root.sh (busybox init -> OpenRC,
 * Alpine's sshd, toyd under supervise-daemon), with the differences a fleet needs:
 * the guest configures only `lo` (eth0 is set up from outside with `ip -n` before boot),
 * no host keys in the base (each host gets its own in its overlay upper), a non-root
 * user `tester` with passwordless doas, and add-s6-overlay.sh applied on x86_64
 * (s6-svscan/toys6 are started at boot only with `up --s6`).
 */
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync, appendFileSync, lstatSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CACHE_BASE, type Kind } from './config.ts';
import { run } from './exec.ts';
import { nspawnRun } from './nspawn.ts';
import type { AlpineFlavor, DataSource } from './source.ts';
import { buildOnce, recipeHash, sha256File, writeFileMode } from './util.ts';

/** Bump when the customisation below changes (part of the cache key). */
const RECIPE_VERSION = 4;

export const TESTER_UID = 1000;

export interface BaseRoot {
  /** The root directory (overlay lower). */
  root: string;
  /** Local package repository to bind read-only into the guest, and where. */
  repo: string;
  repoTarget: string;
  key: string;
}

export async function alpineBase(kind: Extract<Kind, 'alpine' | 'alpine-arm'>, src: DataSource): Promise<BaseRoot> {
  const fl = kind === 'alpine' ? src.x86 : src.arm;
  if (!fl) throw new Error(`no Alpine data for ${kind} in ${src.label}`);
  const authKey = readFileSync(src.clientPub, 'utf8').trim();
  const index = join(fl.repoDir, fl.arch, 'APKINDEX.tar.gz');
  const recipe = {
    v: RECIPE_VERSION,
    kind,
    release: fl.release,
    arch: fl.arch,
    tarball: await sha256File(fl.tarball),
    index: existsSync(index) ? await sha256File(index) : 'none',
    keys: await Promise.all(fl.extraKeys.map(sha256File)),
    pkgs: fl.pkgs,
    s6: fl.s6 ? (fl.s6.kind === 'overlay' ? { overlay: await sha256File(fl.s6.tarxz), script: await sha256File(fl.s6.script) } : fl.s6) : null,
    authKey,
  };
  const key = recipeHash(recipe);
  const dir = join(CACHE_BASE, 'roots', `${kind}-${fl.release}-${key}`);
  await buildOnce(dir, `${kind} base root (Alpine ${fl.release} ${fl.arch})`, async (tmp) => {
    writeFileSync(join(tmp, 'recipe.json'), JSON.stringify(recipe, null, 2) + '\n');
    await buildAlpineRoot(join(tmp, 'root'), fl, authKey);
  });
  return { root: join(dir, 'root'), repo: fl.repoDir, repoTarget: '/media/apks', key };
}

function rcadd(root: string, service: string, level: string): void {
  const d = join(root, 'etc/runlevels', level);
  mkdirSync(d, { recursive: true });
  const link = join(d, service);
  if (existsSync(link) || isLink(link)) unlinkSync(link);
  symlinkSync(`/etc/init.d/${service}`, link);
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

const TOYD = `#!/bin/sh
# cairn-bed toy daemon (same as testbed/alpine mk-alpine-root.sh)
# own redirect: openrc<0.25 supervise-daemon has no output_log and would keep an ssh channel open
exec >>/var/log/toyd.log 2>&1
echo $$ > /run/toyd.child.pid
echo "toyd started pid $$ at $(date)"
trap 'echo "toyd $$ got TERM"; exit 0' TERM
while :; do date +%s > /run/toyd.heartbeat; sleep 1 & wait $!; done
`;

const TOYD_INITD = `#!/sbin/openrc-run
description="cairn-bed toy daemon supervised by supervise-daemon"
supervisor=supervise-daemon
command=/usr/local/bin/toyd
pidfile=/run/toyd.pid
respawn_delay=1
respawn_max=0
output_log=/var/log/toyd.log
error_log=/var/log/toyd.log
depend() { after bootmisc; }
`;

async function buildAlpineRoot(root: string, fl: AlpineFlavor, authKey: string): Promise<void> {
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755);
  await run(['tar', '--numeric-owner', '-xzf', fl.tarball, '-C', root]);
  for (const k of fl.extraKeys) copyFileSync(k, join(root, 'etc/apk/keys', basename(k)));
  writeFileSync(join(root, 'etc/apk/repositories'), '/media/apks\n');
  mkdirSync(join(root, 'media/apks'), { recursive: true });
  const repoBind = [{ src: fl.repoDir, dst: '/media/apks', ro: true }];
  const pkgs = [...fl.pkgs, ...(fl.s6?.kind === 'apk' ? fl.s6.pkgs : [])];
  await nspawnRun(root, ['/sbin/apk', 'add', '--no-network', '--no-progress', ...pkgs], { binds: repoBind });

  // init: busybox init -> openrc, no gettys (container console only)
  writeFileSync(
    join(root, 'etc/inittab'),
    '::sysinit:/sbin/openrc sysinit\n::sysinit:/sbin/openrc boot\n::wait:/sbin/openrc default\n::ctrlaltdel:/sbin/reboot\n::shutdown:/sbin/openrc shutdown\n',
  );
  writeFileSync(join(root, 'etc/hostname'), 'alpine-bed\n');
  // network: only lo; eth0 (address + default route) is configured from outside before boot
  writeFileSync(join(root, 'etc/network/interfaces'), 'auto lo\niface lo inet loopback\n');
  for (const s of ['bootmisc', 'hostname', 'syslog', 'networking']) rcadd(root, s, 'boot');
  for (const s of ['sshd', 'crond']) rcadd(root, s, 'default');
  rcadd(root, 'killprocs', 'shutdown');

  // sshd: only the per-host ed25519 key (written into each host's upper), never generated at boot
  appendFileSync(join(root, 'etc/conf.d/sshd'), '\n# cairn-bed: host keys are provisioned\nsshd_disable_keygen="yes"\nSSHD_DISABLE_KEYGEN="yes"\n');
  appendFileSync(join(root, 'etc/ssh/sshd_config'), '\n# cairn-bed\nHostKey /etc/ssh/ssh_host_ed25519_key\nUseDNS no\n');
  for (const f of readdirSync(join(root, 'etc/ssh'))) if (f.startsWith('ssh_host_')) rmSync(join(root, 'etc/ssh', f));

  // root: key login (older minirootfs ship root:!: = locked, which makes sshd refuse even key logins)
  const shadow = join(root, 'etc/shadow');
  writeFileSync(shadow, readFileSync(shadow, 'utf8').replace(/^root:!:/m, 'root:*:'));
  writeFileMode(join(root, 'root/.ssh/authorized_keys'), authKey + '\n', 0o600);
  chmodSync(join(root, 'root/.ssh'), 0o700);

  // tester: unprivileged, same key, doas without password
  addUser(root, 'tester', TESTER_UID, '/bin/sh', authKey);
  if (fl.hasDoas) {
    writeFileMode(join(root, 'etc/doas.d/cairn-bed.conf'), 'permit nopass tester as root\n', 0o600);
  }

  // toy supervised service
  writeFileMode(join(root, 'usr/local/bin/toyd'), TOYD, 0o755);
  writeFileMode(join(root, 'etc/init.d/toyd'), TOYD_INITD, 0o755);
  rcadd(root, 'toyd', 'default');

  if (fl.s6?.kind === 'overlay') {
    await run(['sh', fl.s6.script, root, fl.s6.tarxz]);
  } else if (fl.s6?.kind === 'apk') {
    addToyS6(root);
  }
  // s6-svscan and toys6 start at boot only with `up --s6` (linked per host)
  for (const s of ['s6-svscan', 'toys6']) {
    const l = join(root, 'etc/runlevels/default', s);
    if (isLink(l)) unlinkSync(l);
  }
  writeFileSync(join(root, 'etc/motd'), 'cairn test bed host\n');
  rmSync(join(root, 'etc/resolv.conf'), { force: true });
}

/** Append a user to passwd/shadow/group of an Alpine or Debian root, with an authorized key. */
export function addUser(root: string, name: string, uid: number, shell: string, authKey: string): void {
  const has = (f: string) => readFileSync(join(root, f), 'utf8').split('\n').some((l) => l.startsWith(`${name}:`));
  const add = (f: string, line: string) => {
    if (has(f)) return;
    const p = join(root, f);
    const text = readFileSync(p, 'utf8');
    writeFileSync(p, (text.endsWith('\n') || text === '' ? text : text + '\n') + line + '\n');
  };
  add('etc/group', `${name}:x:${uid}:`);
  add('etc/passwd', `${name}:x:${uid}:${uid}:cairn test bed user:/home/${name}:${shell}`);
  // '*' = no password but not locked (sshd refuses key logins to locked '!' accounts without PAM)
  add('etc/shadow', `${name}:*:19000:0:99999:7:::`);
  const home = join(root, 'home', name);
  mkdirSync(join(home, '.ssh'), { recursive: true });
  writeFileSync(join(home, '.ssh/authorized_keys'), authKey + '\n');
  chmodSync(join(home, '.ssh/authorized_keys'), 0o600);
  chmodSync(join(home, '.ssh'), 0o700);
  chmodSync(home, 0o755);
  for (const p of [home, join(home, '.ssh'), join(home, '.ssh/authorized_keys')]) chownSync(p, uid, uid);
}

/** Download mode only: the toy s6 service of add-s6-overlay.sh, on s6 from apks instead of s6-overlay. */
function addToyS6(root: string): void {
  const bin = (n: string) => ['/bin', '/usr/bin', '/command'].map((d) => `${d}/${n}`).find((p) => existsSync(join(root, p))) ?? `/bin/${n}`;
  mkdirSync(join(root, 'etc/s6-tb/toys6/log'), { recursive: true });
  mkdirSync(join(root, 'var/log/toys6'), { recursive: true });
  writeFileMode(
    join(root, 'usr/local/bin/toys6'),
    '#!/bin/sh\necho "toys6 started pid $$"\necho $$ > /run/toys6.child.pid\ni=0; while :; do i=$((i+1)); echo "toys6 tick $i"; sleep 1; done\n',
    0o755,
  );
  writeFileMode(join(root, 'etc/s6-tb/toys6/run'), '#!/bin/sh\nexec 2>&1\nexec /usr/local/bin/toys6\n', 0o755);
  writeFileMode(join(root, 'etc/s6-tb/toys6/log/run'), `#!/bin/sh\nexec ${bin('s6-log')} -b n5 s100000 T /var/log/toys6\n`, 0o755);
  writeFileMode(
    join(root, 'etc/init.d/toys6'),
    '#!/sbin/openrc-run\ndescription="cairn-bed toy service supervised by s6 (OpenRC supervisor=s6)"\nsupervisor=s6\ns6_service_path=/etc/s6-tb/toys6\ndepend() { need s6-svscan; }\n',
    0o755,
  );
}
