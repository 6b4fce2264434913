import test from 'ava';
import piImage, { SSHD_CONFIG } from '../../../roles/pi-image/index.ts';
import { userconfAccepts, userconfContent } from '../../../roles/pi-image/userconf.ts';
import { Secret, mask } from '../../../src/core/secret.ts';
import { sha512Crypt, verifySha512Crypt } from '../../../src/core/sha512-crypt.ts';
import type { Operation } from '../../../src/operations/operation.ts';
import { SECTION_PREFIX } from '../../../src/facts/gather.ts';
import { roleContext, stepIds, validate } from './_base.ts';

const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO1xgaQ6AjQoRb4TQbTXQ+F/rXgn7r7j3YbPJJ0aDhwx ops@laptop';
const good = () => ({ pi_user: 'ops', pi_password: new Secret('pi-image unit pw'), pi_authorized_keys: [KEY] });

test('validate: good vars pass; every bad var is named, all at once', (t) => {
  t.deepEqual(validate(piImage, good()), []);
  const p = validate(piImage, { pi_user: 'Root', pi_password: 'plain', pi_authorized_keys: ['not a key'], pi_hostname: '-x', pi_boot_dir: 'boot', pi_cmdline_add: ['a b'], pi_ssh: 'yes' });
  const text = p.map((x) => `${x.message} | ${x.fix}`).join('\n');
  for (const re of [
    /pi_user must be a user name/,
    /pi_password must be a secret, not plain text .*!secret_env PI_PASSWORD/,
    /pi_authorized_keys has invalid entries: "not a key"/,
    /pi_hostname is not a host name: "-x"/,
    /pi_boot_dir must be an absolute path/,
    /pi_cmdline_add has invalid entries/,
    /pi_ssh must be true or false/,
  ]) {
    t.regex(text, re);
  }
  t.regex(validate(piImage, { ...good(), pi_password: undefined }).map((x) => x.message).join(), /pi_password is not set/);
  t.regex(validate(piImage, { ...good(), pi_password: new Secret('') }).map((x) => x.message).join(), /pi_password is empty/);
  t.regex(validate(piImage, good(), ['rpi_image']).map((x) => x.message).join(), /pi_hostname is empty and the inventory name "rpi_image" is not a host name/);
  t.deepEqual(validate(piImage, { ...good(), pi_hostname: 'rpi1' }, ['rpi_image']), []);
});

test('steps: the boot partition check first, then the boot files, keys, sshd drop-in, host name', (t) => {
  t.deepEqual(stepIds(piImage, roleContext(piImage, good())), ['boot-partition', 'userconf', 'ssh', 'cmdline', 'authorized-keys-dir', 'authorized-keys', 'sshd-authorized-keys', 'hostname', 'hosts']);
  t.deepEqual(stepIds(piImage, roleContext(piImage, { ...good(), pi_ssh: false, pi_cmdline_add: [] })), ['boot-partition', 'userconf', 'authorized-keys-dir', 'authorized-keys', 'sshd-authorized-keys', 'hostname', 'hosts']);
  t.regex(SSHD_CONFIG, /^AuthorizedKeysFile \.ssh\/authorized_keys \.ssh\/authorized_keys2 \/etc\/ssh\/authorized_keys\.d\/%u$/m);
});

test('userconf.txt: user:HASH with a fresh salt; the hash is masked; an existing line that verifies is accepted', (t) => {
  const pw = new Secret('pi-image unit pw 2');
  const c = userconfContent('ops', pw).reveal();
  const m = /^ops:(\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86})\n$/.exec(c);
  t.truthy(m, c);
  t.true(verifySha512Crypt('pi-image unit pw 2', m![1]!));
  t.is(mask(c), 'ops:********\n', 'the hash is a secret of its own, the user name stays readable');
  t.not(userconfContent('ops', pw).reveal(), c, 'a new salt each time');
  t.true(userconfAccepts(c, 'ops', pw));
  t.true(userconfAccepts(`ops:${sha512Crypt('pi-image unit pw 2', 'other', 6000)}\n`, 'ops', pw), 'another salt and rounds still verify');
  t.false(userconfAccepts(c, 'pi', pw), 'another user');
  t.false(userconfAccepts(c, 'ops', new Secret('pi-image other pw')), 'another password');
  t.false(userconfAccepts(c.trimEnd(), 'ops', pw), 'no final newline');
  t.false(userconfAccepts(`${c}ops:x\n`, 'ops', pw), 'a second line');
  const foreign = sha512Crypt('pi-image unit pw 2', 'foreignsalt');
  userconfAccepts(`ops:${foreign}\n`, 'ops', pw);
  t.false(mask(`read ${foreign}`).includes(foreign), 'a hash read from the card is masked too');
});

test('the boot-partition step fails unless the partition is mounted with cmdline.txt', (t) => {
  const op = piImage.steps(roleContext(piImage, good()))[0] as Operation;
  const probe = (s: Record<string, string>) => ({ command: 'p', exitCode: 0, stderr: '', durationMs: 0, stdout: Object.entries(s).map(([k, v]) => `\n${SECTION_PREFIX}${k}\n${v}`).join('\n') + '\n' });
  const ctx = { host: 'h1', facts: roleContext(piImage, good()).facts, bake: true };
  t.is(op.plan(probe({ cmdline: 'yes', dev: '2049', rootdev: '2050' }), ctx).kind, 'noop');
  t.regex(JSON.stringify(op.plan(probe({ dev: '2049', rootdev: '2050' }), ctx)), /has no cmdline\.txt/);
  t.regex(JSON.stringify(op.plan(probe({ cmdline: 'yes', dev: '2050', rootdev: '2050' }), ctx)), /is on the root file system/);
  t.regex(JSON.stringify(op.plan(probe({}), ctx)), /does not exist: the boot partition is not mounted there/);
});
