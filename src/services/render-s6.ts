import { comment, inDoubleQuotes, joinScripts, script, varName } from '../shell/script.ts';
import { checkedServiceName, checkedStopSignal, type ResolvedDescription } from './description.ts';
import { HEADER, type ServiceFile } from './service-file.ts';
import { oomLine } from './oom-line.ts';
import type { Supervision } from './supervisor.ts';

/** The descriptor s6-supervise (>= 2.11) holds a lock on; the run script must leave it open. */
export const S6_LOCK_FD = 3;
/** Deaths within a minute (not by a signal) before finish declares a permanent failure. */
export const S6_CRASH_BURST = 5;

/**
 * An s6 service directory: run (stderr into the log pipe, limits, user, exec
 * the daemon: it never backgrounds), finish (exit 125 = permanent failure when
 * the binary cannot run or it keeps crashing, so s6 stops the restart loop),
 * log/run (s6-log with rotation), lock-fd (one copy only), down-signal,
 * timeout-kill.
 */
export function renderS6(d: ResolvedDescription, sup: Pick<Supervision, 'serviceDir' | 's6LockFd'>): ServiceFile[] {
  const name = checkedServiceName(d.name);
  const dir = sup.serviceDir;
  // one copy only: the daemon (and whatever it forks) holds a lock; a new run blocks until it is gone.
  // lock-fd (s6 >= 2.11) does it inside s6-supervise; s6-setlock in the run script works with every s6.
  const lock = sup.s6LockFd ? script`` : script`s6-setlock ${`/run/cairn-s6-${name}.lock`} `;
  const env = joinScripts(Object.entries(d.env).map(([k, v]) => script`export ${varName(k)}=${v}\n`), '');
  const drop = d.user === 'root' ? script`` : script`s6-setuidgid ${d.user} `;
  const lockNote = sup.s6LockFd
    ? script`# fd ${S6_LOCK_FD} is s6-supervise's lock (lock-fd): it must stay open.`
    : script`# s6-setlock: the daemon holds the lock while it (or anything it forked) lives: never two copies.`;
  const run = script`#!/bin/sh
# ${comment(HEADER)}
# ${comment(d.description)}: runs in the foreground under s6-supervise.
${lockNote}
PATH="$PATH:/command:/usr/bin:/bin"
exec 2>&1 </dev/null
ulimit -n ${d.nofile}
${oomLine(d)}${env}exec ${lock}${drop}${[d.command, ...d.args]}
`;
  const delay = Math.max(0, Math.min(d.restartDelay - 1, 4));
  const finish = script`#!/bin/sh
# ${comment(HEADER)}
# $1: exit code of run (256: killed by a signal), $2: the signal.
# exit 125 tells s6-supervise the failure is permanent: no restart loop.
PATH="$PATH:/command:/usr/bin:/bin"
name=${name}
case "$1" in
126|127) echo "$name: ${inDoubleQuotes(d.command)} cannot be executed (exit $1): permanent failure, not restarting; fix it, then: s6-svc -u <scandir>/$name"; exit 125 ;;
esac
if [ "$1" != 0 ] && [ "$1" != 256 ]; then
\tf=/run/cairn-s6-$name.deaths; now=$(date +%s)
\t{ cat "$f" 2>/dev/null; echo "$now"; } | awk -v now="$now" 'now - $1 < 60' > "$f.tmp" && mv "$f.tmp" "$f"
\tn=$(wc -l < "$f")
\tif [ "$n" -ge ${S6_CRASH_BURST} ]; then rm -f "$f"; echo "$name: exited $1 $n times within 60 s: permanent failure, not restarting; see the log, fix it, then: s6-svc -u <scandir>/$name"; exit 125; fi
fi
${delay > 0 ? script`sleep ${delay}\n` : script``}exit 0
`;
  const logRun = script`#!/bin/sh
# ${comment(HEADER)}
PATH="$PATH:/command:/usr/bin:/bin"
exec s6-log -b n10 s1000000 T ${d.logDir}
`;
  return [
    { key: 's6-run', path: `${dir}/run`, content: run.text, mode: '0755', restart: true },
    { key: 's6-finish', path: `${dir}/finish`, content: finish.text, mode: '0755', restart: false },
    { key: 's6-log-run', path: `${dir}/log/run`, content: logRun.text, mode: '0755', restart: false },
    ...(sup.s6LockFd ? [{ key: 's6-lock-fd', path: `${dir}/lock-fd`, content: `${S6_LOCK_FD}\n`, mode: '0644', restart: true }] : []),
    { key: 's6-down-signal', path: `${dir}/down-signal`, content: `${checkedStopSignal(d.killSignal)}\n`, mode: '0644', restart: false },
    { key: 's6-timeout-kill', path: `${dir}/timeout-kill`, content: '30000\n', mode: '0644', restart: false },
  ];
}
