// Debian 12 / systemd (the Raspberry Pi OS stand-in): bake a root by chroot with
// identity planted in it, bake again (changed=0 apart from the cleanup), then boot two
// copies of the one image under systemd-nspawn and show that each made its own
// machine-id and SSH host keys at first boot, and that sshd runs.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { debianBase } from '../../bed/debian.ts';
import { dataSource } from '../../bed/source.ts';
import { childrenOf } from '../../bed/hosts.ts';
import { cairn, jsonOf } from '../../helpers/cli.ts';

const rolesDir = fileURLToPath(new URL('../../../inventory/roles/', import.meta.url));
const run = `deb-${randomBytes(4).toString('hex')}`;
const work = join('/var/tmp/cairn-bake-test', run);
const mounts: string[] = [];
const nspawns: number[] = [];
const PLANTED_ID = '0123456789abcdef0123456789abcdef';

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

function overlay(lower: string[], dir: string): string {
  for (const d of ['upper', 'work', 'root']) mkdirSync(join(dir, d), { recursive: true });
  sh('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower.join(':')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`, join(dir, 'root')]);
  mounts.push(join(dir, 'root'));
  return join(dir, 'root');
}

function umount(path: string): void {
  spawnSync('umount', [path]);
  const i = mounts.indexOf(path);
  if (i >= 0) mounts.splice(i, 1);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let base: string;
let image: string;
let inv: string;

test.before(async () => {
  const src = await dataSource({ x86: true, arm: false });
  base = (await debianBase('amd64', src.clientPub)).root;
  image = overlay([base], join(work, 'image'));
  // what a build leaves behind: identity that must not reach the boards
  writeFileSync(join(image, 'etc/machine-id'), `${PLANTED_ID}\n`);
  sh('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(image, 'etc/ssh/ssh_host_ed25519_key')]);
  mkdirSync(join(image, 'var/log'), { recursive: true });
  writeFileSync(join(image, 'var/log/build.log'), 'built on the build host\n');
  mkdirSync(join(work, 'inv'), { recursive: true });
  symlinkSync(rolesDir, join(work, 'inv', 'roles'));
  inv = join(work, 'inv', 'inventory.yml');
  writeFileSync(inv, stringify({ vars: { site_name: 'baked debian' }, hosts: { image: { connection: 'chroot', root: image } }, groups: { img: { hosts: ['image'], roles: ['motd', 'tuning'] } } }));
});

test.after.always(async () => {
  for (const pid of nspawns) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  await sleep(500);
  for (const m of [...mounts].reverse()) umount(m);
  rmSync(work, { recursive: true, force: true });
});

test.serial('bake by chroot: identity found, named and removed; services enabled; a second bake changes nothing but the cleanup', async (t) => {
  const r = await cairn(['apply', '--bake', '-i', inv, '--json']);
  t.is(r.code, 0, r.stdout + r.stderr);
  const ops = jsonOf(r).hosts.image!.ops;
  const cleaned = ops.filter((o) => o.role === 'bake-cleanup' && o.status === 'changed').map((o) => `${o.id}: ${o.reason}`).join('\n');
  t.regex(cleaned, /machine-id/);
  t.regex(cleaned, /ssh_host_ed25519_key/);
  t.regex(cleaned, /build\.log/);
  t.is(readFileSync(join(image, 'etc/machine-id'), 'utf8'), '', 'systemd hosts keep an EMPTY machine-id, so the first boot makes one');
  t.false(existsSync(join(image, 'etc/ssh/ssh_host_ed25519_key')));
  t.regex(readFileSync(join(image, 'etc/motd'), 'utf8'), /baked debian/);

  const again = jsonOf(await cairn(['apply', '--bake', '-i', inv, '--json'])).hosts.image!;
  t.is(again.failed, 0);
  t.deepEqual(
    again.ops.filter((o) => o.status === 'changed' && o.role !== 'bake-cleanup').map((o) => `${o.role}/${o.id}`),
    [],
  );
});

test.serial('two hosts booted from the one image have their own machine-id and SSH host keys, and sshd runs', async (t) => {
  umount(image);
  const ids: { machineId: string; hostKey: string }[] = [];
  for (const n of [1, 2]) {
    const root = overlay([join(work, 'image', 'upper'), base], join(work, `copy${n}`));
    const log = openSync(join(work, `copy${n}.console.log`), 'a');
    const p = spawn(
      'systemd-nspawn',
      ['-D', root, `--machine=cairn-bake-${run}-${n}`, '--register=no', '--keep-unit', '--private-network', '--resolv-conf=off', '--timezone=off', '--link-journal=no', '--console=read-only', '--boot'],
      { detached: true, stdio: ['ignore', log, log] },
    );
    closeSync(log);
    nspawns.push(p.pid!);
    const deadline = Date.now() + 120_000;
    let machineId = '';
    let hostKey = '';
    let sshd = '';
    while (Date.now() < deadline) {
      machineId = existsSync(join(root, 'etc/machine-id')) ? readFileSync(join(root, 'etc/machine-id'), 'utf8').trim() : '';
      const pub = join(root, 'etc/ssh/ssh_host_ed25519_key.pub');
      hostKey = existsSync(pub) ? readFileSync(pub, 'utf8').split(' ')[1] ?? '' : '';
      const init = childrenOf(p.pid!)[0];
      if (init && machineId && hostKey) {
        sshd = spawnSync('nsenter', ['-t', String(init), '-a', 'systemctl', 'is-active', 'ssh'], { encoding: 'utf8' }).stdout.trim();
        if (sshd === 'active') break;
      }
      await sleep(500);
    }
    const console = existsSync(join(work, `copy${n}.console.log`)) ? readFileSync(join(work, `copy${n}.console.log`), 'utf8').slice(-1500) : '';
    t.is(sshd, 'active', `copy ${n}: sshd did not come up\n${console}`);
    t.regex(machineId, /^[0-9a-f]{32}$/, `copy ${n}: machine-id`);
    t.not(machineId, PLANTED_ID);
    ids.push({ machineId, hostKey });
  }
  t.not(ids[0]!.machineId, ids[1]!.machineId, 'machine ids differ');
  t.not(ids[0]!.hostKey, ids[1]!.hostKey, 'SSH host keys differ');
  // power off: nspawn turns SIGTERM into a clean shutdown of the container's systemd
  for (const pid of nspawns.splice(0)) {
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 60; i++) {
      try {
        process.kill(pid, 0);
        await sleep(250);
      } catch {
        break;
      }
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* stopped */
    }
  }
});
