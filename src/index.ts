/**
 * cairn's library API, for writing roles:
 *
 *   import { defineRole, file, packages, service, sh } from 'cairn-provision';
 *
 * The built-in roles (roles/) import nothing else: what they need is here.
 */

// --- Roles: definition, contexts, checking vars in validate() -----------------
export { defineRole } from './roles/role.ts';
export type { RoleDefinition, RoleContext, RoleValidationContext, RoleVars } from './roles/role.ts';
export { checkVars, stringList, oneOf, boolean, port, isStringList, isMap, PACKAGE_NAME } from './roles/vars-check.ts';
export type { VarProblem } from './roles/vars-check.ts';
export type { Vars, HostSpec, Inventory } from './inventory/types.ts';
export { InvalidInputError, uniqueProblems } from './core/errors.ts';
export type { InputProblem, SourceLocation } from './core/errors.ts';

// --- Shell commands and secrets -------------------------------------------------
export { sh, asWord, joinCommands, ShellCommand, isShellCommand } from './shell/sh.ts';
export { quote } from './shell/quote.ts';
export { Secret, isSecret, mask, secretText } from './core/secret.ts';
export type { SecretTextValue } from './core/secret.ts';
export { sha512Crypt, sha512CryptWithSetting, verifySha512Crypt, parseSha512Crypt, randomCryptSalt, CRYPT_ALPHABET } from './core/sha512-crypt.ts';
export type { Sha512CryptHash } from './core/sha512-crypt.ts';

// --- Facts and templates --------------------------------------------------------
export type { Facts } from './facts/types.ts';
/** Facts of typical hosts (Alpine amd64, Raspberry Pi OS arm64), to check values before any connection. */
export { stubFacts } from './facts/stub.ts';
export { KERNEL_FEATURES, missingKernelFeatures } from './facts/kernel.ts';
export type { KernelFeature, MissingKernelFeatures } from './facts/kernel.ts';
export { renderTemplateSource } from './render/template.ts';
export type { Rendered } from './render/template.ts';

// --- Operations -----------------------------------------------------------------
export type { Operation, Plan, OpContext, Command, PathEffect, AttributePatch, ApplyRuntime } from './operations/operation.ts';
export type { PathState } from './facts/path-state.ts';
export { noop, change, fail, warn, upload, leaving } from './operations/operation.ts';
export { file } from './operations/file.ts';
export { directory } from './operations/directory.ts';
export { symlink } from './operations/symlink.ts';
export { line } from './operations/line.ts';
export { replace } from './operations/replace.ts';
export { block } from './operations/block.ts';
export { command } from './operations/command.ts';
export { wait } from './operations/wait.ts';
export { archive } from './operations/archive.ts';
export { packages } from './operations/package.ts';
export { user } from './operations/user.ts';
export { group } from './operations/group.ts';
export { sysctl } from './operations/sysctl.ts';
export { kernelModule } from './operations/kernel-module.ts';
export { service, restartService, daemonReload } from './operations/service.ts';
export { runningCurrent } from './operations/running-current.ts';
export type { RunningCurrentParams } from './operations/running-current.ts';
export { artifact } from './operations/artifact.ts';
export { kernelCmdline } from './operations/cmdline.ts';
export { bootFile } from './operations/boot-file.ts';
export { dnsCheck, dnsQueryCommand, readQueryOutput, DNS_NAME } from './operations/dns-query.ts';
export type { DnsType, DnsAnswer, DnsResponse, QueryOutcome } from './operations/dns-query.ts';
export { resolvConf, renderResolvConf, nameserverProblems, MAX_NAMESERVERS } from './operations/resolv-conf.ts';
export { guardedFiles } from './operations/guarded-files.ts';
export { networkInterfaces, cycleInterfaces } from './operations/network-interfaces.ts';
export { renderInterfaces, interfacesProblems, type InterfaceSpec } from './operations/network/interfaces-file.ts';
export type { GuardedFilesParams, GuardedFileSpec } from './operations/guarded-files.ts';
export { cniPlugins } from './operations/cni-plugins.ts';
export { packagesAvailable } from './operations/package-available.ts';
export { checkedFile } from './operations/checked-file.ts';
export { whenExists } from './operations/when-exists.ts';

// --- Writing your own operation: probe sections, parameter checks ---------------
export { section, probeOf, parseSections, paramError, checkId, withoutTerminal } from './operations/kit.ts';

// --- Supervised services (OpenRC, s6, systemd) and health waits -----------------
export { supervisedService, serviceTarget, resolveSupervision, supervisionVarProblems, describeProblems, outputLogPath } from './services/index.ts';
export type { ServiceDescription, ResolvedDescription, StopSignal, SupervisedService, SupervisedOptions, Supervision, SupervisorKind } from './services/index.ts';
export { waitReady, observe, failStep, clusterWaitAfterRestart, httpOk, leaderCheck, localHttpBase } from './services/index.ts';
export type { ReadyParams } from './services/index.ts';
export { httpRequest, withHttpRequest, parseHttpResponse } from './services/index.ts';
export type { HttpResponse } from './services/index.ts';

// --- Rolling restarts that keep the quorum; Nomad client drains ---------------
export { parseAutopilotHealth, restartGate, quorumGate, autopilotHealthy, AUTOPILOT_HEALTH } from './services/index.ts';
export type { AutopilotHealth, AutopilotServer, GateInput, GateDecision } from './services/index.ts';
export { durationNs, nodeStateProbe, parseNodeState, drainDecision, drainBody, eligibleDecision, nodeDrain, ELIGIBLE_BODY } from './services/index.ts';
export type { NodeState, DrainDecision, DrainParams } from './services/index.ts';

// --- HashiCorp agents (the consul and nomad roles): clusters, shared checks -----
export { NOMAD_CLUSTER, CONSUL_CLUSTER, clusterOf, clusterProblems, members, isServer, isServerByGroups, hostRuns, joinAddress, advertiseAddress } from './services/index.ts';
export type { ClusterKind, ClusterInfo, Member } from './services/index.ts';
export { agentVarProblems, emptyDataDir, logTail } from './services/index.ts';

// --- Image bake: host identity cleanup (the bake-cleanup role) ------------------
export { IDENTITY_ITEMS, skippedItems, extraSelections } from './bake/identity.ts';
export type { IdentityItem, Selection, ItemEnv, CleanupAction } from './bake/identity.ts';
export { cleanupStep, cleanupOp, BAKE_ONLY_MESSAGE } from './bake/cleanup-op.ts';
export { SSH_KEYGEN_UNIT, SSH_KEYGEN_UNIT_NAME } from './bake/first-boot.ts';
