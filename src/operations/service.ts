import { sh } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import type { Facts } from '../facts/types.ts';
import { change, fail, noop, type OpContext, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, paramNames, parseSections, rejectUnknownParams } from './kit.ts';
import { SERVICE_NAME } from './service/name.ts';
import type { Outcome, ServiceDriver, Supervisor } from './service/driver.ts';
import { openrcDriver } from './service/openrc.ts';
import { s6Driver } from './service/s6.ts';
import { systemdDriver } from './service/systemd.ts';

export type { Supervisor } from './service/driver.ts';

/** Where a service lives: the supervisor and its per-supervisor settings. */
export interface ServiceTarget {
  readonly id: string;
  /** Init script name (openrc), unit name (systemd, `.service` optional) or service directory name (s6). */
  readonly name: string;
  /** Default: the host's init (facts.init). s6 may also run under OpenRC (facts.supervisors.s6). */
  readonly supervisor?: Supervisor;
  /** openrc: the runlevel (default `default`). */
  readonly runlevel?: string;
  /** s6: the directory s6-svscan watches (default /run/service). */
  readonly scanDir?: string;
  /** s6: the service directory (default /etc/s6/sv/<name>). */
  readonly serviceDir?: string;
  readonly notify?: readonly string[];
}

export interface ServiceParams extends ServiceTarget {
  /** Started at boot. */
  readonly enabled: boolean;
  /** Running now (ignored in bake mode: services are never started there). */
  readonly state: 'started' | 'stopped';
  /**
   * Handlers a start of this (stopped) service makes unnecessary, e.g. its restart
   * handler: the process it starts reads the files written before it. Ignored when the
   * service is running already (its restart stays due) or only enabled.
   */
  readonly satisfies?: readonly string[];
}

const PATH = /^\/[A-Za-z0-9_.\/+@-]+$/;
export const TARGET_PARAMS = paramNames<ServiceTarget>({ id: true, name: true, supervisor: true, runlevel: true, scanDir: true, serviceDir: true, notify: true });
const SERVICE_PARAMS = paramNames<ServiceParams>({ id: true, name: true, supervisor: true, runlevel: true, scanDir: true, serviceDir: true, notify: true, enabled: true, state: true, satisfies: true });

/** Checks a target's params; `drivers` picks the supervisor and its driver for a host's facts. */
export function checkTarget(kind: string, p: ServiceTarget, allowed: readonly string[]): { id: string; scanDir: string; drivers: (facts: Facts) => { supervisor: Supervisor; driver: ServiceDriver } | { error: string } } {
  const id = checkId(kind, p.id);
  rejectUnknownParams(kind, id, p, allowed);
  if (typeof p.name !== 'string' || !SERVICE_NAME.test(p.name)) {
    throw paramError(kind, id, 'name', `must be a service name, got ${JSON.stringify(p.name)}`, 'e.g. name: nomad (letters, digits, _ . @ : -)');
  }
  if (p.supervisor !== undefined && !['openrc', 's6', 'systemd'].includes(p.supervisor)) {
    throw paramError(kind, id, 'supervisor', `must be openrc, s6 or systemd, got ${JSON.stringify(p.supervisor)}`, "leave it out to use the host's init system");
  }
  const runlevel = p.runlevel ?? 'default';
  if (!/^[a-z0-9_-]+$/.test(runlevel)) throw paramError(kind, id, 'runlevel', `must be a runlevel name, got ${JSON.stringify(runlevel)}`, 'e.g. runlevel: default');
  const scanDir = (p.scanDir ?? '/run/service').replace(/\/+$/, '');
  const serviceDir = (p.serviceDir ?? `/etc/s6/sv/${p.name}`).replace(/\/+$/, '');
  for (const [param, v] of [['scanDir', scanDir], ['serviceDir', serviceDir]] as const) {
    if (!PATH.test(v)) throw paramError(kind, id, param, `must be an absolute path, got ${JSON.stringify(v)}`, `e.g. ${param}: /run/service`);
  }
  const name = p.name;
  return {
    id,
    scanDir,
    drivers(facts) {
      const supervisor = p.supervisor ?? (facts.init === 'unknown' ? undefined : facts.init);
      if (!supervisor) return { error: `${kind} ${name}: the host's init system is unknown; set supervisor: openrc, s6 or systemd` };
      if (!facts.supervisors[supervisor]) return { error: `${kind} ${name}: ${supervisor} is not installed on this host (init: ${facts.init})` };
      const driver = supervisor === 'openrc' ? openrcDriver(name, runlevel) : supervisor === 'systemd' ? systemdDriver(name) : s6Driver(name, { scanDir, serviceDir });
      return { supervisor, driver };
    },
  };
}

function toPlan(label: string, o: Outcome, satisfies: readonly string[] = []): Plan {
  if ('fail' in o) return fail(o.fail);
  if (o.cmds.length === 0) return noop(`${label}: ${o.done.join(', ')}`);
  const plan = change(`${label}: ${o.what.join(', ')}`, o.cmds);
  return o.starts && satisfies.length > 0 ? { ...plan, satisfies } : plan;
}

/**
 * A service enabled/disabled at boot and started/stopped now, under openrc, s6 or
 * systemd. Never restarts a running service: restarts happen through handlers
 * (restartService). Bake mode: enable/disable only, never start or stop.
 * barrier: the init script / unit / service directory is usually written by an
 * earlier step of the same run, so the probe must see it.
 */
export function service(params: ServiceParams): Operation {
  const KIND = 'service';
  const { id, drivers } = checkTarget(KIND, params, SERVICE_PARAMS);
  if (typeof params.enabled !== 'boolean') throw paramError(KIND, id, 'enabled', `must be true or false, got ${JSON.stringify(params.enabled)}`, 'enabled: true starts it at boot');
  if (params.state !== 'started' && params.state !== 'stopped') {
    throw paramError(KIND, id, 'state', `must be 'started' or 'stopped', got ${JSON.stringify(params.state)}`, "state: 'started' runs it now");
  }
  const satisfies = params.satisfies ?? [];
  if (!Array.isArray(satisfies) || satisfies.some((n) => typeof n !== 'string' || n === '')) {
    throw paramError(KIND, id, 'satisfies', `must be a list of handler names, got ${JSON.stringify(params.satisfies)}`, "e.g. satisfies: ['restart nomad']");
  }
  const want = { enabled: params.enabled, state: params.state };
  return {
    kind: KIND,
    id,
    barrier: true,
    ...(params.notify ? { notify: params.notify } : {}),
    probe(ctx: OpContext) {
      const d = drivers(ctx.facts);
      return 'error' in d ? undefined : d.driver.probe(ctx.bake);
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      const d = drivers(ctx.facts);
      if ('error' in d) return fail(d.error);
      if (!probe) return fail(`service ${params.name}: no probe result`);
      return toPlan(`${params.name} (${d.supervisor})`, d.driver.plan(parseSections(probe.stdout), want, ctx.bake, ctx.host), satisfies);
    },
  };
}

/**
 * Handler: restart a service if it is running (a stopped one stays stopped and
 * reads the new configuration when it starts). Bake mode: nothing.
 */
export function restartService(params: ServiceTarget): Operation {
  const KIND = 'restartService';
  const { id, drivers } = checkTarget(KIND, params, TARGET_PARAMS);
  return {
    kind: KIND,
    id,
    ...(params.notify ? { notify: params.notify } : {}),
    probe(ctx: OpContext) {
      const d = drivers(ctx.facts);
      return ctx.bake || 'error' in d ? undefined : d.driver.restartProbe();
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (ctx.bake) return noop(`${params.name}: bake mode, services are not started`);
      const d = drivers(ctx.facts);
      if ('error' in d) return fail(d.error);
      if (!probe) return fail(`restartService ${params.name}: no probe result`);
      return toPlan(`${params.name} (${d.supervisor})`, d.driver.restartPlan(parseSections(probe.stdout), ctx.host));
    },
  };
}

/**
 * Handler: `systemctl daemon-reload` after a unit file changed (notify it from
 * the step that writes the unit, before restartService). Not systemd or bake
 * mode: nothing (systemd reads the units when the image boots).
 */
export function daemonReload(params: { id: string }): Operation {
  const id = checkId('daemonReload', params.id);
  rejectUnknownParams('daemonReload', id, params, ['id']);
  return {
    kind: 'daemonReload',
    id,
    probe: () => undefined,
    plan(_probe, ctx: OpContext): Plan {
      if (ctx.facts.init !== 'systemd') return noop(`not a systemd host (init: ${ctx.facts.init})`);
      if (ctx.bake) return noop('bake mode: systemd reads the unit files at boot');
      return change('systemctl daemon-reload', [sh`systemctl daemon-reload`]);
    },
  };
}
