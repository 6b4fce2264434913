/**
 * A host whose first boot does not reach ssh in time is powered off and booted once
 * more (CAIRN_BED_FAIL_FIRST_BOOT makes that first boot time out at once). A fleet of
 * its own ('retry'), one Alpine and one Debian host, up and down again.
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

test('a first boot that times out is retried once; the hosts then answer ssh', async (t) => {
  t.timeout(240_000);
  const up = await bed(['up', '--fleet', FLEET, '--alpine', '1', '--debian', '1'], { CAIRN_BED_FAIL_FIRST_BOOT: 'alp1,deb1' });
  try {
    t.is(up.code, 0, up.out);
    for (const name of ['alp1', 'deb1']) {
      t.regex(up.out, new RegExp(`${name}: first boot failed, powering it off and booting it once more: ${name}: no ssh after 0 s`));
      t.regex(up.out, new RegExp(`\\n  ${name}\\s.*ssh after \\d+ ms \\(boot 2\\)`));
    }
    const fleet = loadFleet(FLEET);
    for (const h of fleet.hosts) {
      const r = await sshRun(h, 'cat /proc/1/comm');
      t.is(r.code, 0, r.stderr);
      t.is(r.stdout.trim(), h.init === 'openrc' ? 'init' : 'systemd', `${h.name}: booted`);
    }
  } finally {
    const down = await bed(['down', '--fleet', FLEET]);
    t.is(down.code, 0, down.out);
  }
  t.false(existsSync(`/run/netns/cairn-bed-${FLEET}-alp1`), 'netns gone');
});
