// Built-in role `network`: the host's interfaces in /etc/network/interfaces (ifupdown:
// Alpine's busybox ifup, Debian's ifupdown, ifupdown-ng), changed with a dead-man
// switch: the interfaces are cycled by a detached process on the host, cairn confirms
// over a NEW login, and otherwise the host restores the previous file and cycles the
// interfaces again by itself. Nothing to do while network_interfaces is empty.
// Vars and behaviour: docs/network.md.
import { checkVars, defineRole, interfacesProblems, networkInterfaces, type InterfaceSpec, type Operation, type VarProblem, type Vars } from 'cairn-provision';

export const DEFAULTS = {
  /** The interfaces besides lo, e.g. [{ name: eth0, method: static, address: 10.0.0.5/24, gateway: 10.0.0.1 }]; [] = not managed. */
  network_interfaces: [] as InterfaceSpec[],
  /** The host restores the previous file this long after a switch unless cairn confirmed it. */
  network_rollback_seconds: 60,
};

export type NetworkVars = typeof DEFAULTS;

export function networkVarProblems(vars: Vars): VarProblem[] {
  const out: VarProblem[] = [];
  const list = vars.network_interfaces;
  if (!Array.isArray(list)) out.push({ var: 'network_interfaces', message: `must be a list, got ${JSON.stringify(list)}`, fix: 'e.g. network_interfaces: [{ name: eth0, method: dhcp }]' });
  else if (list.length) {
    for (const p of interfacesProblems(list, 'network_interfaces')) out.push({ var: 'network_interfaces', message: p.replace(/^network_interfaces/, ''), fix: 'e.g. network_interfaces: [{ name: eth0, method: static, address: 10.0.0.5/24, gateway: 10.0.0.1 }]' });
  }
  const s = vars.network_rollback_seconds;
  if (typeof s !== 'number' || !Number.isInteger(s) || s < 5 || s > 3600) out.push({ var: 'network_rollback_seconds', message: `must be an integer from 5 to 3600, got ${JSON.stringify(s)}`, fix: 'e.g. network_rollback_seconds: 60' });
  return out;
}

export default defineRole<NetworkVars>({
  name: 'network',
  description: 'the interfaces in /etc/network/interfaces (ifupdown), changed with a host-side rollback',
  defaults: DEFAULTS,
  validate: (ctx) => checkVars('network', ctx, (vars) => networkVarProblems(vars)),
  steps(ctx) {
    const v = ctx.vars as NetworkVars;
    const steps: Operation[] = [];
    if (v.network_interfaces.length) {
      steps.push(networkInterfaces({ id: 'interfaces', interfaces: v.network_interfaces, rollbackSeconds: v.network_rollback_seconds }));
    }
    return steps;
  },
});
