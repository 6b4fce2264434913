import { sh, joinCommands, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { fail, noop, type OpContext, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, parseSections, section, paramNames, rejectUnknownParams } from './kit.ts';
import { checkAbsPath } from './path-params.ts';
import { compareVersions } from '../core/version.ts';

export interface CniPluginsParams {
  readonly id: string;
  /** Directory of the plugins (Nomad's cni_path), e.g. /opt/cni/bin */
  readonly dir: string;
  /** Plugins that must be there and executable. */
  readonly required: readonly string[];
  /** The bridge plugin must report at least this version (default 1.3.0, see below). */
  readonly minBridgeVersion?: string;
  /**
   * When this path is absent the plugins are not installed yet (an earlier step of
   * the run extracts them; `cairn check` on a fresh host): noop "not checked".
   */
  readonly onlyIf?: string;
}

const KIND = 'cniPlugins';
const PARAMS = paramNames<CniPluginsParams>({ id: true, dir: true, required: true, minBridgeVersion: true, onlyIf: true });
const PLUGIN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const SEMVER = /^\d+\.\d+\.\d+$/;

/** `CNI bridge plugin v1.4.0` (what skel.PluginMain prints with no CNI_COMMAND) -> '1.4.0'. */
export function parsePluginVersion(output: string, plugin = 'bridge'): string | undefined {
  const m = new RegExp(`CNI ${plugin.replace(/[.]/g, '\\.')} plugin v?(\\d+\\.\\d+\\.\\d+)\\b`).exec(output);
  return m?.[1];
}

/**
 * Check (never change) the CNI plugins Nomad will use: every required plugin is an
 * executable file in `dir`, and the bridge plugin reports a parseable version of
 * at least `minBridgeVersion`. The version comes from the plugin itself: run with
 * no arguments and no CNI_COMMAND it prints `CNI bridge plugin vX.Y.Z` on stderr
 * (the exit code varies between releases and is ignored).
 *
 * Why 1.3.0: Nomad runs CNI CHECK when it restores allocations only when the
 * bridge plugin reports a parseable version >= 1.3.0
 * (client/allocrunner/networking_cni.go); with an older or unknown one it
 * silently skips the check, and bridge-mode allocations lose their networking
 * after a host reboot (hashicorp/nomad#24292).
 *
 * barrier: the plugins are usually extracted by the step just before.
 */
export function cniPlugins(params: CniPluginsParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const dir = checkAbsPath(KIND, id, 'dir', params.dir);
  if (!Array.isArray(params.required) || params.required.length === 0 || params.required.some((p) => typeof p !== 'string' || !PLUGIN.test(p))) {
    throw paramError(KIND, id, 'required', `must be a non-empty list of plugin names, got ${JSON.stringify(params.required)}`, "e.g. required: ['loopback', 'bridge', 'host-local', 'firewall', 'portmap']");
  }
  const min = params.minBridgeVersion ?? '1.3.0';
  if (typeof min !== 'string' || !SEMVER.test(min)) throw paramError(KIND, id, 'minBridgeVersion', `must be x.y.z, got ${JSON.stringify(min)}`, "e.g. minBridgeVersion: '1.3.0'");
  const onlyIf = params.onlyIf === undefined ? undefined : checkAbsPath(KIND, id, 'onlyIf', params.onlyIf);
  const required = [...new Set(params.required)];
  const checkBridge = required.includes('bridge');
  const gate = `Nomad runs CNI CHECK on restore only with a bridge plugin reporting a parseable version >= ${min}; older or unknown versions make bridge allocations lose networking after a reboot (hashicorp/nomad#24292)`;

  return {
    kind: KIND,
    id,
    barrier: true,
    probe(ctx: OpContext): ShellCommand {
      const parts: ShellCommand[] = [];
      if (onlyIf) parts.push(sh`if [ ! -e ${onlyIf} ]; then`, section('absent', sh`echo yes`), sh`exit 0; fi`);
      parts.push(sh`d=${dir}`, section('plugins', sh`for p in ${required}; do if [ -f "$d/$p" ] && [ -x "$d/$p" ]; then echo "$p ok"; elif [ -e "$d/$p" ]; then echo "$p not-executable"; else echo "$p missing"; fi; done`));
      if (checkBridge && !ctx.bake) {
        // no CNI_COMMAND: the plugin prints its "about" text; stdin closed, bounded in time
        parts.push(
          sh`if [ -f "$d/bridge" ] && [ -x "$d/bridge" ]; then`,
          section('bridge', sh`out=$(env -u CNI_COMMAND -u CNI_PATH "$d/bridge" </dev/null 2>&1); rc=$?; printf '%s\n' "$out" | head -n 5; echo "exit=$rc"`),
          sh`fi`,
        );
      }
      parts.push(sh`exit 0`);
      return joinCommands(parts, '\n');
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (!probe) return fail(`${KIND} '${id}': no probe result`);
      const s = parseSections(probe.stdout);
      if (s.has('absent')) return noop(`not checked yet: ${onlyIf} does not exist (an earlier step installs the plugins)`);
      if (!s.has('plugins')) return fail(`${KIND} '${id}': unreadable probe output (exit ${probe.exitCode}): ${probe.stderr.trim()}`);
      const state = new Map((s.get('plugins') ?? '').split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]));
      const missing = required.filter((p) => state.get(p) === 'missing');
      const notExec = required.filter((p) => state.get(p) === 'not-executable');
      if (missing.length || notExec.length) {
        const what = [missing.length ? `missing: ${missing.join(', ')}` : '', notExec.length ? `not executable: ${notExec.join(', ')}` : ''].filter(Boolean).join('; ');
        return fail(`CNI plugins in ${dir} are incomplete (${what}); Nomad bridge networking needs ${required.join(', ')}`);
      }
      if (!checkBridge || ctx.bake) return noop(`CNI plugins present in ${dir}: ${required.join(', ')}${ctx.bake ? ' (bake: bridge version not run)' : ''}`);
      const out = s.get('bridge') ?? '';
      const version = parsePluginVersion(out);
      const exit = Number(/(?:^|\n)exit=(\d+)$/.exec(out.trim())?.[1] ?? 0);
      const shown = out.trim().replace(/\n?exit=\d+$/, '').trim().split('\n')[0] || '(no output)';
      if (!version && (exit === 126 || exit === 127 || /can't execute|not found|Exec format error|cannot execute/i.test(shown))) {
        return fail(
          `the CNI bridge plugin in ${dir} cannot run on ${ctx.host} (${ctx.facts.libc}, ${ctx.facts.arch}): it printed ${JSON.stringify(shown)} — a dynamically linked build for another libc, or another arch? The release tarballs are static. ${gate}`,
        );
      }
      if (!version) {
        return fail(`the CNI bridge plugin in ${dir} does not report a parseable version (it printed: ${JSON.stringify(shown)}): ${gate}; install containernetworking/plugins >= ${min}`);
      }
      if (compareVersions(version, min) < 0) {
        return fail(`the CNI bridge plugin in ${dir} is v${version}, older than ${min}: ${gate}; install containernetworking/plugins >= ${min}`);
      }
      return noop(`CNI plugins present in ${dir} (${required.join(', ')}); bridge v${version} >= ${min}`);
    },
  };
}
