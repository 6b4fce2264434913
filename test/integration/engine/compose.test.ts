// Steps of one run that build on each other, on real hosts (Alpine: busybox ash over
// OpenSSH; Debian: dash), as root and through become (doas / sudo): a seeded
// sshd_config edited by line / line / replace / block / line, a mode change by file,
// a removal. One apply leaves exactly the combined result (one backup of the seed),
// the second apply changes nothing and takes two round trips, check says no drift.
import test from 'ava';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf } from '../../helpers/cli.ts';
import { composeRole, COMBINED, SEED, STEPS } from './_compose-role.ts';
import { sshRun } from '../../bed/fleet.ts';

const DIR = '/root/cairn-compose';

let claim: Claim;
test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 });
});
test.after.always(async () => {
  if (claim) await Promise.all(claim.hosts.map((h) => sshRun(h, `rm -rf ${DIR}`)));
  claim?.release();
});

test.serial('five edits of one file, a mode change and a removal compose in one apply; then changed=0 (root, and become)', async (t) => {
  t.timeout(5 * 60_000);
  const names = claim.hosts.map((h) => h.name);
  for (const become of [false, true]) {
    await Promise.all(claim.hosts.map((h) => sshRun(h, `rm -rf ${DIR} && mkdir -p ${DIR} && echo old > ${DIR}/stale.conf`)));
    const inv = fleetInventory({ hosts: names, groups: { g: { hosts: names, roles: ['compose'] } }, rolesDir: composeRole(DIR), asTester: become });
    const first = await cairn(['apply', '-i', inv.file, '--json']);
    t.is(first.code, 0, first.stdout.slice(0, 4000) + first.stderr);
    for (const h of claim.hosts) {
      const label = `${h.name}${become ? ' (become)' : ''}`;
      const s = jsonOf(first).hosts[h.name]!;
      t.deepEqual(Object.fromEntries(s.ops.map((o) => [o.id, o.status])), Object.fromEntries(STEPS.map((x) => [x, x === 'dir' ? 'ok' : 'changed'])), label);
      t.is((await sshRun(h, `cat ${DIR}/sshd_config`)).stdout, COMBINED, `${label}: the combined result`);
      t.is((await sshRun(h, `stat -c %a ${DIR}/sshd_config`)).stdout.trim(), '600', label);
      t.is((await sshRun(h, `cat ${DIR}/sshd_config.cairn-bak.*`)).stdout, SEED, `${label}: one backup, of what the seed wrote`);
      t.is((await sshRun(h, `ls ${DIR}`)).stdout.split('\n').filter((f) => f.startsWith('sshd_config.cairn-bak.')).length, 1, label);
      t.is((await sshRun(h, `test -e ${DIR}/stale.conf || echo gone`)).stdout.trim(), 'gone', label);
    }
    const second = await cairn(['apply', '-i', inv.file, '--json']);
    t.is(second.code, 0, second.stdout.slice(0, 4000) + second.stderr);
    for (const h of claim.hosts) {
      const s = jsonOf(second).hosts[h.name]!;
      t.is(s.changed, 0, `${h.name}: ${JSON.stringify(s.ops.filter((o) => o.status !== 'ok'))}`);
      t.is(s.roundTrips, 2, `${h.name}: facts + one probe`);
    }
    const check = await cairn(['check', '-i', inv.file]);
    t.is(check.code, 0, check.stdout + check.stderr);
  }
});
