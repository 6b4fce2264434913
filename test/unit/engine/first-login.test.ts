import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareRun } from '../../../src/engine/prepare.ts';
import { factorySpec, firstLogins, isAuthRefused } from '../../../src/engine/first-login.ts';
import { UnreachableError, UsageError } from '../../../src/core/errors.ts';
import { Secret } from '../../../src/core/secret.ts';
import { keyPair, startFakeSshServer } from '../../helpers/fake-ssh-server.ts';
import type { HostSpec } from '../../../src/inventory/types.ts';

delete process.env.SSH_AUTH_SOCK;

/** An inventory of one host at `port` logging in as ops with a new key (its .pub next to it). */
function inventory(port: number, vars = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-first-login-'));
  const key = keyPair();
  writeFileSync(join(dir, 'id'), key.private, { mode: 0o600 });
  writeFileSync(join(dir, 'id.pub'), `${key.public}\n`);
  const inv = join(dir, 'inventory.yml');
  writeFileSync(inv, `connection:\n  known_hosts: ${join(dir, 'known_hosts')}\n  ssh_config: /dev/null\nhosts:\n  h1:\n    address: 127.0.0.1\n    port: ${port}\n    user: ops\n    identity: ${join(dir, 'id')}\n    become: sudo\n    vars: {${vars}}\n`);
  return inv;
}

test('factorySpec: the factory user with the password, sudo with the same password; root logs in without become', (t) => {
  const host = { name: 'h', connection: 'ssh', address: 'a', user: 'ops', become: 'sudo', vars: {}, groups: [], location: { file: 'x' } } as HostSpec;
  const pw = new Secret('pw-1');
  const pi = factorySpec(host, { user: 'pi', password: pw });
  t.is(pi.user, 'pi');
  t.is(pi.password, pw);
  t.is(pi.becomePassword, pw);
  t.is(pi.become, 'sudo');
  const root = factorySpec(host, { user: 'root', password: pw });
  t.is(root.become, false);
  t.is(root.becomePassword, undefined);
  t.is(factorySpec(host, { user: '', password: pw }).user, 'ops', "'' is the inventory's user");
});

test('isAuthRefused: only a refused login, not another unreachable host', (t) => {
  t.true(isAuthRefused(new UnreachableError('h', 'x', { cause: Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }) })));
  t.false(isAuthRefused(new UnreachableError('h', 'connection refused', { cause: Object.assign(new Error('ECONNREFUSED'), { level: 'client-socket' }) })));
  t.false(isAuthRefused(new Error('x')));
});

test.serial('firstLogins: a refused key with no password is a usage error naming the host, before any change; with --ask-pass the factory login is used', async (t) => {
  const server = await startFakeSshServer({ auth: { methods: ['password', 'keyboard-interactive'], password: 'factory' } });
  try {
    const prepared = await prepareRun({ inventory: inventory(server.port), onlyRoles: ['enroll'] });
    t.deepEqual(prepared.jobs[0]!.roles.map((r) => r.def.name), ['enroll'], 'exactly the enroll role');
    const err = await t.throwsAsync(firstLogins(prepared, { acceptNewHostKeys: true, forks: 2, enrollRole: 'enroll' }));
    t.true(err instanceof UsageError);
    t.regex(err!.message, /the inventory's key login is refused by h1 and there is no factory password to log in with; set enroll_password: !secret_env NAME .* or pass --ask-pass\. Nothing was changed\./);
    t.is(server.commands.length, 0, 'no command ran');
    const pw = new Secret('factory');
    const logins = await firstLogins(prepared, { acceptNewHostKeys: true, forks: 2, enrollRole: 'enroll', askedPassword: pw });
    t.is(logins.get('h1')?.user, 'ops');
    t.is(logins.get('h1')?.password, pw);
  } finally {
    await server.close();
  }
});

test.serial('firstLogins: enroll_user and enroll_password (a secret) from the vars; a host the key logs in to keeps its connection', async (t) => {
  const refusing = await startFakeSshServer({ auth: { methods: ['password'], password: 'factory' } });
  const open = await startFakeSshServer();
  try {
    const pw = new Secret('from-vars');
    const a = await prepareRun({ inventory: inventory(refusing.port, ' enroll_user: pi '), onlyRoles: ['enroll'], extraVars: { enroll_password: pw } });
    const logins = await firstLogins(a, { acceptNewHostKeys: true, forks: 2, enrollRole: 'enroll' });
    t.is(logins.get('h1')?.user, 'pi');
    t.is(logins.get('h1')?.password, pw);
    const b = await prepareRun({ inventory: inventory(open.port), onlyRoles: ['enroll'] });
    t.is((await firstLogins(b, { acceptNewHostKeys: true, forks: 2, enrollRole: 'enroll' })).size, 0);
  } finally {
    await refusing.close();
    await open.close();
  }
});
