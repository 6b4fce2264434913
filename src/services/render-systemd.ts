import { checkedServiceName, type ResolvedDescription } from './description.ts';
import { HEADER, type ServiceFile } from './service-file.ts';
import { unitFile, type UnitLine } from './unit-file.ts';
import { unitValue as v } from './unit-value.ts';

/** A systemd unit (HashiCorp's shape for Nomad and Consul). */
export function renderSystemd(d: ResolvedDescription): ServiceFile[] {
  const name = checkedServiceName(d.name);
  const unit = (n: string) => (n.includes('.') ? n : `${n}.service`);
  const after = ['network-online.target', ...d.needs.map(unit), ...d.after.map(unit)];
  const unitLines: UnitLine<'Unit'>[] = [
    ['Description', v.text(d.description)],
    ['Wants', v.units(['network-online.target'])],
    ['After', v.units(after)],
    ...(d.needs.length ? [['Requires', v.units(d.needs.map(unit))] as const] : []),
    ['StartLimitIntervalSec', v.int(60)],
    ['StartLimitBurst', v.int(5)],
  ];
  const service: UnitLine<'Service'>[] = [
    ['Type', v.keyword(d.notify ? 'notify' : 'simple')],
    ...(d.user !== 'root' ? [['User', v.account(d.user)] as const, ...(d.group ? [['Group', v.account(d.group)] as const] : [])] : []),
    ...Object.entries(d.env).map(([k, val]) => ['Environment', v.env(k, val)] as const),
    ['ExecStart', v.exec(d.command, d.args)],
    ['ExecReload', v.exec('/bin/kill', ['-HUP', { variable: 'MAINPID' }])],
    ...(d.killMode ? [['KillMode', v.keyword(d.killMode)] as const] : []),
    ['KillSignal', v.keyword(d.killSignal)],
    ['Restart', v.keyword('on-failure')],
    ['RestartSec', v.int(d.restartDelay)],
    ['LimitNOFILE', v.int(d.nofile)],
    ...(d.unlimitedProcesses ? [['LimitNPROC', v.keyword('infinity')] as const, ['TasksMax', v.keyword('infinity')] as const] : []),
    ...(d.oomScoreAdjust !== undefined ? [['OOMScoreAdjust', v.int(d.oomScoreAdjust)] as const] : []),
    ['StandardInput', v.keyword('null')],
  ];
  const content = unitFile(HEADER, { Unit: unitLines, Service: service, Install: [['WantedBy', v.units(['multi-user.target'])]] });
  return [{ key: 'unit', path: `/etc/systemd/system/${name}.service`, content, mode: '0644', restart: true, daemonReload: true }];
}
