// The benchmark's board-bootstrap role (test/bench/roles/bootstrap: users, directories,
// a binary and a tarball from the controller, a template, line and block edits of one
// file, a replace in a file the tarball brings, a handler) on real hosts, as root and
// through become: the first apply takes 4 round trips per host (facts; the probe; the
// changes with the uploads on stdin, and the probe of the step reading the unpacked
// tarball; the rest with the handler and the removal of its note), the result is what
// the role says, and a second apply changes nothing in 2.
import test from 'ava';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf } from '../../helpers/cli.ts';
import { sshRun } from '../../bed/fleet.ts';
import { makePayload, RESET_SCRIPT } from '../../bench/workload.ts';

const roles = fileURLToPath(new URL('../../bench/roles', import.meta.url));
// over the inline cap (64 KiB) many times: the binary travels in the tar stream
const payload = makePayload(2 * 1024 * 1024 + 5);

let claim: Claim;
test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 });
});
test.after.always(async () => {
  rmSync(payload, { recursive: true, force: true });
  if (claim) await Promise.all(claim.hosts.map((h) => sshRun(h, RESET_SCRIPT)));
  claim?.release();
});

test.serial('a first apply of the bootstrap role: 4 round trips per host, the files and the handler right; then 2 and changed=0 (root, and become)', async (t) => {
  t.timeout(5 * 60_000);
  const names = claim.hosts.map((h) => h.name);
  const sum = (await import('node:crypto')).createHash('sha256').update((await import('node:fs')).readFileSync(`${payload}/agent`)).digest('hex');
  for (const become of [false, true]) {
    await Promise.all(claim.hosts.map((h) => sshRun(h, `${RESET_SCRIPT}; rm -rf /var/lib/cairn/pending`)));
    const inv = fleetInventory({ hosts: names, groups: { g: { hosts: names, roles: ['bootstrap'] } }, vars: { bench_payload: payload }, rolesDir: roles, asTester: become });
    const first = await cairn(['apply', '-i', inv.file, '--json']);
    t.is(first.code, 0, first.stdout.slice(0, 4000) + first.stderr);
    for (const h of claim.hosts) {
      const label = `${h.name}${become ? ' (become)' : ''}`;
      const s = jsonOf(first).hosts[h.name]!;
      t.is(s.roundTrips, 4, `${label}: ${s.ops.map((o) => `${o.id} ${o.status}`).join(', ')}`);
      t.is(s.failed, 0, label);
      t.true(s.ops.some((o) => o.id === 'restart-agent' && o.status === 'changed'), `${label}: the handler ran`);
      const got = await sshRun(
        h,
        'sha256sum < /opt/bench/bin/agent; stat -c %a /opt/bench/bin/agent; grep -c "line of edited data" /opt/bench/share/bundle/data-0.txt; cat /etc/bench/limits.conf; test -s /var/lib/bench/restarted && echo restarted; ls -a /opt/bench /opt/bench/bin /etc/bench /var/lib /var/lib/cairn/pending 2>/dev/null | grep -c -e cairn-stage -e cairn-tmp -e "\\.note$"',
      );
      const lines = got.stdout.trim().split('\n');
      t.is(lines[0]!.split(' ')[0], sum, `${label}: the binary, whole`);
      t.is(lines[1], '755', label);
      t.is(lines[2], '2000', `${label}: the replace edited the unpacked file`);
      t.deepEqual(lines.slice(3, 8), ['# bench limits', 'workers = 4', `node = ${h.name}`, '# BEGIN CAIRN MANAGED BLOCK', 'peer = a'], label);
      t.true(lines.includes('restarted'), label);
      t.is(lines[lines.length - 1], '0', `${label}: no stage, temp file or handler note left`);
    }
    const again = await cairn(['apply', '-i', inv.file, '--json']);
    t.is(again.code, 0, again.stdout.slice(0, 3000) + again.stderr);
    for (const h of claim.hosts) {
      const s = jsonOf(again).hosts[h.name]!;
      t.is(s.changed, 0, h.name);
      t.is(s.roundTrips, 2, h.name);
    }
  }
});
