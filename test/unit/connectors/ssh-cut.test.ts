import test from 'ava';
import { SshConnector } from '../../../src/connectors/ssh/connector.ts';
import { startFakeSshServer, fakeHost } from '../../helpers/fake-ssh-server.ts';
import { startCutProxy } from '../../helpers/cut-proxy.ts';

// A connection cut while cairn works on a host: through a proxy that cuts
// after so many bytes, to ssh2's Server on 127.0.0.1.

const BIG = Buffer.alloc(1024 * 1024, 0x61); // over 64 KiB: goes over SFTP

for (const how of ['fin', 'rst'] as const) {
  test(`an SFTP upload cut mid-way (${how}) fails promptly`, async (t) => {
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
      t.regex(err!.message, /\/etc\/big/);
    } finally {
      await conn.close().catch(() => undefined);
      await proxy.close();
      await server.close();
    }
  });
}
