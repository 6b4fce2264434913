import type { SourceLocation } from '../core/errors.ts';
import type { Secret } from '../core/secret.ts';

export type Vars = Record<string, unknown>;
export type Become = false | 'sudo' | 'doas';
export type ConnectionKind = 'ssh' | 'local' | 'chroot';
/** Where vars were defined: dotted key path ('consul', 'consul.datacenter') -> location. */
export type VarLocations = ReadonlyMap<string, SourceLocation>;

/** One host after loading and validating the inventory. */
export interface HostSpec {
  name: string;
  connection: ConnectionKind;
  /** ssh: address or ~/.ssh/config alias; chroot: unused. */
  address: string;
  port?: number;
  user?: string;
  /** Private key files. */
  identity?: string[];
  /** Login password (ssh): offered after the keys and the agent, by password and keyboard-interactive auth. */
  password?: Secret;
  become: Become;
  /** The password sudo asks for (fed on the command's stdin); doas reads one only from a terminal. */
  becomePassword?: Secret;
  /** chroot: the mounted root filesystem. */
  root?: string;
  /** ProxyJump as in OpenSSH: user@host:port[,...] */
  proxyJump?: string;
  /** ProxyCommand as in OpenSSH (%h %p %r %n %%), run with /bin/sh; not with proxyJump. */
  proxyCommand?: string;
  /** Host's own vars (not merged). */
  vars: Vars;
  /** Where each of `vars` was defined: dotted key path ('consul.datacenter') -> location. */
  varLocations?: VarLocations;
  /** Groups this host belongs to, in inventory order. */
  groups: string[];
  location: SourceLocation;
}

export interface GroupSpec {
  name: string;
  hosts: string[];
  vars: Vars;
  /** Where each of `vars` was defined: dotted key path -> location. */
  varLocations?: VarLocations;
  /** Ordered roles applied to the group's hosts. */
  roles: string[];
  location: SourceLocation;
}

export interface ConnectionSettings {
  /** known_hosts file to verify (and, with --accept-new-host-keys, record) host keys. */
  knownHosts?: string;
  /** OpenSSH client config to honour (default ~/.ssh/config). */
  sshConfig?: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

export interface Inventory {
  /** Absolute path of the inventory file. */
  file: string;
  /** Directory of the inventory file: user roles are looked up in <dir>/roles. */
  dir: string;
  vars: Vars;
  /** Where each global var was defined: dotted key path -> location. */
  varLocations?: VarLocations;
  hosts: Map<string, HostSpec>;
  groups: Map<string, GroupSpec>;
  connection: ConnectionSettings;
}
