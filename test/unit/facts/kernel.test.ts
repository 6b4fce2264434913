import test from 'ava';
import { KERNEL_FEATURES, describeMissing, missingKernelFeatures } from '../../../src/facts/kernel.ts';
import type { KernelOption } from '../../../src/facts/types.ts';

const all = (except: string[] = []): Record<string, KernelOption> =>
  Object.fromEntries(KERNEL_FEATURES.filter((f) => !except.includes(f.name)).map((f) => [f.name, 'y' as KernelOption]));
const facts = (config: Record<string, KernelOption> | undefined) => ({ kernel: { release: 'x', config, configSource: config ? '/proc/config.gz' : undefined } });

test('the DOMAIN.md list, each with what breaks', (t) => {
  t.deepEqual(
    KERNEL_FEATURES.map((f) => f.name),
    ['NAMESPACES', 'NET_NS', 'PID_NS', 'IPC_NS', 'UTS_NS', 'CGROUPS', 'CGROUP_SCHED', 'KEYS', 'VETH', 'BRIDGE', 'BRIDGE_NETFILTER', 'IP_NF_FILTER', 'IP_NF_NAT', 'IP_NF_TARGET_MASQUERADE', 'NETFILTER_XT_MATCH_ADDRTYPE', 'NETFILTER_XT_MATCH_CONNTRACK', 'POSIX_MQUEUE', 'OVERLAY_FS', 'VXLAN', 'MACVLAN', 'IPVLAN'],
  );
  for (const f of KERNEL_FEATURES) t.regex(f.breaks, /^[A-Z].+\.$/, f.name);
  t.deepEqual(KERNEL_FEATURES.filter((f) => f.overlayOnly).map((f) => f.name), ['VXLAN', 'MACVLAN', 'IPVLAN']);
});

test('nothing missing', (t) => {
  t.deepEqual(missingKernelFeatures(facts(all()), { overlayNetworks: true }), { known: true, missing: [] });
});

test('modules count as present', (t) => {
  const config = { ...all(), VETH: 'm' as KernelOption, BRIDGE: 'm' as KernelOption };
  t.deepEqual(missingKernelFeatures(facts(config), { overlayNetworks: true }).missing, []);
});

test('missing features by name; overlay ones only when asked', (t) => {
  const config = all(['BRIDGE_NETFILTER', 'VXLAN']);
  t.deepEqual(missingKernelFeatures(facts(config), { overlayNetworks: false }).missing.map((f) => f.name), ['BRIDGE_NETFILTER']);
  const r = missingKernelFeatures(facts(config), { overlayNetworks: true });
  t.deepEqual(r.missing.map((f) => f.name), ['BRIDGE_NETFILTER', 'VXLAN']);
  t.regex(describeMissing(r, '/proc/config.gz')[0] ?? '', /^CONFIG_BRIDGE_NETFILTER is missing in \/proc\/config.gz: No br_netfilter/);
});

test('no config found: unknown, not "all missing"', (t) => {
  const r = missingKernelFeatures(facts(undefined), { overlayNetworks: true });
  t.deepEqual(r, { known: false, missing: [] });
  t.regex(describeMissing(r)[0] ?? '', /kernel config not found/);
});
