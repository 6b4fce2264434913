import { isIPv4, isIPv6 } from 'node:net';
import type { InputProblem } from '../core/errors.ts';
import type { HostSpec, Inventory, Vars } from '../inventory/types.ts';
import { rolesForHost } from '../inventory/roles-for-host.ts';

/**
 * Who is a server of which cluster, computed from the inventory the same way
 * before any connection (validate) and on each host (steps):
 *
 * - server: `<p>_server: true|false` wins; else membership of a group listed
 *   in `<p>_server_groups` (default `[<p>_servers, servers]`).
 * - cluster: servers sharing `<p>_<clusterVar>` (Nomad: region, Consul:
 *   datacenter) form one raft cluster; bootstrap_expect = their count unless
 *   `<p>_bootstrap_expect` is set.
 */
export interface ClusterKind {
  readonly product: 'nomad' | 'consul';
  /** The var naming the cluster: nomad_region, consul_datacenter. */
  readonly clusterVar: string;
  readonly defaultCluster: string;
}

export const NOMAD_CLUSTER: ClusterKind = { product: 'nomad', clusterVar: 'nomad_region', defaultCluster: 'global' };
export const CONSUL_CLUSTER: ClusterKind = { product: 'consul', clusterVar: 'consul_datacenter', defaultCluster: 'dc1' };

export interface Member {
  readonly host: HostSpec;
  readonly vars: Vars;
}

function serverGroups(k: ClusterKind, vars: Vars): string[] {
  const g = vars[`${k.product}_server_groups`];
  return Array.isArray(g) ? g.map(String) : [`${k.product}_servers`, 'servers'];
}

/** How a host became a server (or not): the var, a group, or neither. */
export function serverSource(k: ClusterKind, host: HostSpec, vars: Vars, inv: Inventory): { server: boolean; via: 'var' | 'group' | 'none'; group?: string } {
  const v = vars[`${k.product}_server`];
  if (typeof v === 'boolean') return { server: v, via: 'var' };
  const groups = serverGroups(k, vars);
  const member = (g: string) => host.groups.includes(g) || (inv.groups.get(g)?.hosts.includes(host.name) ?? false);
  const group = groups.find(member);
  return group ? { server: true, via: 'group', group } : { server: false, via: 'none' };
}

/** serialWhen(host, vars): a server by var or by the host's own group list. */
export function isServerByGroups(k: ClusterKind, host: HostSpec, vars: Vars): boolean {
  const v = vars[`${k.product}_server`];
  if (typeof v === 'boolean') return v;
  return serverGroups(k, vars).some((g) => host.groups.includes(g));
}

export function isServer(k: ClusterKind, host: HostSpec, vars: Vars, inv: Inventory): boolean {
  return serverSource(k, host, vars, inv).server;
}

export function clusterName(k: ClusterKind, vars: Vars): string {
  const v = vars[k.clusterVar];
  return typeof v === 'string' && v !== '' ? v : k.defaultCluster;
}

/** The address other nodes reach a host at: `node_address`, else its inventory address. */
export function joinAddress(host: HostSpec, vars: Vars): string {
  const a = vars.node_address;
  return typeof a === 'string' && a !== '' ? a : host.address;
}

/** The address a node advertises: `node_address`, an IP inventory address, else a go-sockaddr template. */
export function advertiseAddress(host: HostSpec, vars: Vars): string {
  const a = vars.node_address;
  if (typeof a === 'string' && a !== '') return a;
  if (isIPv4(host.address) || isIPv6(host.address)) return host.address;
  return '{{ GetPrivateIP }}';
}

/** Members of this role with their merged vars (role defaults < inventory < -e, as the engine merges them). */
export function members(hostsWithRole: readonly HostSpec[], varsOf: (h: HostSpec) => Vars, self?: Member): Member[] {
  return hostsWithRole.map((h) => (self && h.name === self.host.name ? self : { host: h, vars: varsOf(h) }));
}

export interface ClusterInfo {
  readonly name: string;
  readonly servers: readonly Member[];
  /** Explicit <p>_bootstrap_expect, else the server count. */
  readonly bootstrapExpect: number;
  readonly explicit: boolean;
}

/** The cluster of `self` among `all`. */
export function clusterOf(k: ClusterKind, self: Member, all: readonly Member[], inv: Inventory): ClusterInfo {
  const name = clusterName(k, self.vars);
  const servers = all.filter((m) => clusterName(k, m.vars) === name && isServer(k, m.host, m.vars, inv));
  const e = self.vars[`${k.product}_bootstrap_expect`];
  const explicit = typeof e === 'number';
  return { name, servers, bootstrapExpect: explicit ? e : servers.length, explicit };
}

/** Does a host run a role (to wire Nomad to a local Consul or Docker)? */
export function hostRuns(inv: Inventory, host: HostSpec, role: string): boolean {
  try {
    return rolesForHost(inv, host).includes(role);
  } catch {
    return false;
  }
}

/**
 * validate(): every cluster whose server count (or explicit bootstrap_expect)
 * is even refuses, unless allow_even_servers: true. A cluster of hosts with
 * this role but no server refuses too (nothing to join), unless
 * `<p>_retry_join` names outside servers.
 */
export function clusterProblems(
  k: ClusterKind,
  ctx: { inventory: Inventory; hostsWithRole: readonly HostSpec[]; varsFor(h: HostSpec): Vars; locate(h: HostSpec, name: string): InputProblem['location'] },
): InputProblem[] {
  const p = k.product;
  const inv = ctx.inventory;
  const all: Member[] = ctx.hostsWithRole.map((h) => ({ host: h, vars: ctx.varsFor(h) }));
  const byCluster = new Map<string, Member[]>();
  for (const m of all) {
    const n = clusterName(k, m.vars);
    byCluster.set(n, [...(byCluster.get(n) ?? []), m]);
  }
  const problems: InputProblem[] = [];
  for (const [name, ms] of byCluster) {
    const servers = ms.filter((m) => isServer(k, m.host, m.vars, inv));
    const label = `${p} ${k.clusterVar === 'nomad_region' ? 'region' : 'datacenter'} '${name}'`;
    if (servers.length === 0) {
      const joinless = ms.filter((m) => !Array.isArray(m.vars[`${p}_retry_join`]) || (m.vars[`${p}_retry_join`] as unknown[]).length === 0);
      if (joinless.length) {
        problems.push({
          location: ctx.locate(joinless[0]!.host, `${p}_server`),
          message: `${label} has no server: its clients (${joinless.map((m) => m.host.name).join(', ')}) would have nothing to join`,
          fix: `mark 1, 3 or 5 hosts as servers (${p}_server: true, or put them in a group named ${serverGroups(k, ms[0]!.vars).join(' or ')}), or list outside servers in ${p}_retry_join`,
        });
      }
      continue;
    }
    const allow = servers.some((m) => m.vars.allow_even_servers === true);
    const explicit = servers.find((m) => typeof m.vars[`${p}_bootstrap_expect`] === 'number');
    const expect = explicit ? (explicit.vars[`${p}_bootstrap_expect`] as number) : servers.length;
    if (explicit && (!Number.isInteger(expect) || expect < 1)) {
      problems.push({ location: ctx.locate(explicit.host, `${p}_bootstrap_expect`), message: `${p}_bootstrap_expect must be a whole number >= 1, got ${expect}`, fix: 'leave it out: it is the number of servers of the cluster' });
      continue;
    }
    if (expect % 2 === 0 && !allow) {
      const first = explicit ?? servers[0]!;
      const src = serverSource(k, first.host, first.vars, inv);
      const location = explicit
        ? ctx.locate(explicit.host, `${p}_bootstrap_expect`)
        : src.via === 'group' && src.group
          ? (inv.groups.get(src.group)?.location ?? ctx.locate(first.host, `${p}_server`))
          : ctx.locate(first.host, `${p}_server`);
      const names = servers.map((m) => m.host.name).join(', ');
      problems.push({
        location,
        message:
          `${label} would have bootstrap_expect = ${expect} (${explicit ? `${p}_bootstrap_expect` : `servers: ${names}`}): an even number of servers adds no fault tolerance ` +
          `(${expect} servers survive ${expect / 2 - 1} failure${expect / 2 - 1 === 1 ? '' : 's'}, like ${expect - 1}) and a split can leave no majority`,
        fix: `use ${expect - 1} or ${expect + 1} servers (mark or unmark one: ${p}_server: true|false${src.via === 'group' ? `, or change group '${src.group}'` : ''}), or set allow_even_servers: true to accept it`,
      });
    }
  }
  return problems;
}
