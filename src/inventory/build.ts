import { dirname, resolve } from 'node:path';
import { parseDuration } from './duration.ts';
import { resolveUserPath } from './paths.ts';
import type { RawGroup, RawHost, RawInventory } from './schema.ts';
import type { ConnectionSettings, GroupSpec, HostSpec, Inventory } from './types.ts';
import type { InventoryLocator } from './locator.ts';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 600_000;

/**
 * The Inventory of a validated raw inventory: defaults filled in, paths
 * resolved against the inventory's directory, memberships made two-way.
 * Host and group maps keep the file's order.
 */
export function buildInventory(raw: RawInventory, source: InventoryLocator, file: string): Inventory {
  const absFile = resolve(file);
  const dir = dirname(absFile);
  const rawHosts = Object.entries(raw.hosts);
  const rawGroups = Object.entries(raw.groups ?? {});

  const memberOf = (host: string, groupName: string, group: RawGroup | null): boolean =>
    (group?.hosts ?? []).includes(host) || (raw.hosts[host]?.groups ?? []).includes(groupName);

  const groups = new Map<string, GroupSpec>();
  for (const [name, g] of rawGroups) {
    groups.set(name, {
      name,
      hosts: rawHosts.map(([h]) => h).filter((h) => memberOf(h, name, g)),
      vars: g?.vars ?? {},
      varLocations: source.varLocations(['groups', name, 'vars']),
      roles: dedupe(g?.roles ?? []),
      location: source.locateKey(['groups'], name),
    });
  }

  const hosts = new Map<string, HostSpec>();
  for (const [name, h] of rawHosts) {
    hosts.set(name, buildHost(name, h ?? {}, [...groups.values()].filter((g) => g.hosts.includes(name)).map((g) => g.name), source, dir));
  }

  return {
    file: absFile,
    dir,
    vars: raw.vars ?? {},
    varLocations: source.varLocations(['vars']),
    hosts,
    groups,
    connection: buildConnection(raw.connection ?? {}, dir),
  };
}

function buildHost(name: string, h: RawHost, groups: string[], source: InventoryLocator, dir: string): HostSpec {
  const identity = h.identity === undefined ? undefined : typeof h.identity === 'string' ? [h.identity] : h.identity;
  const host: HostSpec = {
    name,
    connection: h.connection ?? 'ssh',
    address: h.address ?? name,
    become: h.become === true ? 'sudo' : (h.become ?? false),
    vars: h.vars ?? {},
    varLocations: source.varLocations(['hosts', name, 'vars']),
    groups,
    location: source.locateKey(['hosts'], name),
  };
  if (h.port !== undefined) host.port = h.port;
  if (h.user !== undefined) host.user = h.user;
  if (identity) host.identity = identity.map((p) => resolveUserPath(p, dir));
  if (h.password !== undefined) host.password = h.password;
  if (h.become_password !== undefined) host.becomePassword = h.become_password;
  if (h.root !== undefined) host.root = h.root;
  if (h.proxy_jump !== undefined) host.proxyJump = h.proxy_jump;
  if (h.proxy_command !== undefined) host.proxyCommand = h.proxy_command;
  return host;
}

function buildConnection(c: NonNullable<RawInventory['connection']>, dir: string): ConnectionSettings {
  const settings: ConnectionSettings = {
    connectTimeoutMs: parseDuration(c.connect_timeout) ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeoutMs: parseDuration(c.command_timeout) ?? DEFAULT_COMMAND_TIMEOUT_MS,
  };
  if (c.known_hosts !== undefined) settings.knownHosts = resolveUserPath(c.known_hosts, dir);
  if (c.ssh_config !== undefined) settings.sshConfig = resolveUserPath(c.ssh_config, dir);
  return settings;
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}
