/**
 * Test bed constants: where state and caches live, host kinds, names.
 * Nothing here touches the system; importing it is cheap (fleet.ts uses it).
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Per-fleet state dirs live under here: <STATE_BASE>/<fleet>/. */
export const STATE_BASE = process.env.CAIRN_BED_STATE_DIR ?? '/var/lib/cairn-bed';
/** Caches shared by all fleets (extracted roots, Debian tarballs, apt repositories, downloads). */
export const CACHE_BASE = process.env.CAIRN_BED_CACHE_DIR ?? '/var/cache/cairn-bed';

/** Every netns, machine and veth the bed creates starts with this (so leftovers are provably ours). */
export const PREFIX = 'cairn-bed';
/** Root-namespace veth names: `cbed<subnet index>` (interface names are limited to 15 chars). */
export const ROOT_VETH_PREFIX = 'cbed';

export const DEFAULT_FLEET = 'default';
export const FLEET_NAME_RE = /^[a-z0-9][a-z0-9-]{0,15}$/;

export type Kind = 'alpine' | 'debian' | 'alpine-arm' | 'debian-arm';
export const KIND_ORDER: Kind[] = ['alpine', 'debian', 'alpine-arm', 'debian-arm'];

export type Arch = 'x86_64' | 'aarch64';
export type Init = 'openrc' | 'systemd';
/** How the non-root user `tester` becomes root on this kind ('none': not possible, see docs/testbed.md). */
export type BecomeMethod = 'doas' | 'sudo' | 'none';

export interface KindInfo {
  kind: Kind;
  /** Host names are <namePrefix><n>: alp1, deb1, arm1, debarm1. */
  namePrefix: string;
  arch: Arch;
  os: 'alpine' | 'debian';
  init: Init;
  /** Inventory group the hosts go to. */
  group: string;
  /** Seconds to wait for ssh after starting the container. */
  bootTimeoutSec: number;
}

export const KINDS: Record<Kind, KindInfo> = {
  alpine: { kind: 'alpine', namePrefix: 'alp', arch: 'x86_64', os: 'alpine', init: 'openrc', group: 'alpine', bootTimeoutSec: 60 },
  debian: { kind: 'debian', namePrefix: 'deb', arch: 'x86_64', os: 'debian', init: 'systemd', group: 'debian', bootTimeoutSec: 90 },
  'alpine-arm': { kind: 'alpine-arm', namePrefix: 'arm', arch: 'aarch64', os: 'alpine', init: 'openrc', group: 'arm', bootTimeoutSec: 120 },
  'debian-arm': { kind: 'debian-arm', namePrefix: 'debarm', arch: 'aarch64', os: 'debian', init: 'systemd', group: 'arm', bootTimeoutSec: 180 },
};

export function fleetDir(fleet: string): string {
  return join(STATE_BASE, fleet);
}

export function stateFile(fleet: string): string {
  return join(fleetDir(fleet), 'state.json');
}

export function checkFleetName(fleet: string): string {
  if (!FLEET_NAME_RE.test(fleet)) {
    throw new Error(`bad fleet name '${fleet}': use 1-16 of a-z 0-9 - (starting with a letter or digit)`);
  }
  return fleet;
}

/** netns holding the fleet's bridge. */
export function bedNetnsName(fleet: string): string {
  return `${PREFIX}-${fleet}`;
}

/** netns / nspawn machine name of one host. */
export function hostMachineName(fleet: string, host: string): string {
  return `${PREFIX}-${fleet}-${host}`;
}

/** First three octets of the fleet subnet 10.231.<index>.0/24. */
export function subnetPrefix(index: number): string {
  return `10.231.${index}`;
}

/** Host addresses are .11 ... .240; .1 is the bridge, .254 the controller, .249 is never used (unreachable test). */
export const FIRST_HOST_OCTET = 11;
export const LAST_HOST_OCTET = 240;
export const UNUSED_OCTET = 249;
export const GATEWAY_OCTET = 1;
export const CONTROLLER_OCTET = 254;
