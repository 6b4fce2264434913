// `cairn enroll` on a real Debian host (systemd, OpenSSH with PAM) booted in factory
// state: a setup user `pi` with a password, no keys, password authentication on, sudo
// asking for the password. A wrong password fails once, clearly, changing nothing;
// enroll then makes the inventory's key login (a new admin user with passwordless sudo)
// work and password logins refused, sets the hostname, changes nothing the second
// time, and the stack's first roles apply over the new login. The host is put back after.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cairn, jsonOf } from '../../helpers/cli.ts';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { makeFactoryUser } from '../../helpers/factory-user.ts';
import { loadFleet, sshRun, type BedHost } from '../../bed/fleet.ts';

const PASSWORD = 'factory-Pw-7c1e9';
let claim: Claim;
let host: BedHost;
let factory: { restore(): Promise<void> } | undefined;
let dir: string;
let inv: string;
let factoryVars: string;
let before: { hostname: string; hosts: string };

const sh = async (cmd: string) => {
  const r = await sshRun(host, cmd);
  if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
};

/** OpenSSH as the operator: the new key as ops, nothing else offered. */
function opsSsh(cmd: string, extra: string[] = []): { code: number; out: string } {
  const r = spawnSync('ssh', ['-F', 'none', '-i', join(dir, 'id_ops'), '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${join(loadFleet().dir, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=10', ...extra, `ops@${host.address}`, '--', cmd], { encoding: 'utf8' });
  return { code: r.status ?? 255, out: r.stdout + r.stderr };
}

test.before(async () => {
  claim = await claimHosts({ debian: 1 }, { owner: 'enroll-factory' });
  host = claim.hosts[0]!;
  before = { hostname: (await sh('hostname')).trim(), hosts: await sh('cat /etc/hosts') };
  factory = await makeFactoryUser(host, { user: 'pi', password: PASSWORD, sudo: 'password', passwordAuth: true });
  dir = mkdtempSync(join(tmpdir(), 'cairn-enroll-factory-'));
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'operator@test', '-f', join(dir, 'id_ops')]);
  inv = join(dir, 'inventory.yml');
  writeFileSync(
    inv,
    `connection:
  known_hosts: ${join(loadFleet().dir, 'known_hosts')}
hosts:
  ${host.name}:
    address: ${host.address}
    user: ops
    identity: ${join(dir, 'id_ops')}
    become: sudo
    vars:
      enroll_hostname: pi-node-1
      enroll_rollback_seconds: 20
`,
  );
  // the factory login in a file of its own, given to enroll only (-e @factory.yml): later runs need no password
  factoryVars = join(dir, 'factory.yml');
  writeFileSync(factoryVars, 'enroll_user: pi\nenroll_password: !secret_env CAIRN_TEST_FACTORY_PW\n');
});

test.after.always(async () => {
  if (!host) return;
  await sshRun(
    host,
    `pkill -KILL -u ops 2>/dev/null; sleep 0.2; userdel -r ops 2>/dev/null; rm -f /etc/sudoers.d/cairn-ops /etc/ssh/sshd_config.d/00-cairn.conf; rm -rf /var/lib/cairn/enroll
printf %s '${Buffer.from(before.hosts).toString('base64')}' | base64 -d > /etc/hosts; echo ${before.hostname} > /etc/hostname; hostname ${before.hostname}; kill -HUP $(cat /run/sshd.pid)`,
  );
  await new Promise((r) => setTimeout(r, 1000));
  await factory?.restore();
  claim.release();
});

test.serial('a wrong factory password: a clear error after one try, nothing changed, the password never shown', async (t) => {
  const started = Date.now();
  const r = await cairn(['enroll', '-i', inv, '-e', `@${factoryVars}`, '--json'], { CAIRN_TEST_FACTORY_PW: 'not-the-password' });
  t.is(r.code, 1, r.stdout + r.stderr);
  const h = jsonOf(r).hosts[host.name]!;
  t.true(h.unreachable);
  t.regex(h.error ?? '', /password .*refused|refused .*password/i);
  t.regex(h.error ?? '', /pi@/);
  t.true(Date.now() - started < 30_000, 'no retry loop');
  t.false((r.stdout + r.stderr).includes('not-the-password'));
  t.is((await sshRun(host, 'id ops')).code, 1, 'nothing was created');
});

test.serial('factory state -> enroll: key login as the admin works, sudo without a password, password logins refused, hostname set; second enroll changes nothing; the stack roles apply', async (t) => {
  t.not(opsSsh('true').code, 0, 'before: the key does not log in');
  const r = await cairn(['enroll', '-i', inv, '-e', `@${factoryVars}`, '--json'], { CAIRN_TEST_FACTORY_PW: PASSWORD });
  t.is(r.code, 0, r.stdout + r.stderr);
  t.false((r.stdout + r.stderr).includes(PASSWORD), 'the password is never printed');
  const h = jsonOf(r).hosts[host.name]!;
  t.true(h.changed >= 7, JSON.stringify(h.ops.map((o) => [o.id, o.status])));

  const ops = opsSsh('id -un; sudo -n id -u; hostname');
  t.is(ops.code, 0, ops.out);
  t.is(ops.out, 'ops\n0\npi-node-1\n');
  t.regex(await sh('cat /etc/hosts'), /^127\.0\.1\.1\tpi-node-1$/m);
  // the server no longer offers password or keyboard-interactive logins
  const pw = spawnSync('ssh', ['-F', 'none', '-o', 'BatchMode=yes', '-o', 'PubkeyAuthentication=no', '-o', 'IdentityAgent=none', '-o', `UserKnownHostsFile=${join(loadFleet().dir, 'known_hosts')}`, `pi@${host.address}`, 'true'], { encoding: 'utf8' });
  t.not(pw.status, 0);
  t.regex(pw.stderr, /Permission denied \(publickey\)/, 'only publickey is offered');
  const taken = await sh('sshd -T');
  for (const l of ['passwordauthentication no', 'kbdinteractiveauthentication no', 'permitrootlogin without-password']) t.regex(taken, new RegExp(`^${l}$`, 'm'), l);

  // enrolled: the key logs in, enroll is an ordinary run with nothing to do, no password needed
  const env = {};
  const again = await cairn(['enroll', '-i', inv, '--json'], env);
  t.is(again.code, 0, again.stdout + again.stderr);
  t.is(jsonOf(again).hosts[host.name]!.changed, 0);

  // the stack's first roles over the new login (ops, key, sudo without a password)
  const stack = await cairn(['apply', '-i', inv, '--roles', 'base,preflight', '--json'], env);
  t.is(stack.code, 0, stack.stdout + stack.stderr);
  const second = await cairn(['apply', '-i', inv, '--roles', 'base,preflight', '--json'], env);
  t.is(second.code, 0, second.stdout + second.stderr);
  t.is(jsonOf(second).hosts[host.name]!.changed, 0);
});
