import test from 'ava';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../../../src/shell/sh.ts';
import { quote } from '../../../src/shell/quote.ts';
import { UnreachableError } from '../../../src/core/errors.ts';
import { fingerprint } from '../../../src/connectors/host-key.ts';
import { parseSshConfig } from '../../../src/connectors/ssh-config.ts';
import { hostPublicKeys, must, rootConnector, sshTestTarget, type SshTestTarget } from './_target.ts';

// a valid ed25519 key that belongs to no host
const WRONG = 'AAAAC3NzaC1lZDI1NTE5AAAAICgUKu5soENTj5Jp73Ap/rAJawtH0D1Q5iRaHJr+wzQZ';

// an ecdsa-sha2-nistp521 key (the test hosts have none of this type)
const P521 =
  'AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBACh/MeZcx35LRhTyVTYEbAdR5/cE/KhGw3uJKbCWtXxXwdegMO4/PhYkgao5OVLErrZaJ+z3UHGJy0NKvS6XyiSgACQkNYMauTxtG9wa/wHdG0hJGAz5VMOxIS/vx2cXRlnK6O3wYmU0F810GcWGbGddsGMBAzDE0uCrhBienwDieR94Q==';

let keys: Map<string, string>;
let target: SshTestTarget;

test.before(async () => {
  target = await sshTestTarget();
  const c = rootConnector(target);
  keys = await hostPublicKeys(c);
  await c.close();
});

function scratch(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-it-kh-'));
  const file = join(dir, 'known_hosts');
  writeFileSync(file, content);
  return file;
}

const name = (): string => (target.port === 22 ? target.address : `[${target.address}]:${target.port}`);
const fp = (type: string): string => fingerprint(Buffer.from(keys.get(type)!, 'base64'));

test('a changed host key is refused: host, file:line, offered fingerprint, the fix', async (t) => {
  const kh = scratch(`# fleet\nother.example ssh-ed25519 ${WRONG}\n${name()} ssh-ed25519 ${WRONG}\n`);
  const c = rootConnector({ ...target, knownHosts: kh });
  const err = await t.throwsAsync(c.connect(), { instanceOf: UnreachableError });
  const m = err!.message;
  t.regex(m, /HOST KEY MISMATCH/);
  t.true(m.includes(name()), 'names the host');
  t.true(m.includes(`${kh}:3`), 'names the file and line of the recorded key');
  t.true(m.includes(`ssh-ed25519 key ${fp('ssh-ed25519')}`), 'the offered key fingerprint, SHA256 like OpenSSH');
  t.true(m.includes(`ssh-keygen -R ${quote(name())} -f ${quote(kh)}`), 'how to remove the old key');
  t.is(c.stats.handshakes, 0);
  t.is(readFileSync(kh, 'utf8').split('\n').length, 4, 'the file is untouched');
  // even with acceptNewHostKeys a changed key stays refused
  const c2 = rootConnector({ ...target, knownHosts: kh }, {}, { acceptNewHostKeys: true });
  await t.throwsAsync(c2.connect(), { message: /HOST KEY MISMATCH/ });
});

test('the recorded key type is negotiated first', async (t) => {
  const ecdsa = keys.get('ecdsa-sha2-nistp256');
  if (!ecdsa) return t.pass('host has no ecdsa key');
  // only the ecdsa key is recorded: the server must present that one, not its ed25519 key
  const kh = scratch(`${name()} ecdsa-sha2-nistp256 ${ecdsa}\n`);
  const c = rootConnector({ ...target, knownHosts: kh });
  try {
    t.is(await must(c, sh`echo ok`), 'ok\n');
  } finally {
    await c.close();
  }
});

test('a host recorded only with a key type it does not offer is refused, even with acceptNewHostKeys', async (t) => {
  const kh = scratch(`${name()} ecdsa-sha2-nistp521 ${P521}\n`);
  const c = rootConnector({ ...target, knownHosts: kh }, {}, { acceptNewHostKeys: true });
  const err = await t.throwsAsync(c.connect(), { instanceOf: UnreachableError });
  t.regex(err!.message, /does not match: the server offered .* but only ecdsa-sha2-nistp521 keys are recorded/);
  t.true(err!.message.includes(`${kh}:1`));
  t.regex(err!.message, /ssh-keygen -R/);
});

test('an unknown host is refused by default, with the fingerprint and what to do', async (t) => {
  const kh = scratch(`other.example ssh-ed25519 ${WRONG}\n`);
  const c = rootConnector({ ...target, knownHosts: kh });
  const err = await t.throwsAsync(c.connect(), { instanceOf: UnreachableError });
  t.regex(err!.message, /host key for .* is unknown/);
  t.true(err!.message.includes(fp('ssh-ed25519')));
  t.regex(err!.message, /--accept-new-host-keys/);
  t.regex(err!.message, /ssh-keyscan/);
  t.is(readFileSync(kh, 'utf8'), `other.example ssh-ed25519 ${WRONG}\n`);
});

test('a missing known_hosts file means unknown, not an error about the file', async (t) => {
  const c = rootConnector({ ...target, knownHosts: join(mkdtempSync(join(tmpdir(), 'cairn-it-')), 'nope') });
  await t.throwsAsync(c.connect(), { message: /is unknown/ });
});

test('acceptNewHostKeys records the key (OpenSSH format, old content and mode kept), then it is known', async (t) => {
  const kh = scratch(`other.example ssh-ed25519 ${WRONG}\n`);
  chmodSync(kh, 0o644);
  const c = rootConnector({ ...target, knownHosts: kh }, {}, { acceptNewHostKeys: true });
  try {
    t.is(await must(c, sh`echo in`), 'in\n');
  } finally {
    await c.close();
  }
  const lines = readFileSync(kh, 'utf8').split('\n');
  t.is(lines[0], `other.example ssh-ed25519 ${WRONG}`);
  t.is(lines[1], `${name()} ssh-ed25519 ${keys.get('ssh-ed25519')}`);
  t.is(lines.length, 3);
  t.is(statSync(kh).mode & 0o777, 0o644);
  t.is(c.stats.recordedHostKeys.length, 1);
  t.regex(c.stats.recordedHostKeys[0]!, new RegExp(`${kh}:2$`));
  // now strict mode accepts it
  const again = rootConnector({ ...target, knownHosts: kh });
  try {
    t.is(await must(again, sh`echo again`), 'again\n');
  } finally {
    await again.close();
  }
  t.is(readFileSync(kh, 'utf8').split('\n').length, 3, 'nothing appended the second time');
});

test('StrictHostKeyChecking accept-new in ssh_config also records new keys', async (t) => {
  const kh = scratch('');
  const sshConfig = parseSshConfig(`Host ${target.address}\n  StrictHostKeyChecking accept-new\n`);
  const c = rootConnector({ ...target, knownHosts: kh }, {}, { sshConfig });
  try {
    await must(c, sh`true`);
  } finally {
    await c.close();
  }
  t.true(readFileSync(kh, 'utf8').startsWith(`${name()} ssh-ed25519 `));
});

test('a @revoked host key is refused', async (t) => {
  const kh = scratch(`${name()} ssh-ed25519 ${keys.get('ssh-ed25519')}\n@revoked * ssh-ed25519 ${keys.get('ssh-ed25519')}\n`);
  const c = rootConnector({ ...target, knownHosts: kh }, {}, { acceptNewHostKeys: true });
  const err = await t.throwsAsync(c.connect(), { instanceOf: UnreachableError });
  t.regex(err!.message, /REVOKED/);
  t.true(err!.message.includes(`${kh}:2`));
});

test('hashed known_hosts entries (ssh-keygen -H) are honoured', async (t) => {
  const { hashKnownHostName } = await import('../../../src/connectors/known-hosts.ts');
  const kh = scratch(`${hashKnownHostName(name())} ssh-ed25519 ${keys.get('ssh-ed25519')}\n`);
  const c = rootConnector({ ...target, knownHosts: kh });
  try {
    t.is(await must(c, sh`echo hashed`), 'hashed\n');
  } finally {
    await c.close();
  }
});
