import { sshRun, type BedHost } from '../../bed/fleet.ts';

/**
 * Leave a bed host without the consul/nomad services a stack test installed, under
 * whichever supervisor ran them, so the next test file that claims the host starts
 * clean: a test then starts from a host without agents, whatever ran before it.
 */
export async function resetAgents(hosts: readonly BedHost[]): Promise<void> {
  const script = [
    'for s in consul nomad; do',
    '  if command -v rc-service >/dev/null 2>&1; then rc-service $s stop </dev/null >/dev/null 2>&1; rc-update del $s default >/dev/null 2>&1; rm -f /etc/init.d/$s /etc/conf.d/$s; fi',
    '  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now $s >/dev/null 2>&1; rm -f /etc/systemd/system/$s.service; fi',
    '  for d in /run/openrc/s6-scan/$s /run/service/$s; do if [ -e $d ]; then s6-svc -d $d >/dev/null 2>&1; rm -f $d; fi; done',
    'done',
    'for d in /run/openrc/s6-scan /run/service; do [ -d $d ] && s6-svscanctl -an $d >/dev/null 2>&1; done',
    'command -v systemctl >/dev/null 2>&1 && systemctl daemon-reload >/dev/null 2>&1',
    'pkill -x consul >/dev/null 2>&1; pkill -x nomad >/dev/null 2>&1',
    'true',
  ].join('\n');
  await Promise.all(hosts.map((h) => sshRun(h, script, { timeoutMs: 60_000 })));
}
