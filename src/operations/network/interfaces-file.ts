/**
 * /etc/network/interfaces as ifupdown reads it (Debian's ifupdown, busybox's
 * ifup/ifdown on Alpine, ifupdown-ng): pure rendering and checking of the
 * interfaces a role describes. `address` is written as address + netmask (busybox
 * needs the netmask line; the others accept it).
 */

export interface InterfaceSpec {
  /** The kernel's name, e.g. eth0. */
  readonly name: string;
  /** static (address required), dhcp, or manual (up, no address). */
  readonly method: 'static' | 'dhcp' | 'manual';
  /** IPv4 with its prefix, e.g. 10.0.0.5/24 (static only). */
  readonly address?: string;
  /** IPv4 default gateway (static only). */
  readonly gateway?: string;
  readonly mtu?: number;
  /** More stanza lines, as ifupdown writes them: 'up ip route add 10.9.0.0/16 via 10.0.0.1'. */
  readonly options?: readonly string[];
  /** An `auto` line (brought up at boot and by the switch). Default true. */
  readonly auto?: boolean;
}

const NAME = /^[A-Za-z0-9_.:-]{1,15}$/;
const OPTION = /^[a-z][a-z0-9-]*\s+\S[^\n\r]*$/;
const METHODS = ['static', 'dhcp', 'manual'];

/** A dotted IPv4 address (four octets <= 255), or undefined. */
function ipv4(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const o = m.slice(1).map(Number);
  return o.every((n) => n <= 255) ? o : undefined;
}

/** 24 -> 255.255.255.0 */
export function netmask(prefix: number): string {
  const bits = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 255).join('.');
}

/** Problems with one interface description, as sentences naming the field (empty: fine). */
export function interfaceProblems(spec: unknown, at: string): string[] {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) return [`${at} must be a map, e.g. { name: eth0, method: dhcp }`];
  const s = spec as Record<string, unknown>;
  const out: string[] = [];
  for (const k of Object.keys(s)) {
    if (!['name', 'method', 'address', 'gateway', 'mtu', 'options', 'auto'].includes(k)) out.push(`${at} has an unknown key ${JSON.stringify(k)} (known: name, method, address, gateway, mtu, options, auto)`);
  }
  if (typeof s.name !== 'string' || !NAME.test(s.name) || s.name === 'lo') out.push(`${at}.name must be an interface name like eth0 (not lo: cairn writes lo itself), got ${JSON.stringify(s.name)}`);
  if (typeof s.method !== 'string' || !METHODS.includes(s.method)) out.push(`${at}.method must be one of ${METHODS.join(', ')}, got ${JSON.stringify(s.method)}`);
  if (s.method === 'static') {
    const m = typeof s.address === 'string' ? /^(.+)\/(\d{1,2})$/.exec(s.address) : null;
    if (!m || !ipv4(m[1]!) || Number(m[2]) > 32) out.push(`${at}.address must be an IPv4 address with its prefix, e.g. 10.0.0.5/24, got ${JSON.stringify(s.address)}`);
    if (s.gateway !== undefined && (typeof s.gateway !== 'string' || !ipv4(s.gateway))) out.push(`${at}.gateway must be an IPv4 address, got ${JSON.stringify(s.gateway)}`);
  } else {
    for (const k of ['address', 'gateway']) if (s[k] !== undefined) out.push(`${at}.${k} is only for method static`);
  }
  if (s.mtu !== undefined && (!Number.isInteger(s.mtu) || (s.mtu as number) < 68 || (s.mtu as number) > 65535)) out.push(`${at}.mtu must be an integer from 68 to 65535, got ${JSON.stringify(s.mtu)}`);
  if (s.auto !== undefined && typeof s.auto !== 'boolean') out.push(`${at}.auto must be true or false, got ${JSON.stringify(s.auto)}`);
  if (s.options !== undefined) {
    if (!Array.isArray(s.options)) out.push(`${at}.options must be a list of stanza lines`);
    else for (const [i, o] of s.options.entries()) if (typeof o !== 'string' || !OPTION.test(o)) out.push(`${at}.options[${i}] must be one stanza line 'keyword value', e.g. 'up ip route add 10.9.0.0/16 via 10.0.0.1', got ${JSON.stringify(o)}`);
  }
  return out;
}

/** Problems with the whole list (each interface, names unique). */
export function interfacesProblems(list: unknown, at = 'interfaces'): string[] {
  if (!Array.isArray(list) || list.length === 0) return [`${at} must be a non-empty list, e.g. [{ name: eth0, method: dhcp }]`];
  const out = list.flatMap((s, i) => interfaceProblems(s, `${at}[${i}]`));
  const names = list.map((s) => (s as { name?: unknown } | null)?.name).filter((n) => typeof n === 'string');
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length) out.push(`${at} lists ${[...new Set(twice)].join(', ')} twice`);
  return out;
}

/** The file (pure): lo, then each interface's stanza. */
export function renderInterfaces(list: readonly InterfaceSpec[]): string {
  const out = ['# managed by cairn: do not edit, changes are overwritten (the previous file is kept under /var/lib/cairn)', 'auto lo', 'iface lo inet loopback'];
  for (const s of list) {
    out.push('');
    if (s.auto ?? true) out.push(`auto ${s.name}`);
    out.push(`iface ${s.name} inet ${s.method}`);
    if (s.method === 'static') {
      const [addr, prefix] = s.address!.split('/');
      out.push(`\taddress ${addr}`, `\tnetmask ${netmask(Number(prefix))}`);
      if (s.gateway) out.push(`\tgateway ${s.gateway}`);
    }
    if (s.mtu !== undefined) out.push(`\tmtu ${s.mtu}`);
    for (const o of s.options ?? []) out.push(`\t${o.trim()}`);
  }
  return `${out.join('\n')}\n`;
}
