import { sh, type ShellCommand } from '../../shell/sh.ts';
import { probeOf, section, withoutTerminal } from '../kit.ts';
import type { Outcome, ServiceDriver, ServiceWant } from './driver.ts';

/** is-enabled states that `systemctl enable` cannot change (no [Install] section, generated, ...). */
const FIXED = new Set(['static', 'indirect', 'generated', 'transient', 'alias']);
const RUNNING = new Set(['active', 'reloading', 'activating']);

/**
 * systemd: `systemctl is-enabled` / `is-active` (is-enabled reads unit files, so it
 * works in a chroot for bake mode too). Enable + start in one `enable --now`.
 * When systemd holds an outdated copy of the unit (NeedDaemonReload=yes) a
 * daemon-reload runs before starting; a changed unit of a running service is
 * the daemonReload + restartService handlers' job.
 */
export function systemdDriver(name: string): ServiceDriver {
  const activeProbe = section('active', sh`systemctl is-active ${name} 2>/dev/null || :`);
  const systemctl = (args: string[]): ShellCommand => withoutTerminal(sh`systemctl ${args} ${name}`);
  return {
    probe(bake) {
      return probeOf(
        section('enabled', sh`systemctl is-enabled ${name} 2>/dev/null || :`),
        ...(bake ? [] : [activeProbe, section('need-reload', sh`systemctl show -p NeedDaemonReload --value ${name} 2>/dev/null || :`)]),
      );
    },
    plan(s, want: ServiceWant, bake, host): Outcome {
      const state = (s.get('enabled') ?? '').trim().split('\n')[0] ?? '';
      if (state === '' || state === 'not-found') {
        return { fail: `systemd unit ${name} not found on ${host}: install or write the unit file in an earlier step` };
      }
      if (state.startsWith('masked')) return { fail: `systemd unit ${name} is masked on ${host}: unmask it (systemctl unmask ${name}) or drop this step` };
      const what: string[] = [];
      const done: string[] = [];
      let enable: 'enable' | 'disable' | undefined;
      if (FIXED.has(state)) {
        if (want.enabled && state === 'static') {
          return { fail: `systemd unit ${name} is static on ${host} (no [Install] section): it cannot be enabled; add [Install] WantedBy=multi-user.target or set enabled: false` };
        }
        done.push(state);
      } else {
        const enabled = state === 'enabled';
        if (want.enabled !== enabled) enable = want.enabled ? 'enable' : 'disable';
        else done.push(state);
      }
      if (bake) {
        return { cmds: enable ? [sh`systemctl ${enable} ${name}`] : [], what: enable ? [enable] : [], done };
      }
      const active = (s.get('active') ?? '').trim();
      const running = RUNNING.has(active);
      const cmds: ShellCommand[] = [];
      const start = want.state === 'started' && !running;
      const stop = want.state === 'stopped' && running;
      if (start && s.get('need-reload')?.trim() === 'yes') {
        cmds.push(sh`systemctl daemon-reload`);
        what.push('daemon-reload');
      }
      if (start && active === 'failed') cmds.push(sh`systemctl reset-failed ${name}`);
      if (enable === 'enable' && start) {
        cmds.push(systemctl(['enable', '--now']));
        what.push('enable', 'start');
      } else if (enable === 'disable' && stop) {
        cmds.push(systemctl(['disable', '--now']));
        what.push('disable', 'stop');
      } else {
        if (enable) {
          cmds.push(sh`systemctl ${enable} ${name}`);
          what.push(enable);
        }
        if (start) {
          cmds.push(systemctl(['start']));
          what.push(active === 'failed' ? 'start (was failed)' : 'start');
        }
        if (stop) {
          cmds.push(systemctl(['stop']));
          what.push('stop');
        }
      }
      if (!start && !stop) done.push(active || 'unknown');
      return { cmds, what, done, starts: start };
    },
    restartProbe: () => activeProbe,
    restartPlan(s): Outcome {
      const active = (s.get('active') ?? '').trim();
      if (!RUNNING.has(active)) return { cmds: [], what: [], done: [`${active || 'not running'}: not restarted`] };
      return { cmds: [systemctl(['restart'])], what: ['restart'], done: [] };
    },
  };
}
