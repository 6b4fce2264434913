// A running service moved between OpenRC's supervise-daemon and s6 (cairn_supervisor) on a
// real Alpine host: the old init script stops it, the new supervisor starts it, one copy
// runs, and the next apply changes nothing. Then back again.
import test from 'ava';
import { parse, stringify } from 'yaml';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadFleet, sshRun, type BedHost } from '../../bed/fleet.ts';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf } from '../../helpers/cli.ts';

const NAME = 'cairnswitch';
const ARG = '7777777';
let claim: Claim | undefined;
let host: BedHost;
let inv: string;

const cleanup = [
  `if [ -f /etc/init.d/${NAME} ]; then rc-service ${NAME} stop </dev/null >/dev/null 2>&1; rc-update del ${NAME} default >/dev/null 2>&1; fi`,
  `if [ -L /run/openrc/s6-scan/${NAME} ]; then rm -f /run/openrc/s6-scan/${NAME}; s6-svscanctl -an /run/openrc/s6-scan; fi`,
  `rm -rf /etc/init.d/${NAME} /etc/conf.d/${NAME} /etc/s6/sv/${NAME} /var/log/${NAME}`,
  `pkill -f '^supervise-daemon ${NAME} ' || true`,
  `pkill -f '^/bin/sleep ${ARG}$' || true`,
].join('\n');

test.before(async () => {
  claim = await claimHosts({ alpine: 1 });
  host = claim.hosts[0]!;
  await sshRun(host, cleanup);
  inv = fleetInventory({
    hosts: [host.name],
    groups: { g: { hosts: [host.name], roles: ['supervision'] } },
    vars: { supervision_services: [{ name: NAME, command: '/bin/sleep', args: [ARG] }] },
  }).file;
});
test.after.always(async () => {
  if (claim) await sshRun(host, cleanup);
  claim?.release();
});

function useSupervisor(sup: 'openrc' | 's6'): void {
  const doc = parse(readFileSync(inv, 'utf8'));
  doc.vars.cairn_supervisor = sup;
  writeFileSync(inv, stringify(doc));
}

/** Every copy of the daemon and the program name of its parent (comm is cut at 15 characters). */
async function copies(): Promise<string[]> {
  const r = await sshRun(host, `for p in $(pgrep -f '^/bin/sleep ${ARG}$'); do pp=$(awk '{print $4}' /proc/$p/stat); tr '\\0' '\\n' < /proc/$pp/cmdline | head -n 1 | sed 's|.*/||'; done`);
  return r.stdout.trim().split('\n').filter(Boolean);
}

async function applyTwice(t: import('ava').ExecutionContext, sup: 'openrc' | 's6') {
  useSupervisor(sup);
  const first = await cairn(['apply', '-i', inv, '--json']);
  const j = jsonOf(first);
  t.is(first.code, 0, `first apply under ${sup}: ${JSON.stringify(j.hosts[host.name]?.ops.filter((o) => o.status !== 'ok'), null, 1)}${first.stderr}`);
  const again = await cairn(['apply', '-i', inv, '--json']);
  t.is(again.code, 0, again.stderr);
  t.is(jsonOf(again).hosts[host.name]?.changed, 0, `second apply under ${sup} changed: ${JSON.stringify(jsonOf(again).hosts[host.name]?.ops.filter((o) => o.status !== 'ok'))}`);
  return j.hosts[host.name]!.ops;
}

test.serial('supervise-daemon -> s6 -> supervise-daemon while running: one copy, under the new supervisor each time', async (t) => {
  t.timeout(5 * 60_000);
  if (!loadFleet().s6) return t.fail('the fleet has no s6: bring it up with --s6 (the test command does)');

  const installed = await applyTwice(t, 'openrc');
  t.like(installed.find((o) => o.id === `${NAME}-handover`), { status: 'ok' }, 'first install: nothing to hand over');
  t.deepEqual(await copies(), ['supervise-daemon']);

  const toS6 = await applyTwice(t, 's6');
  t.like(toS6.find((o) => o.id === `${NAME}-handover`), { status: 'changed', reason: `stop ${NAME} (started) under supervise-daemon before it moves to s6` });
  t.deepEqual(await copies(), ['s6-supervise'], 'one copy, now under s6');
  const svstat = await sshRun(host, `s6-svstat /run/openrc/s6-scan/${NAME}; [ -e /run/openrc/started/${NAME} ] && echo openrc: started`);
  t.regex(svstat.stdout.trim(), /^up \(pid \d+\).*\nopenrc: started$/, svstat.stdout + svstat.stderr);

  const back = await applyTwice(t, 'openrc');
  t.like(back.find((o) => o.id === `${NAME}-handover`), { status: 'changed', reason: `stop ${NAME} (started) under s6 before it moves to supervise-daemon` });
  t.deepEqual(await copies(), ['supervise-daemon'], 'one copy, back under supervise-daemon');
  const link = await sshRun(host, `[ -e /run/openrc/s6-scan/${NAME} ] && echo linked || echo unlinked`);
  t.is(link.stdout.trim(), 'unlinked', 's6 no longer supervises it');
});
