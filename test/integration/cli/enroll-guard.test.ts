// `cairn enroll` on a real Alpine host (OpenRC, busybox, OpenSSH without PAM) reached
// with the inventory's key: admin user, keys, doas, hostname, sshd keys only; then
// sshd changes that break the login (a wrong port, an AllowUsers without the user cairn
// logs in as) are rolled back by the host within the timeout and the run says so
// (exit 1), and a controller killed with -9 between the change and the confirm leaves
// the host to roll back by itself. The host is put back as it was afterwards.
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cairn, jsonOf } from '../../helpers/cli.ts';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { loadFleet, sshRun, type BedHost } from '../../bed/fleet.ts';

const bin = fileURLToPath(new URL('../../../src/cli/bin.js', import.meta.url));
const ROLLBACK = 12;
let claim: Claim;
let host: BedHost;
let inv: string;
let before: { hostname: string; hosts: string };
/** The host's root filesystem as the controller sees it (sshd may be re-executing when a test looks). */
let root: string;

const sh = async (cmd: string) => {
  const r = await sshRun(host, cmd);
  if (r.code !== 0) throw new Error(`${cmd}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
};

test.before(async () => {
  claim = await claimHosts({ alpine: 1 }, { owner: 'enroll-guard' });
  host = claim.hosts[0]!;
  const fleet = loadFleet();
  root = join(fleet.dir, 'hosts', host.name, 'root');
  before = { hostname: (await sh('hostname')).trim(), hosts: await sh('cat /etc/hosts') };
  const dir = mkdtempSync(join(tmpdir(), 'cairn-enroll-guard-'));
  inv = join(dir, 'inventory.yml');
  writeFileSync(
    inv,
    `connection:\n  known_hosts: ${join(fleet.dir, 'known_hosts')}\nhosts:\n  ${host.name}:\n    address: ${host.address}\n    user: root\n    identity: ${join(fleet.dir, 'id_ed25519')}\n    vars:\n      enroll_admin_user: ops\n      enroll_hostname: alpine-node-7\n      enroll_rollback_seconds: ${ROLLBACK}\n`,
  );
});

test.after.always(async () => {
  if (!host) return;
  await sshRun(
    host,
    `deluser --remove-home ops 2>/dev/null; rm -f /etc/doas.d/cairn-ops.conf /etc/ssh/sshd_config.d/00-cairn.conf; rm -rf /var/lib/cairn/enroll
printf %s '${Buffer.from(before.hosts).toString('base64')}' | base64 -d > /etc/hosts; echo ${before.hostname} > /etc/hostname; hostname ${before.hostname}; kill -HUP $(cat /run/sshd.pid)`,
  );
  claim.release();
});

const opsLogin = () => sshRun(host, 'id -un; doas -n id -u', { user: 'ops' });
const dropin = () => readFileSync(join(root, 'etc/ssh/sshd_config.d/00-cairn.conf'), 'utf8');

test.serial('enroll over the key: admin user with keys and doas, hostname, sshd keys only; a second enroll changes nothing', async (t) => {
  const r = await cairn(['enroll', '-i', inv, '--json']);
  t.is(r.code, 0, r.stdout + r.stderr);
  const h = jsonOf(r).hosts[host.name]!;
  t.deepEqual(h.ops.filter((o) => o.status === 'changed').map((o) => o.id).sort(), ['admin-not-locked', 'admin-user', 'authorized-key-1', 'doas-rule', 'hostname', 'ssh-dir', 'sshd'].sort());
  const ops = await opsLogin();
  t.is(ops.code, 0, ops.stderr);
  t.is(ops.stdout, 'ops\n0\n', 'key login as ops, doas without a password');
  t.is((await sh('hostname')).trim(), 'alpine-node-7');
  t.regex(await sh('cat /etc/hosts'), /^127\.0\.1\.1\talpine-node-7$/m);
  const taken = await sh('sshd -T');
  for (const l of ['passwordauthentication no', 'kbdinteractiveauthentication no', 'permitrootlogin without-password']) t.regex(taken, new RegExp(`^${l}$`, 'm'), l);
  const again = await cairn(['enroll', '-i', inv, '--json']);
  t.is(again.code, 0, again.stdout + again.stderr);
  t.is(jsonOf(again).hosts[host.name]!.changed, 0);
});

for (const [what, extra, expect] of [
  ['a wrong port', { enroll_sshd_port: 2222 }, /connection refused by [\d.]+:22/],
  ['an AllowUsers without the user cairn logs in as', { enroll_sshd_extra: ['AllowUsers nobody'] }, /authentication failed for user root/],
] as const) {
  test.serial(`an sshd change with ${what}: the host rolls it back within the timeout, the run fails saying so, the old login works`, async (t) => {
    const started = Date.now();
    const r = await cairn(['enroll', '-i', inv, '--json', '-e', JSON.stringify(extra)]);
    t.is(r.code, 1, r.stdout + r.stderr);
    const op = jsonOf(r).hosts[host.name]!.ops.find((o) => o.id === 'sshd')!;
    t.is(op.status, 'failed');
    t.regex(op.error ?? '', /a fresh SSH login fails after the switch: /);
    t.regex(op.error ?? '', expect);
    t.regex(op.error ?? '', new RegExp(`Not confirmed: the host-side timer rolled back after ${ROLLBACK}s: restored the previous /etc/ssh/sshd_config.d/00-cairn.conf: the switch was not confirmed within ${ROLLBACK} s \\(ran the activation again after the restore\\)`));
    t.true(Date.now() - started < (ROLLBACK + 25) * 1000);
    t.notRegex(dropin(), /Port 2222|AllowUsers/);
    const ops = await opsLogin();
    t.is(ops.code, 0, `the old settings answer again: ${ops.stderr}`);
    t.is((await sh('netstat -ltn | grep -c ":2222 " || true')).trim(), '0');
  });
}

test.serial('the controller killed with -9 between the sshd change and its confirm: the host rolls back by itself', async (t) => {
  const pending = join(root, 'var/lib/cairn/enroll/sshd/pending');
  let killedInWindow = false;
  // the window (after the switch, before the confirm: a fresh SSH login) is short; try up to 3 times
  for (let attempt = 1; attempt <= 3 && !killedInWindow; attempt++) {
    const p = spawn(process.execPath, [bin, 'enroll', '-i', inv, '-e', JSON.stringify({ enroll_sshd_extra: [`MaxAuthTries ${attempt + 2}`] })], { env: { ...process.env, CI: '1' }, stdio: 'ignore' });
    const deadline = Date.now() + 60_000;
    while (!existsSync(pending) && Date.now() < deadline && p.exitCode === null) await new Promise((r) => setImmediate(r));
    if (existsSync(pending) && p.exitCode === null) {
      p.kill('SIGKILL');
      killedInWindow = true;
    }
    await new Promise((r) => (p.exitCode !== null || p.signalCode !== null ? r(undefined) : p.on('exit', r)));
    if (killedInWindow && !existsSync(pending)) killedInWindow = false; // confirmed just before the kill landed
    t.log(`attempt ${attempt}: ${killedInWindow ? 'killed between change and confirm' : 'missed the window'}`);
  }
  t.true(killedInWindow, 'cairn was killed with a switch pending');
  t.regex(dropin(), /MaxAuthTries/, 'the change is in place while the timer runs');
  await new Promise((r) => setTimeout(r, (ROLLBACK + 3) * 1000));
  t.notRegex(dropin(), /MaxAuthTries/, 'the host restored the drop-in by itself');
  t.regex(await sh('sshd -T | grep -i maxauthtries'), /maxauthtries 6/);
  t.regex(await sh('cat /var/lib/cairn/enroll/sshd/rollback.log'), /restored the previous \/etc\/ssh\/sshd_config\.d\/00-cairn\.conf: the switch was not confirmed within \d+ s/);
  t.false(existsSync(pending));
  t.is((await opsLogin()).code, 0);
  // and the next enroll finds nothing to do
  const again = await cairn(['enroll', '-i', inv, '--json']);
  t.is(again.code, 0, again.stdout + again.stderr);
  t.is(jsonOf(again).hosts[host.name]!.changed, 0);
});
