import type { Facts } from '../facts/types.ts';
import type { Vars } from '../inventory/types.ts';

/**
 * What an image must not carry: every kind of host identity or host history a
 * bake can leave behind, as data. Each item says where to look (a `find` below
 * one directory) and what to do with what is found (remove it, or truncate it to
 * an empty file). `roles/bake-cleanup` turns every item into one operation;
 * docs/bake.md lists them. To add a kind, add an item here (and a line in the
 * docs); the unit tests check every item's selections.
 */

/** `remove`: rm -rf the entry. `truncate`: keep the file (owner, mode, inode), make it empty. */
export type CleanupAction = 'remove' | 'truncate';

/**
 * One `find` below a directory. Matches are entries at depth minDepth..maxDepth
 * below `under` (1 = the directory's own entries), never on another file system
 * (-xdev) unless `crossDevices`, of `type` when given, whose base name matches
 * one of `names` (all when absent) and none of `except`.
 */
export interface Selection {
  /** Absolute directory, as seen on the target. Missing: nothing is found. */
  readonly under: string;
  readonly minDepth?: number;
  readonly maxDepth?: number;
  /** f = regular files, d = directories; any type when absent. */
  readonly type?: 'f' | 'd';
  /** Base-name globs (find -name); any of them. */
  readonly names?: readonly string[];
  /** Base-name globs excluded. */
  readonly except?: readonly string[];
  /** Only files with content (size > 0): what `truncate` would change. */
  readonly nonEmpty?: boolean;
  /** Absolute paths not descended into (find -prune), e.g. /proc. */
  readonly prune?: readonly string[];
  /** Search across mount points (default: stay on `under`'s file system). */
  readonly crossDevices?: boolean;
  readonly action: CleanupAction;
}

/** What an item needs to choose its selections for one host. */
export interface ItemEnv {
  readonly facts: Facts;
  readonly vars: Vars;
}

export interface IdentityItem {
  /** Step id in the role (`bake-cleanup/<id>`), also the name for `bake_cleanup_skip`. */
  readonly id: string;
  /** Short noun phrase for reports: "SSH host keys". */
  readonly what: string;
  /** Why an image must not carry it (docs). */
  readonly why: string;
  selections(env: ItemEnv): Selection[];
}

/** Nomad's default data_dir for the HashiCorp packages (/opt/nomad/data) and Alpine's package (/var/lib/nomad). */
export const NOMAD_DATA_DIRS = ['/opt/nomad/data', '/var/lib/nomad'] as const;
/** Consul's default data_dir for the HashiCorp packages (/opt/consul), Alpine's package (/var/consul) and others. */
export const CONSUL_DATA_DIRS = ['/opt/consul', '/opt/consul/data', '/var/consul', '/var/lib/consul'] as const;

/** Entries of a Nomad data_dir that hold a node's identity or state (plugins/ is kept: it is configuration). */
export const NOMAD_STATE_NAMES = ['client', 'server', 'alloc', 'node-id', 'checkpoint-signature'] as const;
/** Entries of a Consul data_dir that hold a node's identity or state. */
export const CONSUL_STATE_NAMES = [
  'node-id',
  'checkpoint-signature',
  'serf',
  'raft',
  'services',
  'checks',
  'proxy',
  'acl-tokens.json',
  'auto-config.json',
  'server_metadata.json',
] as const;

/** Rotated or archived log files (logrotate, busybox syslogd, s6-log archives, dateext). */
export const ROTATED_LOG_NAMES = [
  '*.[0-9]',
  '*.[0-9][0-9]',
  '*.[0-9].log',
  '*.gz',
  '*.xz',
  '*.bz2',
  '*.zst',
  '*.old',
  '*-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]',
  '@*',
] as const;

/** Shell and tool histories of root and every /home user. */
export const HISTORY_NAMES = [
  '.ash_history',
  '.bash_history',
  '.sh_history',
  '.zsh_history',
  '.history',
  '.lesshst',
  '.viminfo',
  '.python_history',
  '.node_repl_history',
  '.wget-hsts',
] as const;

/** Directories a whole-root search never enters (pseudo and volatile file systems, mounted media). */
export const NOT_SEARCHED = ['/proc', '/sys', '/dev', '/run', '/tmp', '/var/tmp', '/media', '/mnt'] as const;

/** A var holding a path or a list of paths (strings only; anything else is ignored). */
function pathsFrom(v: unknown): string[] {
  if (typeof v === 'string' && v.startsWith('/')) return [v];
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string' && x.startsWith('/'));
  return [];
}

/** `x.y` read from vars (a nested map), or undefined. */
function nested(vars: Vars, a: string, b: string): unknown {
  const m = vars[a];
  return m && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>)[b] : undefined;
}

function normalise(p: string): string {
  return `/${p.split('/').filter(Boolean).join('/')}`;
}

/** Candidate data dirs: the ones the inventory names first, then the known defaults; no duplicates. */
export function dataDirs(vars: Vars, product: 'nomad' | 'consul'): string[] {
  const fromVars = [...pathsFrom(vars[`${product}_data_dir`]), ...pathsFrom(nested(vars, product, 'data_dir'))];
  const defaults = product === 'nomad' ? NOMAD_DATA_DIRS : CONSUL_DATA_DIRS;
  return [...new Set([...fromVars, ...defaults].map(normalise))];
}

export const IDENTITY_ITEMS: readonly IdentityItem[] = [
  {
    id: 'machine-id',
    what: 'machine id',
    why: 'systemd, journald, D-Bus and DHCP (DUID) identify the machine by /etc/machine-id; copies of one image would share it. systemd: an empty file makes the first boot generate a new one; elsewhere the file is removed.',
    selections: ({ facts }) => [
      facts.init === 'systemd'
        ? { under: '/etc', type: 'f', names: ['machine-id'], nonEmpty: true, action: 'truncate' }
        : { under: '/etc', names: ['machine-id'], action: 'remove' },
      // a regular file here is a second copy; the usual symlink to /etc/machine-id is kept
      { under: '/var/lib/dbus', type: 'f', names: ['machine-id'], action: 'remove' },
    ],
  },
  {
    id: 'ssh-host-keys',
    what: 'SSH host keys',
    why: 'every host made from the image would present the same host key (one stolen image = every host impersonated). They are generated again at first boot (Alpine: the sshd init script; systemd hosts: cairn-ssh-host-keys.service).',
    selections: () => [
      { under: '/etc/ssh', type: 'f', names: ['ssh_host_*'], action: 'remove' },
      { under: '/etc/dropbear', type: 'f', names: ['dropbear_*_host_key'], action: 'remove' },
    ],
  },
  {
    id: 'nomad-state',
    what: 'Nomad node state',
    why: "Nomad stores the node's id in data_dir/client/client-id (and server/node-id); a copied id makes nodes replace each other in the cluster. alloc/ and the state databases belong to the node that ran them.",
    selections: ({ vars }) => dataDirs(vars, 'nomad').map((under) => ({ under, names: [...NOMAD_STATE_NAMES], action: 'remove' as const })),
  },
  {
    id: 'consul-state',
    what: 'Consul node state',
    why: 'Consul keeps its node id in data_dir/node-id; two agents with one id are refused by the servers ("node ID ... is already registered"). serf/ and raft/ hold the old member list and log.',
    selections: ({ vars }) => dataDirs(vars, 'consul').map((under) => ({ under, names: [...CONSUL_STATE_NAMES], action: 'remove' as const })),
  },
  {
    id: 'logs',
    what: 'logs',
    why: 'logs of the build machine (logins, addresses, package runs) describe another host. Rotated and archived logs are removed, live log files truncated (owner and mode kept), journald journals removed; directories stay.',
    selections: () => [
      { under: '/var/log', maxDepth: 8, type: 'f', names: [...ROTATED_LOG_NAMES], prune: ['/var/log/journal'], action: 'remove' },
      { under: '/var/log/journal', type: 'd', action: 'remove' },
      { under: '/var/log', maxDepth: 8, type: 'f', except: [...ROTATED_LOG_NAMES], prune: ['/var/log/journal'], nonEmpty: true, action: 'truncate' },
    ],
  },
  {
    id: 'package-cache',
    what: 'package caches',
    why: 'downloaded packages and index files make the image bigger and go stale; the package manager fetches fresh ones.',
    selections: () => [
      { under: '/var/cache/apk', action: 'remove' },
      { under: '/var/cache/apt/archives', type: 'f', names: ['*.deb'], action: 'remove' },
      { under: '/var/cache/apt/archives/partial', action: 'remove' },
      { under: '/var/cache/apt', type: 'f', names: ['*.bin'], action: 'remove' },
      { under: '/var/lib/apt/lists', type: 'f', except: ['lock'], action: 'remove' },
      { under: '/var/lib/apt/lists/partial', action: 'remove' },
    ],
  },
  {
    id: 'shell-history',
    what: 'shell histories',
    why: 'commands typed on the build machine (possibly with secrets) would ship with every copy.',
    selections: () => [
      { under: '/root', type: 'f', names: [...HISTORY_NAMES], action: 'remove' },
      { under: '/home', minDepth: 2, maxDepth: 2, type: 'f', names: [...HISTORY_NAMES], action: 'remove' },
    ],
  },
  {
    id: 'tmp',
    what: 'temporary files',
    why: 'leftovers of the build (downloads, sockets, editor files) in /tmp and /var/tmp.',
    selections: () => [
      { under: '/tmp', action: 'remove' },
      { under: '/var/tmp', action: 'remove' },
    ],
  },
  {
    id: 'random-seed',
    what: 'saved random seeds',
    why: 'a saved seed credited at boot would give every copy the same initial entropy.',
    selections: () => [
      { under: '/var/lib/systemd', type: 'f', names: ['random-seed'], action: 'remove' },
      { under: '/var/lib/urandom', type: 'f', names: ['random-seed'], action: 'remove' },
      { under: '/var/lib/misc', type: 'f', names: ['random-seed'], action: 'remove' },
      { under: '/var/lib/seedrng', type: 'f', action: 'remove' },
    ],
  },
  {
    id: 'dhcp-leases',
    what: 'DHCP leases',
    why: "the build machine's leases (address, server, client id) would be offered back by every copy.",
    selections: () => [
      { under: '/var/lib/dhcp', type: 'f', names: ['*.leases', '*.lease'], action: 'remove' },
      { under: '/var/lib/dhcpcd', maxDepth: 2, type: 'f', names: ['*.lease', '*.lease6'], action: 'remove' },
      { under: '/var/lib/NetworkManager', type: 'f', names: ['*.lease'], action: 'remove' },
    ],
  },
  {
    id: 'cairn-backups',
    what: "cairn's backup and temp files",
    why: 'cairn keeps the file it replaces as <file>.cairn-bak.<epoch>; in an image they are clutter and may hold old secrets. Interrupted writes leave <file>.cairn-tmp.',
    selections: () => [
      { under: '/', maxDepth: 64, type: 'f', names: ['*.cairn-bak.*', '*.cairn-tmp'], prune: [...NOT_SEARCHED], crossDevices: true, action: 'remove' },
    ],
  },
];

/**
 * Extra paths from the inventory (`bake_cleanup_paths`): absolute paths whose last
 * component may be a glob (`/var/lib/myapp/instance-id`, `/etc/myapp/*.key`),
 * removed like the built-in items. Returns the selections and the problems.
 */
export function extraSelections(v: unknown): { selections: Selection[]; problems: string[] } {
  const selections: Selection[] = [];
  const problems: string[] = [];
  if (v === undefined || v === null) return { selections, problems };
  if (!Array.isArray(v)) return { selections, problems: [`bake_cleanup_paths must be a list of absolute paths, got ${JSON.stringify(v)}`] };
  for (const p of v) {
    if (typeof p !== 'string' || !p.startsWith('/')) {
      problems.push(`bake_cleanup_paths: ${JSON.stringify(p)} is not an absolute path`);
      continue;
    }
    const parts = p.split('/').filter(Boolean);
    const name = parts.pop();
    if (!name || parts.some((c) => c === '.' || c === '..' || /[*?[\]]/.test(c)) || name === '.' || name === '..') {
      problems.push(`bake_cleanup_paths: ${JSON.stringify(p)} must be an absolute path without . or .. whose directories have no wildcards (only the last component may be a glob)`);
      continue;
    }
    if (p.includes('\n')) {
      problems.push(`bake_cleanup_paths: ${JSON.stringify(p)} contains a newline`);
      continue;
    }
    selections.push({ under: `/${parts.join('/')}`, names: [name], action: 'remove' });
  }
  return { selections, problems };
}

/** Item ids named in `bake_cleanup_skip` (unknown names are problems). */
export function skippedItems(v: unknown): { skip: Set<string>; problems: string[] } {
  const skip = new Set<string>();
  const problems: string[] = [];
  if (v === undefined || v === null) return { skip, problems };
  const known = IDENTITY_ITEMS.map((i) => i.id);
  if (!Array.isArray(v)) return { skip, problems: [`bake_cleanup_skip must be a list of item ids (${known.join(', ')}), got ${JSON.stringify(v)}`] };
  for (const id of v) {
    if (typeof id === 'string' && known.includes(id)) skip.add(id);
    else problems.push(`bake_cleanup_skip: unknown item ${JSON.stringify(id)} (known: ${known.join(', ')})`);
  }
  return { skip, problems };
}
