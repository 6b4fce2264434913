import { sh, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { noop, type ApplyRuntime, type OpContext, type Operation, type Plan } from './operation.ts';
import { parseSections, section } from './kit.ts';
import { checkAbsPath } from './path-params.ts';

/**
 * Run `op` only on hosts where `path` exists, e.g. a dhclient hook only where
 * /etc/dhcp exists, a NetworkManager drop-in only where NetworkManager is
 * installed. Elsewhere: noop with `why`. The probe is the inner op's probe inside
 * `if [ -e path ]`; kind, id, notify, barrier and afterChange are the inner op's.
 *
 * @param path absolute path on the host: the op runs only where it exists
 * @param op the operation to run there
 * @param why the reason reported where it does not exist
 *
 * @example
 * whenExists('/etc/dhcp', file({ id: 'dhclient-hook', path: '/etc/dhcp/dhclient-enter-hooks.d/cairn', content: hook }), 'no dhclient here')
 */
export function whenExists(path: string, op: Operation, why?: string): Operation {
  const p = checkAbsPath(op.kind, op.id, 'whenExists', path);
  const skipped = '__cairn_when_exists_absent';
  const out: Operation = {
    kind: op.kind,
    id: op.id,
    ...(op.notify ? { notify: op.notify } : {}),
    ...(op.barrier ? { barrier: op.barrier } : {}),
    probe(ctx: OpContext): ShellCommand {
      const inner = op.probe(ctx);
      // the inner probe runs in its own subshell: its `exit` ends only that
      return sh`if [ -e ${p} ] || [ -L ${p} ]; then ${inner ? sh`(
${inner}
)` : sh`:`}
else ${section(skipped, sh`echo absent`)}
fi`;
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (probe && parseSections(probe.stdout).has(skipped)) return noop(`${p} does not exist${why ? `: ${why}` : ''}`);
      return op.plan(op.probe(ctx) ? probe : undefined, ctx);
    },
  };
  if (op.afterChange) {
    const after = op.afterChange.bind(op);
    (out as { afterChange?: (rt: ApplyRuntime) => Promise<void> }).afterChange = after;
  }
  return out;
}
