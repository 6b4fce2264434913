import test from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dnsCheck, encodeQuery, hexToBuffer, parseNslookup, parseResponse } from '../../../src/operations/dns-query.ts';
import { SECTION_PREFIX } from '../../../src/facts/gather.ts';
import { stubFacts } from '../../../src/facts/stub.ts';
import type { Facts } from '../../../src/facts/types.ts';
import type { OpContext } from '../../../src/operations/operation.ts';
import { apply, probeResult, runProbe, targets } from './_run-local.ts';

const ctx: OpContext = { host: 'h', facts: stubFacts[1] as Facts, bake: false };
const s = (sections: Record<string, string>) => probeResult(Object.entries(sections).map(([k, v]) => `\n${SECTION_PREFIX}${k}\n${v}\n`).join(''));

// a real reply of unbound 1.17 for cairn-check.internal A (local-data 127.0.0.254), as od printed it
const REPLY_HEX = ` 43 41 85 80 00 01 00 01 00 00 00 00 0b 63 61 69
 72 6e 2d 63 68 65 63 6b 08 69 6e 74 65 72 6e 61
 6c 00 00 01 00 01 c0 0c 00 01 00 01 00 00 0e 10
 00 04 7f 00 00 fe`;

test('encodeQuery: header, labels, type A, class IN', (t) => {
  t.is(encodeQuery('cairn-check.internal.', 'A', 0x4341).toString('hex'), '434101000001000000000000' + '0b636169726e2d636865636b' + '08696e7465726e616c' + '00' + '0001' + '0001');
});

test('parseResponse: a real unbound reply with a compressed name', (t) => {
  const r = parseResponse(hexToBuffer(REPLY_HEX));
  t.is(r.id, 0x4341);
  t.is(r.rcode, 'NOERROR');
  t.true(r.aa);
  t.deepEqual(r.answers, [{ name: 'cairn-check.internal.', type: 1, ttl: 3600, data: '127.0.0.254' }]);
});

test('parseResponse: NXDOMAIN, short and non-reply packets', (t) => {
  const nx = Buffer.from(encodeQuery('x.internal', 'A', 1));
  nx[2] = 0x81;
  nx[3] = 0x83;
  t.is(parseResponse(nx).rcode, 'NXDOMAIN');
  t.throws(() => parseResponse(Buffer.from([1, 2, 3])), { message: /too short/ });
  t.throws(() => parseResponse(encodeQuery('x', 'A', 1)), { message: /QR bit clear/ });
});

test('parseNslookup: busybox output for an answer, NXDOMAIN and no server', (t) => {
  t.deepEqual(parseNslookup('Server:\t\t127.0.0.1\nAddress:\t127.0.0.1:53\n\nName:\tcairn-check.internal\nAddress: 127.0.0.254\n')?.answers.map((a) => a.data), ['127.0.0.254']);
  t.is(parseNslookup("Server:\t\t127.0.0.1\nAddress:\t127.0.0.1:53\n\n** server can't find nope.internal: NXDOMAIN\n")?.rcode, 'NXDOMAIN');
  t.is(parseNslookup('nslookup: read: Connection refused\n;; connection timed out; no servers could be reached\n'), undefined);
});

test('plan: answer with the expected address -> noop; wrong address, NXDOMAIN, no reply -> fail', (t) => {
  const op = dnsCheck({ id: 'c', server: '127.0.0.1', name: 'cairn-check.internal', expect: '127.0.0.254', label: 'unbound' });
  t.deepEqual(op.plan(s({ raw: REPLY_HEX }), ctx), { kind: 'noop', reason: 'unbound at 127.0.0.1:53 answers cairn-check.internal A -> 127.0.0.254' });
  const other = dnsCheck({ id: 'c', server: '127.0.0.1', name: 'cairn-check.internal', expect: '127.0.0.9' });
  t.regex(JSON.stringify(other.plan(s({ raw: REPLY_HEX }), ctx)), /answered cairn-check.internal A with 127\.0\.0\.254, expected 127\.0\.0\.9/);
  const waiting = op.plan(s({ noreply: 'no reply' }), ctx);
  t.is(waiting.kind, 'change', 'no answer yet: wait on the host (a resolver just restarted)');
  t.is(waiting.kind === 'change' ? waiting.reason : '', 'wait for unbound at 127.0.0.1:53 to answer cairn-check.internal A (up to 15s; it gave: no reply)');
  t.regex(JSON.stringify(op.plan(s({ nslookup: "** server can't find cairn-check.internal: NXDOMAIN" }), ctx)), /answered cairn-check.internal A with NXDOMAIN/);
  t.regex(JSON.stringify(op.plan(s({ notool: 'x' }), ctx)), /neither bash .* nor busybox nslookup/);
});

test("plan: want 'reply' passes on NXDOMAIN (the server is alive); onlyIf absent -> not checked", (t) => {
  const op = dnsCheck({ id: 'c', server: '10.0.0.1', name: 'x.internal', want: 'reply' });
  t.is(op.plan(s({ nslookup: "** server can't find x.internal: NXDOMAIN" }), ctx).kind, 'noop');
  const gated = dnsCheck({ id: 'c', server: '127.0.0.1', name: 'x.internal', onlyIf: '/usr/sbin/unbound' });
  t.regex(JSON.stringify(gated.plan(s({ absent: 'yes' }), ctx)), /not checked yet: \/usr\/sbin\/unbound does not exist/);
});

test('params are checked', (t) => {
  t.throws(() => dnsCheck({ id: 'c', server: 'localhost', name: 'x' }), { message: /param `server` must be an IP address/ });
  t.throws(() => dnsCheck({ id: 'c', server: '127.0.0.1', name: 'bad name' }), { message: /param `name`/ });
  t.throws(() => dnsCheck({ id: 'c', server: '127.0.0.1', name: 'x', port: 70000 }), { message: /param `port`/ });
});

// ---------------------------------------------------------------- against a real Unbound on this machine

let unbound: ChildProcess | undefined;
let dir: string | undefined;
const PORT = 20000 + Math.floor(Math.random() * 20000);
const haveUnbound = spawnSync('sh', ['-c', 'command -v unbound']).status === 0;

test.before(async () => {
  if (!haveUnbound) return;
  dir = mkdtempSync(join(tmpdir(), 'cairn-unbound-'));
  writeFileSync(
    join(dir, 'unbound.conf'),
    `server:
  interface: 127.0.0.1@${PORT}
  port: ${PORT}
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: ""
  use-syslog: no
  module-config: "iterator"
  local-zone: "internal." static
  local-data: "cairn-check.internal. 60 IN A 127.0.0.254"
`,
  );
  unbound = spawn('unbound', ['-c', join(dir, 'unbound.conf')], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 800));
});
test.after.always(() => {
  if (unbound?.pid) unbound.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

for (const target of targets().filter((x) => x.name === 'dash' || x.name === 'busybox')) {
  test.serial(`${target.name}: a real Unbound answers; a closed port does not (and the probe gives up in time)`, (t) => {
    if (!haveUnbound) return t.fail('unbound is not installed on this controller: test/install-deps.sh installs it');
    const c = { host: target.name, facts: target.facts, bake: false };
    const ok = dnsCheck({ id: 'c', server: '127.0.0.1', port: PORT, name: 'cairn-check.internal', expect: '127.0.0.254', waitSeconds: 5 });
    t.is(ok.plan(runProbe(target, ok, c), c).kind, 'noop');
    const nx = dnsCheck({ id: 'c', server: '127.0.0.1', port: PORT, name: 'nothing-here.internal', want: 'reply', waitSeconds: 2 });
    t.is(nx.plan(runProbe(target, nx, c), c).kind, 'noop');
    const started = Date.now();
    const closed = dnsCheck({ id: 'c', server: '127.0.0.1', port: PORT + 1, name: 'cairn-check.internal', waitSeconds: 2 });
    const r = apply(target, closed, c);
    t.is(r.plan.kind, 'change');
    t.not(r.exitCode, 0);
    t.regex(r.stderr, /DNS server 127\.0\.0\.1:\d+ does not answer cairn-check\.internal A after 2s/);
    t.true(Date.now() - started < 10_000);
  });
}

test.serial('after waiting, the answer is judged again on the controller (afterChange): a wrong address fails the step', async (t) => {
  if (!haveUnbound) return t.fail('unbound is not installed on this controller: test/install-deps.sh installs it');
  const target = targets()[0]!;
  const rt = { host: 'h', run: async (cmd: { text: string; display: string }) => ({ command: cmd.display, durationMs: 0, ...target.sh(cmd.text) }), freshLogin: async () => undefined };
  const right = dnsCheck({ id: 'c', server: '127.0.0.1', port: PORT, name: 'cairn-check.internal', expect: '127.0.0.254' });
  await t.notThrowsAsync(right.afterChange!(rt as never));
  const wrong = dnsCheck({ id: 'c', server: '127.0.0.1', port: PORT, name: 'cairn-check.internal', expect: '127.0.0.9' });
  await t.throwsAsync(wrong.afterChange!(rt as never), { message: /answered cairn-check\.internal A with 127\.0\.0\.254, expected 127\.0\.0\.9/ });
});
