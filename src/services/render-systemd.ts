import type { ResolvedDescription } from './description.ts';
import { HEADER, type ServiceFile } from './service-file.ts';

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
