// The pi-image role on a disk image made like a Raspberry Pi OS card (docs/pi-image.md):
//
//  1. a sparse image with an MBR (FAT32 boot + ext4 root), attached with losetup -P,
//     formatted, the bed's Debian 12 arm64 root copied into partition 2 and made to
//     look like Pi OS (_pi-os.ts says what is emulated), partition 1 mounted at
//     <root>/boot/firmware with a Pi OS-like cmdline.txt;
//  2. `cairn apply --bake` by the CLI, the chroot connection in the inventory, the
//     password from `!secret_env`: userconf.txt, ssh, cmdline.txt (flags once), keys,
//     sshd drop-in, host name are right; the hash verifies (ours, openssl passwd -6,
//     the C library's crypt); neither password nor hash is in any output;
//  3. a second apply changes nothing; `check --bake` finds no drift;
//  4. unmounted, both file systems check clean, the FAT read back by mtools;
//  5. the root partition booted under systemd-nspawn (qemu-user aarch64) with the
//     boot partition at /boot/firmware: the stand-in first boot renames pi to the
//     user with the hash, and ssh logs in as that user with the operator's key and
//     with the password (the booted system's own crypt accepts the hash).
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { debianBase } from '../../bed/debian.ts';
import { dataSource } from '../../bed/source.ts';
import { childrenOf } from '../../bed/hosts.ts';
import { cairn, jsonOf, type CliResult } from '../../helpers/cli.ts';
import { parseSha512Crypt, verifySha512Crypt } from '../../../src/core/sha512-crypt.ts';
import { cannotRun } from './_image.ts';
import { PiDisk, missingDiskTool, must, run } from './_pi-disk.ts';
import { FIRST_UID, makePiOsLike, piCmdline } from './_pi-os.ts';

const id = `cairn-piimg-${randomBytes(3).toString('hex')}`;
const work = join('/var/tmp', id);
const USER = 'ops';
const HOSTNAME = 'rpi-piimg';
const PASSWORD = `Pi-${randomBytes(9).toString('base64url')} x`;
const ENV = { CAIRN_PIIMG_PASSWORD: PASSWORD };
const TOKENS = ['cgroup_enable=memory', 'cgroup_memory=1'];

const skip = cannotRun('aarch64') ?? (missingDiskTool() ? `needs ${missingDiskTool()} (test/install-deps.sh)` : undefined);
const serial = skip ? test.serial.skip : test.serial;
if (skip) test.serial.skip(`pi-image: ${skip}`, () => undefined);

const disk = new PiDisk(work);
const mnt = join(work, 'mnt');
const boot = join(mnt, 'boot/firmware');
let inv = '';
let operatorKey = '';
let cmdlineBefore = '';
let hash = '';
let applied = false;
let nspawn: number | undefined;
/** The container's init (its pid 1), seen from here. */
let containerInit: number | undefined;

/** Neither the password nor the hash (nor the password's base64) may be printed. */
function leaks(r: CliResult, secrets: string[]): string[] {
  const out = r.stdout + r.stderr;
  return secrets.filter((s) => s && out.includes(s)).map((s) => `${s.slice(0, 6)}...`);
}

test.before(async () => {
  if (skip) return;
  mkdirSync(work, { recursive: true });
  const src = await dataSource({ x86: false, arm: true });
  const base = (await debianBase('arm64', src.clientPub)).root;
  disk.create();
  await disk.attach();
  disk.mkfs();
  disk.mountRoot(mnt);
  must('cp', ['-a', `${base}/.`, `${mnt}/`]);
  makePiOsLike(mnt);
  await disk.mountBoot(boot);
  const diskId = must('sfdisk', ['--disk-id', disk.image]).trim().replace(/^0x/, '');
  cmdlineBefore = piCmdline(diskId);
  writeFileSync(join(boot, 'cmdline.txt'), cmdlineBefore);
  writeFileSync(join(boot, 'config.txt'), '[all]\narm_64bit=1\n');
  operatorKey = join(work, 'operator_ed25519');
  must('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'operator@cairn-piimg', '-f', operatorKey]);
  const pub = readFileSync(`${operatorKey}.pub`, 'utf8').trim();
  mkdirSync(join(work, 'inv'), { recursive: true });
  inv = join(work, 'inv', 'inventory.yml');
  writeFileSync(
    inv,
    [
      'hosts:',
      '  rpi-image:',
      '    connection: chroot',
      `    root: ${mnt}`,
      'groups:',
      '  pi:',
      '    hosts: [rpi-image]',
      '    roles: [pi-image]',
      '    vars:',
      `      pi_user: ${USER}`,
      '      pi_password: !secret_env CAIRN_PIIMG_PASSWORD',
      `      pi_hostname: ${HOSTNAME}`,
      `      pi_authorized_keys: [${JSON.stringify(pub)}]`,
      '',
    ].join('\n'),
  );
});

test.after.always(async () => {
  if (nspawn !== undefined) await stop(nspawn, containerInit);
  await disk.dispose();
  rmSync(work, { recursive: true, force: true });
});

serial('apply --bake writes userconf.txt, ssh, the cmdline flags, keys and host name; nothing secret is printed', async (t) => {
  t.timeout(600_000);
  const r = await cairn(['apply', '--bake', '-i', inv, '--json', '--diff'], ENV);
  t.is(r.code, 0, r.stdout + r.stderr);
  const host = jsonOf(r).hosts['rpi-image']!;
  const changed = host.ops.filter((o) => o.role === 'pi-image' && o.status === 'changed').map((o) => o.id);
  t.deepEqual(changed, ['userconf', 'ssh', 'cmdline', 'authorized-keys-dir', 'authorized-keys', 'sshd-authorized-keys', 'hostname', 'hosts']);
  t.is(host.ops.at(-1)!.role, 'bake-cleanup', '--bake cleans up last');

  const userconf = readFileSync(join(boot, 'userconf.txt'), 'utf8');
  const m = new RegExp(`^${USER}:(\\$6\\$[./0-9A-Za-z]{16}\\$[./0-9A-Za-z]{86})\\n$`).exec(userconf);
  t.truthy(m, `userconf.txt is one line user:$6$<16-char salt>$<hash>: ${JSON.stringify(userconf.replace(/\$6\$.*/, '$6$...'))}`);
  hash = m![1]!;
  t.deepEqual(leaks(r, [PASSWORD, hash, hash.split('$')[3]!, Buffer.from(PASSWORD).toString('base64'), Buffer.from(userconf).toString('base64')]), [], 'password and hash are masked in the JSON, diffs and logs');
  t.regex(host.ops.find((o) => o.id === 'userconf')!.diff ?? '', /secret content not shown/);

  t.is(readFileSync(join(boot, 'ssh'), 'utf8'), '', 'the empty ssh file');
  const cmdline = readFileSync(join(boot, 'cmdline.txt'), 'utf8');
  t.is(cmdline, `${cmdlineBefore.trimEnd()} ${TOKENS.join(' ')}\n`, 'the one line kept, the flags appended once');
  t.deepEqual(readdirSync(boot).filter((f) => /cairn-(bak|tmp)/.test(f)), [], 'bake-cleanup removed the cmdline.txt backup from the boot partition');
  t.is(readFileSync(join(mnt, 'etc/hostname'), 'utf8'), `${HOSTNAME}\n`);
  const hosts = readFileSync(join(mnt, 'etc/hosts'), 'utf8');
  t.deepEqual(hosts.split('\n').filter((l) => l.startsWith('127.0.1.1')), [`127.0.1.1\t${HOSTNAME}`]);
  t.regex(hosts, /^127\.0\.0\.1\tlocalhost$/m, 'the other lines stay');
  t.is(readFileSync(join(mnt, `etc/ssh/authorized_keys.d/${USER}`), 'utf8'), readFileSync(`${operatorKey}.pub`, 'utf8'));
  t.regex(readFileSync(join(mnt, 'etc/ssh/sshd_config.d/10-cairn-pi-image.conf'), 'utf8'), /^AuthorizedKeysFile .* \/etc\/ssh\/authorized_keys\.d\/%u$/m);
  t.false(existsSync(join(mnt, 'etc/ssh/ssh_host_ed25519_key')), 'no host key in the image');
  applied = true;
});

serial('the hash verifies: cairn, openssl passwd -6 -salt, and the C library crypt(3) agree', (t) => {
  t.true(applied, 'needs the apply');
  t.true(verifySha512Crypt(PASSWORD, hash));
  t.false(verifySha512Crypt(`${PASSWORD}!`, hash));
  const salt = parseSha512Crypt(hash)!.salt;
  t.is(must('openssl', ['passwd', '-6', '-salt', salt, '-stdin'], PASSWORD).trim(), hash);
  t.is(must('perl', ['-e', 'print crypt($ARGV[0], $ARGV[1])', PASSWORD, hash]), hash);
});

serial('a second apply changes nothing (the verifying userconf.txt is kept) and check --bake finds no drift', async (t) => {
  t.timeout(600_000);
  t.true(applied, 'needs the apply');
  const r = await cairn(['apply', '--bake', '-i', inv, '--json'], ENV);
  t.is(r.code, 0, r.stdout + r.stderr);
  const host = jsonOf(r).hosts['rpi-image']!;
  t.deepEqual(host.ops.filter((o) => o.status === 'changed').map((o) => `${o.role}/${o.id}: ${o.reason}`), []);
  t.is(host.changed, 0);
  t.regex(host.ops.find((o) => o.id === 'userconf')!.reason, /accepted as it is/);
  t.is(readFileSync(join(boot, 'userconf.txt'), 'utf8'), `${USER}:${hash}\n`, 'the same hash (salt kept)');
  const check = await cairn(['check', '--bake', '-i', inv], ENV);
  t.is(check.code, 0, check.stdout + check.stderr);
  t.deepEqual(leaks(check, [PASSWORD, hash]), []);
});

serial('unmounted, the file systems are clean and the boot partition reads back the same (mtools)', async (t) => {
  t.true(applied, 'needs the apply');
  await disk.unmountAll();
  must('fsck.vfat', ['-n', disk.part(1)]);
  must('e2fsck', ['-f', '-n', disk.part(2)]);
  t.is(must('mtype', ['-i', disk.part(1), '::userconf.txt']), `${USER}:${hash}\n`);
  t.is(must('mtype', ['-i', disk.part(1), '::ssh']), '');
  t.regex(must('mtype', ['-i', disk.part(1), '::cmdline.txt']), new RegExp(`rootwait quiet ${TOKENS.join(' ')}\\n$`));
});

serial('booted (nspawn, aarch64): first boot makes the user with the hash; ssh logs in with the operator key and with the password', async (t) => {
  t.timeout(600_000);
  t.true(applied, 'needs the apply');
  // as on the board: the root partition, the boot partition at /boot/firmware
  const root = join(work, 'boot-root');
  disk.mountRoot(root);
  const fat = join(work, 'boot-fat');
  await disk.mountBoot(fat);
  const log = join(work, 'console.log');
  const fd = openSync(log, 'a');
  const p = spawn(
    'systemd-nspawn',
    ['-D', root, `--machine=${id}`, '--register=no', '--keep-unit', '--private-network', '--resolv-conf=off', '--timezone=off', '--link-journal=no', '--console=read-only', `--bind=${fat}:/boot/firmware`, '--boot'],
    { detached: true, stdio: ['ignore', fd, fd] },
  );
  closeSync(fd);
  nspawn = p.pid!;
  const passwd = () => readFileSync(join(root, 'etc/passwd'), 'utf8');
  let init: number | undefined;
  let ssh = '';
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    init = childrenOf(nspawn)[0];
    containerInit = init ?? containerInit;
    if (init && passwd().includes(`\n${USER}:`)) {
      ssh = run('nsenter', ['-t', String(init), '-a', 'systemctl', 'is-active', 'ssh']).stdout.trim();
      if (ssh === 'active') break;
    }
    if (run('kill', ['-0', String(nspawn)]).status !== 0) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const console = () => (existsSync(log) ? readFileSync(log, 'utf8').slice(-2500) : '');
  t.is(ssh, 'active', `sshd did not come up with user ${USER}:\n${console()}`);
  if (ssh !== 'active' || !init) return;

  // the stand-in first boot: pi (uid 1000) renamed, the hash set, userconf.txt consumed
  const entry = passwd().split('\n').find((l) => l.startsWith(`${USER}:`))!;
  t.is(entry, `${USER}:x:${FIRST_UID}:${FIRST_UID}::/home/${USER}:/bin/bash`);
  const shadow = readFileSync(join(root, 'etc/shadow'), 'utf8').split('\n').find((l) => l.startsWith(`${USER}:`))!;
  t.is(shadow.split(':')[1], hash, '/etc/shadow holds the hash of userconf.txt');
  t.false(existsSync(join(fat, 'userconf.txt')), 'first boot consumed userconf.txt');

  const sshArgs = (extra: string[]) => ['-t', String(init), '-n', 'timeout', '60', 'ssh', '-n', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=10', ...extra, `${USER}@127.0.0.1`, 'id -un; id -u; hostname; cat /etc/hostname'];
  // the operator's key, through /etc/ssh/authorized_keys.d/<user>: the home has no .ssh at all
  t.false(existsSync(join(root, `home/${USER}/.ssh`)));
  const byKey = run('nsenter', sshArgs(['-i', operatorKey, '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes']));
  t.is(byKey.status, 0, `key login: ${byKey.stderr}\n${console()}`);
  const [who, uid, liveHostname, etcHostname] = byKey.stdout.trim().split('\n');
  t.is(who, USER);
  t.is(uid, String(FIRST_UID));
  t.is(etcHostname, HOSTNAME);
  t.is(liveHostname, HOSTNAME, "the container's systemd set the host name from /etc/hostname");
  t.log(`logged in by key as ${who} (uid ${uid}) on ${liveHostname}`);

  // the password, checked by the booted system's PAM and crypt: ssh reads it from SSH_ASKPASS
  const askpass = join(work, 'askpass.sh');
  writeFileSync(askpass, '#!/bin/sh\nprintf "%s\\n" "$CAIRN_PIIMG_ASK"\n', { mode: 0o700 });
  const byPassword = (pw: string) =>
    spawnSync('nsenter', sshArgs(['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password', '-o', 'NumberOfPasswordPrompts=1']), {
      encoding: 'utf8',
      env: { ...process.env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0', CAIRN_PIIMG_ASK: pw },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const good = byPassword(PASSWORD);
  t.is(good.status, 0, `password login: ${good.stderr}`);
  t.is(good.stdout.split('\n')[0], USER);
  const bad = byPassword(`${PASSWORD}-wrong`);
  t.not(bad.status, 0, 'a wrong password is refused');
  t.regex(bad.stderr, /Permission denied/);
});

/**
 * Power the container off: SIGTERM makes nspawn ask the container's systemd for a
 * clean shutdown (slow under qemu-user). If that does not finish, its init (pid 1
 * of the container) is killed, which ends everything in it, and then nspawn: a
 * killed nspawn alone would leave the container running, holding the loop device.
 */
async function stop(pid: number, init: number | undefined): Promise<void> {
  const alive = (p: number) => run('kill', ['-0', String(p)]).status === 0;
  const wait = async (p: number, s: number) => {
    for (let i = 0; i < s * 4 && alive(p); i++) await new Promise((r) => setTimeout(r, 250));
  };
  if (alive(pid)) process.kill(pid, 'SIGTERM');
  await wait(pid, 45);
  if (init !== undefined && alive(init)) process.kill(init, 'SIGKILL');
  await wait(pid, 10);
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  await wait(pid, 10);
  if (init !== undefined) await wait(init, 10);
}
