import type { Facts } from '../facts/types.ts';
import type { Vars } from '../inventory/types.ts';
import { compareVersions, parseVersion } from '../core/version.ts';

/**
 * How a service is supervised on one host:
 *
 * - `openrc`: /etc/init.d/<name> with supervisor=supervise-daemon + /etc/conf.d/<name>.
 * - `s6-openrc`: an s6 service directory driven by OpenRC's own s6 support
 *   (init script with supervisor=s6; OpenRC starts s6-svscan on
 *   /run/openrc/s6-scan and links the directory there). Boot: the runlevel.
 * - `s6`: an s6 service directory linked into the scan directory of an s6
 *   that runs as init (s6-overlay, s6-linux-init).
 * - `systemd`: /etc/systemd/system/<name>.service.
 */
export type SupervisorKind = 'openrc' | 's6-openrc' | 's6' | 'systemd';

export interface Supervision {
  readonly kind: SupervisorKind;
  /** s6 kinds: the service directory. */
  readonly serviceDir: string;
  /** s6 (init): the scan directory. */
  readonly scanDir: string;
  /** openrc: supervise-daemon can capture output (output_log); false on OpenRC < 0.25 (Alpine < 3.8). */
  readonly outputLog: boolean;
  /** s6: use s6-supervise's lock-fd (s6 >= 2.11) instead of s6-setlock in the run script. */
  readonly s6LockFd: boolean;
  /** OpenRC: `need net` (default) or only `use net` (hosts whose network OpenRC does not bring up, e.g. containers). */
  readonly needNet: boolean;
}

/** Vars read here (documented in docs/roles-nomad-consul.md). */
export const SUPERVISION_DEFAULTS = {
  /** auto | openrc | s6 | systemd */
  cairn_supervisor: 'auto',
  /** s6 as init: the scan directory. */
  cairn_s6_scandir: '/run/service',
  /** Where s6 service directories are written. */
  cairn_s6_servicedir: '/etc/s6/sv',
  /** auto | true | false: OpenRC supervise-daemon output_log support. */
  openrc_output_log: 'auto',
  /** s6: lock-fd (true) or s6-setlock in run (false) for the one-copy lock. */
  cairn_s6_lock_fd: false,
  /** OpenRC: need net (true) or use net (false). */
  openrc_need_net: true,
} as const;

const SUPERVISORS = ['auto', 'openrc', 's6', 'systemd'];

/** Problems of the supervision vars, as `var: problem; fix` text. */
export function supervisionVarProblems(vars: Vars): { name: string; message: string; fix: string }[] {
  const out: { name: string; message: string; fix: string }[] = [];
  const sup = vars.cairn_supervisor ?? 'auto';
  if (typeof sup !== 'string' || !SUPERVISORS.includes(sup)) {
    out.push({ name: 'cairn_supervisor', message: `cairn_supervisor must be one of ${SUPERVISORS.join(', ')}, got ${JSON.stringify(sup)}`, fix: 'leave it out (auto: the init system) or write cairn_supervisor: s6' });
  }
  for (const k of ['cairn_s6_scandir', 'cairn_s6_servicedir'] as const) {
    const v = vars[k];
    if (v !== undefined && (typeof v !== 'string' || !/^\/[A-Za-z0-9_.\/+@-]+$/.test(v))) out.push({ name: k, message: `${k} must be an absolute path, got ${JSON.stringify(v)}`, fix: `e.g. ${k}: ${SUPERVISION_DEFAULTS[k]}` });
  }
  if (vars.cairn_s6_lock_fd !== undefined && typeof vars.cairn_s6_lock_fd !== 'boolean') out.push({ name: 'cairn_s6_lock_fd', message: `cairn_s6_lock_fd must be true or false, got ${JSON.stringify(vars.cairn_s6_lock_fd)}`, fix: 'true needs s6 >= 2.11 with a working lock-fd' });
  if (vars.openrc_need_net !== undefined && typeof vars.openrc_need_net !== 'boolean') out.push({ name: 'openrc_need_net', message: `openrc_need_net must be true or false, got ${JSON.stringify(vars.openrc_need_net)}`, fix: 'false when OpenRC does not manage the network (containers)' });
  const ol = vars.openrc_output_log;
  if (ol !== undefined && ol !== 'auto' && typeof ol !== 'boolean') out.push({ name: 'openrc_output_log', message: `openrc_output_log must be auto, true or false, got ${JSON.stringify(ol)}`, fix: 'leave it out (auto: by the Alpine version)' });
  return out;
}

/**
 * Can supervise-daemon write output_log/error_log? OpenRC added that in 0.25;
 * Alpine 3.7 ships 0.24 (3.8 ships 0.35). Other OpenRC distributions: assumed yes.
 * An Alpine VERSION_ID that is not a version: assumed no (set openrc_output_log).
 */
export function openrcHasOutputLog(facts: Facts, setting: unknown): boolean {
  if (typeof setting === 'boolean') return setting;
  if (facts.os.id === 'alpine' && facts.os.versionId) {
    const version = parseVersion(facts.os.versionId);
    return version !== undefined && compareVersions(version, '3.8') >= 0;
  }
  return true;
}

/** The supervision of `name` on this host, or why it cannot be had. */
export function resolveSupervision(name: string, vars: Vars, facts: Facts): Supervision | { error: string } {
  const want = String(vars.cairn_supervisor ?? 'auto');
  const scanDir = String(vars.cairn_s6_scandir ?? SUPERVISION_DEFAULTS.cairn_s6_scandir).replace(/\/+$/, '');
  const serviceDir = `${String(vars.cairn_s6_servicedir ?? SUPERVISION_DEFAULTS.cairn_s6_servicedir).replace(/\/+$/, '')}/${name}`;
  const outputLog = openrcHasOutputLog(facts, vars.openrc_output_log);
  const base = { serviceDir, scanDir, outputLog, s6LockFd: vars.cairn_s6_lock_fd === true, needNet: vars.openrc_need_net !== false };
  const init = facts.init;
  if (want === 'auto') {
    if (init === 'unknown') return { error: `the init system of this host is unknown: set cairn_supervisor: openrc, s6 or systemd` };
    return { kind: init, ...base };
  }
  if (want === 's6') {
    if (!facts.supervisors.s6) return { error: `cairn_supervisor is s6, but s6 (s6-svscan) is not installed on this host (init: ${init}); install s6 or remove cairn_supervisor` };
    if (init === 'openrc') return { kind: 's6-openrc', ...base };
    if (init === 's6') return { kind: 's6', ...base };
    return { error: `cairn_supervisor is s6, but this host runs ${init} as init: cairn runs s6 services under OpenRC (its s6 support) or under s6 as init only; use cairn_supervisor: ${init === 'unknown' ? 'auto' : init}` };
  }
  if (want === 'openrc' || want === 'systemd') {
    if (!facts.supervisors[want]) return { error: `cairn_supervisor is ${want}, but ${want} is not available on this host (init: ${init})` };
    if (want === 'openrc' && init === 's6') return { error: 'cairn_supervisor is openrc, but s6 runs as init here: use cairn_supervisor: s6' };
    return { kind: want, ...base };
  }
  return { error: `cairn_supervisor must be auto, openrc, s6 or systemd, got ${JSON.stringify(want)}` };
}
