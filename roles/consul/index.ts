// Built-in role `consul`: the consul user, data and config dirs, the agent's
// HCL config (server or client, bootstrap_expect from the inventory, gossip
// key as a secret), the service under OpenRC / s6 / systemd, and waits for the
// cluster. Servers restart one host at a time. Vars: docs/roles-nomad-consul.md#consul
import {
  defineRole,
  directory,
  file,
  group,
  user,
  uniqueProblems,
  type InputProblem,
  type Operation,
  type RoleContext,
  clusterWaitAfterRestart,
  CONSUL_CLUSTER,
  advertiseAddress,
  agentVarProblems,
  clusterOf,
  clusterProblems,
  emptyDataDir,
  httpOk,
  isMap,
  isServer,
  isServerByGroups,
  joinAddress,
  leaderCheck,
  localHttpBase,
  logTail,
  members,
  observe,
  outputLogPath,
  quorumGate,
  supervisedService,
  supervisionVarProblems,
  waitReady,
} from 'cairn-provision';

const DEFAULTS = {
  consul_bin: '/usr/local/bin/consul',
  consul_user: 'consul',
  consul_group: 'consul',
  consul_datacenter: 'dc1',
  consul_data_dir: '/var/lib/consul',
  consul_config_dir: '/etc/consul.d',
  consul_log_dir: '/var/log/consul',
  consul_log_level: 'INFO',
  consul_log_rotate_bytes: 10485760,
  consul_log_rotate_max_files: 10,
  consul_bind_addr: '0.0.0.0',
  consul_client_addr: '127.0.0.1',
  consul_ports: { http: 8500, dns: 8600, server: 8300, serf_lan: 8301 },
  consul_ui: true,
  consul_service_notify: false,
  consul_wait_timeout: 120,
  allow_even_servers: false,
  /** Restart a server even when autopilot says the cluster is degraded (the CLI's --allow-quorum-loss sets it). */
  consul_allow_quorum_loss: false,
  /**
   * Gate every server restart on autopilot health (refuse when the cluster is degraded).
   * A server started from stopped in this run is not restarted at all (the service step
   * satisfies the restart), so a cluster's first bring-up never reaches the gate.
   */
  consul_quorum_gate: true,
};

/**
 * The vars the steps read, as validate() leaves them (agentVarProblems checks the
 * defaults' types and consul_retry_join). Other vars (consul_node_name, ...) stay
 * `unknown` and are narrowed where they are read.
 */
export type ConsulVars = typeof DEFAULTS & {
  /** Addresses to join instead of the inventory's servers. */
  readonly consul_retry_join?: string[];
};

type Ctx = RoleContext<ConsulVars>;

const K = CONSUL_CLUSTER;

interface Computed {
  node_name: string;
  advertise: string;
  log_file: string;
  server: boolean;
  bootstrap_expect: number;
  retry_join: string[];
  ui: boolean;
}

function compute(ctx: Ctx): Computed & { base: string; cluster: ReturnType<typeof clusterOf> } {
  const v = ctx.vars;
  const self = { host: ctx.host, vars: v };
  const all = members(ctx.hostsWithRole, (h) => ctx.varsOf(h), self);
  const cluster = clusterOf(K, self, all, ctx.inventory);
  const server = isServer(K, ctx.host, v, ctx.inventory);
  const join = v.consul_retry_join ?? cluster.servers.map((m) => joinAddress(m.host, m.vars));
  return {
    node_name: typeof v.consul_node_name === 'string' ? v.consul_node_name : ctx.host.name,
    advertise: advertiseAddress(ctx.host, v),
    log_file: `${v.consul_log_dir}/consul.log`,
    server,
    bootstrap_expect: cluster.bootstrapExpect,
    retry_join: join,
    ui: server && v.consul_ui !== false,
    base: localHttpBase(v.consul_client_addr, v.consul_ports.http),
    cluster,
  };
}

export default defineRole<ConsulVars>({
  name: 'consul',
  description: 'Consul agent (server or client) supervised by OpenRC, s6 or systemd',
  defaults: DEFAULTS,
  serial: 1,
  serialWhen: (host, vars) => isServerByGroups(K, host, vars),
  validate(ctx) {
    const problems: InputProblem[] = [];
    for (const host of ctx.hostsWithRole) {
      const vars = ctx.varsFor(host);
      problems.push(...agentVarProblems('consul', host, vars, ctx.locate, ['http', 'dns', 'server', 'serf_lan']));
      for (const k of ['consul_user', 'consul_group']) {
        const name = vars[k];
        if (typeof name !== 'string' || !/^[a-z_][a-z0-9_-]*$/.test(name)) problems.push({ location: ctx.locate(host, k), message: `${k} must be an account name, got ${JSON.stringify(name)}`, fix: `e.g. ${k}: consul` });
      }
      for (const k of ['consul_bind_addr', 'consul_client_addr'] as const) {
        if (typeof vars[k] !== 'string') problems.push({ location: ctx.locate(host, k), message: `${k} must be an address, got ${JSON.stringify(vars[k])}`, fix: `e.g. ${k}: ${DEFAULTS[k]}` });
      }
      if (typeof vars.consul_quorum_gate !== 'boolean') {
        problems.push({ location: ctx.locate(host, 'consul_quorum_gate'), message: `consul_quorum_gate must be true or false, got ${JSON.stringify(vars.consul_quorum_gate)}`, fix: 'consul_quorum_gate: true (the default) gates server restarts on autopilot health' });
      }
      if (typeof vars.consul_allow_quorum_loss !== 'boolean') {
        problems.push({ location: ctx.locate(host, 'consul_allow_quorum_loss'), message: `consul_allow_quorum_loss must be true or false, got ${JSON.stringify(vars.consul_allow_quorum_loss)}`, fix: 'consul_allow_quorum_loss: true (or --allow-quorum-loss) restarts a server of a degraded cluster' });
      }
      for (const s of supervisionVarProblems(vars)) problems.push({ location: ctx.locate(host, s.name), message: s.message, fix: s.fix });
    }
    problems.push(...clusterProblems(K, ctx));
    return uniqueProblems(problems);
  },
  steps(ctx) {
    const v = ctx.vars;
    const c = compute(ctx);
    const svc = service(ctx, c);
    const dataDir = v.consul_data_dir;
    const confDir = v.consul_config_dir;
    const u = v.consul_user;
    const g = v.consul_group;
    const { base, cluster, ...computed } = c;
    const steps: Operation[] = [
      group({ id: 'group', name: g, system: true }),
      user({ id: 'user', name: u, group: g, system: true, home: dataDir, createHome: false }),
      directory({ id: 'data-dir', path: dataDir, mode: '0750', owner: u, group: g }),
      directory({ id: 'config-dir', path: confDir, mode: '0750', owner: 'root', group: g }),
      file({ id: 'config', path: `${confDir}/consul.hcl`, content: configText(ctx), mode: '0640', owner: 'root', group: g, notify: [svc.restartHandler] }),
      // a running agent older than its binary or config is restarted by svc.steps (runningCurrent)
      ...(ctx.bake ? [emptyDataDir('forget-identity', dataDir)] : []),
      ...svc.steps,
    ];
    if (!ctx.bake) {
      const single = c.server && cluster.bootstrapExpect === 1;
      steps.push(
        waitReady({
          id: single ? 'wait-leader' : 'wait-api',
          check: single ? leaderCheck(base, 1) : httpOk(`${base}/v1/agent/self`),
          what: single ? `consul at ${base} has a leader` : `consul at ${base} answers /v1/agent/self`,
          timeoutMs: v.consul_wait_timeout * 1000,
          onTimeout: logTail('consul', outputLogPath(svc.description), computed.log_file),
          // a changed config restarts the agent first: wait for the agent as configured now
          flushHandlers: true,
        }),
      );
    }
    return steps;
  },
  handlers(ctx) {
    return service(ctx, compute(ctx)).handlers;
  },
});

/** The supervised consul service, with the rolling-restart waits as handlers. */
function service(ctx: Ctx, c: ReturnType<typeof compute>) {
  const v = ctx.vars;
  const timeoutMs = v.consul_wait_timeout * 1000;
  const before = observe('leader-before-restart', leaderCheck(c.base), `consul cluster '${c.cluster.name}' had a leader before the restart`);
  const serverPort = isMap(v.consul_ports) && typeof v.consul_ports.server === 'number' ? v.consul_ports.server : 8300;
  const gate = quorumGate({
    id: 'quorum-before-restart',
    product: 'consul',
    host: ctx.host.name,
    base: c.base,
    self: { names: [c.node_name], addresses: c.advertise.includes('{{') ? [] : [`${c.advertise}:${serverPort}`] },
    allowQuorumLoss: v.consul_allow_quorum_loss === true,
    skip: () => (c.bootstrap_expect <= 1 ? 'single consul server (bootstrap_expect 1): no quorum to keep, FailureTolerance is 0 by nature' : undefined),
  });
  const tail = logTail('consul', `${v.consul_log_dir}/output.log`, c.log_file);
  const after: Operation[] = [
    waitReady({ id: 'wait-api-after-restart', check: httpOk(`${c.base}/v1/agent/self`), what: `consul at ${c.base} answers /v1/agent/self`, timeoutMs, onTimeout: tail, barrier: true }),
  ];
  if (c.server) {
    after.push(clusterWaitAfterRestart({ base: c.base, servers: c.bootstrap_expect, label: `consul cluster '${c.cluster.name}'`, timeoutMs, onTimeout: tail, before }));
  }
  return supervisedService(
    ctx,
    {
      name: 'consul',
      description: 'Consul agent',
      command: v.consul_bin,
      args: ['agent', `-config-dir=${v.consul_config_dir}`],
      user: v.consul_user,
      group: v.consul_group,
      logDir: v.consul_log_dir,
      killSignal: 'SIGTERM',
      restartDelay: 2,
      notify: v.consul_service_notify,
      // the agent reads every file of its config dir
      configFiles: [`${v.consul_config_dir}/consul.hcl`, v.consul_config_dir],
      // like nomad: the kernel's OOM killer spares a server (systemd; OpenRC and s6 have no such knob here)
      ...(c.server ? { oomScoreAdjust: -1000 } : {}),
    },
    { beforeRestart: c.server ? [...(v.consul_quorum_gate !== false ? [gate] : []), before] : [], afterRestart: after },
  );
}

/** The rendered consul.hcl of this host (exported for tests: it may hold the gossip key). */
export function configText(ctx: Ctx): string {
  const { base: _b, cluster: _c, ...computed } = compute(ctx);
  return ctx.template('consul.hcl.hbs', { computed });
}
