// Built-in role `nomad`: data and config dirs (data dir root 0700: Nomad
// clients run as root), the agent's HCL config (server and/or client,
// bootstrap_expect from the inventory, cni_path, the docker pause image for
// the node's arch), the service under OpenRC / s6 / systemd, and health waits.
// Servers restart one host at a time. Vars: docs/roles-nomad-consul.md#nomad
import {
  defineRole,
  directory,
  file,
  uniqueProblems,
  type InputProblem,
  type Operation,
  type RoleContext,
  clusterWaitAfterRestart,
  isMap,
  NOMAD_CLUSTER,
  advertiseAddress,
  agentVarProblems,
  clusterOf,
  clusterProblems,
  emptyDataDir,
  hostRuns,
  httpOk,
  isServer,
  isServerByGroups,
  joinAddress,
  leaderCheck,
  localHttpBase,
  logTail,
  members,
  observe,
  nodeDrain,
  durationNs,
  quorumGate,
  supervisedService,
  supervisionVarProblems,
  waitReady,
} from 'cairn-provision';

const DEFAULTS = {
  nomad_bin: '/usr/local/bin/nomad',
  nomad_datacenter: 'dc1',
  nomad_region: 'global',
  nomad_data_dir: '/var/lib/nomad',
  nomad_config_dir: '/etc/nomad.d',
  nomad_log_dir: '/var/log/nomad',
  nomad_log_level: 'INFO',
  nomad_log_rotate_bytes: 10485760,
  nomad_log_rotate_max_files: 10,
  nomad_bind_addr: '0.0.0.0',
  nomad_ports: { http: 4646, rpc: 4647, serf: 4648 },
  nomad_client: true,
  nomad_infra_image: 'registry.k8s.io/pause-{arch}:3.3',
  nomad_consul_address: 'auto',
  cni_path: '/opt/cni/bin',
  nomad_service_notify: false,
  nomad_wait_timeout: 120,
  allow_even_servers: false,
  /** Restart a server even when autopilot says the cluster is degraded (the CLI's --allow-quorum-loss sets it). */
  nomad_allow_quorum_loss: false,
  /** Gate every server restart on autopilot health (as consul_quorum_gate). */
  nomad_quorum_gate: true,
  /** Drain a client that runs allocations before its agent restarts, make it eligible again after. */
  nomad_drain_before_restart: true,
  /** How long a drain may migrate allocations before Nomad force-stops them (Go duration). */
  nomad_drain_deadline: '5m',
};

/**
 * The vars the steps read, as validate() leaves them (agentVarProblems and the
 * checks below: the defaults' types, nomad_retry_join, nomad_consul_address).
 * Other vars (nomad_node_name, consul_ports, ...) stay `unknown` and are narrowed
 * where they are read.
 */
export type NomadVars = Omit<typeof DEFAULTS, 'nomad_consul_address' | 'nomad_drain_deadline'> & {
  readonly nomad_drain_deadline: string;
  /** Addresses to join instead of the inventory's servers. */
  readonly nomad_retry_join?: string[];
  /** `auto` (the local Consul when the host runs the consul role), false / '' (none) or host:port. */
  readonly nomad_consul_address?: string | false;
};

type Ctx = RoleContext<NomadVars>;

const K = NOMAD_CLUSTER;

/** Consul's HTTP port on this host, from the consul role's consul_ports (the consul role checks it). */
function consulHttpPort(ports: unknown): number {
  return isMap(ports) && typeof ports.http === 'number' ? ports.http : 8500;
}

function compute(ctx: Ctx) {
  const v = ctx.vars;
  const self = { host: ctx.host, vars: v };
  const all = members(ctx.hostsWithRole, (h) => ctx.varsOf(h), self);
  const cluster = clusterOf(K, self, all, ctx.inventory);
  const server = isServer(K, ctx.host, v, ctx.inventory);
  const client = v.nomad_client !== false;
  const join = v.nomad_retry_join ?? cluster.servers.map((m) => joinAddress(m.host, m.vars));
  const consulAuto = hostRuns(ctx.inventory, ctx.host, 'consul');
  const ca = v.nomad_consul_address;
  const consul_address = ca === false || ca === '' ? '' : ca === 'auto' || ca === undefined ? (consulAuto ? `127.0.0.1:${consulHttpPort(v.consul_ports)}` : '') : ca;
  const computed = {
    node_name: typeof v.nomad_node_name === 'string' ? v.nomad_node_name : ctx.host.name,
    advertise: advertiseAddress(ctx.host, v),
    log_file: `${v.nomad_log_dir}/nomad.log`,
    server,
    client,
    bootstrap_expect: cluster.bootstrapExpect,
    retry_join: join,
    infra_image: v.nomad_infra_image.replace(/\{\{\s*facts\.arch\s*\}\}|\{arch\}/g, ctx.facts.arch),
    consul_address,
  };
  return { computed, cluster, base: localHttpBase(v.nomad_bind_addr, v.nomad_ports.http), consulAuto };
}

type Computed = ReturnType<typeof compute>;

export default defineRole<NomadVars>({
  name: 'nomad',
  description: 'Nomad agent (server and/or client) supervised by OpenRC, s6 or systemd',
  defaults: DEFAULTS,
  serial: 1,
  serialWhen: (host, vars) => isServerByGroups(K, host, vars),
  validate(ctx) {
    const problems: InputProblem[] = [];
    for (const host of ctx.hostsWithRole) {
      const vars = ctx.varsFor(host);
      problems.push(...agentVarProblems('nomad', host, vars, ctx.locate, ['http', 'rpc', 'serf']));
      const at = (k: string, message: string, fix: string) => problems.push({ location: ctx.locate(host, k), message, fix });
      if (typeof vars.nomad_bind_addr !== 'string') at('nomad_bind_addr', `nomad_bind_addr must be an address, got ${JSON.stringify(vars.nomad_bind_addr)}`, `e.g. nomad_bind_addr: ${DEFAULTS.nomad_bind_addr}`);
      if (typeof vars.nomad_region !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(vars.nomad_region)) at('nomad_region', `nomad_region must be a plain name, got ${JSON.stringify(vars.nomad_region)}`, 'e.g. nomad_region: global');
      if (typeof vars.nomad_client !== 'boolean') at('nomad_client', `nomad_client must be true or false, got ${JSON.stringify(vars.nomad_client)}`, 'nomad_client: false makes a server-only node');
      if (vars.nomad_client === false && !isServer(K, host, vars, ctx.inventory)) at('nomad_client', `${host.name} would run neither a Nomad server nor a client`, 'set nomad_client: true, or make it a server');
      if (typeof vars.cni_path !== 'string' || !/^\/[A-Za-z0-9_.\/+@-]+$/.test(vars.cni_path)) at('cni_path', `cni_path must be an absolute path, got ${JSON.stringify(vars.cni_path)}`, 'e.g. cni_path: /opt/cni/bin');
      if (typeof vars.nomad_infra_image !== 'string' || vars.nomad_infra_image === '') at('nomad_infra_image', `nomad_infra_image must be an image reference, got ${JSON.stringify(vars.nomad_infra_image)}`, 'e.g. registry.k8s.io/pause-{arch}:3.3 ({arch}: the node\'s arch)');
      const ca = vars.nomad_consul_address;
      if (ca !== 'auto' && ca !== false && (typeof ca !== 'string' || !/^[A-Za-z0-9_.:[\]-]+$/.test(ca))) at('nomad_consul_address', `nomad_consul_address must be auto, false or host:port, got ${JSON.stringify(ca)}`, 'e.g. nomad_consul_address: 127.0.0.1:8500');
      for (const k of ['nomad_allow_quorum_loss', 'nomad_quorum_gate', 'nomad_drain_before_restart']) {
        if (typeof vars[k] !== 'boolean') at(k, `${k} must be true or false, got ${JSON.stringify(vars[k])}`, `write ${k}: true`);
      }
      if (durationNs(vars.nomad_drain_deadline) === undefined) at('nomad_drain_deadline', `nomad_drain_deadline must be a duration > 0 such as 5m, 90s or 1h30m, got ${JSON.stringify(vars.nomad_drain_deadline)}`, "e.g. nomad_drain_deadline: '5m'");
      for (const s of supervisionVarProblems(vars)) at(s.name, s.message, s.fix);
    }
    problems.push(...clusterProblems(K, ctx));
    return uniqueProblems(problems);
  },
  steps(ctx) {
    const v = ctx.vars;
    const c = compute(ctx);
    const svc = service(ctx, c);
    const dataDir = v.nomad_data_dir;
    const confDir = v.nomad_config_dir;
    const steps: Operation[] = [
      directory({ id: 'data-dir', path: dataDir, mode: '0700', owner: 'root', group: 'root' }),
      directory({ id: 'config-dir', path: confDir, mode: '0750', owner: 'root', group: 'root' }),
      file({ id: 'config', path: `${confDir}/nomad.hcl`, content: configText(ctx), mode: '0640', owner: 'root', group: 'root', notify: [svc.restartHandler] }),
      // a running agent older than its binary or config is restarted by svc.steps (runningCurrent)
      ...(ctx.bake ? [emptyDataDir('forget-identity', dataDir)] : []),
      ...svc.steps,
    ];
    if (!ctx.bake) steps.push(readyWait(ctx, c, 'wait-ready', false));
    return steps;
  },
  handlers(ctx) {
    return service(ctx, compute(ctx)).handlers;
  },
});

/** Health for clients and single-server clusters; for a forming multi-server cluster, the API only. */
function readyWait(ctx: Ctx, c: Computed, id: string, barrier: boolean): Operation {
  const v = ctx.vars;
  const health = c.computed.client || c.cluster.bootstrapExpect === 1;
  const path = health ? '/v1/agent/health' : '/v1/agent/self';
  return waitReady({
    id,
    check: httpOk(`${c.base}${path}`),
    what: `nomad at ${c.base} answers ${path} with 200`,
    timeoutMs: v.nomad_wait_timeout * 1000,
    onTimeout: logTail('nomad', `${v.nomad_log_dir}/output.log`, c.computed.log_file),
    barrier,
    // a changed config restarts the agent first: wait for the agent as configured now
    flushHandlers: true,
  });
}

/** The supervised nomad service, with the rolling-restart waits as handlers. */
function service(ctx: Ctx, c: Computed) {
  const v = ctx.vars;
  const { server, client, bootstrap_expect } = c.computed;
  const before = observe('leader-before-restart', leaderCheck(c.base), `nomad region '${c.cluster.name}' had a leader before the restart`);
  const gate = quorumGate({
    id: 'quorum-before-restart',
    product: 'nomad',
    host: ctx.host.name,
    base: c.base,
    // Nomad's serf members (autopilot Names) are <name>.<region>
    self: { names: [`${c.computed.node_name}.${v.nomad_region}`], addresses: c.computed.advertise.includes('{{') ? [] : [`${c.computed.advertise}:${v.nomad_ports.rpc}`] },
    allowQuorumLoss: v.nomad_allow_quorum_loss === true,
    skip: () => (bootstrap_expect <= 1 ? 'single nomad server (bootstrap_expect 1): no quorum to keep, FailureTolerance is 0 by nature' : undefined),
  });
  const drain = nodeDrain({
    id: 'drain-before-restart',
    base: c.base,
    deadlineNs: durationNs(v.nomad_drain_deadline) ?? 300e9,
    enabled: v.nomad_drain_before_restart !== false,
    message: `cairn: restart of the nomad agent on ${ctx.host.name}`,
  });
  const after: Operation[] = [readyWait(ctx, c, 'wait-ready-after-restart', true)];
  if (server) {
    after.push(
      clusterWaitAfterRestart({
        base: c.base,
        servers: bootstrap_expect,
        label: `nomad region '${c.cluster.name}'`,
        timeoutMs: v.nomad_wait_timeout * 1000,
        onTimeout: logTail('nomad', `${v.nomad_log_dir}/output.log`, c.computed.log_file),
        before,
      }),
    );
  }
  if (client) after.push(drain.eligible('eligible-after-restart'));
  // Ordering only, never a hard dependency on docker: the docker role runs after nomad
  // (base .. nomad, cni, docker, dns), so on a first run docker.service does not exist yet
  // when nomad starts; Nomad's docker driver fingerprints again once docker is up.
  return supervisedService(
    ctx,
    {
      name: 'nomad',
      description: 'Nomad agent',
      command: v.nomad_bin,
      args: ['agent', `-config=${v.nomad_config_dir}`],
      logDir: v.nomad_log_dir,
      killSignal: 'SIGINT',
      killMode: 'process',
      oomScoreAdjust: -1000,
      unlimitedProcesses: true,
      after: ['consul', 'docker'],
      restartDelay: 2,
      notify: v.nomad_service_notify,
      // the agent reads every file of its config dir
      configFiles: [`${v.nomad_config_dir}/nomad.hcl`, v.nomad_config_dir],
    },
    { beforeRestart: [...(server ? [...(v.nomad_quorum_gate !== false ? [gate] : []), before] : []), ...(client ? [drain.drain] : [])], afterRestart: after },
  );
}

/** The rendered nomad.hcl of this host (exported for tests: it may hold the gossip key). */
export function configText(ctx: Ctx): string {
  return ctx.template('nomad.hcl.hbs', { computed: compute(ctx).computed });
}
