import { sh, asWord, type ShellCommand } from '../shell/sh.ts';
import type { CommandResult } from '../core/result.ts';
import { change, fail, noop, warn, type OpContext, type Operation, type Plan } from './operation.ts';
import { checkId, paramError, parseSections, probeOf, section, paramNames, rejectUnknownParams, probeFailed } from './kit.ts';
import { checkAbsPath, checkBoolean } from './path-params.ts';
import { unifiedDiff } from './diff.ts';

export interface KernelCmdlineParams {
  readonly id: string;
  /** The one-line kernel command line file. Default /boot/firmware/cmdline.txt (Raspberry Pi OS Bookworm). */
  readonly path?: string;
  /** Tokens that must be on the line, e.g. ['cgroup_enable=memory']; missing ones are appended. */
  readonly add?: readonly string[];
  /** Tokens that must not be on the line (exact match); present ones are removed. */
  readonly remove?: readonly string[];
  /** Keep the replaced file as `<path>.cairn-bak.<epoch>` (default true). */
  readonly backup?: boolean;
  readonly notify?: readonly string[];
}

const KIND = 'kernelCmdline';
const PARAMS = paramNames<KernelCmdlineParams>({ id: true, path: true, add: true, remove: true, backup: true, notify: true });
/** A kernel parameter: printable, no whitespace, no quotes (cairn never writes quoted values). */
const TOKEN = /^[!#-&(-~]+$/;
/** cmdline.txt is tiny (the firmware reads at most a few KiB); a larger file is not one. */
const MAX_BYTES = 64 * 1024;

export interface CmdlineEdit {
  /** The new content, or undefined when nothing changes. */
  readonly after: string | undefined;
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

/** Split a cmdline file into its lines that carry text. */
export function cmdlineLines(content: string): string[] {
  return content.split(/\r?\n/).filter((l) => l.trim() !== '');
}

/**
 * Edit the single line of a cmdline file (pure): drop `remove` tokens, append the
 * missing `add` tokens, keep every other token in its order and the file's final
 * newline as it was. Tokens are compared exactly (`cgroup_enable=memory` and
 * `cgroup_enable=cpuset` are different tokens: the kernel accepts both).
 */
export function editCmdline(content: string, add: readonly string[], remove: readonly string[]): CmdlineEdit {
  const [line = ''] = cmdlineLines(content);
  const tokens = line.trim().split(/\s+/).filter(Boolean);
  const removed = remove.filter((t) => tokens.includes(t));
  const kept = tokens.filter((t) => !remove.includes(t));
  const added = add.filter((t, i) => !kept.includes(t) && add.indexOf(t) === i);
  if (added.length === 0 && removed.length === 0) return { after: undefined, added, removed };
  const eol = /\r?\n$/.exec(content)?.[0] ?? '';
  return { after: [...kept, ...added].join(' ') + eol, added, removed };
}

function checkTokens(id: string, param: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string' || !TOKEN.test(t))) {
    throw paramError(KIND, id, param, `must be a list of kernel parameters without spaces or quotes, got ${JSON.stringify(value)}`, "e.g. add: ['cgroup_enable=memory']");
  }
  return value as string[];
}

/**
 * A token on the one line of a kernel command line file (Raspberry Pi
 * /boot/firmware/cmdline.txt). The firmware reads only that one line, so the file
 * is never given a second one: the line is rewritten whole, atomically (temp +
 * rename in the same directory, then sync), after a backup, and only if the file
 * still has the content the probe read (a concurrent edit fails the change instead
 * of being overwritten; a token is never added twice). A missing file means this
 * is not a Raspberry Pi boot partition: nothing to do. A change warns that a
 * reboot is needed; a token already in the file but not yet in /proc/cmdline
 * gives a warning on every run until the reboot.
 *
 * The boot partition is FAT: no chmod/chown, no `cp -p` (they fail there).
 */
export function kernelCmdline(params: KernelCmdlineParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  const path = checkAbsPath(KIND, id, 'path', params.path ?? '/boot/firmware/cmdline.txt');
  const add = checkTokens(id, 'add', params.add);
  const remove = checkTokens(id, 'remove', params.remove);
  if (add.length === 0 && remove.length === 0) {
    throw paramError(KIND, id, 'add', 'and `remove` are both empty', "give add: ['cgroup_enable=memory'] and/or remove: [...]");
  }
  const both = add.filter((t) => remove.includes(t));
  if (both.length) throw paramError(KIND, id, 'remove', `names ${both.join(', ')}, which \`add\` also names`, 'a token is either added or removed');
  const backup = checkBoolean(KIND, id, 'backup', params.backup) ?? true;

  return {
    kind: KIND,
    id,
    ...(params.notify ? { notify: params.notify } : {}),
    probe(ctx: OpContext): ShellCommand {
      return probeOf(
        sh`p=${path}`,
        sh`if [ -f "$p" ]; then`,
        section('size', sh`wc -c < "$p"`),
        sh`if [ "$(wc -c < "$p")" -le ${MAX_BYTES} ]; then`,
        section('content', sh`c=$(base64 < "$p") || exit 1; printf '%s\n' "$c"`),
        section('sha256', sh`h=$(sha256sum < "$p") || exit 1; set -- $h; echo "$1"`),
        sh`fi`,
        sh`elif [ -e "$p" ]; then`,
        section('other', sh`echo yes`),
        sh`fi`,
        ...(ctx.bake ? [] : [sh`if [ -r /proc/cmdline ]; then`, section('running', sh`cat /proc/cmdline`), sh`fi`]),
        sh`exit 0`,
      );
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (!probe) return fail(`${KIND} '${id}': no probe result`);
      if (probe.exitCode !== 0) return probeFailed(KIND, id, probe);
      const s = parseSections(probe.stdout);
      if (s.has('other')) return fail(`${KIND} '${id}': ${path} exists but is not a regular file`);
      if (!s.has('size')) return noop(`${path} does not exist: not a Raspberry Pi boot partition, nothing to do`);
      if (!s.has('content')) return fail(`${KIND} '${id}': ${path} is ${s.get('size')?.trim()} bytes: too large for a kernel command line file`);
      const content = Buffer.from((s.get('content') ?? '').replace(/\s+/g, ''), 'base64').toString('utf8');
      const sha = s.get('sha256')?.trim() ?? '';
      const lines = cmdlineLines(content);
      if (lines.length === 0) return fail(`${KIND} '${id}': ${path} is empty: a Raspberry Pi would boot without root= — restore it from ${path}.cairn-bak.* or the image before cairn edits it`);
      if (lines.length > 1) {
        return fail(`${KIND} '${id}': ${path} has ${lines.length} lines; the firmware reads only the first one, so the others are silently ignored — join them into one line by hand`);
      }
      const edit = editCmdline(content, add, remove);
      const running = s.get('running')?.trim().split(/\s+/) ?? [];
      if (edit.after === undefined) {
        const notLive = ctx.bake || !s.has('running') ? [] : [...add.filter((t) => !running.includes(t)), ...remove.filter((t) => running.includes(t))];
        if (notLive.length) {
          return warn(`${path} has the wanted parameters, but the running kernel does not (${notLive.join(', ')} differ in /proc/cmdline): reboot required`);
        }
        return noop(`${path}: ${[...add.map((t) => `${t} present`), ...remove.map((t) => `${t} absent`)].join(', ')}`);
      }
      const what = [...edit.added.map((t) => `append ${t}`), ...edit.removed.map((t) => `remove ${t}`)].join(', ');
      return change(
        `${path}: ${what}`,
        [rewriteCommand(path, sha, edit.after, backup)],
        unifiedDiff(content, edit.after, { path }),
        [`reboot required: the kernel reads ${path} at boot; ${what} takes effect after the next reboot`],
      );
    },
  };
}

/** Replace the file with `after` only if it still hashes to `sha` (compare-and-swap), backup first, sync. */
function rewriteCommand(path: string, sha: string, after: string, backup: boolean): ShellCommand {
  const tmp = `${path}.cairn-tmp`;
  const body = sh`set -e
p=${path}; t=${tmp}
h=$(sha256sum < "$p"); set -- $h
if [ "$1" != ${sha} ]; then echo "kernelCmdline: $p changed since it was read (sha256 $1); not touched, run again" >&2; exit 1; fi
${backup ? sh`cp "$p" "$p.cairn-bak.$(date +%s)"` : sh`:`}
printf %s ${Buffer.from(after).toString('base64')} | base64 -d > "$t"
sync
mv -f "$t" "$p"
sync`;
  return sh`/bin/sh -c ${asWord(body)} || { rm -f ${tmp}; exit 1; }`;
}
