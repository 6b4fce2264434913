import type { CommandResult } from '../core/result.ts';
import { sh, type ShellCommand } from '../shell/sh.ts';
import { leaderCheck } from './http.ts';
import { autopilotHealthy } from './autopilot.ts';
import { change, fail, noop, type OpContext, type Operation, type Plan } from '../operations/operation.ts';

export interface ReadyParams {
  readonly id: string;
  /** A read-only check usable after `if` (e.g. httpOk(...)). */
  readonly check: ShellCommand;
  /** For messages: "nomad /v1/agent/health answers 200". */
  readonly what: string;
  readonly timeoutMs?: number;
  /** Printed (stderr) when the wait times out, e.g. `tail -n 20 /var/log/nomad/output.log`. */
  readonly onTimeout?: ShellCommand;
  /** Probe again after earlier changes of the same run (set after a restart). */
  readonly barrier?: boolean;
  /** Run the handlers notified so far (a restart of a changed agent) before waiting. */
  readonly flushHandlers?: boolean;
  /** Evaluated at plan time: skip the wait (noop with this reason) when it returns a string. */
  readonly skip?: () => string | undefined;
}

/**
 * Wait on the host until `check` succeeds, like the `wait` op, but printing a
 * diagnostic (the daemon's last log lines) when it times out. Bake mode: noop.
 */
export function waitReady(p: ReadyParams): Operation {
  const timeoutMs = p.timeoutMs ?? 120_000;
  const seconds = Math.max(1, Math.ceil(timeoutMs / 1000));
  return {
    kind: 'wait',
    id: p.id,
    ...(p.barrier ? { barrier: true } : {}),
    ...(p.flushHandlers ? { flushHandlers: true } : {}),
    probe: (ctx: OpContext) => (ctx.bake ? undefined : sh`if ${p.check}; then echo ready; else echo waiting; fi`),
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (ctx.bake) return noop(`bake mode: not waiting for ${p.what}`);
      const skipped = p.skip?.();
      if (skipped) return noop(skipped);
      const out = probe?.stdout.trim().split('\n').pop();
      if (out === 'ready') return noop(`${p.what}: ready`);
      if (out !== 'waiting') return fail(`wait '${p.id}': unreadable probe output (exit ${probe?.exitCode}): ${probe?.stderr.trim() ?? ''}`);
      const message = `${p.what}: not ready after ${seconds}s`;
      const diag = p.onTimeout ? sh`{ ${p.onTimeout}; } >&2 2>/dev/null || :; ` : sh``;
      return change(`wait until ${p.what} (up to ${seconds}s)`, [
        sh`(
end=$(( $(date +%s) + ${seconds} ))
while :; do
  if ${p.check}; then exit 0; fi
  if [ "$(date +%s)" -ge "$end" ]; then echo ${message} >&2; ${diag}exit 1; fi
  sleep 1
done
)`,
      ]);
    },
  };
}

/**
 * Records, when the handler list is probed (before the restart that follows
 * it), whether `check` held; `held()` answers later ops of the same list.
 * Lets a rolling restart wait for the cluster to come back only when it was
 * there before (a cluster still bootstrapping has no leader to wait for).
 */
export function observe(id: string, check: ShellCommand, what: string): Operation & { held(): boolean | undefined } {
  let seen: boolean | undefined;
  return {
    kind: 'observe',
    id,
    held: () => seen,
    probe: (ctx: OpContext) => (ctx.bake ? undefined : sh`if ${check}; then echo yes; else echo no; fi`),
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (ctx.bake) return noop('bake mode');
      const out = probe?.stdout.trim().split('\n').pop();
      seen = out === 'yes';
      return noop(`${what}: ${seen ? 'yes' : 'no'}`);
    },
  };
}

/** An op that fails with `message` (a problem only known once the host's facts are). */
export function failStep(id: string, kind: string, message: string): Operation {
  return { kind, id, probe: () => undefined, plan: () => fail(message) };
}

/**
 * After a server's restart: wait until its cluster (`label`, e.g. "consul cluster 'dc1'")
 * has a leader and `servers` peers AND autopilot reports it Healthy again (every server
 * of the raft configuration healthy: peers alone still count a server that is down),
 * unless it had no leader before the restart (still forming: waiting would deadlock a
 * one-at-a-time bootstrap).
 */
export function clusterWaitAfterRestart(p: {
  base: string;
  servers: number;
  label: string;
  timeoutMs: number;
  onTimeout: ShellCommand;
  before: { held(): boolean | undefined };
}): Operation {
  return waitReady({
    id: 'wait-cluster-after-restart',
    check: sh`${leaderCheck(p.base, p.servers)} && ${autopilotHealthy(p.base)}`,
    what: `${p.label} has a leader, ${p.servers} peer(s) and autopilot reports it healthy`,
    timeoutMs: p.timeoutMs,
    onTimeout: p.onTimeout,
    barrier: true,
    skip: () => (p.before.held() === false ? `${p.label} had no leader before the restart (still forming): not waiting for one` : undefined),
  });
}
