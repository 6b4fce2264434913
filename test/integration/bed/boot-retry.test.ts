/**
 * A host whose first boot does not reach ssh in time is powered off and booted once
 * more (CAIRN_BED_FAIL_FIRST_BOOT makes that first boot time out at once), and a systemd
 * host whose boot ends degraded has its failed units started once more (CAIRN_BED_FLAKY_UNIT
 * adds a unit that fails once per boot). A fleet of its own ('retry'), up and down again.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadFleet, sshRun } from '../../bed/fleet.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const FLEET = 'retry';

function bed(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', 'test/bed/cli.ts', ...args], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

test('a first boot that times out is retried once; a unit failed at boot is started again; the hosts then answer ssh', async (t) => {
  t.timeout(240_000);
  const up = await bed(['up', '--fleet', FLEET, '--alpine', '1', '--debian', '1', '--alpine-arm', '0', '--debian-arm', '0'], { CAIRN_BED_FAIL_FIRST_BOOT: 'alp1,deb1', CAIRN_BED_FLAKY_UNIT: 'deb1' });
  try {
    t.is(up.code, 0, up.out);
    for (const name of ['alp1', 'deb1']) {
      t.regex(up.out, new RegExp(`${name}: first boot failed, powering it off and booting it once more: ${name}: no ssh after 0 s`));
      t.regex(up.out, new RegExp(`\\n  ${name}\\s.*ssh after \\d+ ms \\(boot 2\\)`));
    }
    // deb1's unit failed at boot: the bed started it again, said so, and kept a note
    t.regex(up.out, /deb1: booted degraded, failed: cairn-bed-flaky\.service \(.*cairn-bed-flaky: failing once, as asked.*\); starting them again/);
    const fleet = loadFleet(FLEET);
    for (const h of fleet.hosts) {
      const r = await sshRun(h, h.init === 'openrc' ? 'cat /proc/1/comm' : 'cat /proc/1/comm; systemctl is-system-running; systemctl is-active cairn-bed-flaky');
      t.is(r.code, 0, r.stderr);
      t.deepEqual(r.stdout.trim().split('\n'), h.init === 'openrc' ? ['init'] : ['systemd', 'running', 'active'], `${h.name}: booted`);
    }
    const deb1 = fleet.hosts.find((h) => h.name === 'deb1')!;
    t.is(deb1.bootNotes.length, 2, deb1.bootNotes.join('\n'));
    t.regex(deb1.bootNotes[0]!, /^boot 2: /);
    t.regex(deb1.bootNotes[1]!, /^booted degraded: cairn-bed-flaky\.service failed .*; started again, now running$/);
  } finally {
    const down = await bed(['down', '--fleet', FLEET]);
    t.is(down.code, 0, down.out);
  }
  t.false(existsSync(`/run/netns/cairn-bed-${FLEET}-alp1`), 'netns gone');
});
