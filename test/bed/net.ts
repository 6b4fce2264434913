/**
 * Fleet network (all names prefixed, all recorded in state.json before creation):
 *
 *   controller (root netns)                    bed netns cairn-bed-<fleet>
 *   cbed<n> 10.231.<n>.254/24  <--veth-->  uplink --+
 *                                                  br0 10.231.<n>.1/24 (no forwarding: a dead end)
 *   host netns cairn-bed-<fleet>-<host>            |
 *   eth0 10.231.<n>.<11+i>/24  <--veth-->  v<11+i> -+
 *   default via 10.231.<n>.1
 *
 * The controller is an L2 member of the bridge, so the route to the fleet subnet is
 * the connected route of cbed<n>. Nothing is NATed or forwarded: hosts reach each
 * other and the controller, nothing else.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTROLLER_OCTET, GATEWAY_OCTET, ROOT_VETH_PREFIX, STATE_BASE, subnetPrefix } from './config.ts';
import { run } from './exec.ts';
import type { FleetState, HostState, StateWriter } from './state.ts';

export function netnsExists(name: string): boolean {
  return existsSync(join('/run/netns', name));
}

export function linkExists(name: string): boolean {
  return existsSync(join('/sys/class/net', name));
}

/** Subnet indexes in use by other fleets' state files or by any route of the controller. */
export async function pickSubnetIndex(fleet: string, preferred?: number): Promise<number> {
  const used = new Set<number>();
  if (existsSync(STATE_BASE)) {
    for (const d of readdirSync(STATE_BASE)) {
      if (d === fleet) continue;
      const f = join(STATE_BASE, d, 'state.json');
      if (!existsSync(f)) continue;
      try {
        const s = JSON.parse(readFileSync(f, 'utf8')) as Partial<FleetState>;
        if (typeof s.subnetIndex === 'number') used.add(s.subnetIndex);
      } catch {
        /* unreadable: ignore */
      }
    }
  }
  const routes = (await run(['ip', '-4', '-o', 'route', 'show', 'table', 'all'])).stdout;
  const addrs = (await run(['ip', '-4', '-o', 'addr', 'show'])).stdout;
  for (const m of (routes + addrs).matchAll(/\b10\.231\.(\d+)\./g)) used.add(Number(m[1]));
  const order = [...(preferred !== undefined ? [preferred] : []), ...(fleet === 'default' ? [0] : []), ...Array.from({ length: 254 }, (_, i) => i + 1)];
  const pick = order.find((i) => i >= 0 && i <= 254 && !used.has(i));
  if (pick === undefined) throw new Error('no free 10.231.<n>.0/24 subnet for the fleet');
  return pick;
}

/** Bed netns + bridge + controller veth. */
export async function setupBedNetwork(w: StateWriter): Promise<void> {
  const s = w.state;
  const ns = s.bedNetns;
  const p = subnetPrefix(s.subnetIndex);
  await w.recordNetns(ns);
  await run(['ip', 'netns', 'add', ns]);
  await run(['ip', '-n', ns, '-batch', '-'], {
    input: [
      'link set lo up',
      'link add br0 type bridge forward_delay 0 stp_state 0',
      `addr add ${p}.${GATEWAY_OCTET}/24 dev br0`,
      'link set br0 up',
    ].join('\n') + '\n',
  });
  // no forwarding in the bed netns (the default for a new netns; made explicit)
  await run(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
  await w.recordLink(s.rootVeth);
  await run(['ip', 'link', 'add', s.rootVeth, 'type', 'veth', 'peer', 'name', 'uplink', 'netns', ns]);
  await run(['ip', '-n', ns, 'link', 'set', 'uplink', 'master', 'br0', 'up']);
  await run(['ip', 'addr', 'add', `${p}.${CONTROLLER_OCTET}/24`, 'dev', s.rootVeth]);
  await run(['ip', 'link', 'set', s.rootVeth, 'up']);
}

/** Host netns with eth0 (address, default route) on the bridge, configured before boot. */
export async function setupHostNetwork(w: StateWriter, h: HostState): Promise<void> {
  const s = w.state;
  const p = subnetPrefix(s.subnetIndex);
  await w.recordNetns(h.netns);
  await run(['ip', 'netns', 'add', h.netns]);
  await run(['ip', '-n', s.bedNetns, 'link', 'add', h.bedIface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns]);
  await run(['ip', '-n', s.bedNetns, 'link', 'set', h.bedIface, 'master', 'br0', 'up']);
  await run(['ip', '-n', h.netns, '-batch', '-'], {
    input: ['link set lo up', `addr add ${h.address}/24 dev eth0`, 'link set eth0 up', `route add default via ${p}.${GATEWAY_OCTET}`].join('\n') + '\n',
  });
}

export function rootVethName(index: number): string {
  return `${ROOT_VETH_PREFIX}${index}`;
}
