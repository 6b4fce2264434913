import { sh, joinCommands, type ShellCommand } from '../../shell/sh.ts';
import { probeOf, section, withoutTerminal } from '../kit.ts';
import type { Outcome, ServiceDriver, ServiceWant } from './driver.ts';

/** `rc-service NAME status` exit codes (openrc-run.sh `_status`). */
type RcStatus = 'started' | 'stopped' | 'stopping' | 'starting' | 'inactive' | 'crashed';
const STATUS_CODES: Record<string, RcStatus> = { '0': 'started', '3': 'stopped', '4': 'stopping', '8': 'starting', '16': 'inactive', '32': 'crashed' };

/**
 * Read the status sections. Under OpenRC's own s6 integration (supervisor=s6)
 * `status` prints s6-svstat's line and exits 0 even when the service is down, so
 * a `down` line counts as stopped; a link in s6-scan that no s6-supervise watches
 * (its service directory was removed, or s6-svscan was restarted) makes s6-svstat
 * fail, and that counts as stopped too: `rc-service start` links it again.
 */
export function rcStatus(sections: Map<string, string>): RcStatus | { error: string } {
  const code = sections.get('status-exit')?.trim() ?? '';
  const out = sections.get('status-out')?.trim() ?? '';
  const limit = sections.get('status-timeout')?.trim();
  if (limit) {
    return { error: `rc-service status did not answer within ${limit} s${out ? ` (it printed: ${out})` : ''}: another openrc-run may hold the service's lock (ps -o pid,args | grep openrc-run); stop it or run again once it is done` };
  }
  if (code === '1' && /^s6-svstat: fatal: .*s6-supervise not running$/.test(out)) return 'stopped';
  const status = STATUS_CODES[code];
  if (!status) return { error: `rc-service status exited ${code || '(no exit code)'}${out ? `: ${out}` : ''}` };
  if (status === 'started' && /^down\b/.test(out)) return 'stopped';
  return status;
}

/** How long `rc-service NAME status` may take before the probe gives up on it. */
export const STATUS_TIMEOUT_S = 20;

/**
 * `rc-service NAME status` under `timeout` (busybox's exits 143 on SIGTERM,
 * coreutils' 124; busybox before 1.30, e.g. Alpine 3.7, spells it `timeout -t SECS`) so a status that waits on a lock held by another openrc-run
 * ends the probe with a reason instead of hanging the run; its output goes to a
 * file, not a pipe, so a child it leaves behind cannot keep the probe open.
 */
export function rcStatusProbe(name: string, limitS = STATUS_TIMEOUT_S): ShellCommand {
  return sh`f=$(mktemp) || f=/dev/null; tl=
if timeout 5 true 2>/dev/null; then tl=${String(limitS)}; timeout "$tl" rc-service ${name} status >"$f" 2>&1 </dev/null; c=$?
elif timeout -t 5 true 2>/dev/null; then tl=${String(limitS)}; timeout -t "$tl" rc-service ${name} status >"$f" 2>&1 </dev/null; c=$?
else rc-service ${name} status >"$f" 2>&1 </dev/null; c=$?; fi
${section('status-out', sh`cat "$f"`)}
${section('status-exit', sh`echo "$c"`)}
if [ -n "$tl" ] && { [ "$c" = 124 ] || [ "$c" = 143 ]; }; then ${section('status-timeout', sh`echo "$tl"`)}
fi
[ "$f" = /dev/null ] || rm -f "$f"`;
}

/**
 * OpenRC: enabled = the runlevel symlink /etc/runlevels/<runlevel>/<name> (what
 * `rc-update show` lists); state from `rc-service NAME status`. Live changes use
 * rc-update / rc-service; bake mode links the runlevel directly (rc-update in a
 * chroot needs /proc, and OpenRC 0.24's segfaults without it) and never starts.
 * rc-service start/stop/restart run without a terminal (see withoutTerminal).
 */
export function openrcDriver(name: string, runlevel: string, statusLimitS = STATUS_TIMEOUT_S): ServiceDriver {
  const script = `/etc/init.d/${name}`;
  const link = `/etc/runlevels/${runlevel}/${name}`;
  const statusProbe = rcStatusProbe(name, statusLimitS);
  const rc = (action: string): ShellCommand => withoutTerminal(sh`rc-service ${name} ${action}`);

  return {
    probe(bake) {
      return probeOf(
        sh`if [ -f ${script} ]; then ${section('script', sh`echo yes`)}
fi`,
        sh`if [ -L ${link} ]; then ${section('enabled', sh`echo yes`)}
fi`,
        ...(bake ? [] : [statusProbe]),
      );
    },
    plan(s, want: ServiceWant, bake, host): Outcome {
      if (!s.has('script')) return { fail: `no init script ${script} on ${host}: install the package that ships it or write it in an earlier step` };
      const cmds: ShellCommand[] = [];
      const what: string[] = [];
      const done: string[] = [];
      const enabled = s.has('enabled');
      if (want.enabled && !enabled) {
        cmds.push(bake ? joinCommands([sh`mkdir -p ${`/etc/runlevels/${runlevel}`}`, sh`ln -sfn ${script} ${link}`], '&&') : sh`rc-update add ${name} ${runlevel}`);
        what.push(`enable in runlevel ${runlevel}`);
      } else if (!want.enabled && enabled) {
        cmds.push(bake ? sh`rm -f ${link}` : sh`rc-update del ${name} ${runlevel}`);
        what.push(`disable in runlevel ${runlevel}`);
      } else {
        done.push(enabled ? `enabled in ${runlevel}` : `not in ${runlevel}`);
      }
      let starts = false;
      if (!bake) {
        const st = rcStatus(s);
        if (typeof st === 'object') return { fail: `cannot read the state of ${name} on ${host}: ${st.error}` };
        if (want.state === 'started') {
          if (st === 'stopped') {
            cmds.push(rc('start'));
            what.push('start');
            starts = true;
          } else if (st === 'crashed') {
            cmds.push(sh`rc-service ${name} zap >/dev/null`, rc('start'));
            what.push('start (was crashed)');
            starts = true;
          } else if (st === 'stopping') {
            return { fail: `${name} is stopping on ${host}; run again once it has stopped` };
          } else {
            done.push(st === 'started' ? 'running' : st);
          }
        } else if (st === 'started' || st === 'starting' || st === 'inactive') {
          cmds.push(rc('stop'));
          what.push('stop');
        } else if (st === 'crashed') {
          cmds.push(sh`rc-service ${name} zap >/dev/null`);
          what.push('mark stopped (was crashed)');
        } else {
          done.push(st);
        }
      }
      return { cmds, what, done, starts };
    },
    restartProbe: () => statusProbe,
    restartPlan(s, host): Outcome {
      const st = rcStatus(s);
      if (typeof st === 'object') return { fail: `cannot read the state of ${name} on ${host}: ${st.error}` };
      if (st !== 'started') return { cmds: [], what: [], done: [`${st}: not restarted`] };
      return { cmds: [rc('restart')], what: ['restart'], done: [] };
    },
  };
}
