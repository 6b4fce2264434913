/**
 * What each inventory key means, what it accepts and an example: used both for
 * the JSON Schema (editor hover text) and for the `fix` of validation problems.
 */
export interface FieldHelp {
  /** Shown in editors. */
  description: string;
  /** Completes "<key> must be ...". */
  expected: string;
  /** A line the user could write instead. */
  example: string;
  /** For lists: completes "<key>[i] must be ...". */
  item?: string;
}

export const FIELD_HELP = {
  connection: {
    description: 'How cairn connects to every host: known_hosts, ssh_config and timeouts.',
    expected: 'a map of connection settings',
    example: 'connection: { known_hosts: ./known_hosts, connect_timeout: 10s }',
  },
  known_hosts: {
    description: 'known_hosts file used to verify host keys (relative to the inventory file).',
    expected: 'a file path',
    example: 'known_hosts: ./known_hosts',
  },
  ssh_config: {
    description: 'OpenSSH client config to honour (default ~/.ssh/config).',
    expected: 'a file path',
    example: 'ssh_config: ~/.ssh/config',
  },
  connect_timeout: {
    description: 'How long to wait for a connection: 500ms, 10s, 2m, 1h or a number of seconds (default 10s).',
    expected: 'a positive duration such as 500ms, 10s, 2m, 1h or a number of seconds',
    example: 'connect_timeout: 10s',
  },
  command_timeout: {
    description: 'How long one command may run: 500ms, 10s, 2m, 1h or a number of seconds (default 10m).',
    expected: 'a positive duration such as 500ms, 10s, 2m, 1h or a number of seconds',
    example: 'command_timeout: 10m',
  },
  vars: {
    description: 'Variables for roles and templates (a map). Values may be !secret "text" or !secret_env NAME.',
    expected: 'a map of names to values',
    example: 'vars: { ntp_server: pool.ntp.org }',
  },
  hosts: {
    description: 'The hosts, by name. An empty entry (`web1:`) uses defaults: address = the name.',
    expected: 'a map of host names to host settings',
    example: 'hosts:\n  web1: { address: 10.0.0.5 }',
  },
  groups: {
    description: 'Groups of hosts, by name, with their vars and ordered roles.',
    expected: 'a map of group names to group settings',
    example: 'groups:\n  servers: { hosts: [web1], roles: [base] }',
  },
  address: {
    description: 'IP address, DNS name or ~/.ssh/config alias (default: the host name).',
    expected: 'an address or host name without spaces',
    example: 'address: 10.0.0.5',
  },
  port: {
    description: 'SSH port (1-65535, default 22 or what ssh_config says).',
    expected: 'a whole number from 1 to 65535',
    example: 'port: 22',
  },
  user: {
    description: 'Login user (default: from ssh_config, else the local user name).',
    expected: 'a user name without spaces',
    example: 'user: root',
  },
  identity: {
    description: 'Private key file, or a list of them (relative to the inventory file, ~ allowed).',
    expected: 'a file path or a list of file paths',
    item: 'a file path',
    example: 'identity: ~/.ssh/id_ed25519',
  },
  password: {
    description: 'Login password, offered after the keys and the agent. Only as a secret: !secret_env NAME (or !secret "text"); a plain text is refused.',
    expected: 'a secret: !secret_env NAME or !secret "text"',
    example: 'password: !secret_env CAIRN_PASSWORD',
  },
  become_password: {
    description: 'The password sudo asks for (become: sudo). Only as a secret: !secret_env NAME (or !secret "text"). doas reads passwords only from a terminal: use a permit nopass rule.',
    expected: 'a secret: !secret_env NAME or !secret "text"',
    example: 'become_password: !secret_env CAIRN_BECOME_PASSWORD',
  },
  become: {
    description: 'Privilege escalation: false (default), true (= sudo), sudo or doas.',
    expected: 'one of false, true, sudo or doas',
    example: 'become: sudo',
  },
  connection_kind: {
    description: 'How to reach the host: ssh (default), local (this machine) or chroot (a mounted root filesystem).',
    expected: 'one of ssh, local or chroot',
    example: 'connection: ssh',
  },
  root: {
    description: 'connection: chroot only: absolute path of the mounted root filesystem.',
    expected: 'an absolute path',
    example: 'root: /mnt/rpi-image',
  },
  proxy_jump: {
    description: 'Jump host(s) as in OpenSSH ProxyJump: [user@]host[:port][,...] or none.',
    expected: 'OpenSSH ProxyJump text: [user@]host[:port], comma separated',
    example: 'proxy_jump: admin@bastion.example:22',
  },
  proxy_command: {
    description: 'OpenSSH ProxyCommand: a command (run with /bin/sh) whose stdin/stdout reach the host\'s sshd; %h %p %r %n %% as in OpenSSH, or none. Not together with proxy_jump.',
    expected: 'a command line, e.g. ssh -W %h:%p bastion',
    example: 'proxy_command: ssh -W %h:%p admin@bastion.example',
  },
  host_groups: {
    description: 'Groups this host joins (in addition to the groups that list it).',
    expected: 'a list of group names',
    item: "a group name (letters, digits, '_', '.' and '-')",
    example: 'groups: [servers]',
  },
  group_hosts: {
    description: 'Hosts in this group (names defined under hosts:).',
    expected: 'a list of host names',
    item: "a host name (letters, digits, '_', '.' and '-')",
    example: 'hosts: [web1, web2]',
  },
  roles: {
    description: 'Roles applied to the hosts of this group, in order.',
    expected: 'a list of role names',
    item: 'a role name',
    example: 'roles: [base, consul]',
  },
  host: {
    description: 'Settings of one host; leave empty for defaults.',
    expected: 'a map of host settings, or nothing',
    example: 'web1: { address: 10.0.0.5, user: root }',
  },
  group: {
    description: 'Settings of one group.',
    expected: 'a map with hosts, vars and roles, or nothing',
    example: 'servers: { hosts: [web1], roles: [base] }',
  },
  inventory: {
    description: 'A cairn inventory: hosts, groups, vars and connection settings.',
    expected: 'a map with hosts:, and optionally groups:, vars: and connection:',
    example: 'hosts:\n  web1: { address: 10.0.0.5 }',
  },
} as const satisfies Record<string, FieldHelp>;

export type FieldName = keyof typeof FIELD_HELP;

/** An example for a `fix`: inline when one line, indented below when several. */
export function exampleText(example: string): string {
  return example.includes('\n') ? `\n  ${example.replace(/\n/g, '\n  ')}` : ` ${example}`;
}
