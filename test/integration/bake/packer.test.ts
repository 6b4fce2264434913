/**
 * The Packer template, run by REAL packer (`packer build`, the built-in null
 * builder whose SSH communicator points at a test-bed host, and the built-in
 * shell-local provisioner running templates/packer/cairn-packer-hook.sh), the
 * way a user's build runs it. Offline: CHECKPOINT_DISABLE=1, an empty
 * PACKER_PLUGIN_PATH, no required_plugins, no `packer init`.
 *
 * The bake is destructive (the host loses its SSH host keys: new logins fail
 * until it boots again), so the test boots its own one-host fleet
 * ($CAIRN_BAKE_FLEET, default `bake`) and takes it down afterwards.
 */
import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { REPO_ROOT, WORK_BASE, run } from './_image.ts';

const FLEET = process.env.CAIRN_BAKE_FLEET ?? 'bake';
const TEMPLATE = join(REPO_ROOT, 'templates/packer/cairn.pkr.hcl');
const HOOK = join(REPO_ROOT, 'templates/packer/cairn-packer-hook.sh');

interface BedState {
  hosts: { name: string; address: string; root: string; kind: string }[];
  files: { key: string };
}

function bed(...args: string[]) {
  return spawnSync('npm', ['run', '--silent', 'bed', '--', ...args], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 });
}

const skip = process.getuid?.() !== 0 ? 'needs root (test bed)' : run('sh', ['-c', 'command -v packer']).status !== 0 ? 'packer is not installed (Debian package `packer`)' : undefined;

let dir = '';
let state: BedState | undefined;
let env: NodeJS.ProcessEnv = {};

test.before(() => {
  if (skip) return;
  mkdirSync(WORK_BASE, { recursive: true });
  dir = mkdtempSync(join(WORK_BASE, 'packer-'));
  const home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true });
  // must stay untouched: the build uses a throwaway known_hosts
  writeFileSync(join(home, '.ssh/known_hosts'), '# user known_hosts sentinel\n');
  mkdirSync(join(dir, 'plugins'));
  mkdirSync(join(dir, 'tmp'));
  env = { ...process.env, CHECKPOINT_DISABLE: '1', PACKER_PLUGIN_PATH: join(dir, 'plugins'), HOME: home, TMPDIR: join(dir, 'tmp'), PACKER_NO_COLOR: '1', CI: '1' };
  bed('down', '--fleet', FLEET);
  const up = bed('up', '--fleet', FLEET, '--alpine', '1', '--debian', '0', '--alpine-arm', '0', '--debian-arm', '0');
  if (up.status !== 0) throw new Error(`npm run bed -- up --fleet ${FLEET} failed:\n${up.stdout}\n${up.stderr}`);
  state = JSON.parse(readFileSync(`/var/lib/cairn-bed/${FLEET}/state.json`, 'utf8')) as BedState;
});

test.after.always(() => {
  if (skip) return;
  if (state) bed('down', '--fleet', FLEET);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const serial = skip ? test.serial.skip : test.serial;
if (skip) test.serial.skip(`packer: ${skip}`, () => undefined);

function packerVars(): string[] {
  const host = state!.hosts[0]!;
  writeFileSync(join(dir, 'vars.yml'), 'site_name: packer bake\nmotd_owner: the image team\n');
  return [
    '-var', `ssh_host=${host.address}`,
    '-var', `ssh_private_key_file=${state!.files.key}`,
    '-var', 'cairn_roles=motd,tuning,hello',
    '-var', `cairn_roles_dir=${join(REPO_ROOT, 'inventory/roles')}`,
    '-var', `cairn_vars_file=${join(dir, 'vars.yml')}`,
    '-var', `cairn_command=${process.execPath} ${join(REPO_ROOT, 'src/cli/bin.js')}`,
  ];
}

serial('packer validate accepts the template offline (no plugins, no packer init)', (t) => {
  const r = spawnSync('packer', ['validate', ...packerVars(), TEMPLATE], { env, encoding: 'utf8', timeout: 120_000 });
  t.is(r.status, 0, r.stdout + r.stderr);
  t.deepEqual(readdirSync(join(dir, 'plugins')), [], 'nothing was downloaded');
});

serial('packer build runs the hook with the build values: the host is baked and left without identity', (t) => {
  const host = state!.hosts[0]!;
  const root = host.root;
  t.true(readdirSync(join(root, 'etc/ssh')).some((f) => f.startsWith('ssh_host_')), 'the host has host keys before the bake');
  const r = spawnSync('packer', ['build', ...packerVars(), TEMPLATE], { env, encoding: 'utf8', timeout: 600_000 });
  const out = r.stdout + r.stderr;
  t.log(out.split('\n').filter((l) => /\[image\]|cairn-packer-hook|Build/.test(l)).join('\n'));
  t.is(r.status, 0, out);
  t.regex(out, new RegExp(`cairn-packer-hook: baking root@${host.address.replaceAll('.', '\\.')}:22 as 'image' with roles motd,tuning,hello`));
  t.regex(out, /\[image\] motd\/motd: changed/);
  t.regex(out, /\[image\] bake-cleanup\/ssh-host-keys: changed - SSH host keys: remove \d+: \/etc\/ssh\/ssh_host_/);
  t.regex(out, /Build 'null\.build_vm' finished/);
  // the host's root as the container sees it
  t.deepEqual(readdirSync(join(root, 'etc/ssh')).filter((f) => f.startsWith('ssh_host_')), [], 'no SSH host keys left');
  t.regex(readFileSync(join(root, 'etc/motd'), 'utf8'), /packer bake/);
  t.true(existsSync(join(root, 'etc/runlevels/default/hello')) || readdirSync(join(root, 'etc/runlevels/default')).includes('hello'), 'hello enabled');
  t.deepEqual(readdirSync(join(root, 'etc')).filter((f) => f.includes('.cairn-bak.')), []);
  // the user's known_hosts was not used, the hook's temp dir (key, inventory, known_hosts) is gone
  t.is(readFileSync(join(env.HOME!, '.ssh/known_hosts'), 'utf8'), '# user known_hosts sentinel\n');
  t.deepEqual(readdirSync(join(dir, 'tmp')).filter((f) => f.startsWith('cairn-packer.')), []);
});

test('the hook refuses to run without roles or a key, before connecting', (t) => {
  const base = { ...process.env, CAIRN_SSH_HOST: '127.0.0.1', CAIRN_CMD: 'false' };
  const noRoles = spawnSync('sh', [HOOK], { env: { ...base, CAIRN_ROLES: '' }, encoding: 'utf8' });
  t.not(noRoles.status, 0);
  t.regex(noRoles.stderr, /CAIRN_ROLES/);
  const noKey = spawnSync('sh', [HOOK], { env: { ...base, CAIRN_ROLES: 'motd', CAIRN_SSH_PRIVATE_KEY: '', CAIRN_SSH_KEY_FILE: '' }, encoding: 'utf8' });
  t.is(noKey.status, 2);
  t.regex(noKey.stderr, /no SSH key/);
  const badPort = spawnSync('sh', [HOOK], { env: { ...base, CAIRN_ROLES: 'motd', CAIRN_SSH_PORT: '22; rm -rf /' }, encoding: 'utf8' });
  t.is(badPort.status, 2);
  t.regex(badPort.stderr, /must be a number/);
});

test('the hook writes a one-host inventory that cairn accepts (host values quoted, throwaway known_hosts)', (t) => {
  const tmp = mkdtempSync(join(WORK_BASE, 'hook-'));
  try {
    const key = join(tmp, 'k');
    writeFileSync(key, 'not a key', { mode: 0o600 });
    const r = spawnSync('sh', [HOOK], {
      env: { ...process.env, TMPDIR: tmp, CAIRN_KEEP_DIR: '1', CAIRN_SSH_HOST: '127.0.0.9', CAIRN_SSH_PORT: '2222', CAIRN_SSH_USER: 'pi', CAIRN_SSH_PRIVATE_KEY: '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----', CAIRN_ROLES: 'motd, tuning', CAIRN_CMD: 'true' },
      encoding: 'utf8',
    });
    t.is(r.status, 0, r.stderr);
    const kept = readdirSync(tmp).find((f) => f.startsWith('cairn-packer.'))!;
    const inv = readFileSync(join(tmp, kept, 'inventory.yml'), 'utf8');
    t.regex(inv, /address: "127\.0\.0\.9"\n {4}port: 2222\n {4}user: "pi"\n {4}identity: ".*\/id_build"\n {4}become: sudo/);
    t.regex(inv, /known_hosts: ".*\/cairn-packer\.[^/]+\/known_hosts"/);
    t.regex(inv, /roles: \["motd", "tuning"\]/);
    t.is(readFileSync(join(tmp, kept, 'id_build'), 'utf8'), '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----\n');
    t.is(spawnSync('stat', ['-c', '%a', join(tmp, kept, 'id_build')], { encoding: 'utf8' }).stdout.trim(), '600');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
