import test from 'ava';
import { sh } from '../../../src/shell/sh.ts';
import { bedHost, rootConnector } from '../connectors/_target.ts';
import { hostileRoundTrips, MARKER, PAYLOADS } from './_hostile.ts';

/**
 * The hostile-value property through become: the bed's user `tester` logs in and
 * becomes root with doas (Alpine: busybox ash) and sudo (Debian: bash login shell,
 * dash /bin/sh), one more shell layer than as root. Values pass through commands
 * unchanged and never execute; uploads through become (cat under doas/sudo) keep
 * hostile bytes and land as root.
 */
const RUNS = Number(process.env.CAIRN_QUOTING_SSH_RUNS ?? 100);

for (const [kind, method] of [['alpine', 'doas'], ['debian', 'sudo']] as const) {
  test.serial(`${kind} through ${method}: hostile values pass through unchanged, never execute; uploads keep their bytes`, async (t) => {
    const target = await bedHost(kind);
    if (!target) return t.fail(`the test bed has no ${kind} host`);
    const c = rootConnector(target, { user: 'tester', become: method });
    try {
      t.is((await c.run(sh`id -u`)).stdout, '0\n', `${method} makes root`);
      await c.run(sh`rm -f ${MARKER}`);
      await hostileRoundTrips(c, RUNS, (x, y) => t.is(x, y));
      const bytes = Buffer.from(PAYLOADS.join('\n'));
      const path = `/root/cairn-hostile-${method}`;
      await c.upload(path, bytes, { mode: 0o600 });
      t.deepEqual(await c.download(path), bytes, 'the uploaded bytes, unchanged');
      t.is((await c.run(sh`stat -c '%U %a' ${path} && rm -f ${path}`)).stdout, 'root 600\n');
      t.is((await c.run(sh`test -e ${MARKER} && echo PWNED || echo clean`)).stdout, 'clean\n', 'the marker file never appeared on the host');
    } finally {
      await c.close();
    }
  });
}
