import type { Facts } from './types.ts';

/** A kernel option Nomad/docker/CNI rely on, and what silently breaks without it. */
export interface KernelFeature {
  /** Option name without the CONFIG_ prefix. */
  readonly name: string;
  /** One sentence: the symptom when it is missing. */
  readonly breaks: string;
  /** Needed only for overlay networks (VXLAN, MACVLAN, IPVLAN). */
  readonly overlayOnly?: boolean;
}

/** From moby `contrib/check-config.sh` (see DOMAIN.md, "Kernel and cgroups"). */
export const KERNEL_FEATURES: readonly KernelFeature[] = [
  { name: 'NAMESPACES', breaks: 'No namespaces at all: no container or isolated task can start.' },
  { name: 'NET_NS', breaks: 'No network namespaces: bridge-mode allocations and docker networking fail.' },
  { name: 'PID_NS', breaks: 'No PID namespaces: containers and exec tasks cannot get their own process tree.' },
  { name: 'IPC_NS', breaks: 'No IPC namespaces: container runtimes refuse to create containers.' },
  { name: 'UTS_NS', breaks: 'No UTS namespaces: containers cannot have their own hostname and fail to start.' },
  { name: 'CGROUPS', breaks: 'No cgroups: no resource limits, and the exec and docker drivers fail to start tasks.' },
  { name: 'CGROUP_SCHED', breaks: 'No CPU scheduler cgroup: CPU shares and limits of tasks are ignored or rejected.' },
  { name: 'KEYS', breaks: 'No kernel keyring: container runtimes fail with "permission denied" creating session keys.' },
  { name: 'VETH', breaks: 'No veth pairs: the CNI bridge plugin cannot connect any allocation to the network.' },
  { name: 'BRIDGE', breaks: 'No Linux bridge: Nomad bridge networking and the docker0 bridge cannot be created.' },
  { name: 'BRIDGE_NETFILTER', breaks: 'No br_netfilter: bridged traffic skips iptables, so port mappings and service routing silently fail.' },
  { name: 'IP_NF_FILTER', breaks: 'No iptables filter table: the CNI firewall plugin and docker cannot install rules.' },
  { name: 'IP_NF_NAT', breaks: 'No iptables NAT table: published ports (portmap) and outbound masquerading do not work.' },
  { name: 'IP_NF_TARGET_MASQUERADE', breaks: 'No MASQUERADE target: allocations on a bridge cannot reach the outside network.' },
  { name: 'NETFILTER_XT_MATCH_ADDRTYPE', breaks: 'No addrtype match: docker and portmap rules for local destinations fail to install.' },
  { name: 'NETFILTER_XT_MATCH_CONNTRACK', breaks: 'No conntrack match: return traffic of NATed connections is dropped.' },
  { name: 'POSIX_MQUEUE', breaks: 'No POSIX message queues: container runtimes fail to mount /dev/mqueue.' },
  { name: 'OVERLAY_FS', breaks: 'No overlayfs: docker falls back to the slow vfs driver or fails to start.' },
  { name: 'VXLAN', breaks: 'No VXLAN: overlay networks spanning hosts cannot be created.', overlayOnly: true },
  { name: 'MACVLAN', breaks: 'No macvlan: macvlan networks for tasks cannot be created.', overlayOnly: true },
  { name: 'IPVLAN', breaks: 'No ipvlan: ipvlan networks for tasks cannot be created.', overlayOnly: true },
];

export interface MissingKernelFeatures {
  /** False when the kernel config could not be read: nothing can be said about features. */
  readonly known: boolean;
  /** Features neither built in (y) nor a module (m). */
  readonly missing: readonly KernelFeature[];
}

/**
 * Required features the host kernel lacks (pure). A module (`m`) counts as present:
 * loading it is the job of the module operation.
 */
export function missingKernelFeatures(facts: Pick<Facts, 'kernel'>, opts: { overlayNetworks: boolean }): MissingKernelFeatures {
  const config = facts.kernel.config;
  if (config === undefined) return { known: false, missing: [] };
  const missing = KERNEL_FEATURES.filter((f) => (opts.overlayNetworks || !f.overlayOnly) && config[f.name] === undefined);
  return { known: true, missing };
}

/** One line per missing feature, e.g. "CONFIG_VETH is missing: No veth pairs: ...". */
export function describeMissing(result: MissingKernelFeatures, source?: string): string[] {
  if (!result.known) return ['kernel config not found (no /proc/config.gz, no /boot/config-<release>): features cannot be checked'];
  return result.missing.map((f) => `CONFIG_${f.name} is missing${source ? ` in ${source}` : ''}: ${f.breaks}`);
}
