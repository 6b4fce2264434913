import type { CommandResult } from '../core/result.ts';
import { sh, joinCommands, type ShellCommand } from '../shell/sh.ts';
import { change, fail, noop, type ApplyRuntime, type Operation, type OpContext, type Plan } from '../operations/operation.ts';
import { paramNames, parseSections, rejectUnknownParams, section, probeFailed } from '../operations/kit.ts';
import type { IdentityItem, ItemEnv, Selection } from './identity.ts';

/**
 * One bake-cleanup step: probe = one `find` per selection of an identity item
 * (what is there now), plan = remove / truncate exactly the paths found, each
 * named in the reason (first ones) and in the diff (all of them). A clean root
 * is a noop. After the change (apply mode) the probe runs again and the step
 * fails if anything is still there: the report is the proof.
 *
 * Only in bake mode: outside it the plan refuses, so a live host's keys and
 * node ids are never wiped by accident.
 */

/** Paths named in a reason; the diff has all of them. */
export const REASON_MAX_PATHS = 20;
/** Paths per `rm` command (keeps each command far below the 128 KiB word limit). */
const RM_CHUNK = 200;

export const BAKE_ONLY_MESSAGE =
  'bake-cleanup removes host identity (machine id, SSH host keys, Nomad/Consul node ids, logs) and only runs in image-bake mode; run `cairn apply --bake` on an image root or build VM, never on a live host';

export interface CleanupStepOptions {
  /**
   * Prepended to every searched directory (tests run the real commands in a
   * scratch tree). Paths are reported with it.
   */
  readonly prefix?: string;
}

const OPTIONS = paramNames<CleanupStepOptions>({ prefix: true });

/** A step built from one item for one host (facts + vars decide the selections). */
export interface CleanupStep {
  readonly item: IdentityItem;
  readonly selections: readonly Selection[];
  readonly op: Operation;
}

/** What the probe found, per selection. */
export interface Found {
  readonly selection: Selection;
  readonly paths: string[];
  /** Entries whose names contain a newline: not listed, removed by find itself. */
  readonly odd: number;
}

const NL_GLOB = '*\n*';

function withPrefix(prefix: string, p: string): string {
  if (!prefix) return p;
  return p === '/' ? prefix : `${prefix}${p}`;
}

/** The find command for a selection (tests are ANDed; -print or what `tail` asks). */
export function findCommand(sel: Selection, prefix: string, tail: ShellCommand): ShellCommand {
  const under = withPrefix(prefix, sel.under);
  const global: ShellCommand[] = [sh`-mindepth ${sel.minDepth ?? 1}`, sh`-maxdepth ${sel.maxDepth ?? 1}`];
  if (!sel.crossDevices) global.push(sh`-xdev`);
  const prune = sel.prune?.length ? sh`\\( ${orPaths(sel.prune.map((p) => withPrefix(prefix, p)))} \\) -prune -o` : sh``;
  const tests: ShellCommand[] = [];
  if (sel.type) tests.push(sh`-type ${sel.type}`);
  if (sel.names?.length) tests.push(sh`\\( ${orNames(sel.names)} \\)`);
  for (const e of sel.except ?? []) tests.push(sh`! -name ${e}`);
  if (sel.nonEmpty) tests.push(sh`-size +0c`);
  // the engine's own batch directory (batch.ts: mktemp -d in $__cairn_d) is not the build's
  tests.push(sh`! -path "\${__cairn_d:-//}"`);
  // -H: a searched directory that is a symlink (/var/tmp -> /tmp) is followed, nothing below it
  return sh`find -H ${under} ${spaced(global)} ${prune} ${spaced(tests)} ${tail}`;
}

function spaced(cmds: readonly ShellCommand[]): ShellCommand {
  let out = sh``;
  for (const c of cmds) out = out.text === '' ? c : sh`${out} ${c}`;
  return out;
}

function orNames(names: readonly string[]): ShellCommand {
  let out = sh`-name ${names[0]!}`;
  for (const n of names.slice(1)) out = sh`${out} -o -name ${n}`;
  return out;
}

function orPaths(paths: readonly string[]): ShellCommand {
  let out = sh`-path ${paths[0]!}`;
  for (const p of paths.slice(1)) out = sh`${out} -o -path ${p}`;
  return out;
}

/** One probe for all selections: section `sel<i>` lists paths, `odd<i>` has one line per newline-named entry. */
export function cleanupProbe(selections: readonly Selection[], prefix = ''): ShellCommand {
  const parts: ShellCommand[] = [];
  selections.forEach((sel, i) => {
    const under = withPrefix(prefix, sel.under);
    parts.push(
      sh`if [ -d ${under} ]; then`,
      section(`sel${i}`, sh`${findCommand(sel, prefix, sh`! -name ${NL_GLOB} -print`)} || exit 1`),
      section(`odd${i}`, sh`${findCommand(sel, prefix, sh`-name ${NL_GLOB} -exec echo odd \\;`)} || exit 1`),
      sh`fi`,
    );
  });
  parts.push(sh`exit 0`);
  return joinCommands(parts, '\n');
}

/** Read the probe: what each selection found. Throws on a path outside its directory. */
export function parseCleanupProbe(stdout: string, selections: readonly Selection[], prefix = ''): Found[] {
  const sec = parseSections(stdout);
  return selections.map((selection, i) => {
    const under = withPrefix(prefix, selection.under);
    const base = under.endsWith('/') ? under : `${under}/`;
    const paths = (sec.get(`sel${i}`) ?? '')
      .split('\n')
      .filter((l) => l !== '');
    for (const p of paths) {
      if (!p.startsWith(base) || p.length === base.length) throw new Error(`found ${JSON.stringify(p)}, which is not below ${under}`);
    }
    const odd = (sec.get(`odd${i}`) ?? '').split('\n').filter((l) => l === 'odd').length;
    return { selection, paths: [...new Set(paths)].sort(), odd };
  });
}

function listText(paths: readonly string[]): string {
  const shown = paths.slice(0, REASON_MAX_PATHS).join(', ');
  return paths.length > REASON_MAX_PATHS ? `${shown} (+${paths.length - REASON_MAX_PATHS} more, see the diff)` : shown;
}

/** Remove / truncate what was found. Empty when nothing was. */
export function cleanupCommands(found: readonly Found[], prefix = ''): ShellCommand[] {
  const cmds: ShellCommand[] = [];
  // a path already below a removed one needs no command of its own
  const removed = found.filter((f) => f.selection.action === 'remove').flatMap((f) => f.paths);
  const covered = (p: string) => removed.some((r) => p !== r && p.startsWith(`${r}/`));
  const rm = [...new Set(removed)].filter((p) => !covered(p));
  for (let i = 0; i < rm.length; i += RM_CHUNK) cmds.push(sh`rm -rf -- ${rm.slice(i, i + RM_CHUNK)}`);
  for (const f of found) {
    if (f.selection.action === 'truncate') for (const p of f.paths) if (!covered(p)) cmds.push(sh`: > ${p}`);
    if (f.odd > 0) {
      const tail = f.selection.action === 'remove' ? sh`-name ${NL_GLOB} -exec rm -rf -- {} +` : sh`-name ${NL_GLOB} -exec sh -c ${': > "$1"'} sh {} \\;`;
      cmds.push(sh`if [ -d ${withPrefix(prefix, f.selection.under)} ]; then ${findCommand(f.selection, prefix, tail)}; fi`);
    }
  }
  return cmds;
}

/** The plan for what was found (bake mode). */
export function cleanupPlan(item: IdentityItem, found: readonly Found[], prefix = ''): Plan {
  const remove = found.filter((f) => f.selection.action === 'remove').flatMap((f) => f.paths);
  const truncate = found.filter((f) => f.selection.action === 'truncate').flatMap((f) => f.paths);
  const odd = found.reduce((n, f) => n + f.odd, 0);
  if (remove.length + truncate.length + odd === 0) {
    const where = [...new Set(found.map((f) => withPrefix(prefix, f.selection.under)))].join(', ');
    return noop(`no ${item.what} found (looked in ${where})`);
  }
  const parts: string[] = [];
  if (remove.length) parts.push(`remove ${remove.length}: ${listText(remove)}`);
  if (truncate.length) parts.push(`truncate ${truncate.length}: ${listText(truncate)}`);
  if (odd) parts.push(`remove ${odd} more whose names contain a newline`);
  const diff = [...remove.map((p) => `- ${p}`), ...truncate.map((p) => `~ ${p} (truncated to 0 bytes)`), ...(odd ? [`- ${odd} entries with a newline in their name`] : [])].join('\n');
  return change(`${item.what}: ${parts.join('; ')}`, cleanupCommands(found, prefix), `${diff}\n`);
}

/** What is still there after the change (truncated files that grew again on a live host are tolerated). */
export function leftovers(found: readonly Found[], live: boolean): string[] {
  return found.filter((f) => !(live && f.selection.action === 'truncate')).flatMap((f) => [...f.paths, ...(f.odd ? [`${f.odd} newline-named entries below ${f.selection.under}`] : [])]);
}

/** The operation of one identity item for one host. */
export function cleanupStep(item: IdentityItem, env: ItemEnv, options: CleanupStepOptions = {}): CleanupStep {
  rejectUnknownParams('bakeCleanup', item.id, options, OPTIONS);
  const prefix = options.prefix ?? '';
  const selections = item.selections(env);
  return { item, selections, op: cleanupOp(item.id, item, selections, env, prefix) };
}

/** A cleanup op over explicit selections (built-in items, or the inventory's bake_cleanup_paths). */
export function cleanupOp(id: string, item: Pick<IdentityItem, 'what'>, selections: readonly Selection[], env: ItemEnv, prefix = ''): Operation {
  const asItem = { ...item, id, why: '', selections: () => [...selections] } as IdentityItem;
  const probe = cleanupProbe(selections, prefix);
  return {
    kind: 'bakeCleanup',
    id,
    probe: (ctx: OpContext) => (ctx.bake ? probe : undefined),
    plan(res: CommandResult | undefined, ctx: OpContext): Plan {
      if (!ctx.bake) return fail(BAKE_ONLY_MESSAGE);
      if (!res) return fail(`bakeCleanup '${id}': no probe result`);
      if (res.exitCode !== 0) return probeFailed('bakeCleanup', id, res);
      let found: Found[];
      try {
        found = parseCleanupProbe(res.stdout, selections, prefix);
      } catch (err) {
        return fail(`bakeCleanup '${id}': ${(err as Error).message}`);
      }
      return cleanupPlan(asItem, found, prefix);
    },
    async afterChange(rt: ApplyRuntime): Promise<void> {
      const again = await rt.run(probe);
      if (again.exitCode !== 0) throw new Error(`checking ${item.what} again after the cleanup failed (exit ${again.exitCode}): ${again.stderr.trim()}`);
      const left = leftovers(parseCleanupProbe(again.stdout, selections, prefix), !env.facts.chroot);
      if (left.length) throw new Error(`${item.what} still present after the cleanup: ${listText(left)}`);
    },
  };
}
