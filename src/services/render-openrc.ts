import { oomLine } from './oom-line.ts';
import { comment, doubleQuoted, script, joinScripts, varName, type Script } from '../shell/script.ts';
import { checkedServiceName, checkedStopSignal, type ResolvedDescription } from './description.ts';
import { HEADER, type ServiceFile } from './service-file.ts';
import type { Supervision } from './supervisor.ts';

/** A value for an OpenRC conf.d / init script assignment: double quotes, `\ " $ \`` escaped. */
export function rcValue(text: string): string {
  return doubleQuoted(text).text;
}

/** The file the supervisor writes the daemon's stdout/stderr to (OpenRC). */
export function outputLogPath(d: ResolvedDescription): string {
  return `${d.logDir}/output.log`;
}

/** The init script's depend(): `need net` (or only `use net`), the needs, `after firewall` and the afters. */
export function dependBlock(needs: readonly string[], after: readonly string[], needNet = true): Script {
  const need = needNet ? ['net', ...needs] : needs;
  return script`depend() {\n${need.length ? script`\tneed ${need}\n` : script``}${needNet ? script`` : script`\tuse net\n`}\tafter ${['firewall', ...after]}\n}\n`;
}

/** start_pre's OOM score lines (nothing without oomScoreAdjust). */
function oomStartPre(d: ResolvedDescription, owner: string | undefined): Script {
  if (d.oomScoreAdjust === undefined) return script``;
  return script`\t# inherited by supervise-daemon and the daemon it starts (every OpenRC version); the log file\n\t# is made first, as the daemon's user (supervise-daemon opens it as that user)\n\tcheckpath -f -m 0640${owner ? script` -o ${owner}` : script``} ${outputLogPath(d)}\n\t${oomLine(d, outputLogPath(d))}`;
}

/**
 * OpenRC with supervise-daemon: the init script holds the shape, conf.d the
 * settings (the Alpine packages' layout). Without output_log support (OpenRC
 * < 0.25) the command redirects its own output: `sh -c 'exec >>log 2>&1; exec daemon'`.
 */
export function renderOpenrc(d: ResolvedDescription, sup: Pick<Supervision, 'outputLog'> & { needNet?: boolean }): ServiceFile[] {
  const name = checkedServiceName(d.name);
  const owner = d.user === 'root' ? undefined : d.group ? `${d.user}:${d.group}` : d.user;
  const initd = script`#!/sbin/openrc-run
# ${comment(HEADER)}
# Settings (command, logs, limits): ${comment(`/etc/conf.d/${name}`)}

description=${doubleQuoted(d.description)}
supervisor=supervise-daemon
pidfile="/run/\${RC_SVCNAME}.pid"

${dependBlock(d.needs, d.after, sup.needNet ?? true)}
start_pre() {
\tcheckpath -d -m 0750${owner ? script` -o ${owner}` : script``} ${d.logDir}
${oomStartPre(d, owner)}}
`;
  const log = outputLogPath(d);
  const lines = [script`# ${comment(HEADER)}`, script`# ${comment(d.description)}`];
  if (sup.outputLog) {
    lines.push(script`command=${doubleQuoted(d.command)}`, script`command_args=${doubleQuoted(script`${d.args}`)}`);
  } else {
    // OpenRC < 0.25: supervise-daemon has no output_log; the command keeps its own log
    const inner = script`exec >>${log} 2>&1 </dev/null; exec ${[d.command, ...d.args]}`;
    lines.push(
      script`# this OpenRC has no output_log for supervise-daemon: the command redirects its own output`,
      script`command=/bin/sh`,
      script`command_args=${doubleQuoted(script`-c ${inner.text}`)}`,
    );
  }
  if (owner) lines.push(script`command_user=${doubleQuoted(owner)}`);
  if (sup.outputLog) lines.push(script`output_log=${doubleQuoted(log)}`, script`error_log=${doubleQuoted(log)}`);
  lines.push(script`rc_ulimit=${doubleQuoted(script`-n ${d.nofile}`)}`, script`respawn_delay=${d.restartDelay}`, script`respawn_max=0`);
  if (sup.outputLog) lines.push(script`retry=${doubleQuoted(`${checkedStopSignal(d.killSignal)}/30/SIGKILL/5`)}`);
  for (const [k, v] of Object.entries(d.env)) lines.push(script`export ${varName(k)}=${doubleQuoted(v)}`);
  return [
    { key: 'initd', path: `/etc/init.d/${name}`, content: initd.text, mode: '0755', restart: true },
    { key: 'confd', path: `/etc/conf.d/${name}`, content: joinScripts(lines).text + '\n', mode: '0644', restart: true },
  ];
}
