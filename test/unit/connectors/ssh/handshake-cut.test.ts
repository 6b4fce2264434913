import test from 'ava';
import { SshConnector } from '../../../../src/connectors/ssh/connector.ts';
import { UnreachableError } from '../../../../src/core/errors.ts';
import { startFakeSshServer, fakeHost } from '../../../helpers/fake-ssh-server.ts';
import { startCutProxy } from '../../../helpers/cut-proxy.ts';

// A connection cut during the SSH handshake (after the server's banner, in the
// key exchange) is tried again; when the retry fails too, the error says both:
// the connection was cut during the handshake, and what the retry got.

for (const how of ['fin', 'rst'] as const) {
  test(`a cut during the handshake (${how}) is reported with what the retry got`, async (t) => {
    t.timeout(15_000);
    const server = await startFakeSshServer();
    // the banner and part of the key exchange, then the cut; then nothing listens
    const proxy = await startCutProxy({ target: server, count: 'down', afterBytes: 200, how, refuseAfterCut: true });
    const h = fakeHost('web1', proxy.port);
    const conn = new SshConnector(h.spec, h.settings, h.options);
    try {
      const err = await t.throwsAsync(() => conn.connect());
      t.true(err instanceof UnreachableError, err!.message);
      t.is(proxy.accepted, 1);
      if (how === 'fin') t.regex(err!.message, /the connection to 127\.0\.0\.1:\d+ was cut during the SSH handshake \(the other side closed the connection\)/);
      // a reset can beat the banner to ssh2 (the kernel drops unread bytes): then nothing was seen of the server
      else t.regex(err!.message, /the connection to 127\.0\.0\.1:\d+ was cut during the SSH handshake \(read ECONNRESET\)|127\.0\.0\.1:\d+ closed the connection before the SSH handshake finished/);
      t.regex(err!.message, /tried again: connection refused by 127\.0\.0\.1:\d+/);
    } finally {
      await conn.close().catch(() => undefined);
      await proxy.close();
      await server.close();
    }
  });
}

test('a cut during the handshake that works on the retry connects', async (t) => {
  t.timeout(15_000);
  const server = await startFakeSshServer();
  const proxy = await startCutProxy({ target: server, count: 'down', afterBytes: 200, how: 'rst', connections: 1 });
  const h = fakeHost('web1', proxy.port);
  const conn = new SshConnector(h.spec, h.settings, h.options);
  try {
    await conn.connect();
    t.is(proxy.accepted, 2);
    t.is(conn.stats.handshakes, 1);
  } finally {
    await conn.close().catch(() => undefined);
    await proxy.close();
    await server.close();
  }
});
