import { sh, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { change, fail, noop, type OpContext, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, parseSections, probeOf, section, paramNames, rejectUnknownParams } from './kit.ts';
import { atomicWrite } from './atomic-write.ts';

export interface KernelModuleParams {
  readonly id: string;
  /** Module name as modprobe takes it, e.g. br_netfilter */
  readonly name: string;
  /** Load it at boot too (default true): /etc/modules, or /etc/modules-load.d/cairn-<name>.conf under systemd. */
  readonly persist?: boolean;
  readonly notify?: readonly string[];
}

const KIND = 'kernelModule';
const PARAMS = paramNames<KernelModuleParams>({ id: true, name: true, persist: true, notify: true });
const MODULE = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/** modprobe treats `-` and `_` alike; /proc/modules and /sys/module use `_`. */
const canonical = (n: string): string => n.replace(/-/g, '_');

/** Does a modules list (/etc/modules, modules-load.d) name `module`? Comments and options are ignored. */
export function listsModule(content: string | undefined, module: string): boolean {
  if (content === undefined) return false;
  return content.split('\n').some((l) => {
    const word = l.replace(/[#;].*$/, '').trim().split(/\s+/)[0];
    return word !== undefined && word !== '' && canonical(word) === canonical(module);
  });
}

/**
 * A kernel module loaded now (modprobe) and at boot. Already loaded or built in:
 * nothing to load. Where it cannot be loaded (a container without the host's
 * /lib/modules, no modprobe), a clear failure naming the module and the reason.
 * Bake mode: persisted only.
 */
export function kernelModule(params: KernelModuleParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const { name } = params;
  if (typeof name !== 'string' || !MODULE.test(name)) {
    throw paramError(KIND, id, 'name', `must be a module name, got ${JSON.stringify(name)}`, 'e.g. name: br_netfilter (letters, digits, _ and -)');
  }
  const persist = params.persist ?? true;
  const mod = canonical(name);

  const persistFile = (ctx: OpContext): string => (ctx.facts.init === 'systemd' ? `/etc/modules-load.d/cairn-${name}.conf` : '/etc/modules');

  return {
    kind: KIND,
    id,
    ...(params.notify ? { notify: params.notify } : {}),
    probe(ctx: OpContext): ShellCommand | undefined {
      const parts: ShellCommand[] = [];
      if (persist) {
        const f = persistFile(ctx);
        parts.push(sh`if [ -f ${f} ]; then ${section('persist', sh`cat ${f}`)}
fi`);
      }
      if (!ctx.bake) {
        parts.push(
          sh`if grep -q ${`^${mod} `} /proc/modules 2>/dev/null || [ -d ${`/sys/module/${mod}`} ]; then ${section('loaded', sh`echo yes`)}
fi`,
          sh`r=$(uname -r)`,
          sh`if [ -d "/lib/modules/$r" ]; then ${section('modules-dir', sh`echo "/lib/modules/$r"`)}
tr - _ <"/lib/modules/$r/modules.builtin" 2>/dev/null | grep -q ${`/${mod}\\.ko`} && ${section('builtin', sh`echo yes`)}
fi`,
          section('release', sh`echo "$r"`),
          section('modprobe', sh`command -v modprobe || :`),
        );
      }
      return parts.length ? probeOf(...parts) : undefined;
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      const s = parseSections(probe?.stdout ?? '');
      const cmds: ShellCommand[] = [];
      const what: string[] = [];
      const done: string[] = [];
      if (!ctx.bake) {
        if (s.has('loaded') || s.has('builtin')) {
          done.push(s.has('loaded') ? 'loaded' : 'built in');
        } else {
          const cannot = `kernel module ${name} is not loaded and cannot be loaded on ${ctx.host}`;
          if (!s.has('modules-dir')) {
            return fail(`${cannot}: /lib/modules/${s.get('release') ?? '<release>'} does not exist (a container without the host's modules?); load it on the host (modprobe ${name}) first`);
          }
          if (!s.get('modprobe')) return fail(`${cannot}: modprobe is not installed (Alpine: kmod or busybox modprobe; Debian: kmod)`);
          cmds.push(sh`modprobe ${name} || { echo ${`cairn: could not load kernel module ${name} (modprobe's message above)`} >&2; exit 1; }`);
          what.push('load');
        }
      }
      if (persist) {
        const file = persistFile(ctx);
        const content = s.get('persist');
        if (listsModule(content, name)) {
          done.push(`listed in ${file}`);
        } else {
          const next = file === '/etc/modules' && content !== undefined && content.trim() !== '' ? `${content.replace(/\n*$/, '')}\n${name}\n` : `${name}\n`;
          cmds.push(atomicWrite(file, next, { mode: '0644' }));
          what.push(`persist in ${file}`);
        }
      }
      if (cmds.length === 0) return noop(`kernel module ${name}: ${done.join(', ') || 'nothing to do'}${ctx.bake ? ' (bake: not loaded now)' : ''}`);
      return change(`kernel module ${name}: ${what.join(', ')}`, cmds);
    },
  };
}
