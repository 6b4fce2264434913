// Restarts that never get lost, on real hosts (Alpine / OpenRC supervise-daemon and
// Debian / systemd): a user role supervises a small daemon (it prints the config it
// started with into its captured output), writes its config (notifying the restart),
// then runs a step that fails, or a slow one during which the controller is killed
// with -9. The restart stays noted on the host: check says drift naming the handler and
// the step, the next apply restarts the daemon once and it runs the new config (seen in
// its output log), then changed=0.
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { claimHosts, type Claim } from '../../helpers/claim.ts';
import { fleetInventory } from '../../helpers/inventory.ts';
import { cairn, jsonOf } from '../../helpers/cli.ts';
import { loadFleet, sshRun, type BedHost } from '../../bed/fleet.ts';

const srcIndex = fileURLToPath(new URL('../../../src/index.ts', import.meta.url));
const bin = fileURLToPath(new URL('../../../src/cli/bin.js', import.meta.url));
const NAME = 'cairn-pending-svc';
const ETC = '/etc/cairn-pending';
const LOG_DIR = `/var/log/${NAME}`;
const MARK = '/root/cairn-pending';

/** The user's role: config dir, run script, config (notifies the restart), the service, a gate, a slow step. */
function rolesDir(): string {
  const roles = mkdtempSync(join(tmpdir(), 'cairn-pending-roles-'));
  mkdirSync(join(roles, 'svc'));
  writeFileSync(join(roles, 'package.json'), '{"type":"module"}');
  writeFileSync(
    join(roles, 'svc', 'index.ts'),
    `import { defineRole, directory, file, command, sh, supervisedService } from ${JSON.stringify(srcIndex)};
const svcOf = (ctx) => supervisedService(ctx, { name: ${JSON.stringify(NAME)}, description: 'pending-restart test daemon', command: ${JSON.stringify(`${ETC}/run.sh`)}, logDir: ${JSON.stringify(LOG_DIR)}, configFiles: [${JSON.stringify(`${ETC}/svc.conf`)}] });
export default defineRole({
  name: 'svc',
  defaults: { svc_conf: 'v1' },
  steps(ctx) {
    const svc = svcOf(ctx);
    return [
      directory({ id: 'conf-dir', path: ${JSON.stringify(ETC)}, mode: '0755' }),
      file({ id: 'run-script', path: ${JSON.stringify(`${ETC}/run.sh`)}, mode: '0755', content: '#!/bin/sh\\necho "started with $(cat ${ETC}/svc.conf)"\\nexec sleep 1000000\\n', notify: [svc.restartHandler] }),
      file({ id: 'conf', path: ${JSON.stringify(`${ETC}/svc.conf`)}, content: String(ctx.vars.svc_conf) + '\\n', notify: [svc.restartHandler] }),
      ...svc.steps,
      command({ id: 'gate', run: sh\`test -e ${MARK}-ok && touch ${MARK}-gate-done\`, creates: '${MARK}-gate-done' }),
      command({ id: 'slow', run: sh\`if [ ! -e ${MARK}-fast ]; then sleep 30; fi; touch ${MARK}-slow-done\`, creates: '${MARK}-slow-done' }),
    ];
  },
  handlers: (ctx) => svcOf(ctx).handlers,
});
`,
  );
  return roles;
}

let claim: Claim;
let roles: string;
/** The second Alpine host runs the daemon under s6 when the fleet has s6. */
let s6Host: string | undefined;
const inventory = (conf: string) => {
  const names = claim.hosts.map((h) => h.name);
  const hostVars = s6Host ? { [s6Host]: { cairn_supervisor: 's6' } } : {};
  return fleetInventory({ hosts: names, groups: { g: { hosts: names, roles: ['svc'] } }, vars: { svc_conf: conf }, hostVars, rolesDir: roles }).file;
};
const label = (h: BedHost) => `${h.name} (${h.name === s6Host ? 's6' : h.kind.startsWith('debian') ? 'systemd' : 'openrc'})`;
/** What the daemon printed: its output log (OpenRC's supervise-daemon), the journal (systemd). */
const output = async (h: BedHost) =>
  (await sshRun(h, `if command -v journalctl >/dev/null; then journalctl -u ${NAME} --since @${since.get(h.name)} -o cat --no-pager 2>/dev/null; else cat ${LOG_DIR}/output.log ${LOG_DIR}/current 2>/dev/null; fi; :`)).stdout;
/** Per host: when this file started (the journal keeps earlier runs' lines; the log dir is removed). */
const since = new Map<string, number>();
/** How many times it started with `conf` (the journal may take a moment: polled up to 5 s for the count wanted). */
async function startsWith(h: BedHost, conf: string, want?: number): Promise<number> {
  let n = 0;
  for (let i = 0; i < 25; i++) {
    // s6-log puts a timestamp before each line
    n = (await output(h)).split('\n').filter((l) => l === `started with ${conf}` || l.endsWith(` started with ${conf}`)).length;
    if (want === undefined || n === want) return n;
    await new Promise((r) => setTimeout(r, 200));
  }
  return n;
}
/** Stop and remove the daemon (any supervisor), its files and the marks. */
const CLEAN =
  `if command -v systemctl >/dev/null; then systemctl disable --now ${NAME} 2>/dev/null; rm -f /etc/systemd/system/${NAME}.service; systemctl daemon-reload; ` +
  `else rc-service ${NAME} stop 2>/dev/null; rc-update del ${NAME} default 2>/dev/null; rm -f /etc/init.d/${NAME} /etc/conf.d/${NAME}; ` +
  // s6 (OpenRC's scan dir or a plain one): the supervisor exits and the link goes BEFORE the
  // service dir (a supervised dir removed underneath leaves s6-svscan unable to start others)
  `for scan in /run/openrc/s6-scan /run/service; do if [ -L $scan/${NAME} ]; then s6-svc -dx $scan/${NAME}/log 2>/dev/null; s6-svc -dx $scan/${NAME} 2>/dev/null; rm -f $scan/${NAME}; s6-svscanctl -an $scan 2>/dev/null; sleep 1; fi; done; rm -rf /etc/s6/sv/${NAME}; fi; ` +
  `rm -rf ${ETC} ${LOG_DIR} ${MARK}-*; :`;

test.before(async () => {
  const s6 = loadFleet().s6;
  claim = await claimHosts({ alpine: s6 ? 2 : 1, debian: 1 });
  s6Host = s6 ? claim.hosts.filter((h) => h.kind === 'alpine')[1]?.name : undefined;
  roles = rolesDir();
  await Promise.all(claim.hosts.map((h) => sshRun(h, CLEAN)));
  for (const h of claim.hosts) since.set(h.name, Number((await sshRun(h, 'date +%s')).stdout.trim()) + 1);
  await new Promise((r) => setTimeout(r, 1100));
});
test.after.always(async () => {
  if (claim) await Promise.all(claim.hosts.map((h) => sshRun(h, CLEAN)));
  claim?.release();
});

test.serial('a later step fails after the config changed: check exit 2 names the pending restart; the next apply restarts once, the daemon runs the new config; then changed=0', async (t) => {
  t.timeout(5 * 60_000);
  await Promise.all(claim.hosts.map((h) => sshRun(h, `touch ${MARK}-ok ${MARK}-fast`)));
  const first = await cairn(['apply', '-i', inventory('v1'), '--json']);
  t.is(first.code, 0, first.stdout.slice(0, 4000) + first.stderr);
  for (const h of claim.hosts) {
    t.is(await startsWith(h, 'v1', 1), 1, `${h.name}: started once with v1: ${await output(h)}`);
    t.is(jsonOf(first).hosts[h.name]!.ops.find((o) => o.id === 'service-restart'), undefined, `${h.name}: a fresh start is not restarted`);
  }

  // v2, and the gate fails: the run ends before the handler
  await Promise.all(claim.hosts.map((h) => sshRun(h, `rm -f ${MARK}-ok ${MARK}-gate-done`)));
  const inv2 = inventory('v2');
  const failed = await cairn(['apply', '-i', inv2, '--json']);
  t.is(failed.code, 1, failed.stdout.slice(0, 4000) + failed.stderr);
  for (const h of claim.hosts) {
    t.is((await sshRun(h, `cat ${ETC}/svc.conf`)).stdout, 'v2\n', `${h.name}: the config is written`);
    t.is(await startsWith(h, 'v2'), 0, `${h.name}: not restarted`);
  }
  const check = await cairn(['check', '-i', inv2, '--json']);
  t.is(check.code, 2, check.stdout.slice(0, 4000) + check.stderr);
  for (const h of claim.hosts) {
    const pending = jsonOf(check).hosts[h.name]!.ops.find((o) => o.id === `restart ${NAME}`);
    // the conf step notified it; running-current too (the process is older than the conf now)
    t.regex(pending?.reason ?? '', new RegExp(`^handler 'restart ${NAME}' is pending: notified by svc/conf\\b.* in an earlier run that did not run it$`), h.name);
  }

  await Promise.all(claim.hosts.map((h) => sshRun(h, `touch ${MARK}-ok`)));
  const fixed = await cairn(['apply', '-i', inv2, '--json']);
  t.is(fixed.code, 0, fixed.stdout.slice(0, 4000) + fixed.stderr);
  for (const h of claim.hosts) {
    const ops = jsonOf(fixed).hosts[h.name]!.ops;
    t.is(ops.filter((o) => o.id === 'service-restart' && o.status === 'changed').length, 1, `${h.name}: ${JSON.stringify(ops.filter((o) => o.status !== 'ok'))}`);
    t.is(await startsWith(h, 'v2', 1), 1, `${h.name}: the daemon runs v2: ${await output(h)}`);
  }
  const again = await cairn(['apply', '-i', inv2, '--json']);
  for (const h of claim.hosts) t.is(jsonOf(again).hosts[h.name]!.changed, 0, `${h.name}: ${JSON.stringify(jsonOf(again).hosts[h.name]!.ops.filter((o) => o.status !== 'ok'))}`);
  t.is((await cairn(['check', '-i', inv2])).code, 0);
});

test.serial('the controller killed with -9 after the config change and before the restart: the next apply restarts', async (t) => {
  t.timeout(5 * 60_000);
  await Promise.all(claim.hosts.map((h) => sshRun(h, `rm -f ${MARK}-fast ${MARK}-slow-done`)));
  const inv3 = inventory('v3');
  const p = spawn(process.execPath, [bin, 'apply', '-i', inv3], { env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  p.stdout.on('data', (d: Buffer) => (printed += d.toString()));
  p.stderr.on('data', (d: Buffer) => (printed += d.toString()));
  const closed = new Promise((r) => p.on('close', r));
  const written = async () => (await Promise.all(claim.hosts.map((h) => sshRun(h, `cat ${ETC}/svc.conf`)))).every((r) => r.stdout === 'v3\n');
  const deadline = Date.now() + 120_000;
  while (!(await written()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  t.true(await written(), 'the config was written on every host');
  t.is(p.exitCode, null, `the apply was still running (the slow step): ${printed}`);
  p.kill('SIGKILL');
  await closed;
  for (const h of claim.hosts) t.is(await startsWith(h, 'v3'), 0, `${h.name}: killed before the restart`);

  await Promise.all(claim.hosts.map((h) => sshRun(h, `touch ${MARK}-fast`)));
  const check = await cairn(['check', '-i', inv3]);
  t.is(check.code, 2, 'the restart is pending: drift');
  const next = await cairn(['apply', '-i', inv3, '--json']);
  t.is(next.code, 0, next.stdout.slice(0, 4000) + next.stderr);
  for (const h of claim.hosts) t.is(await startsWith(h, 'v3', 1), 1, `${h.name}: the restart was not lost: ${await output(h)}`);
  const again = await cairn(['apply', '-i', inv3, '--json']);
  for (const h of claim.hosts) t.is(jsonOf(again).hosts[h.name]!.changed, 0);
});

test.serial('running is not the same as written: a daemon older than its (unchanged) script is drift in check, restarted once by apply, then changed=0 (every supervisor)', async (t) => {
  t.timeout(5 * 60_000);
  await Promise.all(claim.hosts.map((h) => sshRun(h, `touch ${MARK}-ok ${MARK}-fast`)));
  const inv = inventory('v4');
  const first = await cairn(['apply', '-i', inv, '--json']);
  t.is(first.code, 0, first.stdout.slice(0, 4000) + first.stderr);
  t.is((await cairn(['check', '-i', inv])).code, 0, 'settled');
  const before = await Promise.all(claim.hosts.map((h) => startsWith(h, 'v4')));
  // a package upgrade, say: the same bytes, a newer file than the running process
  await new Promise((r) => setTimeout(r, 1100));
  await Promise.all(claim.hosts.map((h) => sshRun(h, `cp -p ${ETC}/run.sh ${ETC}/run.sh.new && touch ${ETC}/run.sh.new && mv ${ETC}/run.sh.new ${ETC}/run.sh`)));
  const check = await cairn(['check', '-i', inv, '--json']);
  t.is(check.code, 2, check.stdout.slice(0, 4000) + check.stderr);
  for (const h of claim.hosts) {
    const op = jsonOf(check).hosts[h.name]!.ops.find((o) => o.id === 'service-running-current');
    t.is(op?.status, 'changed', `${label(h)}: ${JSON.stringify(op)}`);
    t.regex(op?.reason ?? '', /run\.sh/, `${label(h)}: names the newer file`);
  }
  const apply = await cairn(['apply', '-i', inv, '--json']);
  t.is(apply.code, 0, apply.stdout.slice(0, 4000) + apply.stderr);
  for (const [i, h] of claim.hosts.entries()) {
    const ops = jsonOf(apply).hosts[h.name]!.ops;
    t.is(ops.filter((o) => o.id === 'service-restart' && o.status === 'changed').length, 1, `${label(h)}: ${JSON.stringify(ops.filter((o) => o.status !== 'ok'))}`);
    t.is(await startsWith(h, 'v4', before[i]! + 1), before[i]! + 1, `${label(h)}: started again: ${await output(h)}`);
  }
  const again = await cairn(['apply', '-i', inv, '--json']);
  for (const h of claim.hosts) t.is(jsonOf(again).hosts[h.name]!.changed, 0, `${label(h)}: ${JSON.stringify(jsonOf(again).hosts[h.name]!.ops.filter((o) => o.status !== 'ok'))}`);
});
