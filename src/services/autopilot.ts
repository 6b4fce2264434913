import type { CommandResult } from '../core/result.ts';
import { sh, type ShellCommand } from '../shell/sh.ts';
import { fail, noop, warn, type OpContext, type Operation, type Plan } from '../operations/operation.ts';
import { httpOk, httpRequest, parseHttpResponse, type HttpResponse } from './http.ts';

/**
 * The quorum gate of a rolling server restart: before a Consul or Nomad server
 * restarts, read `GET /v1/operator/autopilot/health` on the local agent (200
 * healthy, 429 not, 500 without a leader: the documented API of both) and
 * restart only when the cluster is Healthy with FailureTolerance >= 1.
 */

export interface AutopilotServer {
  readonly ID: string;
  readonly Name: string;
  readonly Address: string;
  readonly SerfStatus: string;
  readonly Leader: boolean;
  readonly Voter: boolean;
  readonly Healthy: boolean;
  readonly LastContact?: string;
}

export interface AutopilotHealth {
  readonly Healthy: boolean;
  readonly FailureTolerance: number;
  readonly Servers: readonly AutopilotServer[];
}

/** The autopilot health body, or why it is not one. */
export function parseAutopilotHealth(body: string): AutopilotHealth | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return { error: `not JSON: ${JSON.stringify(body.slice(0, 120))}` };
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return { error: 'not a JSON object' };
  const o = v as Record<string, unknown>;
  if (typeof o.Healthy !== 'boolean' || typeof o.FailureTolerance !== 'number' || !Array.isArray(o.Servers)) {
    return { error: 'no Healthy (bool), FailureTolerance (int) and Servers (list): not an autopilot health answer' };
  }
  const servers: AutopilotServer[] = [];
  for (const s of o.Servers as unknown[]) {
    if (!s || typeof s !== 'object') return { error: 'a Servers entry is not an object' };
    const r = s as Record<string, unknown>;
    const str = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : '');
    servers.push({
      ID: str('ID'),
      Name: str('Name'),
      Address: str('Address'),
      SerfStatus: str('SerfStatus'),
      Leader: r.Leader === true,
      // Voter is absent from old answers: every server of the configuration votes then
      Voter: r.Voter !== false,
      Healthy: r.Healthy === true,
      ...(typeof r.LastContact === 'string' ? { LastContact: r.LastContact } : {}),
    });
  }
  return { Healthy: o.Healthy, FailureTolerance: o.FailureTolerance, Servers: servers };
}

export interface GateInput {
  readonly product: 'consul' | 'nomad';
  /** Inventory name of the host about to restart (for messages). */
  readonly host: string;
  /** What the local agent answered (see parseHttpResponse). */
  readonly response: HttpResponse;
  /** How this server appears in Servers[]: names (consul node name, nomad `<name>.<region>`) and `ip:rpc` addresses. */
  readonly self: { readonly names: readonly string[]; readonly addresses: readonly string[] };
  /** `<product>_allow_quorum_loss: true`: restart anyway, with a warning. */
  readonly allowQuorumLoss: boolean;
}

export interface GateDecision {
  readonly allow: boolean;
  /** Why, for the step's result (a refusal: the error). */
  readonly message: string;
  /** Allowed only because of <product>_allow_quorum_loss: show as a warning. */
  readonly overridden?: boolean;
}

const label = (s: AutopilotServer) => s.Name || s.Address || s.ID;

function why(s: AutopilotServer): string {
  const parts = [s.SerfStatus && s.SerfStatus !== 'alive' ? `serf status ${s.SerfStatus}` : 'alive but not healthy'];
  if (s.LastContact && s.LastContact !== '0s') parts.push(`last contact with the leader ${s.LastContact} ago`);
  return parts.join(', ');
}

/**
 * Pure: may this server restart now? Refuses when the cluster is degraded (Healthy
 * false or FailureTolerance < 1), naming the unhealthy servers and why, unless the
 * only unhealthy server is this one (its restart costs no healthy voter) or
 * allowQuorumLoss. A single voter (bootstrap_expect 1) has no quorum to keep; an
 * agent that does not answer, or a cluster without a leader, has none to lose.
 */
export function restartGate(i: GateInput): GateDecision {
  const p = i.product;
  const flag = `pass --allow-quorum-loss (${p}_allow_quorum_loss: true)`;
  const refuse = (message: string): GateDecision =>
    i.allowQuorumLoss ? { allow: true, overridden: true, message: `${message} — restarting anyway: ${p}_allow_quorum_loss is set` } : { allow: false, message };
  const r = i.response;
  if ('unreachable' in r) return { allow: true, message: `the local ${p} agent does not answer (${r.unreachable}): it is not part of a quorum now, restarting it cannot cost one` };
  if (r.status === 500 && /no cluster leader/i.test(r.body)) return { allow: true, message: `${p} cluster has no leader (${r.body.trim()}): no quorum to keep, restarting ${i.host}` };
  if (r.status !== 200 && r.status !== 429) {
    return refuse(`cannot read ${p} autopilot health on ${i.host}: HTTP ${r.status} ${r.body.trim().slice(0, 200)}; not restarting blind — fix the API access or ${flag}`);
  }
  if (!r.body.trim()) {
    // busybox wget keeps no body of a 429
    return refuse(`${p} autopilot health on ${i.host} answers ${r.status}: the cluster is not healthy (no details: install curl for them); restarting ${i.host} could lose the quorum — ${flag}`);
  }
  const h = parseAutopilotHealth(r.body);
  if ('error' in h) return refuse(`${p} autopilot health on ${i.host} is unreadable (${h.error}); not restarting blind — ${flag}`);
  const voters = h.Servers.filter((s) => s.Voter);
  if (voters.length <= 1) return { allow: true, message: `single ${p} server: no quorum to keep (FailureTolerance ${h.FailureTolerance} by nature)` };
  if (h.Healthy && h.FailureTolerance >= 1) {
    return { allow: true, message: `${p} cluster is healthy: ${voters.length} voters, FailureTolerance ${h.FailureTolerance}` };
  }
  const isSelf = (s: AutopilotServer) => i.self.names.includes(s.Name) || i.self.addresses.includes(s.Address);
  const unhealthy = h.Servers.filter((s) => !s.Healthy);
  const others = unhealthy.filter((s) => !isSelf(s));
  if (unhealthy.length > 0 && others.length === 0) {
    return { allow: true, message: `only this ${p} server (${unhealthy.map(label).join(', ')}) is unhealthy: restarting it costs no healthy voter (FailureTolerance ${h.FailureTolerance})` };
  }
  if (others.length > 0) {
    const names = others.map(label);
    const detail = others.length === 1 ? why(others[0]!) : others.map((s) => `${label(s)}: ${why(s)}`).join('; ');
    const verb = names.length === 1 ? 'is' : 'are';
    const loss =
      h.FailureTolerance < 1
        ? `restarting ${i.host} would lose the quorum`
        : `restarting ${i.host} would leave the cluster tolerating ${h.FailureTolerance - 1} more failure(s) while it is degraded`;
    return refuse(`${p} server${names.length === 1 ? '' : 's'} ${names.join(', ')} ${verb} not healthy (${detail}): ${loss}; bring ${names.join(', ')} back or ${flag}`);
  }
  return refuse(`${p} cluster tolerates no failure (Healthy ${h.Healthy}, FailureTolerance ${h.FailureTolerance}, ${voters.length} voters): restarting ${i.host} would lose the quorum; ${flag}`);
}

export const AUTOPILOT_HEALTH = '/v1/operator/autopilot/health';

/** How long the gate lets a degraded cluster become Healthy before it refuses a restart. */
export const GATE_SETTLE_SECONDS = 30;

/** The cluster is Healthy (autopilot health answers 200), for `if`. */
export function autopilotHealthy(base: string): ShellCommand {
  return httpOk(`${base}${AUTOPILOT_HEALTH}`);
}

/**
 * Handler op, before a server's restart: reads autopilot health on the local agent
 * and fails (so nothing restarts) when restartGate refuses. `skip` (plan time)
 * returns a reason to let the restart through without asking (bootstrap_expect 1).
 */
export function quorumGate(p: Omit<GateInput, 'response'> & { id: string; base: string; skip?: () => string | undefined }): Operation {
  return {
    kind: 'quorumGate',
    id: p.id,
    // a server restarted a moment ago is not Healthy yet on every agent (real autopilot
    // counts it only after ServerStabilizationTime, 10 s by default): the cluster gets
    // GATE_SETTLE_SECONDS to be Healthy before the answer is judged
    probe: (ctx: OpContext) =>
      ctx.bake || p.skip?.()
        ? undefined
        : sh`i=0; while [ "$i" -lt ${GATE_SETTLE_SECONDS} ] && ! ${autopilotHealthy(p.base)} 2>/dev/null; do sleep 1; i=$((i+1)); done
${httpRequest('GET', `${p.base}${AUTOPILOT_HEALTH}`)} || :`,
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (ctx.bake) return noop('bake mode: nothing runs');
      const skipped = p.skip?.();
      if (skipped) return noop(skipped);
      const d = restartGate({ ...p, response: parseHttpResponse(probe?.stdout ?? '') });
      if (!d.allow) return fail(d.message);
      return d.overridden ? warn(d.message) : noop(d.message);
    },
  };
}
