// Built-in role `preflight`: checks, before anything is installed, that the host
// kernel can run Nomad's drivers and networking: the kernel config options from
// moby's check-config.sh and the cgroup controllers. Never changes the host.
// Vars and behaviour: docs/roles-host.md.
import { KERNEL_FEATURES, boolean, checkVars, defineRole, fail, missingKernelFeatures, noop, oneOf, stringList, warn, type Facts, type Operation, type Plan, type VarProblem, type Vars } from 'cairn-provision';

export const DEFAULTS = {
  /** fail: a missing feature stops the host's run; warn: reported, the run goes on. */
  preflight_mode: 'fail',
  /** Also require VXLAN, MACVLAN, IPVLAN (overlay networks between hosts). */
  preflight_overlay_networks: false,
  /** cgroup v2 controllers Nomad needs (v1 hosts: the same hierarchies, io = blkio). */
  preflight_cgroup_controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'],
  /** Kernel options (without CONFIG_) known to be missing and accepted, e.g. [IPVLAN]. */
  preflight_ignore_features: [] as string[],
};

const CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'pids', 'cpuacct', 'blkio', 'devices', 'freezer', 'hugetlb', 'rdma', 'misc', 'perf_event', 'net_cls', 'net_prio'];
/** cgroup v1 names of v2 controllers. */
const V1_NAME: Readonly<Record<string, string>> = { io: 'blkio' };

export function preflightVarProblems(vars: Vars): VarProblem[] {
  return [
    ...oneOf('preflight_mode', vars.preflight_mode, ['fail', 'warn']),
    ...boolean('preflight_overlay_networks', vars.preflight_overlay_networks),
    ...stringList('preflight_cgroup_controllers', vars.preflight_cgroup_controllers, new RegExp(`^(${CONTROLLERS.join('|')})$`), '[cpuset, cpu, io, memory, pids]', { allowEmpty: true }),
    ...stringList('preflight_ignore_features', vars.preflight_ignore_features, new RegExp(`^(${KERNEL_FEATURES.map((f) => f.name).join('|')})$`), '[IPVLAN]', { allowEmpty: true }),
  ];
}

/** What the kernel config check finds (pure): failures, or undefined when all is there. */
export function kernelFindings(facts: Pick<Facts, 'kernel'>, opts: { overlayNetworks: boolean; ignore: readonly string[] }): { ok: string } | { problems: string[] } {
  const r = missingKernelFeatures(facts, { overlayNetworks: opts.overlayNetworks });
  if (!r.known) {
    return {
      problems: [
        `the kernel config cannot be read: no /proc/config.gz and no /boot/config-${facts.kernel.release || '<release>'}, so the ${KERNEL_FEATURES.filter((f) => opts.overlayNetworks || !f.overlayOnly).length} kernel features Nomad, docker and CNI need cannot be checked (load the configs module, modprobe configs, or install the kernel's config file)`,
      ],
    };
  }
  const missing = r.missing.filter((f) => !opts.ignore.includes(f.name));
  const src = facts.kernel.configSource ?? 'the kernel config';
  if (missing.length === 0) {
    const n = KERNEL_FEATURES.filter((f) => opts.overlayNetworks || !f.overlayOnly).length;
    const ignored = r.missing.filter((f) => opts.ignore.includes(f.name)).map((f) => `CONFIG_${f.name}`);
    return { ok: `kernel ${facts.kernel.release}: the ${n} features checked are present in ${src}${ignored.length ? ` (missing but accepted: ${ignored.join(', ')})` : ''}` };
  }
  return { problems: missing.map((f) => `CONFIG_${f.name} is missing in ${src}: ${f.breaks}`) };
}

/** What the cgroup check finds (pure). */
export function cgroupFindings(facts: Pick<Facts, 'cgroup' | 'os' | 'supervisors'>, wanted: readonly string[]): { ok: string } | { problems: string[] } {
  const { version, controllers } = facts.cgroup;
  if (version === 0) return { problems: ['no cgroup filesystem is mounted on /sys/fs/cgroup: Nomad cannot limit or account task resources, and the exec and docker drivers fail to start tasks'] };
  const name = (c: string) => (version === 1 ? (V1_NAME[c] ?? c) : c);
  const missing = wanted.filter((c) => !controllers.includes(name(c)));
  if (missing.length === 0) {
    const note = version === 1 ? ` (cgroup v1${facts.supervisors.openrc ? '; Alpine: rc_cgroup_mode="unified" in /etc/rc.conf switches to v2 at the next boot' : ''})` : ' (cgroup v2)';
    return { ok: `cgroup controllers present: ${wanted.map(name).join(', ')}${note}` };
  }
  const problems = missing.map((c) => {
    const what: Record<string, string> = {
      memory: "no memory controller: task memory limits cannot be enforced, a task can use all of the host's memory",
      cpuset: 'no cpuset: reserved cores (resources.cores) cannot be pinned',
      cpu: 'no cpu controller: CPU shares and limits of tasks are ignored',
      io: 'no io controller: block I/O of tasks is not accounted',
      pids: 'no pids controller: a fork bomb in a task can exhaust the host',
    };
    return `cgroup v${version} controller ${name(c)} is not available: ${what[c] ?? 'Nomad cannot use it'}`;
  });
  if (missing.includes('memory')) {
    problems.push(
      facts.os.family === 'debian'
        ? 'Raspberry Pi kernels >= 6.12 disable the memory controller (cgroup_disable=memory): the base role appends cgroup_enable=memory to /boot/firmware/cmdline.txt; reboot afterwards (raspberrypi/linux#6980)'
        : 'enable the memory controller on the kernel command line (cgroup_enable=memory) and reboot',
    );
  }
  return { problems };
}

/** A check op: no probe (facts are enough), pass -> noop, problems -> fail or warn by mode. */
function check(id: string, what: string, run: (facts: Facts) => { ok: string } | { problems: string[] }, mode: 'fail' | 'warn'): Operation {
  return {
    kind: 'preflight',
    id,
    probe: () => undefined,
    plan(_probe, ctx): Plan {
      const r = run(ctx.facts);
      if ('ok' in r) return noop(r.ok);
      const text = `${what} on ${ctx.host}:\n  - ${r.problems.join('\n  - ')}`;
      return mode === 'fail' ? fail(`${text}\n(preflight_mode: warn reports this without stopping)`) : warn(text);
    },
  };
}

export default defineRole({
  name: 'preflight',
  description: 'kernel config and cgroup checks before anything is installed (never changes the host)',
  defaults: DEFAULTS,
  validate: (ctx) => checkVars('preflight', ctx, (vars) => preflightVarProblems(vars)),
  steps(ctx) {
    const mode = ctx.vars.preflight_mode === 'warn' ? 'warn' : 'fail';
    const overlayNetworks = ctx.vars.preflight_overlay_networks === true;
    const ignore = ctx.vars.preflight_ignore_features;
    const wanted = ctx.vars.preflight_cgroup_controllers;
    if (ctx.facts.chroot || ctx.bake) {
      // a chroot or an image being baked: the running kernel is not the one that will boot it
      const why = 'not checked: the target is a chroot / image (its kernel is not the running one); run preflight on the booted host';
      const skip = (id: string): Operation => ({ kind: 'preflight', id, probe: () => undefined, plan: () => noop(why) });
      return [skip('kernel-config'), skip('cgroups')];
    }
    return [
      check('kernel-config', 'kernel features missing', (f) => kernelFindings(f, { overlayNetworks, ignore }), mode),
      check('cgroups', 'cgroup controllers missing', (f) => cgroupFindings(f, wanted), mode),
    ];
  },
});
