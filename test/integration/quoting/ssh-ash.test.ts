import test from 'ava';
import { sh } from '../../../src/shell/sh.ts';
import { rootConnector, sshTestTarget } from '../connectors/_target.ts';
import { hostileRoundTrips, MARKER, PAYLOADS } from './_hostile.ts';

/**
 * The same property over real SSH to an Alpine host (busybox ash is /bin/sh
 * there, and the login shell parses the outer layer): a smaller sample.
 */
const RUNS = Number(process.env.CAIRN_QUOTING_SSH_RUNS ?? 150);

test('ssh to Alpine: hostile values pass through printf unchanged and never execute', async (t) => {
  const c = rootConnector(await sshTestTarget());
  try {
    t.regex((await c.run(sh`readlink /bin/sh`)).stdout, /busybox/, 'the target /bin/sh is busybox ash');
    await c.run(sh`rm -f ${MARKER}`);
    await hostileRoundTrips(c, RUNS, (x, y) => t.is(x, y));
    // values as stdin and as file content are bytes, not shell text
    const v = PAYLOADS.join('|');
    t.is((await c.run(sh`cat`, { stdin: v })).stdout, v);
    t.is((await c.run(sh`test -e ${MARKER} && echo PWNED || echo clean`)).stdout, 'clean\n', 'the marker file never appeared on the host');
    t.is(c.stats.tcpConnections, 1);
  } finally {
    await c.close();
  }
});
