import { sh, joinCommands, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { fail, type ApplyRuntime, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, paramNames, parseSections, rejectUnknownParams, section } from './kit.ts';
import { checkAbsPath } from './path-params.ts';
import { guardedFiles } from './guarded-files.ts';
import { interfacesProblems, renderInterfaces, type InterfaceSpec } from './network/interfaces-file.ts';

export interface NetworkInterfacesParams {
  readonly id: string;
  /** What the file describes besides lo (cairn writes lo). */
  readonly interfaces: readonly InterfaceSpec[];
  /** The host restores the previous file (and cycles the interfaces again) this long after the switch unless confirmed. Default 60. */
  readonly rollbackSeconds?: number;
  /** Default /var/lib/cairn/network */
  readonly stateDir?: string;
}

const KIND = 'networkInterfaces';
const PARAMS = paramNames<NetworkInterfacesParams>({ id: true, interfaces: true, rollbackSeconds: true, stateDir: true });
const FILE = '/etc/network/interfaces';

/** The interface names a stanza file mentions (auto / allow-* / iface lines), lo left out: shell printing one per line. */
const NAMES_IN = (file: string): ShellCommand =>
  sh`awk '$1 == "iface" { print $2 } $1 == "auto" || $1 ~ /^allow-/ { for (i = 2; i <= NF; i++) print $i }' ${file} 2>/dev/null`;

/**
 * Make the file take effect: every interface named in the new file or in the one
 * before it is taken down (`ifdown -f`; one no file describes any more has its
 * addresses flushed), then each `auto` interface of the file now in place is brought
 * up. The same script runs after the timer restores the previous file: it then
 * brings the old settings back. SHELL=/bin/sh: busybox's ifup runs its commands
 * with $SHELL.
 */
export function cycleInterfaces(names: readonly string[], stateDir: string): ShellCommand {
  return sh`export SHELL=/bin/sh
all=$( { printf '%s\\n' ${names}; ${NAMES_IN(`${stateDir}/before-0`)}; } | grep -v -x -e lo -e '' | sort -u)
up=$(awk '$1 == "auto" || $1 == "allow-hotplug" { for (i = 2; i <= NF; i++) print $i }' ${FILE} | grep -v -x lo | sort -u)
for i in $all; do ifdown -f "$i" >/dev/null 2>&1 || ip addr flush dev "$i" 2>/dev/null || :; done
rc=0
for i in $up; do out=$(ifup "$i" 2>&1) || { rc=1; echo "ifup $i: $out" >&2; }; done
exit $rc`;
}

/** After the switch (over a fresh login, one command for all): each static address is on its interface. */
function addressesUp(list: readonly InterfaceSpec[]): (rt: ApplyRuntime) => Promise<string[]> {
  const wanted = list.filter((x) => x.method === 'static' && (x.auto ?? true));
  return async (rt) => {
    if (wanted.length === 0) return [];
    const r = await rt.run(sh`ip -o -4 addr show`);
    // `2: eth0    inet 10.0.0.5/24 brd ...`: the interface is the second field
    const of = (name: string) => r.stdout.split('\n').filter((l) => l.split(/\s+/)[1] === name);
    return wanted
      .filter((s) => !of(s.name).some((l) => l.includes(` inet ${s.address} `)))
      .map((s) => `${s.name} does not have ${s.address} after the switch (${of(s.name).join('; ').trim() || r.stderr.trim() || 'no IPv4 address'})`);
  };
}

/**
 * The network's configuration in /etc/network/interfaces (ifupdown: Debian, Alpine's
 * busybox ifup, ifupdown-ng), changed with a dead-man switch: the host keeps the
 * previous file and arms a timer, the new file is checked (`ifup -n -a`), then the
 * interfaces are cycled in a detached process (the SSH connection may drop meanwhile).
 * cairn confirms only when a NEW login works and the static addresses are there;
 * otherwise the host restores the previous file and cycles the interfaces again.
 * A host without ifup (NetworkManager, dhcpcd, systemd-networkd) is refused.
 */
export function networkInterfaces(params: NetworkInterfacesParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const problems = interfacesProblems(params.interfaces);
  if (problems.length) throw paramError(KIND, id, 'interfaces', problems.join('; '), 'e.g. interfaces: [{ name: eth0, method: static, address: 10.0.0.5/24, gateway: 10.0.0.1 }]');
  const stateDir = params.stateDir === undefined ? '/var/lib/cairn/network' : checkAbsPath(KIND, id, 'stateDir', params.stateDir);
  const inner = guardedFiles({
    id,
    what: `the network configuration (${params.interfaces.map((s) => s.name).join(', ')})`,
    files: [{ path: FILE, content: renderInterfaces(params.interfaces) }],
    stateDir,
    ...(params.rollbackSeconds !== undefined ? { rollbackSeconds: params.rollbackSeconds } : {}),
    validate: sh`SHELL=/bin/sh ifup -n -a -i ${FILE} >/dev/null`,
    activate: cycleInterfaces(params.interfaces.map((s) => s.name), stateDir),
    detachActivation: true,
    checks: addressesUp(params.interfaces),
    timerName: `cairn-network-rollback`,
  });
  return {
    ...inner,
    kind: KIND,
    probe(ctx): ShellCommand {
      return joinCommands([sh`if command -v ifup >/dev/null 2>&1; then ${section('ifup', sh`command -v ifup`)}
fi`, inner.probe(ctx)!], '\n');
    },
    plan(probe: CommandResult | undefined, ctx): Plan {
      if (probe && probe.exitCode === 0 && !parseSections(probe.stdout).has('ifup')) {
        return fail(`${KIND} '${id}': ${ctx.host} has no ifup: its network is not configured through ${FILE} (NetworkManager, dhcpcd or systemd-networkd manage it, which cairn does not drive yet); install ifupdown, or leave the network to that tool`);
      }
      return inner.plan(probe, ctx);
    },
  };
}
