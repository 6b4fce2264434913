import { quote } from '../shell/quote.ts';
import type { ResolvedDescription } from './description.ts';
import type { Supervision } from './supervisor.ts';

/** One file a supervisor needs. */
export interface ServiceFile {
  /** Step id suffix, unique per service: `initd`, `confd`, `unit`, `s6-run`, ... */
  readonly key: string;
  readonly path: string;
  readonly content: string;
  readonly mode: string;
  /** Changing it requires a restart of the service (all of them do today). */
  readonly restart: boolean;
  /** systemd must re-read its units. */
  readonly daemonReload?: boolean;
}

const HEADER = 'Managed by cairn: changes here are overwritten on the next apply.';

/** A value for an OpenRC conf.d / init script assignment: double quotes, `\ " $ \`` escaped. */
export function rcValue(text: string): string {
  return `"${text.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;
}

/** Words for a shell command line, each quoted when needed. */
function words(cmd: string, args: readonly string[]): string {
  return [cmd, ...args].map(quote).join(' ');
}

/** The file the supervisor writes the daemon's stdout/stderr to (OpenRC). */
export function outputLogPath(d: ResolvedDescription): string {
  return `${d.logDir}/output.log`;
}

// ------------------------------------------------------------------ OpenRC

function dependBlock(needs: readonly string[], after: readonly string[], needNet = true): string {
  const need = needNet ? ['net', ...needs] : needs;
  return `depend() {\n${need.length ? `\tneed ${need.join(' ')}\n` : ''}${needNet ? '' : '\tuse net\n'}\tafter ${['firewall', ...after].join(' ')}\n}\n`;
}

/**
 * OpenRC with supervise-daemon: the init script holds the shape, conf.d the
 * settings (the Alpine packages' layout). Without output_log support (OpenRC
 * < 0.25) the command redirects its own output: `sh -c 'exec >>log 2>&1; exec daemon'`.
 */
export function renderOpenrc(d: ResolvedDescription, sup: Pick<Supervision, 'outputLog'> & { needNet?: boolean }): ServiceFile[] {
  const owner = d.user === 'root' ? undefined : d.group ? `${d.user}:${d.group}` : d.user;
  const initd =
    `#!/sbin/openrc-run\n# ${HEADER}\n# Settings (command, logs, limits): /etc/conf.d/${d.name}\n\n` +
    `description=${rcValue(d.description)}\n` +
    `supervisor=supervise-daemon\n` +
    `pidfile="/run/\${RC_SVCNAME}.pid"\n\n` +
    dependBlock(d.needs, d.after, sup.needNet ?? true) +
    `\nstart_pre() {\n\tcheckpath -d -m 0750${owner ? ` -o ${owner}` : ''} ${quote(d.logDir)}\n}\n`;
  const log = outputLogPath(d);
  const lines = [`# ${HEADER}`, `# ${d.description}`];
  if (sup.outputLog) {
    lines.push(`command=${rcValue(d.command)}`, `command_args=${rcValue(d.args.map(quote).join(' '))}`);
  } else {
    // OpenRC < 0.25: supervise-daemon has no output_log; the command keeps its own log
    const inner = `exec >>${quote(log)} 2>&1 </dev/null; exec ${words(d.command, d.args)}`;
    lines.push('# this OpenRC has no output_log for supervise-daemon: the command redirects its own output', `command=/bin/sh`, `command_args=${rcValue(`-c ${quote(inner)}`)}`);
  }
  if (owner) lines.push(`command_user=${rcValue(owner)}`);
  if (sup.outputLog) lines.push(`output_log=${rcValue(log)}`, `error_log=${rcValue(log)}`);
  lines.push(`rc_ulimit=${rcValue(`-n ${d.nofile}`)}`, `respawn_delay=${d.restartDelay}`, `respawn_max=0`);
  if (sup.outputLog) lines.push(`retry=${rcValue(`${d.killSignal}/30/SIGKILL/5`)}`);
  for (const [k, v] of Object.entries(d.env)) lines.push(`export ${k}=${rcValue(v)}`);
  return [
    { key: 'initd', path: `/etc/init.d/${d.name}`, content: initd, mode: '0755', restart: true },
    { key: 'confd', path: `/etc/conf.d/${d.name}`, content: lines.join('\n') + '\n', mode: '0644', restart: true },
  ];
}

// ------------------------------------------------------------------ s6

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
  const dir = sup.serviceDir;
  // one copy only: the daemon (and whatever it forks) holds a lock; a new run blocks until it is gone.
  // lock-fd (s6 >= 2.11) does it inside s6-supervise; s6-setlock in the run script works with every s6.
  const lock = sup.s6LockFd ? '' : `s6-setlock ${quote(`/run/cairn-s6-${d.name}.lock`)} `;
  const env = Object.entries(d.env).map(([k, v]) => `export ${k}=${quote(v)}\n`).join('');
  const drop = d.user === 'root' ? '' : `s6-setuidgid ${quote(d.user)} `;
  const run =
    `#!/bin/sh\n# ${HEADER}\n# ${d.description}: runs in the foreground under s6-supervise.\n` +
    (sup.s6LockFd
      ? `# fd ${S6_LOCK_FD} is s6-supervise's lock (lock-fd): it must stay open.\n`
      : `# s6-setlock: the daemon holds the lock while it (or anything it forked) lives: never two copies.\n`) +
    `PATH="$PATH:/command:/usr/bin:/bin"\n` +
    `exec 2>&1 </dev/null\n` +
    `ulimit -n ${d.nofile}\n` +
    env +
    `exec ${lock}${drop}${words(d.command, d.args)}\n`;
  const delay = Math.max(0, Math.min(d.restartDelay - 1, 4));
  const finish =
    `#!/bin/sh\n# ${HEADER}\n# $1: exit code of run (256: killed by a signal), $2: the signal.\n` +
    `# exit 125 tells s6-supervise the failure is permanent: no restart loop.\n` +
    `PATH="$PATH:/command:/usr/bin:/bin"\n` +
    `name=${quote(d.name)}\n` +
    `case "$1" in\n` +
    `126|127) echo "$name: ${d.command.replace(/["$`\\]/g, '')} cannot be executed (exit $1): permanent failure, not restarting; fix it, then: s6-svc -u <scandir>/$name"; exit 125 ;;\n` +
    `esac\n` +
    `if [ "$1" != 0 ] && [ "$1" != 256 ]; then\n` +
    `\tf=/run/cairn-s6-$name.deaths; now=$(date +%s)\n` +
    `\t{ cat "$f" 2>/dev/null; echo "$now"; } | awk -v now="$now" 'now - $1 < 60' > "$f.tmp" && mv "$f.tmp" "$f"\n` +
    `\tn=$(wc -l < "$f")\n` +
    `\tif [ "$n" -ge ${S6_CRASH_BURST} ]; then rm -f "$f"; echo "$name: exited $1 $n times within 60 s: permanent failure, not restarting; see the log, fix it, then: s6-svc -u <scandir>/$name"; exit 125; fi\n` +
    `fi\n` +
    (delay > 0 ? `sleep ${delay}\n` : '') +
    `exit 0\n`;
  const logRun = `#!/bin/sh\n# ${HEADER}\nPATH="$PATH:/command:/usr/bin:/bin"\nexec s6-log -b n10 s1000000 T ${quote(d.logDir)}\n`;
  return [
    { key: 's6-run', path: `${dir}/run`, content: run, mode: '0755', restart: true },
    { key: 's6-finish', path: `${dir}/finish`, content: finish, mode: '0755', restart: false },
    { key: 's6-log-run', path: `${dir}/log/run`, content: logRun, mode: '0755', restart: false },
    ...(sup.s6LockFd ? [{ key: 's6-lock-fd', path: `${dir}/lock-fd`, content: `${S6_LOCK_FD}\n`, mode: '0644', restart: true }] : []),
    { key: 's6-down-signal', path: `${dir}/down-signal`, content: `${d.killSignal}\n`, mode: '0644', restart: false },
    { key: 's6-timeout-kill', path: `${dir}/timeout-kill`, content: '30000\n', mode: '0644', restart: false },
  ];
}

/** OpenRC's own s6 support: an init script with supervisor=s6 pointing at the service directory. */
export function renderS6Openrc(d: ResolvedDescription, sup: Pick<Supervision, 'serviceDir' | 's6LockFd'> & { needNet?: boolean }): ServiceFile[] {
  const initd =
    `#!/sbin/openrc-run\n# ${HEADER}\n# Supervised by s6 (OpenRC's s6 support): the service directory is ${sup.serviceDir}\n\n` +
    `description=${rcValue(d.description)}\n` +
    `supervisor=s6\n` +
    `s6_service_path=${rcValue(sup.serviceDir)}\n` +
    `s6_service_timeout_stop=35000\n\n` +
    dependBlock(['s6-svscan', ...d.needs], d.after, sup.needNet ?? true);
  return [...renderS6(d, sup), { key: 'initd', path: `/etc/init.d/${d.name}`, content: initd, mode: '0755', restart: true }];
}

// ------------------------------------------------------------------ systemd

/** One ExecStart word: plain, or double-quoted with `\ "` escaped, `%` doubled and `$` as `$$`. */
function unitWord(w: string): string {
  const esc = w.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /^[A-Za-z0-9_@+=:,./-]+$/.test(esc) ? esc : `"${esc.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A systemd unit (HashiCorp's shape for Nomad and Consul). */
export function renderSystemd(d: ResolvedDescription): ServiceFile[] {
  const unit = (n: string) => (n.includes('.') ? n : `${n}.service`);
  const after = ['network-online.target', ...d.needs.map(unit), ...d.after.map(unit)];
  const lines = [
    `# ${HEADER}`,
    '[Unit]',
    `Description=${d.description}`,
    'Wants=network-online.target',
    `After=${after.join(' ')}`,
    ...(d.needs.length ? [`Requires=${d.needs.map(unit).join(' ')}`] : []),
    'StartLimitIntervalSec=60',
    'StartLimitBurst=5',
    '',
    '[Service]',
    `Type=${d.notify ? 'notify' : 'simple'}`,
    ...(d.user !== 'root' ? [`User=${d.user}`, ...(d.group ? [`Group=${d.group}`] : [])] : []),
    ...Object.entries(d.env).map(([k, v]) => `Environment=${unitWord(`${k}=${v}`)}`),
    `ExecStart=${[d.command, ...d.args].map(unitWord).join(' ')}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    ...(d.killMode ? [`KillMode=${d.killMode}`] : []),
    `KillSignal=${d.killSignal}`,
    'Restart=on-failure',
    `RestartSec=${d.restartDelay}`,
    `LimitNOFILE=${d.nofile}`,
    ...(d.unlimitedProcesses ? ['LimitNPROC=infinity', 'TasksMax=infinity'] : []),
    ...(d.oomScoreAdjust !== undefined ? [`OOMScoreAdjust=${d.oomScoreAdjust}`] : []),
    'StandardInput=null',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return [{ key: 'unit', path: `/etc/systemd/system/${d.name}.service`, content: lines.join('\n'), mode: '0644', restart: true, daemonReload: true }];
}

/** Every file of the service for this supervision. */
export function renderService(d: ResolvedDescription, sup: Supervision): ServiceFile[] {
  switch (sup.kind) {
    case 'openrc':
      return renderOpenrc(d, sup);
    case 's6-openrc':
      return renderS6Openrc(d, sup);
    case 's6':
      return renderS6(d, sup);
    case 'systemd':
      return renderSystemd(d);
  }
}
