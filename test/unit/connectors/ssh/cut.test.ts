import test from 'ava';
import { SshConnector } from '../../../../src/connectors/ssh/connector.ts';
import { UnreachableError } from '../../../../src/core/errors.ts';
import { sh } from '../../../../src/shell/sh.ts';
import { startFakeSshServer, fakeHost } from '../../../helpers/fake-ssh-server.ts';
import { startCutProxy } from '../../../helpers/cut-proxy.ts';

// A connection cut while cairn works on a host: through a proxy that cuts
// after so many bytes, to ssh2's Server on 127.0.0.1.

const BIG = Buffer.alloc(1024 * 1024, 0x61); // over 64 KiB: goes over SFTP

for (const how of ['fin', 'rst'] as const) {
  test(`an SFTP upload cut mid-way (${how}) fails promptly: the host is unreachable`, async (t) => {
    t.timeout(10_000);
    const server = await startFakeSshServer();
    const proxy = await startCutProxy({ target: server, count: 'up', afterBytes: 300 * 1024, how });
    const h = fakeHost('web1', proxy.port);
    const conn = new SshConnector(h.spec, h.settings, h.options);
    try {
      await conn.connect();
      const started = Date.now();
      const err = await t.throwsAsync(() => conn.upload('/etc/big', BIG));
      t.true(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
      t.is(proxy.cuts, 1);
      t.true(err instanceof UnreachableError, err!.message);
      t.regex(err!.message, /^web1 is unreachable: the SSH connection to 127\.0\.0\.1:\d+ was lost during the upload to \/etc\/big over SFTP/);
    } finally {
      await conn.close().catch(() => undefined);
      await proxy.close();
      await server.close();
    }
  });
}

test('uploads over one connection share one SFTP session; a cut after several is an error of the upload, never an unhandled rejection', async (t) => {
  t.timeout(20_000);
  const server = await startFakeSshServer();
  // the first uploads pass, a later one is cut mid-way
  const proxy = await startCutProxy({ target: server, count: 'up', afterBytes: 3 * BIG.length + 300 * 1024, how: 'fin' });
  const h = fakeHost('web1', proxy.port);
  const conn = new SshConnector(h.spec, h.settings, h.options);
  const stray: unknown[] = [];
  const onRejection = (err: unknown): void => void stray.push(err);
  process.on('unhandledRejection', onRejection);
  try {
    await conn.connect();
    for (let i = 0; i < 3; i++) await conn.upload(`/etc/big${i}`, BIG);
    t.is(server.sftpSessions, 1, 'one SFTP session for three uploads');
    const err = await t.throwsAsync(() => conn.upload('/etc/big3', BIG));
    t.true(err instanceof UnreachableError, err!.message);
    await new Promise((r) => setTimeout(r, 300)); // let any stray rejection surface
    t.deepEqual(stray.map(String), [], 'no promise rejected unseen');
  } finally {
    process.off('unhandledRejection', onRejection);
    await conn.close().catch(() => undefined);
    await proxy.close();
    await server.close();
  }
});

for (const how of ['fin', 'rst'] as const) {
  test(`a command whose connection is cut (${how}) makes the host unreachable`, async (t) => {
    t.timeout(10_000);
    const server = await startFakeSshServer({ exec: () => undefined }); // never answers
    const proxy = await startCutProxy({ target: server, connections: 0 });
    const h = fakeHost('web1', proxy.port);
    const conn = new SshConnector(h.spec, h.settings, h.options);
    try {
      await conn.connect();
      const running = conn.run(sh`sleep 100`);
      while (server.commands.length === 0) await new Promise((r) => setTimeout(r, 10));
      proxy.cutAll(how);
      const err = await t.throwsAsync(running);
      t.true(err instanceof UnreachableError, err!.message);
      t.regex(err!.message, /^web1 is unreachable: the SSH connection to 127\.0\.0\.1:\d+ was lost while a command ran/);
      const closing = Date.now();
      await conn.close();
      t.true(Date.now() - closing < 500, `closing the lost connection took ${Date.now() - closing} ms`);
    } finally {
      await conn.close().catch(() => undefined);
      await proxy.close();
      await server.close();
    }
  });
}

test('a lost connection that cannot be opened again says it was lost, and what connecting again got', async (t) => {
  t.timeout(10_000);
  const server = await startFakeSshServer();
  const proxy = await startCutProxy({ target: server, connections: 0 });
  const h = fakeHost('web1', proxy.port);
  const conn = new SshConnector(h.spec, h.settings, h.options);
  try {
    await conn.connect();
    await proxy.close(); // cuts the connection and stops listening
    await new Promise((r) => setTimeout(r, 100));
    const err = await t.throwsAsync(() => conn.run(sh`true`));
    t.true(err instanceof UnreachableError, err!.message);
    t.regex(err!.message, /^web1 is unreachable: the SSH connection to 127\.0\.0\.1:\d+ was lost \(read ECONNRESET\); connecting again: connection refused by 127\.0\.0\.1:\d+/);
  } finally {
    await conn.close().catch(() => undefined);
    await server.close();
  }
});
