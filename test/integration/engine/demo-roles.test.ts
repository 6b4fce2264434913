// Issue #3 acceptance on real test-bed hosts (Alpine/OpenRC and Debian/systemd):
// the demo roles converge, a second apply changes nothing, hand-made drift is found
// by `check` (exit 2, naming the step) and fixed by `apply`.
import test from 'ava';
import { fileURLToPath } from 'node:url';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory, type TestInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf } from '../../helpers/cli.ts';
import { sshRun } from '../../bed/fleet.ts';

const rolesDir = fileURLToPath(new URL('../../../inventory/roles/', import.meta.url));
let claim: Claim;
let inv: TestInventory;

test.before(async () => {
  claim = await claimHosts({ alpine: 1, debian: 1 });
  const names = claim.hosts.map((h) => h.name);
  inv = fleetInventory({
    hosts: names,
    groups: { demo: { hosts: names, roles: ['motd', 'toolbox', 'tuning', 'hello'] } },
    vars: { site_name: 'engine test site' },
    rolesDir,
  });
});
test.after.always(() => claim?.release());

test.serial('first apply converges every host, the second changes nothing, in few round trips', async (t) => {
  const first = await cairn(['apply', '-i', inv.file, '--json']);
  const j1 = jsonOf(first);
  t.is(first.code, 0, JSON.stringify(j1, null, 1));
  for (const h of inv.hosts) {
    t.false(j1.hosts[h]!.unreachable);
    t.is(j1.hosts[h]!.failed, 0, `${h}: ${JSON.stringify(j1.hosts[h]!.ops.filter((o) => o.status === 'failed'))}`);
  }
  const second = await cairn(['apply', '-i', inv.file, '--json']);
  const j2 = jsonOf(second);
  t.is(second.code, 0);
  for (const h of inv.hosts) {
    t.is(j2.hosts[h]!.changed, 0, `${h} changed on the second apply: ${JSON.stringify(j2.hosts[h]!.ops.filter((o) => o.status !== 'ok'))}`);
    t.true(j2.hosts[h]!.ok >= 6, `${h}: ${j2.hosts[h]!.ok} ok steps`);
    t.true(j2.hosts[h]!.roundTrips <= 3, `${h}: a no-op run took ${j2.hosts[h]!.roundTrips} round trips`);
  }
});

test.serial('the roles really took effect on the hosts', async (t) => {
  for (const h of claim.hosts) {
    const motd = await sshRun(h, 'cat /etc/motd');
    t.regex(motd.stdout, /engine test site/);
    t.regex(motd.stdout, h.init === 'openrc' ? /Alpine Linux/ : /Debian/);
    // busybox nc -l serves one connection at a time and is restarted by the loop: retry briefly
    let greeting = await sshRun(h, 'busybox nc 127.0.0.1 8088 </dev/null');
    for (let i = 0; i < 20 && !greeting.stdout.includes('hello from cairn'); i++) {
      await new Promise((res) => setTimeout(res, 300));
      greeting = await sshRun(h, 'busybox nc 127.0.0.1 8088 </dev/null');
    }
    t.regex(greeting.stdout, /hello from cairn/, `${h.name}: ${greeting.stderr}`);
    const sysctl = await sshRun(h, 'cat /proc/sys/net/ipv4/tcp_keepalive_time');
    t.is(sysctl.stdout.trim(), '600');
  }
});

test.serial('a hand edit is drift: check exits 2 naming the step, apply fixes it, check exits 0', async (t) => {
  const h = claim.hosts[0]!;
  await sshRun(h, "echo 'edited by hand' >> /etc/motd");
  const check = await cairn(['check', '-i', inv.file, '--json']);
  t.is(check.code, 2);
  const drift = jsonOf(check).hosts[h.name]!.ops.filter((o) => o.status === 'changed');
  t.deepEqual(
    drift.map((o) => `${o.role}/${o.id}`),
    ['motd/motd'],
  );
  t.regex(drift[0]!.diff ?? '', /-edited by hand/);
  const unchanged = await sshRun(h, 'tail -1 /etc/motd');
  t.is(unchanged.stdout.trim(), 'edited by hand', 'check must not change the host');
  const apply = await cairn(['apply', '-i', inv.file]);
  t.is(apply.code, 0, apply.stdout + apply.stderr);
  t.regex(apply.stdout, new RegExp(`\\[${h.name}\\] motd/motd: changed`));
  const backups = await sshRun(h, 'ls /etc/motd.cairn-bak.* | wc -l');
  t.true(Number(backups.stdout.trim()) >= 1, 'the replaced file is kept as a backup');
  const again = await cairn(['check', '-i', inv.file]);
  t.is(again.code, 0, again.stdout);
});

test.serial('a changed config restarts the service through its handler, once', async (t) => {
  const r = await cairn(['apply', '-i', inv.file, '--json', '-e', 'hello_greeting=changed greeting']);
  t.is(r.code, 0);
  for (const h of claim.hosts) {
    const ops = jsonOf(r).hosts[h.name]!.ops;
    t.deepEqual(ops.filter((o) => o.status === 'changed').map((o) => o.id), ['config', 'restart']);
    let answer = '';
    for (let i = 0; i < 20 && !answer.includes('changed greeting'); i++) {
      answer = (await sshRun(h, 'busybox nc 127.0.0.1 8088 </dev/null')).stdout;
      if (!answer.includes('changed greeting')) await new Promise((res) => setTimeout(res, 500));
    }
    t.regex(answer, /changed greeting/, h.name);
  }
  const back = await cairn(['apply', '-i', inv.file]);
  t.is(back.code, 0);
});
