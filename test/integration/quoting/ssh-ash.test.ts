import test from 'ava';
import fc from 'fast-check';
import { sh } from '../../../src/shell/sh.ts';
import { rootConnector, sshTestTarget } from '../connectors/_target.ts';
import { hostile, MARKER, PAYLOADS } from './_hostile.ts';

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
    for (const p of PAYLOADS) t.is((await c.run(sh`printf %s ${p}`)).stdout, p);
    await fc.assert(
      fc.asyncProperty(hostile, async (v) => {
        const r = await c.run(sh`printf %s ${v}`);
        return r.exitCode === 0 && r.stdout === v;
      }),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(hostile, { maxLength: 5 }), async (words) => {
        const r = await c.run(sh`for w in ${words}; do printf '[%s]' "$w"; done`);
        return r.exitCode === 0 && r.stdout === words.map((w) => `[${w}]`).join('');
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
    // values as stdin and as file content are bytes, not shell text
    const v = PAYLOADS.join('|');
    t.is((await c.run(sh`cat`, { stdin: v })).stdout, v);
    t.is((await c.run(sh`test -e ${MARKER} && echo PWNED || echo clean`)).stdout, 'clean\n', 'the marker file never appeared on the host');
    t.is(c.stats.tcpConnections, 1);
  } finally {
    await c.close();
  }
});
