import { sh } from '../shell/sh.ts';
import { change, noop, type Operation } from '../operations/operation.ts';

/** What an OpenRC init script of ours says after `supervisor=`. */
export type OpenrcSupervisor = 'supervise-daemon' | 's6';

/**
 * Probe output: the script's supervisor= line (may be empty), then OpenRC's state of the
 * service from its state directories (/run/openrc/started/<name>, ...; empty = stopped):
 * `rc-service status` prints s6-svstat's words for an s6 service, not a state.
 */
export function parseHandoverProbe(stdout: string): { script: boolean; supervisor: string; status: string } {
  const lines = stdout.split('\n');
  if (lines[0] !== 'script') return { script: false, supervisor: '', status: '' };
  return { script: true, supervisor: (lines[1] ?? '').trim(), status: (lines[2] ?? '').trim() };
}

/**
 * Moving a running OpenRC service between supervise-daemon and s6 (cairn_supervisor):
 * the new init script cannot stop what the old one started (its stop asks the other
 * supervisor), so the old script stops it before the new files are written; the
 * service step then starts it under the new supervisor. Nothing to do on a first
 * install, when the script already names the wanted supervisor, when the service is
 * stopped, or in bake mode (nothing runs in an image).
 */
export function openrcHandover(id: string, name: string, want: OpenrcSupervisor): Operation {
  const script = `/etc/init.d/${name}`;
  return {
    kind: 'service-handover',
    id,
    probe: (ctx) =>
      ctx.bake
        ? undefined
        : sh`if [ -f ${script} ]; then printf '%s\n' script "$(sed -n 's/^supervisor=//p' ${script} | tail -n 1)" "$(for d in started starting inactive; do if [ -e /run/openrc/"$d"/${name} ]; then echo "$d"; break; fi; done)"; fi`,
    plan(p) {
      const s = parseHandoverProbe(p?.stdout ?? '');
      if (!s.script) return noop(`no ${script} yet`);
      const was = s.supervisor || 'none (OpenRC start-stop-daemon)';
      if (s.supervisor === want) return noop(`${script} already uses ${want}`);
      if (s.status === '' || s.status === 'stopped') return noop(`${name} is stopped: nothing to hand over from ${was} to ${want}`);
      const stop = sh`rc-service ${name} stop`;
      // OpenRC's s6 stop leaves the link and a down s6-supervise behind: take both away
      const link = `/run/openrc/s6-scan/${name}`;
      const unlink = sh`if [ -L ${link} ]; then rm -f ${link}; s6-svscanctl -an /run/openrc/s6-scan; fi`;
      return change(`stop ${name} (${s.status}) under ${was} before it moves to ${want}`, s.supervisor === 's6' ? [stop, unlink] : [stop]);
    },
  };
}
