import test from 'ava';
import { createServer } from 'node:net';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnector } from '../../../../src/connectors/factory.ts';
import type { HostSpec } from '../../../../src/inventory/types.ts';

test('a server that closes before the SSH handshake (sshd MaxStartups) is tried 4 times, then reported', async (t) => {
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const key = join(mkdtempSync(join(tmpdir(), 'cairn-key-')), 'id');
  spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  const host: HostSpec = { name: 'flaky', connection: 'ssh', address: '127.0.0.1', port, user: 'root', identity: [key], become: false, vars: {}, groups: [], location: { file: 'inv.yml' } };
  const conn = createConnector(host, { connectTimeoutMs: 3000, commandTimeoutMs: 10000, sshConfig: '/dev/null' }, { acceptNewHostKeys: true });
  try {
    const err = await t.throwsAsync(() => conn.connect());
    t.regex(err!.message, /closed the connection before the SSH handshake finished.*MaxStartups/);
    t.is(connections, 4);
  } finally {
    await conn.close().catch(() => undefined);
    server.close();
  }
});
