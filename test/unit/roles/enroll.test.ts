import test from 'ava';
import enroll, { DEFAULTS, hostsWith, sshdDropin, SSHD_DROPIN } from '../../../roles/enroll/index.ts';
import { alpineFacts, debianFacts, roleContext, stepIds, validate } from './_base.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBbJ1RmFqYXJyYXlzIGFyZSBmdW4gYnV0IGxvbmc operator@laptop';

test('vars: no key anywhere is an error (enroll would lock the admin out); bad values are all reported, located', (t) => {
  const none = validate(enroll, {});
  t.is(none.length, 1);
  t.regex(none[0]!.message, /enroll_authorized_keys is empty and no identity of host h1 has a \.pub file next to it: enroll would lock the admin user out/);
  t.deepEqual(validate(enroll, { enroll_authorized_keys: [KEY] }), []);
  const bad = validate(enroll, {
    enroll_authorized_keys: ['not a key'],
    enroll_admin_user: 'Bad User',
    enroll_hostname: 'under_score',
    enroll_sshd_permit_root_login: 'yes',
    enroll_sshd_port: '2222',
    enroll_sshd_extra: ['AllowUsers ops\nPermitRootLogin yes'],
    enroll_rollback_seconds: 1,
  });
  const text = bad.map((p) => p.message).join('\n');
  for (const v of ['enroll_authorized_keys has lines that are not OpenSSH public keys', 'enroll_admin_user must be a user name', 'enroll_hostname must be a hostname', 'enroll_sshd_permit_root_login must be one of prohibit-password, no', 'enroll_sshd_port must be a port number', 'enroll_sshd_extra must be a list of sshd_config lines', 'enroll_rollback_seconds must be an integer from 5 to 3600']) {
    t.true(text.includes(v), v);
  }
  t.deepEqual(bad[0]!.location, { file: 'inv.yml', line: 7 });
  t.regex(validate(enroll, { enroll_authorized_keys: [KEY], enroll_admin_user: 'root', enroll_sshd_permit_root_login: 'no' })[0]!.message, /the admin user is root: cairn could not log in again/);
});

test('sshd drop-in: keys only, first in name order (sshd takes the first value it reads)', (t) => {
  t.is(SSHD_DROPIN, '/etc/ssh/sshd_config.d/00-cairn.conf');
  t.is(
    sshdDropin({ ...DEFAULTS, enroll_sshd_port: 2222, enroll_sshd_extra: ['AllowUsers ops'] }),
    '# managed by cairn (enroll role): logins with keys only; do not edit, changes are overwritten\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nPort 2222\nAllowUsers ops\n',
  );
});

test('/etc/hosts: one 127.0.1.1 line naming the host, every other line kept', (t) => {
  t.is(hostsWith('127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n::1\tlocalhost\n', 'pi-1'), '127.0.0.1\tlocalhost\n127.0.1.1\tpi-1\n::1\tlocalhost\n');
  t.is(hostsWith('127.0.0.1 localhost\n', 'n1.lan'), '127.0.0.1 localhost\n127.0.1.1\tn1.lan n1\n');
  t.is(hostsWith('127.0.1.1 a\n10.0.0.1 x\n127.0.1.1 b\n', 'c'), '127.0.1.1\tc\n10.0.0.1 x\n');
  t.is(hostsWith(undefined, 'c'), '127.0.0.1\tlocalhost\n127.0.1.1\tc\n');
  t.is(hostsWith(hostsWith('127.0.0.1 localhost\n', 'c'), 'c'), hostsWith('127.0.0.1 localhost\n', 'c'), 'stable');
});

test('steps: a non-root admin gets sudo (Debian) or doas (Alpine) and is unlocked; root gets only its keys; hostname and sshd are guarded', (t) => {
  const deb = stepIds(enroll, roleContext(enroll, { enroll_admin_user: 'ops', enroll_authorized_keys: [KEY] }, debianFacts));
  t.deepEqual(deb, ['become-tool', 'admin-user', 'admin-not-locked', 'sudo-rule', 'ssh-dir', 'authorized-key-1', 'hostname', 'sshd-config-d', 'sshd']);
  const alp = stepIds(enroll, roleContext(enroll, { enroll_admin_user: 'ops', enroll_authorized_keys: [KEY] }, alpineFacts));
  t.true(alp.includes('doas-rule') && !alp.includes('sudo-rule'));
  const root = stepIds(enroll, roleContext(enroll, { enroll_admin_user: 'root', enroll_authorized_keys: [KEY], enroll_hostname: false }, debianFacts));
  t.deepEqual(root, ['ssh-dir', 'authorized-key-1', 'sshd-config-d', 'sshd']);
  const ops = enroll.steps(roleContext(enroll, { enroll_admin_user: 'ops', enroll_authorized_keys: [KEY] }, debianFacts));
  t.is(ops.find((s) => s.id === 'sshd')!.kind, 'guardedFiles');
  t.is(ops.find((s) => s.id === 'hostname')!.kind, 'guardedFiles');
});
