import type { RoleContext } from '../roles/role.ts';
import type { Operation } from '../operations/operation.ts';
import { directory } from '../operations/directory.ts';
import { file } from '../operations/file.ts';
import { command } from '../operations/command.ts';
import { sh } from '../shell/sh.ts';
import { service, restartService, daemonReload, type ServiceTarget } from '../operations/service.ts';
import { runningCurrent } from '../operations/running-current.ts';
import { resolveDescription, type ResolvedDescription, type ServiceDescription } from './description.ts';
import { renderService, type ServiceFile } from './render.ts';
import { resolveSupervision, type Supervision } from './supervisor.ts';
import { failStep } from './ready.ts';
import { openrcHandover } from './handover.ts';

export interface SupervisedOptions {
  /** Step id prefix (default `service`): ids `<prefix>-initd`, `<prefix>-log-dir`, `<prefix>`. */
  readonly idPrefix?: string;
  /** Handler ops that run right after the restart (waits for health, for the cluster). */
  readonly afterRestart?: readonly Operation[];
  /** Handler ops that run right before the restart (e.g. observe the cluster). */
  readonly beforeRestart?: readonly Operation[];
}

export interface SupervisedService {
  /**
   * Log directory, supervisor files, then the service op (enabled + started; bake:
   * enabled), then (live only) `<prefix>-running-current`: a running process older
   * than its binary, its configFiles or the supervisor files notifies the restart handler.
   */
  readonly steps: Operation[];
  /** Handlers in run order: `reload units for <name>` (systemd), `restart <name>`. */
  readonly handlers: Record<string, Operation[]>;
  /** The handler to notify when the daemon's configuration changed. */
  readonly restartHandler: string;
  /** How the service is supervised here (undefined: see the failing step). */
  readonly supervision: Supervision | undefined;
  readonly description: ResolvedDescription;
  /** The files written (for tests and docs). */
  readonly files: readonly ServiceFile[];
  /** What the service op drives: use it for stop/start steps of the same service. */
  readonly target: Omit<ServiceTarget, 'id'> | undefined;
}

/** The restart handler name of a service. */
export const restartHandlerName = (name: string): string => `restart ${name}`;

/** The service op target (supervisor and paths) for a supervision. */
export function serviceTarget(name: string, sup: Supervision): Omit<ServiceTarget, 'id'> {
  switch (sup.kind) {
    case 'openrc':
    case 's6-openrc':
      return { name, supervisor: 'openrc' };
    case 's6':
      return { name, supervisor: 's6', scanDir: sup.scanDir, serviceDir: sup.serviceDir };
    case 'systemd':
      return { name, supervisor: 'systemd' };
  }
}

/**
 * One supervised daemon on this host: picks the supervisor (facts + the
 * cairn_supervisor var), writes its files (any change notifies the restart
 * handler; a unit change also daemon-reload) and enables + starts the service
 * (bake mode: enables only). A supervisor that cannot be used here becomes a
 * failing step with the reason.
 */
export function supervisedService(ctx: RoleContext, desc: ServiceDescription, opts: SupervisedOptions = {}): SupervisedService {
  const d = resolveDescription(desc);
  const p = opts.idPrefix ?? 'service';
  const restart = restartHandlerName(d.name);
  const reload = `reload units for ${d.name}`;
  const sup = resolveSupervision(d.name, ctx.vars, ctx.facts);
  if ('error' in sup) {
    return {
      steps: [failStep(p, 'service', `${d.name}: ${sup.error}`)],
      handlers: { [reload]: [], [restart]: [] },
      restartHandler: restart,
      supervision: undefined,
      description: d,
      files: [],
      target: undefined,
    };
  }
  const files = renderService(d, sup);
  const steps: Operation[] = [directory({ id: `${p}-log-dir`, path: d.logDir, mode: '0750', owner: d.user, ...(d.group ? { group: d.group } : {}) })];
  if (sup.kind === 's6' || sup.kind === 's6-openrc') {
    steps.push(directory({ id: `${p}-s6-dir`, path: sup.serviceDir, mode: '0755' }), directory({ id: `${p}-s6-log-dir`, path: `${sup.serviceDir}/log`, mode: '0755' }));
  }
  if (sup.kind === 'openrc' || sup.kind === 's6-openrc') {
    // a running service moved between supervise-daemon and s6: the old script stops it
    steps.push(openrcHandover(`${p}-handover`, d.name, sup.kind === 'openrc' ? 'supervise-daemon' : 's6'));
  }
  for (const f of files) {
    const notify = [...(f.daemonReload ? [reload] : []), ...(f.restart ? [restart] : [])];
    // no backups: a copy in /etc/init.d would be a service of its own
    steps.push(file({ id: `${p}-${f.key}`, path: f.path, content: f.content, mode: f.mode, owner: 'root', group: 'root', backup: false, ...(notify.length ? { notify } : {}) }));
  }
  if ((sup.kind === 's6' || sup.kind === 's6-openrc') && !sup.s6LockFd) {
    // an earlier lock-fd would make s6-supervise take the lock as well
    steps.push(command({ id: `${p}-s6-no-lock-fd`, run: sh`rm -f ${`${sup.serviceDir}/lock-fd`}`, unless: sh`[ ! -e ${`${sup.serviceDir}/lock-fd`} ]`, notify: [restart] }));
  }
  const target = serviceTarget(d.name, sup);
  // a service started from stopped runs the files written above: no restart left to do
  steps.push(service({ id: p, ...target, enabled: true, state: 'started', satisfies: [restart] }));
  if (!ctx.bake) {
    // what the process runs: its binary, the config it reads, what the supervisor passes it
    const runs = [d.command, ...d.configFiles, ...files.filter((f) => f.restart).map((f) => f.path)];
    steps.push(runningCurrent({ id: `${p}-running-current`, ...target, files: runs, restart: 'handler', notify: [restart] }));
  }
  const handlers: Record<string, Operation[]> = {
    [reload]: sup.kind === 'systemd' ? [daemonReload({ id: `${p}-daemon-reload` })] : [],
    [restart]: [...(opts.beforeRestart ?? []), restartService({ id: `${p}-restart`, ...target }), ...(opts.afterRestart ?? [])],
  };
  return { steps, handlers, restartHandler: restart, supervision: sup, description: d, files, target };
}
