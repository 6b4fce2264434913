import test from 'ava';
import { SshConnector } from '../../../../src/connectors/ssh/connector.ts';
import { Secret } from '../../../../src/core/secret.ts';
import { withOrigin } from '../../../../src/core/secret-origin.ts';
import { UnreachableError } from '../../../../src/core/errors.ts';
import { sh } from '../../../../src/shell/sh.ts';
import { fakeHost, startFakeSshServer, type FakeSshAuth } from '../../../helpers/fake-ssh-server.ts';

const RIGHT = 'right-pw-7f3a';
const WRONG = 'wrong-pw-19cc';

/** A connector that logs in as ops with `password` only (no key, no agent). */
async function withServer(auth: FakeSshAuth, password: string, o: { key?: boolean } = {}) {
  const server = await startFakeSshServer({ auth });
  const h = fakeHost('pw1', server.port);
  const spec = { ...h.spec, user: 'ops', password: withOrigin(new Secret(password), '!secret_env CAIRN_PASSWORD') };
  if (!o.key) spec.identity = [`${h.options.home}/no-such-key`];
  const conn = new SshConnector(spec, h.settings, h.options);
  return { server, conn };
}

test('password auth after the keys: logs in with one password attempt', async (t) => {
  const { server, conn } = await withServer({ methods: ['password'], password: RIGHT }, RIGHT);
  try {
    t.is((await conn.run(sh`true`)).exitCode, 0);
    t.deepEqual(server.passwordAttempts, [{ method: 'password', user: 'ops' }]);
  } finally {
    await conn.close();
    await server.close();
  }
});

test('a key the server accepts is used first: the password is never sent', async (t) => {
  const { server, conn } = await withServer({ methods: ['publickey', 'password'], password: RIGHT }, RIGHT, { key: true });
  try {
    await conn.connect();
    t.deepEqual(server.passwordAttempts, []);
  } finally {
    await conn.close();
    await server.close();
  }
});

test('a key the server refuses, then the password', async (t) => {
  const { server, conn } = await withServer({ methods: ['password', 'keyboard-interactive'], password: RIGHT }, RIGHT, { key: true });
  try {
    await conn.connect();
    t.deepEqual(server.passwordAttempts, [{ method: 'password', user: 'ops' }]);
  } finally {
    await conn.close();
    await server.close();
  }
});

test('a wrong password: one attempt, a clear error naming where it came from, never retried, never shown', async (t) => {
  const { server, conn } = await withServer({ methods: ['password', 'keyboard-interactive'], password: RIGHT }, WRONG);
  try {
    const err = await t.throwsAsync(conn.connect(), { instanceOf: UnreachableError });
    t.regex(err!.message, /password login as ops@127\.0\.0\.1:\d+ was refused .*check the password \(!secret_env CAIRN_PASSWORD\)/);
    t.false(err!.message.includes(WRONG));
    // a later command of the run does not log in again
    await t.throwsAsync(conn.run(sh`true`), { message: err!.message });
    t.is(server.passwordAttempts.length, 1, 'the password went to the server once (not again by keyboard-interactive)');
    t.is(server.connections, 1);
  } finally {
    await conn.close();
    await server.close();
  }
});

test('keyboard-interactive when the server takes no password method: every password prompt answered', async (t) => {
  const { server, conn } = await withServer({ methods: ['keyboard-interactive'], password: RIGHT, prompts: ['Password: '] }, RIGHT);
  try {
    await conn.connect();
    t.deepEqual(server.passwordAttempts, [{ method: 'keyboard-interactive', user: 'ops' }]);
  } finally {
    await conn.close();
    await server.close();
  }
});

test('keyboard-interactive with a wrong password: one attempt and the same clear error', async (t) => {
  const { server, conn } = await withServer({ methods: ['keyboard-interactive'], password: RIGHT }, WRONG);
  try {
    const err = await t.throwsAsync(conn.connect());
    t.regex(err!.message, /password login as ops@.* was refused \(keyboard-interactive auth, tried once, not again\): check the password/);
    t.is(server.passwordAttempts.length, 1);
  } finally {
    await conn.close();
    await server.close();
  }
});

test('a keyboard-interactive prompt that is not a password prompt: a clear error, nothing answered', async (t) => {
  const { server, conn } = await withServer({ methods: ['keyboard-interactive'], password: RIGHT, prompts: ['Password: ', 'Verification code: '] }, RIGHT);
  try {
    const err = await t.throwsAsync(conn.connect());
    t.regex(err!.message, /asked 'Verification code:', which cairn cannot answer/);
    t.deepEqual(server.passwordAttempts, []);
  } finally {
    await conn.close();
    await server.close();
  }
});

test('a server without password methods: the error says the password was not offered and why', async (t) => {
  const { server, conn } = await withServer({ methods: ['publickey'], password: RIGHT }, RIGHT);
  try {
    const err = await t.throwsAsync(conn.connect());
    t.regex(err!.message, /password: not offered: the server accepts only publickey/);
  } finally {
    await conn.close();
    await server.close();
  }
});
