import test from 'ava';
import { Semaphore } from '../../../src/core/semaphore.ts';
import { signalExitCode } from '../../../src/connectors/process.ts';
import { catDownloadCommand, catUploadCommand } from '../../../src/connectors/transfer.ts';
import { createConnector } from '../../../src/connectors/factory.ts';
import { SshConnector } from '../../../src/connectors/ssh/connector.ts';
import { LocalConnector } from '../../../src/connectors/local.ts';
import { ChrootConnector } from '../../../src/connectors/chroot.ts';
import type { HostSpec } from '../../../src/inventory/types.ts';

test('signals map to 128+n', (t) => {
  t.is(signalExitCode('SIGTERM'), 143);
  t.is(signalExitCode('KILL'), 137);
  t.is(signalExitCode('SIGNOPE'), 255);
  t.is(signalExitCode(undefined), 255);
});

test('cat transfer commands', (t) => {
  t.is(catUploadCommand('/etc/a b').text, `cat > '/etc/a b'`);
  t.is(catUploadCommand('/etc/x', 0o640).text, 'umask 077 && cat > /etc/x && chmod 0640 /etc/x');
  t.is(catDownloadCommand('/etc/x').text, 'if [ -e /etc/x ]; then exec cat -- /etc/x; else exit 66; fi');
});

test('Semaphore never exceeds its size and is FIFO', async (t) => {
  const limit = new Semaphore(3);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      limit.use(async () => {
        active++;
        peak = Math.max(peak, active);
        order.push(i);
        await new Promise((r) => setTimeout(r, 5));
        active--;
      }),
    ),
  );
  t.is(peak, 3);
  t.is(limit.peak, 3);
  t.is(limit.active, 0);
  t.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

const base: HostSpec = { name: 'h', connection: 'ssh', address: 'x', become: false, vars: {}, groups: [], location: { file: 'i' } };
const settings = { connectTimeoutMs: 1000, commandTimeoutMs: 0 };

test('factory picks the connector by connection', (t) => {
  t.true(createConnector(base, settings) instanceof SshConnector);
  t.true(createConnector({ ...base, connection: 'local' }, settings) instanceof LocalConnector);
  const c = createConnector({ ...base, connection: 'chroot', root: '/mnt/x' }, settings);
  t.true(c instanceof ChrootConnector);
  t.is(c.kind, 'chroot');
  t.throws(() => createConnector({ ...base, connection: 'chroot' }, settings), { message: /needs root/ });
});
