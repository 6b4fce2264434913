// Built-in role `base`: what every Nomad + Consul node needs from the OS before
// anything else: packages, accounts, the bridge kernel modules, the sysctls of
// Nomad's bridge networking, and cgroup settings (Alpine rc.conf, Raspberry Pi
// cmdline.txt). Vars and behaviour: docs/roles-host.md.
import {
  PACKAGE_NAME,
  boolean,
  checkVars,
  defineRole,
  group,
  isMap,
  kernelCmdline,
  kernelModule,
  line,
  noop,
  oneOf,
  packages,
  stringList,
  sysctl,
  user,
  type Facts,
  type Operation,
  type VarProblem,
  type Vars,
} from 'cairn-provision';

/** Kernel modules cairn can tell are built in from the kernel config (module -> CONFIG_ option). */
export const MODULE_OPTIONS: Readonly<Record<string, string>> = {
  bridge: 'BRIDGE',
  br_netfilter: 'BRIDGE_NETFILTER',
  overlay: 'OVERLAY_FS',
  veth: 'VETH',
  vxlan: 'VXLAN',
  macvlan: 'MACVLAN',
  ipvlan: 'IPVLAN',
  ip_tables: 'IP_NF_IPTABLES',
  iptable_nat: 'IP_NF_NAT',
  nf_nat: 'NF_NAT',
  xt_conntrack: 'NETFILTER_XT_MATCH_CONNTRACK',
};

export const DEFAULTS = {
  base_packages: {
    alpine: ['ca-certificates', 'iptables', 'ip6tables'],
    debian: ['ca-certificates', 'iptables'],
  } as Readonly<Partial<Record<'alpine' | 'debian', string[]>>>,
  /** Refresh the package index before installing (apk --update-cache / apt-get update), only when something is missing. */
  base_update_cache: true,
  /** [{ name, gid?, system? }] */
  base_groups: [] as unknown[],
  /** [{ name, uid?, group?, groups?, home?, shell?, system?, create_home? }] */
  base_users: [] as unknown[],
  base_kernel_modules: ['bridge', 'br_netfilter'],
  base_sysctls: {
    'net.bridge.bridge-nf-call-iptables': 1,
    'net.bridge.bridge-nf-call-ip6tables': 1,
    'net.bridge.bridge-nf-call-arptables': 1,
  } as Readonly<Record<string, string | number>>,
  /** Ephemeral ports of outgoing connections: must stay clear of Nomad's dynamic ports. */
  base_ip_local_port_range: '32768 60999',
  /** required: a sysctl that cannot be set live fails the step; best-effort: persisted, a warning. */
  base_sysctl_live: 'required',
  /** Manage the cgroup settings (Alpine rc_cgroup_mode, Raspberry Pi cmdline.txt). */
  base_cgroups: true,
  base_rc_cgroup_mode: 'unified',
  base_cmdline_txt: '/boot/firmware/cmdline.txt',
  base_cmdline_add: ['cgroup_enable=memory'],
  /** Nomad's dynamic port range (client min_dynamic_port / max_dynamic_port); shared with the nomad role. */
  nomad_min_dynamic_port: 20000,
  nomad_max_dynamic_port: 32000,
};

const MODULE = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
const SYSCTL = /^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)+$/;
const ACCOUNT = /^[a-z_][a-z0-9_-]{0,31}$/;
const TOKEN = /^[!#-&(-~]+$/;

/** "32768 60999" -> [32768, 60999], or a problem. */
export function parsePortRange(v: unknown): [number, number] | string {
  if (typeof v !== 'string' && !Array.isArray(v)) return `must be a string "LOW HIGH", got ${JSON.stringify(v)}`;
  const parts = (Array.isArray(v) ? v.map(String) : v.trim().split(/\s+/)).map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN));
  const [lo, hi] = parts;
  if (parts.length !== 2 || lo === undefined || hi === undefined || Number.isNaN(lo) || Number.isNaN(hi)) return `must be two port numbers "LOW HIGH", got ${JSON.stringify(v)}`;
  if (lo < 1024 || hi > 65535 || lo > hi) return `must be LOW HIGH with 1024 <= LOW <= HIGH <= 65535, got ${JSON.stringify(v)}`;
  return [lo, hi];
}

/** Problems with the base vars of one host (pure; used by validate()). */
export function baseVarProblems(vars: Vars): VarProblem[] {
  const out: VarProblem[] = [];
  const pk = vars.base_packages;
  if (!isMap(pk)) out.push({ var: 'base_packages', message: `must be a map of OS family to package list, got ${JSON.stringify(pk)}`, fix: "e.g. base_packages: { alpine: [iptables], debian: [iptables] }" });
  else {
    for (const [family, list] of Object.entries(pk)) {
      if (family !== 'alpine' && family !== 'debian') out.push({ var: `base_packages.${family}`, message: 'is not an OS family cairn knows', fix: 'use the keys alpine and debian' });
      else out.push(...stringList(`base_packages.${family}`, list, PACKAGE_NAME, '[iptables, ca-certificates]', { allowEmpty: true }));
    }
  }
  out.push(...boolean('base_update_cache', vars.base_update_cache));
  out.push(...accountList('base_groups', vars.base_groups, ['name', 'gid', 'system']));
  out.push(...accountList('base_users', vars.base_users, ['name', 'uid', 'group', 'groups', 'home', 'shell', 'system', 'create_home']));
  out.push(...stringList('base_kernel_modules', vars.base_kernel_modules, MODULE, '[bridge, br_netfilter]', { allowEmpty: true }));
  const sc = vars.base_sysctls;
  if (!isMap(sc)) out.push({ var: 'base_sysctls', message: `must be a map of sysctl key to value, got ${JSON.stringify(sc)}`, fix: "e.g. base_sysctls: { 'net.ipv4.ip_forward': 1 }" });
  else {
    for (const [k, v] of Object.entries(sc)) {
      if (!SYSCTL.test(k)) out.push({ var: 'base_sysctls', message: `has a key that is not a sysctl name: ${JSON.stringify(k)}`, fix: 'use dotted keys such as net.ipv4.ip_forward' });
      else if ((typeof v !== 'string' && typeof v !== 'number') || String(v).trim() === '') out.push({ var: `base_sysctls.${k}`, message: `must be a number or a string, got ${JSON.stringify(v)}`, fix: `e.g. '${k}': 1` });
      if (k === 'net.ipv4.ip_local_port_range') out.push({ var: 'base_sysctls', message: 'sets net.ipv4.ip_local_port_range', fix: 'set base_ip_local_port_range instead (it is checked against Nomad\'s dynamic ports)' });
    }
  }
  const range = parsePortRange(vars.base_ip_local_port_range);
  if (typeof range === 'string') out.push({ var: 'base_ip_local_port_range', message: range, fix: "e.g. base_ip_local_port_range: '32768 60999'" });
  else {
    const lo = Number(vars.nomad_min_dynamic_port);
    const hi = Number(vars.nomad_max_dynamic_port);
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo > hi) {
      out.push({ var: 'nomad_min_dynamic_port', message: `and nomad_max_dynamic_port must be port numbers LOW <= HIGH, got ${JSON.stringify([vars.nomad_min_dynamic_port, vars.nomad_max_dynamic_port])}`, fix: 'e.g. 20000 and 32000 (Nomad\'s defaults)' });
    } else if (range[0] <= hi && lo <= range[1]) {
      out.push({
        var: 'base_ip_local_port_range',
        message: `"${range[0]} ${range[1]}" overlaps Nomad's dynamic ports ${lo}-${hi}: the kernel would hand those ports to outgoing connections and Nomad's port allocations would collide with them`,
        fix: `pick a range outside ${lo}-${hi}, e.g. '${Math.max(hi + 1, 32768)} 60999'`,
      });
    }
  }
  out.push(...oneOf('base_sysctl_live', vars.base_sysctl_live, ['required', 'best-effort']));
  out.push(...boolean('base_cgroups', vars.base_cgroups));
  out.push(...oneOf('base_rc_cgroup_mode', vars.base_rc_cgroup_mode, ['unified', 'hybrid', 'legacy']));
  if (typeof vars.base_cmdline_txt !== 'string' || !vars.base_cmdline_txt.startsWith('/')) out.push({ var: 'base_cmdline_txt', message: `must be an absolute path, got ${JSON.stringify(vars.base_cmdline_txt)}`, fix: 'e.g. /boot/firmware/cmdline.txt (Bookworm) or /boot/cmdline.txt (Bullseye)' });
  out.push(...stringList('base_cmdline_add', vars.base_cmdline_add, TOKEN, '[cgroup_enable=memory]', { allowEmpty: true }));
  return out;
}

function accountList(name: string, v: unknown, keys: readonly string[]): VarProblem[] {
  if (!Array.isArray(v)) return [{ var: name, message: `must be a list of maps, got ${JSON.stringify(v)}`, fix: `e.g. ${name}: [{ name: deploy }]` }];
  const out: VarProblem[] = [];
  v.forEach((e, i) => {
    if (!isMap(e) || typeof e.name !== 'string' || !ACCOUNT.test(e.name)) {
      out.push({ var: `${name}[${i}]`, message: `needs a name (lowercase letters, digits, _ -), got ${JSON.stringify(e)}`, fix: `e.g. { name: deploy }` });
      return;
    }
    const unknown = Object.keys(e).filter((k) => !keys.includes(k));
    if (unknown.length) out.push({ var: `${name}[${i}]`, message: `has unknown keys ${unknown.join(', ')}`, fix: `use ${keys.join(', ')}` });
  });
  return out;
}

/** A module the kernel has built in (CONFIG_X=y): nothing to load, nothing to persist. */
function builtinModule(id: string, name: string, option: string, facts: Facts): Operation {
  return {
    kind: 'kernelModule',
    id,
    probe: () => undefined,
    plan: () => noop(`kernel module ${name} is built into the kernel (CONFIG_${option}=y in ${facts.kernel.configSource ?? 'the kernel config'}): nothing to load or persist`),
  };
}

/** Add warnings to an op's change plan (e.g. "reboot required"). */
function warnOnChange(op: Operation, warnings: string[]): Operation {
  return {
    ...op,
    plan(probe, ctx) {
      const p = op.plan(probe, ctx);
      return p.kind === 'change' ? { ...p, warnings: [...(p.warnings ?? []), ...warnings] } : p;
    },
  };
}

type Account = Record<string, unknown>;

export default defineRole({
  name: 'base',
  description: 'packages, users, bridge kernel modules, sysctls and cgroup settings of a Nomad + Consul node',
  defaults: DEFAULTS,
  validate: (ctx) => checkVars('base', ctx, (vars) => baseVarProblems(vars)),
  steps(ctx) {
    const v = ctx.vars;
    const f = ctx.facts;
    const steps: Operation[] = [];
    const family = f.os.family;
    const pkgs = family === 'unknown' ? [] : (v.base_packages[family] ?? []);
    if (pkgs.length) steps.push(packages({ id: 'packages', names: pkgs, state: 'present', update: v.base_update_cache === true }));

    for (const g of v.base_groups as Account[]) {
      steps.push(group({ id: `group-${String(g.name)}`, name: String(g.name), ...(g.gid !== undefined ? { gid: g.gid as number } : {}), ...(g.system !== undefined ? { system: g.system as boolean } : {}) }));
    }
    for (const u of v.base_users as Account[]) {
      steps.push(
        user({
          id: `user-${String(u.name)}`,
          name: String(u.name),
          ...(u.uid !== undefined ? { uid: u.uid as number } : {}),
          ...(u.group !== undefined ? { group: u.group as string } : {}),
          ...(u.groups !== undefined ? { groups: u.groups as string[] } : {}),
          ...(u.home !== undefined ? { home: u.home as string } : {}),
          ...(u.shell !== undefined ? { shell: u.shell as string } : {}),
          ...(u.system !== undefined ? { system: u.system as boolean } : {}),
          ...(u.create_home !== undefined ? { createHome: u.create_home as boolean } : {}),
        }),
      );
    }

    for (const m of v.base_kernel_modules) {
      const option = MODULE_OPTIONS[m.replace(/-/g, '_')];
      const id = `module-${m}`;
      steps.push(option && f.kernel.config?.[option] === 'y' ? builtinModule(id, m, option, f) : kernelModule({ id, name: m, persist: true }));
    }

    const ignoreLive = v.base_sysctl_live === 'best-effort';
    const sysctls: Record<string, string | number> = { ...v.base_sysctls, 'net.ipv4.ip_local_port_range': String(v.base_ip_local_port_range) };
    for (const [name, value] of Object.entries(sysctls)) {
      steps.push(sysctl({ id: `sysctl-${name}`, name, value, file: '/etc/sysctl.d/90-cairn-base.conf', ignoreLive }));
    }

    if (v.base_cgroups === true) {
      if (f.supervisors.openrc) {
        const mode = v.base_rc_cgroup_mode;
        steps.push(
          warnOnChange(line({ id: 'cgroup-mode', path: '/etc/rc.conf', line: `rc_cgroup_mode="${mode}"`, regexp: '^\\s*#?\\s*rc_cgroup_mode=' }), [
            `reboot required: OpenRC mounts cgroups (rc_cgroup_mode="${mode}") at boot`,
          ]),
        );
      }
      const add = v.base_cmdline_add;
      if (family === 'debian' && add.length) steps.push(kernelCmdline({ id: 'cmdline', path: v.base_cmdline_txt, add }));
    }
    return steps;
  },
});
