import test from 'ava';
import { randomBytes } from 'node:crypto';
import { sh } from '../../../src/shell/sh.ts';
import { bedHost, must, rootConnector } from './_target.ts';

/**
 * The test bed's aarch64 Alpine 3.7 host (OpenSSH 7.5, busybox, running under
 * qemu-user): an old server and a slow one. Only with the bed.
 */
test('old OpenSSH on aarch64: run, stdin, SFTP, timeout', async (t) => {
  const arm = await bedHost('alpine-arm');
  if (!arm) return t.pass('no alpine-arm host in the test bed: skipped');
  const c = rootConnector(arm);
  try {
    t.is(await must(c, sh`uname -m`), 'aarch64\n');
    t.regex(await must(c, sh`ssh -V 2>&1 || sshd -V 2>&1 || true`), /OpenSSH/);
    t.is((await c.run(sh`exit 42`)).exitCode, 42);
    t.is((await c.run(sh`cat`, { stdin: 'abc' })).stdout, 'abc');
    const data = randomBytes(150_000);
    await c.upload('/tmp/cairn-it-arm', data, { mode: 0o600 });
    t.deepEqual(await c.download('/tmp/cairn-it-arm'), data);
    t.is(await must(c, sh`stat -c %a /tmp/cairn-it-arm && rm /tmp/cairn-it-arm`), '600\n');
    const r = await c.run(sh`sleep 46.5`, { timeoutMs: 1500 });
    t.is(r.exitCode, 124);
    t.is((await c.run(sh`ps -o args | grep -c '[s]leep 46.5'`)).stdout.trim(), '0');
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => c.run(sh`echo ${i}`)));
    t.deepEqual(many.map((x) => x.stdout), Array.from({ length: 20 }, (_, i) => `${i}\n`));
    t.is(c.stats.tcpConnections, 1);
  } finally {
    await c.close();
  }
});
