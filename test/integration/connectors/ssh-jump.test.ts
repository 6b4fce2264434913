import test from 'ava';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sh } from '../../../src/shell/sh.ts';
import { UnreachableError } from '../../../src/core/errors.ts';
import type { SshConnector } from '../../../src/connectors/ssh/connector.ts';
import { knownHostName } from '../../../src/connectors/known-hosts.ts';
import { hostPublicKeys, knownHostsText, must, rootConnector, sshTestTarget, startExtraSshd, type SshTestTarget } from './_target.ts';

/**
 * ProxyJump against one host: a second sshd on it (TCP forwarding on) is the
 * jump host, and the final hop is the host itself under a name that only the
 * host can resolve (an /etc/hosts line on it): reaching it proves the tunnel.
 */
const ALIAS = 'cairn-it-jump-target';

let target: SshTestTarget;
let admin: SshConnector;
let jumpPort: number;
let stopJump: () => Promise<void>;
let kh: string;

test.before(async () => {
  target = await sshTestTarget();
  admin = rootConnector(target);
  const extra = await startExtraSshd(admin, target, { sftp: true });
  jumpPort = extra.port;
  stopJump = extra.stop;
  await must(admin, sh`sed -i ${`/ ${ALIAS}$/d`} /etc/hosts && echo ${`${target.address} ${ALIAS}`} >> /etc/hosts`);
  const keys = await hostPublicKeys(admin);
  kh = join(mkdtempSync(join(tmpdir(), 'cairn-it-jump-')), 'known_hosts');
  writeFileSync(kh, knownHostsText(keys, [knownHostName(target.address, jumpPort), knownHostName(target.address, target.port), knownHostName(ALIAS, target.port), knownHostName(ALIAS, jumpPort)]));
});

test.after.always(async () => {
  await admin?.run(sh`sed -i ${`/ ${ALIAS}$/d`} /etc/hosts`).catch(() => undefined);
  await stopJump?.();
  await admin?.close();
});

test('the final host name is not resolvable from the controller', async (t) => {
  await t.throwsAsync(lookup(ALIAS));
});

test('ProxyJump through one jump host', async (t) => {
  const c = rootConnector({ ...target, knownHosts: kh }, { address: ALIAS, port: target.port, proxyJump: `root@${target.address}:${jumpPort}` });
  try {
    t.is(await must(c, sh`echo through`), 'through\n');
    // the final sshd sees the connection coming from the host itself (the jump), commands and files work
    const client = (await must(c, sh`echo "$SSH_CONNECTION"`)).trim().split(' ');
    t.is(client[3], String(target.port), 'the final hop is the main sshd');
    await c.upload('/tmp/cairn-it-jump-file', Buffer.from('via jump'));
    t.deepEqual(await c.download('/tmp/cairn-it-jump-file'), Buffer.from('via jump'));
    t.is(c.stats.tcpConnections, 1, 'one TCP connection: to the jump host');
    t.is(c.stats.handshakes, 2, 'two SSH handshakes: jump host and target');
    t.deepEqual(
      c.target.jumps.map((j) => `${j.user}@${j.hostname}:${j.port}`),
      [`root@${target.address}:${jumpPort}`],
    );
  } finally {
    await c.close();
  }
});

test('ProxyJump chain of two jump hosts', async (t) => {
  const c = rootConnector(
    { ...target, knownHosts: kh },
    { address: ALIAS, port: target.port, proxyJump: `root@${target.address}:${jumpPort},root@${ALIAS}:${jumpPort}` },
  );
  try {
    t.is(await must(c, sh`echo chained`), 'chained\n');
    t.is(c.stats.tcpConnections, 1);
    t.is(c.stats.handshakes, 3);
  } finally {
    await c.close();
  }
});

test('jump hosts are verified against known_hosts too', async (t) => {
  const onlyTarget = join(mkdtempSync(join(tmpdir(), 'cairn-it-jump-')), 'known_hosts');
  writeFileSync(onlyTarget, knownHostsText(await hostPublicKeys(admin), [knownHostName(ALIAS, target.port)]));
  const c = rootConnector({ ...target, knownHosts: onlyTarget }, { address: ALIAS, port: target.port, proxyJump: `root@${target.address}:${jumpPort}` });
  const err = await t.throwsAsync(c.connect(), { instanceOf: UnreachableError });
  t.regex(err!.message, new RegExp(`jump host root@${target.address.replace(/\./g, '\\.')}:${jumpPort}: host key for .* is unknown`));
});

test('a jump host that does not allow TCP forwarding gives a clear error', async (t) => {
  const forwarding = await admin.run(sh`/usr/sbin/sshd -T 2>/dev/null | grep -i '^allowtcpforwarding'`);
  if (!/ no$/m.test(forwarding.stdout)) return t.pass(`the main sshd allows forwarding (${forwarding.stdout.trim()}): nothing to check`);
  const c = rootConnector({ ...target, knownHosts: kh }, { address: ALIAS, port: jumpPort, proxyJump: `root@${target.address}:${target.port}` });
  const err = await t.throwsAsync(c.connect(), { instanceOf: UnreachableError });
  t.regex(err!.message, /could not open a tunnel to .*AllowTcpForwarding yes/);
});

test('a tunnel to a port where nothing listens names the hop', async (t) => {
  const c = rootConnector({ ...target, knownHosts: kh }, { address: ALIAS, port: 1, proxyJump: `root@${target.address}:${jumpPort}` });
  const err = await t.throwsAsync(c.connect(), { instanceOf: UnreachableError });
  t.regex(err!.message, new RegExp(`could not open a tunnel to ${ALIAS}:1.*could not connect`));
});
