/**
 * Shared service-description library for the built-in roles (consul, nomad,
 * supervision, recover-nomad-client): one description of a daemon, rendered
 * for OpenRC, s6 or systemd, installed and started by supervisedService().
 */
export { describeProblems, resolveDescription, STOP_SIGNALS } from './description.ts';
export type { ServiceDescription, ResolvedDescription, StopSignal } from './description.ts';
export { resolveSupervision, supervisionVarProblems, openrcHasOutputLog, SUPERVISION_DEFAULTS } from './supervisor.ts';
export type { Supervision, SupervisorKind } from './supervisor.ts';
export { renderService, renderOpenrc, renderS6, renderS6Openrc, renderSystemd, outputLogPath, rcValue, S6_LOCK_FD } from './render.ts';
export type { ServiceFile } from './render.ts';
export { supervisedService, serviceTarget, restartHandlerName } from './supervised.ts';
export type { SupervisedService, SupervisedOptions } from './supervised.ts';
export { httpOk, leaderCheck, localHttpBase, httpRequest, withHttpRequest, parseHttpResponse } from './http.ts';
export type { HttpResponse } from './http.ts';
export { parseAutopilotHealth, restartGate, quorumGate, autopilotHealthy, AUTOPILOT_HEALTH } from './autopilot.ts';
export type { AutopilotHealth, AutopilotServer, GateInput, GateDecision } from './autopilot.ts';
export { durationNs, nodeStateProbe, parseNodeState, drainDecision, drainBody, eligibleDecision, nodeDrain, ELIGIBLE_BODY } from './drain.ts';
export type { NodeState, DrainDecision, DrainParams } from './drain.ts';
export { waitReady, observe, failStep, clusterWaitAfterRestart } from './ready.ts';
export type { ReadyParams } from './ready.ts';
export * from './cluster.ts';
export * from './agent.ts';
