import type { CommandResult } from '../core/result.ts';
import { sh, type ShellCommand } from '../shell/sh.ts';
import { change, noop, type OpContext, type Operation, type Plan } from '../operations/operation.ts';
import { parseHttpResponse, withHttpRequest, type HttpResponse } from './http.ts';

/**
 * Draining a Nomad client around a restart, through the documented Nodes HTTP API
 * on the local agent: `POST /v1/node/:id/drain` with `{"DrainSpec": {"Deadline": <ns>,
 * "IgnoreSystemJobs": false}}`, wait until the node's `DrainStrategy` is null again
 * (drain complete), restart, then `POST /v1/node/:id/eligibility`
 * `{"Eligibility": "eligible"}` — only for a node that was eligible before.
 */

const UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go-style duration ('5m', '1h30m', '90s', '500ms') in nanoseconds; undefined when it is not one or not > 0. */
export function durationNs(v: unknown): number | undefined {
  if (typeof v !== 'string' || !/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) return undefined;
  let ns = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) ns += Number(m[1]) * UNITS[m[2]!]!;
  return ns > 0 ? Math.round(ns) : undefined;
}

export interface NodeState {
  readonly nodeId: string;
  /** stats.client.num_allocations of /v1/agent/self (Nomad reports it as a string). */
  readonly allocations: number;
  readonly eligible: boolean;
  readonly draining: boolean;
}

const MARK = '@@cairn-node@@';

/** Probe: /v1/agent/self, a marker line, then /v1/node/<its node id> (when it has one). */
export function nodeStateProbe(base: string): ShellCommand {
  return sh`${withHttpRequest(sh`s=$(cairn_http_req GET ${`${base}/v1/agent/self`})
printf '%s\\n' "$s"; echo ${MARK}
id=$(printf '%s' "$s" | grep -o '"node_id":"[^"]*"' | head -n 1 | cut -d '"' -f 4)
if [ -n "$id" ]; then cairn_http_req GET ${`${base}/v1/node/`}"$id"; fi`)} || :`;
}

const json = (r: HttpResponse): Record<string, unknown> | undefined => {
  if ('unreachable' in r || r.status !== 200) return undefined;
  try {
    const v = JSON.parse(r.body) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** The node as nodeStateProbe printed it, or why it cannot be known. */
export function parseNodeState(stdout: string): NodeState | { error: string } {
  const i = stdout.indexOf(`\n${MARK}`);
  const selfRaw = i < 0 ? stdout : stdout.slice(0, i);
  const nodeRaw = i < 0 ? '' : stdout.slice(i + MARK.length + 2);
  const selfR = parseHttpResponse(selfRaw);
  if ('unreachable' in selfR) return { error: `the local nomad agent does not answer (${selfR.unreachable})` };
  const self = json(selfR);
  if (!self) return { error: `/v1/agent/self answered HTTP ${selfR.status}` };
  const client = obj(obj(self.stats).client);
  const nodeId = typeof client.node_id === 'string' ? client.node_id : '';
  if (!nodeId) return { error: 'the local nomad agent runs no client (no stats.client.node_id in /v1/agent/self)' };
  const allocations = Number.parseInt(String(client.num_allocations ?? '0'), 10);
  const nodeR = parseHttpResponse(nodeRaw);
  const node = json(nodeR);
  if (!node) return { error: `/v1/node/${nodeId} answered ${'unreachable' in nodeR ? nodeR.unreachable : `HTTP ${nodeR.status} ${nodeR.body.trim().slice(0, 120)}`}` };
  return {
    nodeId,
    allocations: Number.isFinite(allocations) ? allocations : 0,
    eligible: node.SchedulingEligibility === 'eligible',
    draining: node.DrainStrategy !== null && node.DrainStrategy !== undefined,
  };
}

export type DrainDecision =
  | { readonly drain: false; readonly reason: string }
  | { readonly drain: true; readonly nodeId: string; readonly wasEligible: boolean; readonly start: boolean; readonly reason: string };

/** Pure: drain before the restart? Only a node that runs allocations (a restart that kills nothing needs none). */
export function drainDecision(s: NodeState | { error: string }, enabled: boolean): DrainDecision {
  if (!enabled) return { drain: false, reason: 'nomad_drain_before_restart is false: not draining' };
  if ('error' in s) return { drain: false, reason: `not draining: ${s.error}` };
  if (s.draining) return { drain: true, nodeId: s.nodeId, wasEligible: false, start: false, reason: `node ${s.nodeId} is already draining: waiting for that drain to complete before the restart` };
  if (s.allocations === 0) return { drain: false, reason: `node ${s.nodeId} runs no allocation: the restart kills nothing, not draining` };
  return {
    drain: true,
    nodeId: s.nodeId,
    wasEligible: s.eligible,
    start: true,
    reason: `drain node ${s.nodeId} (${s.allocations} allocation${s.allocations === 1 ? '' : 's'}) before the restart`,
  };
}

/** The drain request body (Nodes HTTP API). */
export function drainBody(deadlineNs: number, message: string): string {
  return JSON.stringify({ DrainSpec: { Deadline: deadlineNs, IgnoreSystemJobs: false }, Meta: { message } });
}

export const ELIGIBLE_BODY = JSON.stringify({ Eligibility: 'eligible' });

/** Pure: make the node eligible again after the restart? Only one this run drained that was eligible before. */
export function eligibleDecision(drained: DrainDecision | undefined, now: NodeState | { error: string }): { act: false; reason: string } | { act: true; nodeId: string; reason: string } {
  if (!drained || !drained.drain) return { act: false, reason: 'not drained before the restart: eligibility left as it is' };
  if (!drained.wasEligible) return { act: false, reason: `node ${drained.nodeId} was not eligible before the drain: left ineligible` };
  if ('error' in now) return { act: false, reason: `cannot make node ${drained.nodeId} eligible again: ${now.error}` };
  if (now.nodeId !== drained.nodeId) return { act: false, reason: `the client is a new node now (${now.nodeId}, eligible: ${now.eligible}); the old identity ${drained.nodeId} stays drained` };
  if (now.eligible) return { act: false, reason: `node ${now.nodeId} is eligible` };
  return { act: true, nodeId: now.nodeId, reason: `make node ${now.nodeId} eligible again` };
}

export interface DrainParams {
  readonly id: string;
  /** The local agent, e.g. http://127.0.0.1:4646. */
  readonly base: string;
  readonly deadlineNs: number;
  /** Seconds to wait for the drain beyond the deadline (Nomad force-stops at the deadline). */
  readonly graceSeconds?: number;
  readonly enabled: boolean;
  /** Why (Meta.message of the drain). */
  readonly message: string;
}

/**
 * A drain op (before a restart) and its partner (after): `eligible` makes the node
 * eligible again when `drain` drained it and it was eligible before. Give `eligible`
 * a place after the restart and the health wait (it is a barrier).
 */
export function nodeDrain(p: DrainParams): { drain: Operation; eligible: (id: string) => Operation } {
  let decided: DrainDecision | undefined;
  const waitSeconds = Math.ceil(p.deadlineNs / 1e9) + (p.graceSeconds ?? 30);
  const drain: Operation = {
    kind: 'nodeDrain',
    id: p.id,
    probe: (ctx: OpContext) => (ctx.bake || !p.enabled ? undefined : nodeStateProbe(p.base)),
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      decided = undefined;
      if (ctx.bake) return noop('bake mode: nothing runs');
      const d = drainDecision(p.enabled ? parseNodeState(probe?.stdout ?? '') : { error: '' }, p.enabled);
      decided = d;
      if (!d.drain) return noop(d.reason);
      const node = `${p.base}/v1/node/${d.nodeId}`;
      const start = d.start
        ? sh`r=$(cairn_http_req POST ${`${node}/drain`} ${drainBody(p.deadlineNs, p.message)})
case "$(printf '%s' "$r" | head -n 1)" in *' 200'*) echo ${`drain of node ${d.nodeId} started (deadline ${p.deadlineNs / 1e9}s)`} ;; *) printf '%s\\n' "$r" >&2; echo ${`cairn: the drain request for node ${d.nodeId} failed: not restarting`} >&2; exit 1 ;; esac
`
        : sh``;
      return change(d.reason, [
        withHttpRequest(sh`${start}end=$(( $(date +%s) + ${waitSeconds} ))
while :; do
  r=$(cairn_http_req GET ${node})
  case "$r" in *'"DrainStrategy":null'*) echo ${`node ${d.nodeId}: drain complete`}; exit 0 ;; esac
  if [ "$(date +%s)" -ge "$end" ]; then echo ${`cairn: node ${d.nodeId} is still draining after ${waitSeconds}s: not restarting; it stays ineligible until the drain ends (then: nomad node eligibility -enable ${d.nodeId})`} >&2; exit 1; fi
  sleep 1
done`),
      ]);
    },
  };
  const eligible = (id: string): Operation => ({
    kind: 'nodeEligible',
    id,
    barrier: true,
    probe: (ctx: OpContext) => (ctx.bake || !decided?.drain ? undefined : nodeStateProbe(p.base)),
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (ctx.bake) return noop('bake mode: nothing runs');
      if (!probe && decided?.drain && decided.wasEligible) return noop(`after the restart node ${decided.nodeId} is made eligible again`);
      const e = eligibleDecision(decided, decided?.drain ? parseNodeState(probe?.stdout ?? '') : { error: '' });
      if (!e.act) return noop(e.reason);
      return change(e.reason, [
        withHttpRequest(sh`r=$(cairn_http_req POST ${`${p.base}/v1/node/${e.nodeId}/eligibility`} ${ELIGIBLE_BODY})
case "$(printf '%s' "$r" | head -n 1)" in *' 200'*) echo ${`node ${e.nodeId} is eligible again`} ;; *) printf '%s\\n' "$r" >&2; exit 1 ;; esac`),
      ]);
    },
  });
  return { drain, eligible };
}
