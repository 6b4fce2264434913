import { sh } from '../../src/shell/sh.ts';
import { run } from './exec.ts';
import type { HostState, StateWriter } from './state.ts';

/**
 * A systemd host is up when its boot has finished, not when sshd answers. Units that
 * fail at boot for the machine's sake, not the host's (seen in CI: the utmp runlevel
 * record, and systemd-sysctl with 219/CGROUP while many containers boot at once), are
 * started once more, and that is logged and kept in the state (`bootNotes`, printed by
 * the smoke test). A host still not `running` after that failed its boot.
 */
export async function settleSystemd(w: StateWriter, h: HostState, timeoutSec: number, log: (m: string) => void): Promise<void> {
  const ssh = async (cmd: string, timeoutMs = 30_000) =>
    (await run(['ssh', '-F', w.state.files.sshConfig, h.name, cmd], { allowFail: true, timeoutMs })).stdout.trim();
  const state = await ssh(sh`timeout ${String(timeoutSec)} systemctl is-system-running --wait`.text, (timeoutSec + 10) * 1000);
  if (state === 'running') return;
  const failed = (await ssh(`systemctl --failed --no-legend --plain | awk '{print $1}'`)).split('\n').filter(Boolean);
  if (state !== 'degraded' || failed.length === 0) throw new Error(`${h.name}: systemd says '${state}' after boot (no failed unit to start again)`);
  const why = (await ssh(sh`journalctl -b --no-pager -o cat -n 4 ${failed.flatMap((u) => ['-u', u])}`.text)).split('\n').join(' | ');
  log(`${h.name}: booted degraded, failed: ${failed.join(', ')} (${why}); starting them again`);
  await ssh(sh`systemctl reset-failed; systemctl start ${failed}`.text, 90_000);
  const again = await ssh('systemctl is-system-running');
  if (again !== 'running') throw new Error(`${h.name}: still '${again}' after starting ${failed.join(', ')} again`);
  await w.update(() => {
    h.bootNotes = [...(h.bootNotes ?? []), `booted degraded: ${failed.join(', ')} failed (${why}); started again, now running`];
  });
}
