import { sh, joinCommands, type ShellCommand } from '../../shell/sh.ts';
import { probeOf, section } from '../kit.ts';
import type { Outcome, ServiceDriver, ServiceWant } from './driver.ts';

export interface S6Options {
  /** The service directory (run, finish, log/...) written by an earlier step. */
  readonly serviceDir: string;
  /**
   * The directory s6-svscan watches. Enabled = a symlink here to serviceDir.
   * Default /run/service (s6-overlay, s6-linux-init). Under OpenRC's s6 support
   * it is /run/openrc/s6-scan, but there OpenRC owns the links (use the openrc
   * supervisor with an init script saying supervisor=s6). A scan directory on
   * tmpfs does not keep the link across reboots: choose the one your boot
   * populates.
   */
  readonly scanDir: string;
}

type Svstat = 'up' | 'down' | 'unsupervised';

/** First word of `s6-svstat`: `up (pid 12) 3 seconds` / `down (exitcode 0) ...`; anything else (fatal: ...) = not supervised. */
export function parseSvstat(text: string | undefined): Svstat {
  const line = (text ?? '').trim();
  if (/^up\b/.test(line)) return 'up';
  if (/^down\b/.test(line)) return 'down';
  return 'unsupervised';
}

/**
 * s6: enabled = symlink scanDir/<name> -> serviceDir, then `s6-svscanctl -a` so the
 * scanner picks it up; state from `s6-svstat`, changed with `s6-svc -u / -d`.
 * A service without the link cannot run, so enabled: false + started is refused.
 * Bake mode: the link only.
 */
export function s6Driver(name: string, opts: S6Options): ServiceDriver {
  const { serviceDir, scanDir } = opts;
  const link = `${scanDir}/${name}`;
  const svstatProbe = section('svstat', sh`s6-svstat ${link} 2>&1 || :`);
  const waitSupervised = sh`i=0; until s6-svok ${link}; do i=$((i+1)); if [ "$i" -gt 10 ]; then echo ${`cairn: no s6-supervise for ${link} after 10 s: is s6-svscan running on ${scanDir}?`} >&2; exit 1; fi; sleep 1; done`;
  return {
    probe(bake) {
      return probeOf(
        sh`if [ -d ${serviceDir} ]; then ${section('servicedir', sh`echo yes`)}
fi`,
        sh`if [ -L ${link} ]; then ${section('link', sh`readlink ${link}`)}
elif [ -e ${link} ]; then ${section('not-a-link', sh`echo yes`)}
fi`,
        ...(bake ? [] : [svstatProbe]),
      );
    },
    plan(s, want: ServiceWant, bake, host): Outcome {
      if (!want.enabled && want.state === 'started') {
        return { fail: `s6 service ${name}: a service without its link in ${scanDir} cannot run; use enabled: true, or state: stopped` };
      }
      if (!s.has('servicedir')) return { fail: `s6 service directory ${serviceDir} does not exist on ${host}: write it (run script) in an earlier step` };
      if (s.has('not-a-link')) return { fail: `${link} on ${host} exists but is not a symlink: remove it or pick another scanDir` };
      const linked = s.get('link')?.trim() === serviceDir;
      const cmds: ShellCommand[] = [];
      const what: string[] = [];
      const done: string[] = [];
      if (want.enabled && !linked) {
        cmds.push(joinCommands([sh`mkdir -p ${scanDir}`, sh`ln -sfn ${serviceDir} ${link}`], '&&'));
        if (!bake) cmds.push(sh`s6-svscanctl -a ${scanDir}`, waitSupervised);
        what.push(s.has('link') ? `relink ${link} -> ${serviceDir}` : `link ${link}`);
      } else if (!want.enabled && s.has('link')) {
        if (!bake) cmds.push(sh`if s6-svok ${link}; then s6-svc -dx ${link}; fi`);
        cmds.push(sh`rm -f ${link}`);
        if (!bake) cmds.push(sh`s6-svscanctl -an ${scanDir}`);
        what.push(`unlink ${link}`);
        return { cmds, what, done };
      } else {
        done.push(linked ? `linked in ${scanDir}` : `not in ${scanDir}`);
      }
      if (bake || !want.enabled) return { cmds, what, done };
      // a freshly linked service is started by s6-supervise unless its dir has a `down` file
      const st = linked ? parseSvstat(s.get('svstat')) : 'unsupervised';
      if (want.state === 'started' && st !== 'up') {
        if (st === 'unsupervised' && linked) cmds.push(sh`s6-svscanctl -a ${scanDir}`, waitSupervised);
        cmds.push(sh`s6-svc -u ${link}`);
        what.push('start');
        return { cmds, what, done, starts: true };
      } else if (want.state === 'stopped' && st !== 'down') {
        if (st === 'unsupervised' && linked) cmds.push(sh`s6-svscanctl -a ${scanDir}`, waitSupervised);
        cmds.push(sh`s6-svc -d ${link}`);
        what.push('stop');
      } else {
        done.push(st);
      }
      return { cmds, what, done };
    },
    restartProbe: () => svstatProbe,
    restartPlan(s): Outcome {
      const st = parseSvstat(s.get('svstat'));
      if (st !== 'up') return { cmds: [], what: [], done: [`${st}: not restarted`] };
      return { cmds: [sh`s6-svc -r ${link}`], what: ['restart'], done: [] };
    },
  };
}
