/**
 * What `up` writes for the fleet: cairn inventory, OpenSSH ssh_config, known_hosts.
 */
import { writeFileSync } from 'node:fs';
import { KINDS, KIND_ORDER } from './config.ts';
import type { FleetState } from './state.ts';

export function inventoryYaml(s: FleetState): string {
  const lines = [
    `# cairn inventory of test bed fleet '${s.fleet}' (written by npm run bed -- up; removed by down)`,
    'connection:',
    `  known_hosts: ${s.files.knownHosts}`,
    'vars: {}',
    'hosts:',
  ];
  for (const h of s.hosts) {
    lines.push(
      `  ${h.name}:`,
      `    address: ${h.address}`,
      '    port: 22',
      '    user: root',
      `    identity: ${s.files.key}`,
      `    vars: { bed_kind: ${h.kind}, bed_arch: ${h.arch}, bed_init: ${h.init}, bed_become: ${h.become} }`,
    );
  }
  lines.push('groups:');
  const groups = new Map<string, string[]>();
  for (const k of KIND_ORDER) {
    const g = KINDS[k].group;
    const names = s.hosts.filter((h) => h.kind === k).map((h) => h.name);
    if (names.length) groups.set(g, [...(groups.get(g) ?? []), ...names]);
  }
  for (const [g, names] of groups) lines.push(`  ${g}: { hosts: [${names.join(', ')}] }`);
  return lines.join('\n') + '\n';
}

export function sshConfigText(s: FleetState): string {
  const out = [`# OpenSSH client config of test bed fleet '${s.fleet}': ssh -F ${s.files.sshConfig} <host>`, ''];
  for (const h of s.hosts) {
    out.push(
      `Host ${h.name}`,
      `  HostName ${h.address}`,
      '  Port 22',
      '  User root',
      `  IdentityFile ${s.files.key}`,
      '  IdentitiesOnly yes',
      `  UserKnownHostsFile ${s.files.knownHosts}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      '  CheckHostIP no',
      '  BatchMode yes',
      '  ConnectTimeout 10',
      '  ServerAliveInterval 15',
      '  LogLevel ERROR',
      '',
    );
  }
  return out.join('\n');
}

/** One line per host, valid for its address and its name. */
export function knownHostsText(s: FleetState): string {
  return s.hosts
    .filter((h) => h.hostKey)
    .map((h) => `${h.address},${h.name} ${h.hostKey}`)
    .join('\n') + '\n';
}

export function writeFleetFiles(s: FleetState): void {
  writeFileSync(s.files.knownHosts, knownHostsText(s), { mode: 0o644 });
  writeFileSync(s.files.sshConfig, sshConfigText(s), { mode: 0o644 });
  writeFileSync(s.files.inventory, inventoryYaml(s), { mode: 0o644 });
}
