import test from 'ava';
import { createServer, type Server, type Socket } from 'node:net';
import { tcpConnect } from '../../../../src/connectors/ssh/tcp.ts';
import { SshConnector } from '../../../../src/connectors/ssh/connector.ts';
import { UnreachableError } from '../../../../src/core/errors.ts';
import { fakeHost } from '../../../helpers/fake-ssh-server.ts';

// A socket error can come at any time after connecting (ECONNRESET while the
// keys are read, before ssh2 listens): it must never be an unhandled 'error'
// event (the process would die with a stack trace and no recap).

async function listen(onConnection: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onConnection);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

test('a TCP connection reset after connecting is recorded, not thrown', async (t) => {
  const { server, port } = await listen((s) => setTimeout(() => s.resetAndDestroy(), 20));
  try {
    const link = await tcpConnect('127.0.0.1', port, 2000);
    const reason = await new Promise<Error>((r) => link.ended.onEnd(r));
    t.is((reason as NodeJS.ErrnoException).code, 'ECONNRESET');
    t.is(link.ended.reason, reason);
  } finally {
    server.close();
  }
});

test('a server that resets right after accepting is reported unreachable', async (t) => {
  t.timeout(15_000);
  const { server, port } = await listen((s) => s.resetAndDestroy());
  const h = fakeHost('web1', port);
  const conn = new SshConnector(h.spec, h.settings, h.options);
  try {
    const err = await t.throwsAsync(() => conn.connect());
    t.true(err instanceof UnreachableError, err!.message);
    t.regex(err!.message, /^web1 is unreachable: /);
  } finally {
    await conn.close().catch(() => undefined);
    server.close();
  }
});
