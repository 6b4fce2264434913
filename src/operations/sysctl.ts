import { sh, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { change, fail, noop, warn, type OpContext, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, parseSections, probeOf, section, paramNames, rejectUnknownParams } from './kit.ts';
import { atomicWrite } from './atomic-write.ts';

export interface SysctlParams {
  readonly id: string;
  /** Dotted key, e.g. net.bridge.bridge-nf-call-iptables */
  readonly name: string;
  /** The wanted value, compared as the kernel prints it (fields separated by one space). */
  readonly value: string | number;
  /**
   * Where it is persisted. Default /etc/sysctl.d/90-cairn-<name>.conf (one file a key,
   * so two steps never fight over a file). A shared file works too: only this key's
   * line is replaced, other lines are kept.
   */
  readonly file?: string;
  /**
   * When the live value cannot be set (read-only /proc/sys in a container, or the
   * key does not exist because its module is not loaded): warn instead of fail.
   * The file is written either way.
   */
  readonly ignoreLive?: boolean;
  readonly notify?: readonly string[];
}

const KIND = 'sysctl';
const PARAMS = paramNames<SysctlParams>({ id: true, name: true, value: true, file: true, ignoreLive: true, notify: true });
const KEY = /^[A-Za-z0-9_][A-Za-z0-9_-]*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)+$/;
const FILE = /^\/[A-Za-z0-9_.\/+@-]+$/;

/** The same value as the kernel prints it: fields separated by one space. */
export function normaliseSysctlValue(v: string): string {
  return v.trim().split(/\s+/).join(' ');
}

/** `file` content with the line for `name` set to `value` (replaced in place, or appended). */
export function setSysctlLine(content: string | undefined, name: string, value: string): string {
  const line = `${name} = ${value}`;
  if (content === undefined || content.trim() === '') return `# managed by cairn\n${line}\n`;
  const keyRe = new RegExp(`^\\s*-?${name.replace(/[.]/g, '\\.')}\\s*=`);
  const out: string[] = [];
  let placed = false;
  for (const l of content.replace(/\n$/, '').split('\n')) {
    if (keyRe.test(l)) {
      if (!placed) out.push(line);
      placed = true;
    } else {
      out.push(l);
    }
  }
  if (!placed) out.push(line);
  return `${out.join('\n')}\n`;
}

/** The value `content` sets for `name` (last assignment wins, as sysctl applies them). */
export function sysctlFileValue(content: string | undefined, name: string): string | undefined {
  if (content === undefined) return undefined;
  let found: string | undefined;
  for (const l of content.split('\n')) {
    const m = /^\s*-?([^=#;\s][^=]*?)\s*=(.*)$/.exec(l);
    if (m && m[1] === name) found = normaliseSysctlValue(m[2] ?? '');
  }
  return found;
}

/**
 * A kernel parameter, persisted in a sysctl.d file and set live through
 * /proc/sys (the same write `sysctl -w` does). Bake mode: the file only.
 */
export function sysctl(params: SysctlParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const { name } = params;
  if (typeof name !== 'string' || !KEY.test(name)) {
    throw paramError(KIND, id, 'name', `must be a dotted sysctl key, got ${JSON.stringify(name)}`, 'e.g. name: net.ipv4.ip_forward');
  }
  const raw = params.value;
  if ((typeof raw !== 'string' && typeof raw !== 'number') || String(raw).trim() === '' || /[\n\r]/.test(String(raw))) {
    throw paramError(KIND, id, 'value', `must be a non-empty one-line string or number, got ${JSON.stringify(raw)}`, "e.g. value: 1 or value: '32768 60999'");
  }
  const value = normaliseSysctlValue(String(raw));
  const file = params.file ?? `/etc/sysctl.d/90-cairn-${name}.conf`;
  if (!FILE.test(file) || !file.endsWith('.conf')) {
    throw paramError(KIND, id, 'file', `must be an absolute path ending in .conf, got ${JSON.stringify(file)}`, 'e.g. file: /etc/sysctl.d/90-nomad.conf (sysctl.d only reads *.conf)');
  }
  const procPath = `/proc/sys/${name.replace(/\./g, '/')}`;
  const ignoreLive = params.ignoreLive ?? false;

  return {
    kind: KIND,
    id,
    // a key may only exist once an earlier step loaded its module (net.bridge.* needs br_netfilter)
    barrier: true,
    ...(params.notify ? { notify: params.notify } : {}),
    probe(ctx: OpContext): ShellCommand {
      const fileSection = sh`if [ -f ${file} ]; then ${section('file', sh`cat ${file}`)}
fi`;
      if (ctx.bake) return fileSection;
      return probeOf(
        fileSection,
        sh`if [ -d /proc/sys/kernel ]; then ${section('proc', sh`echo mounted`)}
fi`,
        sh`if [ -e ${procPath} ]; then ${section('live', sh`cat ${procPath}`)}
if [ ! -w ${procPath} ] || ${readOnlyMount(procPath)}; then ${section('read-only', sh`echo yes`)}
fi
fi`,
      );
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (!probe) return fail('sysctl: no probe result');
      const s = parseSections(probe.stdout);
      const content = s.get('file');
      const persisted = sysctlFileValue(content, name);
      const cmds: ShellCommand[] = [];
      const diff: string[] = [];
      const what: string[] = [];
      if (persisted !== value) {
        cmds.push(atomicWrite(file, setSysctlLine(content, name, value), { mode: '0644' }));
        diff.push(`${file}: ${persisted === undefined ? '(unset)' : persisted} -> ${value}`);
        what.push(`persist in ${file}`);
      }
      const warnings: string[] = [];
      if (!ctx.bake) {
        const live = s.get('live');
        if (live === undefined || normaliseSysctlValue(live) !== value) {
          const problem = liveProblem(s, ctx.host);
          if (problem && !ignoreLive) return fail(`${problem} (set ignoreLive: true to only persist it)`);
          if (problem) warnings.push(problem);
          else {
            cmds.push(sh`printf '%s\\n' ${value} > ${procPath}`);
            diff.push(`live ${name}: ${normaliseSysctlValue(live ?? '')} -> ${value}`);
            what.push('set live');
          }
        }
      }
      if (cmds.length === 0) {
        if (warnings.length) return warn(warnings.join('\n'));
        return noop(`${name} = ${value}${ctx.bake ? ` persisted in ${file} (bake: live value not checked)` : ''}`);
      }
      return change(`${name} = ${value}: ${what.join(', ')}`, cmds, diff.join('\n'), warnings.length ? warnings : undefined);
    },
  };

  function liveProblem(s: Map<string, string>, host: string): string | undefined {
    if (!s.has('proc')) return `cannot set ${name} live on ${host}: /proc/sys is not mounted (a chroot? use bake mode)`;
    if (!s.has('live')) {
      const hint = name.startsWith('net.bridge.') ? 'load br_netfilter first (a kernelModule step before this one)' : 'is the module that provides it loaded?';
      return `sysctl ${name} does not exist on ${host}'s kernel (${procPath} is missing): ${hint}`;
    }
    if (s.has('read-only')) return `cannot set ${name} live on ${host}: ${procPath} is read-only (a container without write access to /proc/sys?)`;
    return undefined;
  }
}

/**
 * True (exit 0) when the mount holding `path` is read-only (/proc/sys in systemd-nspawn
 * and docker containers). `[ -w ]` alone is not enough: busybox's test answers
 * "writable" for root whatever the mount says. The longest mount point that is a
 * prefix of the path wins (a /proc/sys/net remounted rw counts as writable).
 */
function readOnlyMount(path: string): ShellCommand {
  return sh`awk -v p=${path} '$2 == "/" || index(p "/", $2 "/") == 1 { if (length($2) >= n) { n = length($2); o = $4 } } END { exit (o ~ /^ro(,|$)/) ? 0 : 1 }' /proc/self/mounts 2>/dev/null`;
}
