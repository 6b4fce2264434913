import { sh, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { change, fail, noop, warn, type OpContext, type Operation, type PathEffect, type Plan } from './operation.ts';
import { paramError, paramNames, parseSections, probeOf, section } from './kit.ts';
import { checkTarget, type ServiceTarget, type Supervisor } from './service.ts';
import { rcStatus } from './service/openrc.ts';
import { parseSvstat } from './service/s6.ts';

/**
 * "Running is not the same as written": a supervised daemon that started before
 * its binary or one of its configuration files last changed runs something else
 * than what is on disk. This step finds the service's main process through its
 * supervisor, compares when it started with the files' modification times and,
 * when one is newer, restarts it (through the restart handler, or directly).
 */
export interface RunningCurrentParams extends ServiceTarget {
  /**
   * What the process runs: its binary, its configuration files. A directory counts
   * with the entries directly in it (a daemon reading a config dir). Missing paths
   * are ignored. Absolute paths.
   */
  readonly files: readonly string[];
  /**
   * `handler`: the change notifies the handlers in `notify` (the service's restart
   * handler, with its gates and waits). `direct`: the change restarts the service
   * itself through its supervisor, right here (e.g. before a later step uses it).
   */
  readonly restart: 'handler' | 'direct';
  /** OpenRC services not under supervise-daemon or s6: the daemon's pid file (default: the one OpenRC recorded). */
  readonly pidfile?: string;
}

const KIND = 'runningCurrent';
const PATH = /^\/[A-Za-z0-9_.\/+@-]+$/;
const PARAMS = paramNames<RunningCurrentParams>({
  id: true,
  name: true,
  supervisor: true,
  runlevel: true,
  scanDir: true,
  serviceDir: true,
  notify: true,
  files: true,
  restart: true,
  pidfile: true,
});

/** A time as the probe read it: seconds since the epoch, and whether it has a fraction (busybox < 1.30 stat prints none). */
export interface Stamp {
  readonly seconds: number;
  readonly precise: boolean;
}

/** One line of `stat -L -c '%Y %y %n'`: whole seconds, then the human time (with nanoseconds where stat has them), then the path. */
const STAT_LINE = /^(\d+) \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.(\d+))? [+-]\d{4} (.+)$/;

/** `%Y %y` as a Stamp: the fraction comes from %y (zero fraction: coarse, as busybox 1.27 prints it). */
export function parseStamp(whole: string, fraction: string | undefined): Stamp {
  const frac = fraction && /[1-9]/.test(fraction) ? Number(`0.${fraction}`) : 0;
  return { seconds: Number(whole) + frac, precise: frac !== 0 };
}

/** The files' modification times from `stat -L -c '%Y %y %n'` lines (other lines are ignored). */
export function parseFileTimes(text: string | undefined): { path: string; mtime: Stamp }[] {
  const out: { path: string; mtime: Stamp }[] = [];
  const seen = new Set<string>();
  for (const line of (text ?? '').split('\n')) {
    const m = STAT_LINE.exec(line);
    if (!m || seen.has(m[3]!)) continue;
    seen.add(m[3]!);
    out.push({ path: m[3]!, mtime: parseStamp(m[1]!, m[2]) });
  }
  return out;
}

/**
 * The probe's clock lines: `/proc/uptime`'s first field, CLK_TCK, then the
 * `%Y %y` of a file created right after uptime was read (the wall clock, with
 * the precision file times have).
 */
export function parseClock(text: string | undefined): { uptime: number; hz: number; now: Stamp } | undefined {
  const [up, hz, now] = (text ?? '').split('\n').map((l) => l.trim());
  const uptime = Number(up);
  const ticks = Number(hz);
  const m = /^(\d+)(?: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.(\d+))? [+-]\d{4})?/.exec(now ?? '');
  if (!up || !Number.isFinite(uptime) || !Number.isInteger(ticks) || ticks <= 0 || !m) return undefined;
  return { uptime, hz: ticks, now: parseStamp(m[1]!, m[2]) };
}

/**
 * Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since
 * boot. The command name (field 2) is in parentheses and may hold spaces and
 * parentheses itself: fields are counted after the LAST `)`.
 */
export function parseProcStart(stat: string | undefined): number | undefined {
  const line = (stat ?? '').trim();
  const close = line.lastIndexOf(')');
  if (close < 0) return undefined;
  // after ") ": field 3 (state) is index 0, so field 22 is index 19
  const v = line.slice(close + 1).trim().split(/\s+/)[19];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** What the probe found. */
export type Running =
  | { readonly kind: 'not-running'; readonly detail: string }
  | { readonly kind: 'unknown'; readonly detail: string }
  | {
      readonly kind: 'running';
      readonly pid: number;
      readonly from: string;
      /** Start, seconds since the epoch. */
      readonly started: number;
      readonly exe: string | undefined;
      readonly now: Stamp;
      /** How far apart two times must be to be told apart (the clocks' precision). */
      readonly slack: number;
      readonly files: readonly { path: string; mtime: Stamp }[];
    };

const RUNNING_UNITS = new Set(['active', 'reloading', 'activating']);

/** Is the service up, as its supervisor says (the sections of the driver's restart probe)? */
export function supervisorState(supervisor: Supervisor, s: Map<string, string>): { up: true } | { up: false; detail: string } {
  if (supervisor === 'openrc') {
    const st = rcStatus(s);
    if (typeof st === 'object') return { up: false, detail: st.error };
    return st === 'started' ? { up: true } : { up: false, detail: st };
  }
  if (supervisor === 's6') {
    const st = parseSvstat(s.get('svstat'));
    return st === 'up' ? { up: true } : { up: false, detail: st };
  }
  const active = (s.get('active') ?? '').trim();
  return RUNNING_UNITS.has(active) ? { up: true } : { up: false, detail: active || 'not running' };
}

/** Read the probe sections (pure). */
export function readRunning(supervisor: Supervisor, s: Map<string, string>): Running {
  const state = supervisorState(supervisor, s);
  if (!state.up) return { kind: 'not-running', detail: state.detail };
  const pid = Number(s.get('pid')?.trim());
  const from = s.get('pid-from')?.trim() || 'the supervisor';
  if (!Number.isInteger(pid) || pid <= 1) return { kind: 'unknown', detail: `its main process was not found (${s.get('pid-tried')?.trim() || 'no pid from the supervisor'})` };
  const ticks = parseProcStart(s.get('stat'));
  // gone between the supervisor's answer and the read (a crash, a respawn): nothing old runs
  if (ticks === undefined) return { kind: 'not-running', detail: `pid ${pid} (from ${from}) is gone` };
  const clock = parseClock(s.get('clock'));
  if (!clock) return { kind: 'unknown', detail: `the host's clock could not be read (${JSON.stringify(s.get('clock') ?? '')})` };
  // boot time as of now (wall clock - uptime): both read within a few ms. /proc/stat btime
  // would do as well but only has whole seconds.
  const started = clock.now.seconds - clock.uptime + ticks / clock.hz;
  // the errors that make a process look older than it is: tick and jiffy rounding (< 20 ms),
  // or a whole second when the wall clock has no fraction (busybox stat < 1.30)
  const slack = clock.now.precise ? 0.1 : 1.1;
  const exe = s.get('exe')?.trim() || undefined;
  return { kind: 'running', pid, from, started, exe, now: clock.now, slack, files: parseFileTimes(s.get('files')) };
}

/** A time for a reason: UTC, to the second. */
export function when(seconds: number): string {
  return new Date(Math.floor(seconds) * 1000).toISOString().replace('.000Z', 'Z');
}

/** What to do about it (pure): undefined = nothing; else why the process must restart, or a warning. */
export function staleness(name: string, r: Running): { restart: string } | { warn: string } | { ok: string } {
  if (r.kind === 'not-running') return { ok: `${name} is not running (${r.detail}): nothing old runs` };
  if (r.kind === 'unknown') return { warn: `cannot tell whether ${name} runs its current files: ${r.detail}` };
  const at = `pid ${r.pid}, started ${when(r.started)}`;
  if (r.exe?.endsWith(' (deleted)')) return { restart: `${name} (${at}) executes ${r.exe.slice(0, -' (deleted)'.length)}, deleted or replaced since it started` };
  const future = r.files.filter((f) => f.mtime.seconds > r.now.seconds + 2);
  if (future.length) {
    const f = future[0]!;
    return {
      warn: `${f.path} was modified ${when(f.mtime.seconds)}, after the host's time now (${when(r.now.seconds)}): the clock was set back; a restart would not help. Touch the file once the clock is right`,
    };
  }
  const newer = r.files.filter((f) => f.mtime.seconds > r.started + r.slack).sort((a, b) => b.mtime.seconds - a.mtime.seconds);
  if (newer.length) {
    const f = newer[0]!;
    const more = newer.length > 1 ? ` (and ${newer.length - 1} more: ${newer.slice(1, 4).map((x) => x.path).join(', ')}${newer.length > 4 ? ', ...' : ''})` : '';
    return { restart: `${name} (${at}) started before ${f.path} changed (${when(f.mtime.seconds)})${more}` };
  }
  const newest = [...r.files].sort((a, b) => b.mtime.seconds - a.mtime.seconds)[0];
  return { ok: `${name} (${at}) started after ${newest ? `its files last changed (${newest.path}, ${when(newest.mtime.seconds)})` : 'its files were written (none of them exists)'}` };
}

/** `stat -L -c '%Y %y %n'` of each path; a directory with the entries directly in it. */
export function fileTimesProbe(files: readonly string[]): ShellCommand {
  const st = sh`stat -L -c '%Y %y %n'`;
  return sh`for f in ${files}; do if [ -d "$f" ]; then for g in "$f" "$f"/*; do if [ -e "$g" ]; then ${st} "$g" 2>/dev/null || :; fi; done; elif [ -e "$f" ]; then ${st} "$f" 2>/dev/null || :; fi; done`;
}

/** Uptime, CLK_TCK and the wall clock (a new file's times), read in that order (see readRunning). */
export const CLOCK_PROBE: ShellCommand = sh`read -r up _ </proc/uptime; echo "$up"; getconf CLK_TCK 2>/dev/null || echo 100
t=$(mktemp 2>/dev/null) && { stat -c '%Y %y' "$t"; rm -f "$t"; } || date +%s`;

/**
 * The main pid, as each supervisor knows it, into `$pid` (and `$from`, `$tried`).
 * OpenRC: supervise-daemon's child_pid (OpenRC >= 0.35 records it), OpenRC's s6
 * (s6-svstat of its scan dir), then the pid file (the one given, else the one
 * OpenRC recorded); a pid file naming supervise-daemon itself leads to its child.
 */
export function mainPidProbe(supervisor: Supervisor, name: string, opts: { scanDir: string; pidfile?: string }): ShellCommand {
  const svstatPid = (dir: string) => sh`s6-svstat ${dir} 2>/dev/null | sed -n 's/^up (pid \\([0-9]*\\).*/\\1/p'`;
  if (supervisor === 'systemd') {
    // without --value: systemd < 230 has no such option
    return sh`pid=$(systemctl show -p MainPID ${name} 2>/dev/null | sed -n 's/^MainPID=//p'); from='systemd MainPID'; tried='systemctl show -p MainPID'`;
  }
  if (supervisor === 's6') {
    const link = `${opts.scanDir}/${name}`;
    return sh`pid=$(${svstatPid(link)}); from=${`s6-svstat ${link}`}; tried=${`s6-svstat ${link}`}`;
  }
  const given = opts.pidfile ? sh`pf=${opts.pidfile}` : sh`pf=`;
  return sh`rc=/run/openrc; [ -d "$rc" ] || rc=/lib/rc/init.d
pid=$(cat "$rc/options/"${name}/child_pid 2>/dev/null); from='supervise-daemon child_pid'; tried='child_pid'
if [ -z "$pid" ]; then pid=$(${svstatPid(`/run/openrc/s6-scan/${name}`)}); from='s6-svstat (OpenRC s6)'; tried="$tried, s6-svstat"; fi
if [ -z "$pid" ]; then ${given}
  [ -n "$pf" ] || pf=$(cat "$rc/options/"${name}/pidfile 2>/dev/null)
  [ -n "$pf" ] || pf=$(sed -n 's/^pidfile=//p' "$rc/daemons/"${name}/* 2>/dev/null | head -n 1)
  tried="$tried, pid file \${pf:-(none recorded)}"
  if [ -n "$pf" ] && [ -r "$pf" ]; then pid=$(head -n 1 "$pf" | tr -dc 0-9); from="pid file $pf"; fi
  # comm holds 15 characters: supervise-daemo
  if [ -n "$pid" ] && [ "$(cat /proc/$pid/comm 2>/dev/null)" = supervise-daemo ]; then
    sup=$pid; pid=
    for s in /proc/[0-9]*/stat; do l=$(cat "$s" 2>/dev/null) || continue; r=\${l##*) }; set -- $r
      if [ "$2" = "$sup" ]; then pid=\${l%% *}; from="child of supervise-daemon $sup ($pf)"; break; fi
    done
  fi
fi`;
}

/**
 * A step that restarts a service whose running process started before its binary
 * or a configuration file last changed (or executes a binary deleted since): drift
 * in check, a restart in apply (the handlers in `notify`, or the supervisor
 * directly). A service that is not running is left to the service step.
 *
 * barrier: an earlier step of the same run that rewrites a file is applied first,
 * so the probe sees its new time; the restart it notifies already is the one this
 * step notifies (handlers run once). In check, a file an earlier step would write
 * (`paths`) counts as changed now. Bake mode: nothing (nothing runs).
 *
 * @example
 * runningCurrent({ id: 'app-current', name: 'app', files: ['/usr/local/bin/app', '/etc/app.conf'], restart: 'handler', notify: ['restart app'] })
 */
export function runningCurrent(params: RunningCurrentParams): Operation {
  const { id, scanDir, drivers } = checkTarget(KIND, params, PARAMS);
  if (!Array.isArray(params.files) || params.files.some((f) => typeof f !== 'string' || !PATH.test(f))) {
    throw paramError(KIND, id, 'files', `must be a list of absolute paths, got ${JSON.stringify(params.files)}`, 'e.g. files: [/usr/local/bin/nomad, /etc/nomad.d]');
  }
  if (params.restart !== 'handler' && params.restart !== 'direct') throw paramError(KIND, id, 'restart', `must be 'handler' or 'direct', got ${JSON.stringify(params.restart)}`, "restart: 'handler' notifies the restart handler");
  if (params.restart === 'handler' && !params.notify?.length) throw paramError(KIND, id, 'notify', 'restart: handler needs the handler to notify', "e.g. notify: ['restart nomad']");
  if (params.pidfile !== undefined && (typeof params.pidfile !== 'string' || !PATH.test(params.pidfile))) throw paramError(KIND, id, 'pidfile', `must be an absolute path, got ${JSON.stringify(params.pidfile)}`, 'e.g. pidfile: /run/unbound.pid');
  const files = [...new Set(params.files.map((f) => f.replace(/(.)\/+$/, '$1')))];
  const name = params.name;

  const decide = (probe: CommandResult | undefined, ctx: OpContext, written: readonly string[]): Plan => {
    if (ctx.bake) return noop(`${name}: bake mode, nothing runs`);
    const d = drivers(ctx.facts);
    if ('error' in d) return fail(d.error);
    if (!probe) return fail(`${KIND} ${name}: no probe result`);
    const s = parseSections(probe.stdout);
    const r = readRunning(d.supervisor, s);
    const verdict =
      written.length && r.kind === 'running'
        ? { restart: `${name} (pid ${r.pid}, started ${when(r.started)}) runs ${written.join(', ')} as it was before an earlier step of this run writes ${written.length > 1 ? 'them' : 'it'}` }
        : staleness(name, r);
    if ('ok' in verdict) return noop(verdict.ok);
    if ('warn' in verdict) return warn(verdict.warn);
    if (params.restart === 'handler') return change(`restart ${name}: ${verdict.restart}`, [sh`:`]);
    const o = d.driver.restartPlan(s, ctx.host);
    if ('fail' in o) return fail(o.fail);
    return o.cmds.length ? change(`restart ${name}: ${verdict.restart}`, o.cmds) : noop(`${name}: ${o.done.join(', ')}`);
  };

  return {
    kind: KIND,
    id,
    barrier: true,
    paths: files,
    ...(params.notify && params.restart === 'handler' ? { notify: params.notify } : {}),
    probe(ctx: OpContext) {
      const d = drivers(ctx.facts);
      if (ctx.bake || 'error' in d) return undefined;
      return probeOf(
        d.driver.restartProbe(),
        mainPidProbe(d.supervisor, name, { scanDir, ...(params.pidfile ? { pidfile: params.pidfile } : {}) }),
        sh`${section('pid-tried', sh`echo "$tried"`)}
case "$pid" in ''|*[!0-9]*|0) ;; *) if [ -r "/proc/$pid/stat" ]; then ${section('pid', sh`echo "$pid"`)}
${section('pid-from', sh`echo "$from"`)}
${section('stat', sh`cat "/proc/$pid/stat"`)}
${section('exe', sh`readlink "/proc/$pid/exe" 2>/dev/null || :`)}
fi ;; esac`,
        section('clock', CLOCK_PROBE),
        section('files', fileTimesProbe(files)),
      );
    },
    plan: (probe, ctx) => decide(probe, ctx, []),
    planFrom(probe, effects: readonly PathEffect[], ctx) {
      // written again by an earlier step: newer than any process running now, once applied
      const written = [...new Set(effects.filter((e) => e.kind === 'state' && e.state.type !== 'absent').map((e) => e.path))];
      return decide(probe, ctx, written);
    },
  };
}
