import { sh, joinCommands, type ShellCommand } from '../shell/sh.ts';
import { parseSections, section } from './section.ts';

/**
 * The state of one path on the host (existence, type, mode, owner, hash, content):
 * a command and the pure parser of its output, like the host facts (gather.ts,
 * parse.ts). Read by the file-family operations (file, directory, symlink, line,
 * checked-file, resolv-conf) in their probes.
 */

/** What is at a path on the host. */
export type PathType = 'absent' | 'file' | 'dir' | 'link' | 'other';

export interface PathState {
  readonly type: PathType;
  /** For a link: what it resolves to (absent when dangling). */
  readonly resolved?: Exclude<PathType, 'link'>;
  /** For a link: its target as written. */
  readonly target?: string;
  /** Octal permission bits as a number (of the resolved file for a link). */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  /** Owner / group names (`UNKNOWN` when the id has no name). */
  readonly user?: string;
  readonly group?: string;
  readonly size?: number;
  /** sha256 of a regular file's content. */
  readonly sha256?: string;
  /** The content, when asked for and not larger than the limit. */
  readonly content?: Buffer;
  /**
   * Predicted on the controller: the state an earlier step of this run leaves (see
   * ChangePlan.effects), not read from the host. A write over it keeps no backup of
   * its own: the file the host had was backed up by the first step that replaced it.
   */
  readonly pending?: boolean;
  /** `<path>.cairn-tmp` exists: a write of cairn's was interrupted (a cut connection, a power loss). */
  readonly staleTemp?: boolean;
}

export interface PathStateOptions {
  /** Also print a regular file's content (base64) when it has at most this many bytes. */
  readonly contentMax?: number;
  /** Print a regular file's sha256 (default true). */
  readonly hash?: boolean;
}

/**
 * The state of `path`: sections `state` (key=value lines), `target` (a link's
 * target) and, when asked, `sha256` and `content` (base64, only for a regular
 * file of at most `contentMax` bytes). Read-only, POSIX sh (busybox ash 1.27+ and
 * dash): uses stat -L -c, sha256sum, base64, readlink. Exits non-zero only when
 * the path exists but cannot be read.
 */
export function pathStateCommand(path: string, opts: PathStateOptions = {}): ShellCommand {
  const parts: ShellCommand[] = [
    sh`p=${path}`,
    sh`if [ -L "$p" ]; then t=link; elif [ -f "$p" ]; then t=file; elif [ -d "$p" ]; then t=dir; elif [ -e "$p" ]; then t=other; else t=absent; fi`,
    section(
      'state',
      joinCommands([
        sh`echo "type=$t"`,
        sh`if [ "$t" = link ]; then if [ -f "$p" ]; then echo resolved=file; elif [ -d "$p" ]; then echo resolved=dir; elif [ -e "$p" ]; then echo resolved=other; else echo resolved=absent; fi; fi`,
        sh`if [ -e "$p" ]; then s=$(stat -L -c '%a %u %g %U %G %s' "$p") || exit 1; echo "stat=$s"; fi`,
      ]),
    ),
    sh`if [ "$t" = link ]; then`,
    section('target', sh`readlink "$p" || exit 1`),
    sh`fi`,
  ];
  if (opts.hash !== false) {
    parts.push(sh`if [ "$t" = file ]; then`, section('sha256', sh`h=$(sha256sum < "$p") || exit 1; set -- $h; echo "$1"`), sh`fi`);
  }
  if (opts.contentMax !== undefined) {
    parts.push(
      sh`if [ "$t" = file ] && [ "$(stat -c %s "$p")" -le ${opts.contentMax} ]; then`,
      section('content', sh`c=$(base64 < "$p") || exit 1; printf '%s\n' "$c"`),
      sh`fi`,
    );
  }
  // the temp file of an interrupted write (see atomicInstall) is named so it can be removed
  parts.push(sh`if [ -e "$p".cairn-tmp ] || [ -L "$p".cairn-tmp ]; then`, section('stale-tmp', sh`echo yes`), sh`fi`);
  parts.push(sh`exit 0`);
  return joinCommands(parts, '\n');
}

const PATH_TYPES: readonly string[] = ['absent', 'file', 'dir', 'link', 'other'] satisfies readonly PathType[];

/** Read the output of `pathStateCommand` (pure; throws on output it cannot read). */
export function parsePathState(stdout: string): PathState {
  const sec = parseSections(stdout);
  const kv = new Map<string, string>();
  for (const line of (sec.get('state') ?? '').split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) kv.set(line.slice(0, i), line.slice(i + 1));
  }
  const type = kv.get('type') as PathType | undefined;
  if (!type || !PATH_TYPES.includes(type)) {
    throw new Error(`unreadable probe output (no type): ${JSON.stringify(stdout.slice(0, 200))}`);
  }
  const resolved = kv.get('resolved') as PathState['resolved'];
  const stat = kv.get('stat')?.split(' ');
  const state: { -readonly [K in keyof PathState]: PathState[K] } = { type };
  if (resolved) state.resolved = resolved;
  if (stat && stat.length >= 6) {
    state.mode = Number.parseInt(stat[0] ?? '', 8);
    state.uid = Number(stat[1]);
    state.gid = Number(stat[2]);
    state.user = stat[3];
    state.group = stat[4];
    state.size = Number(stat[5]);
  }
  if (sec.has('target')) state.target = sec.get('target');
  const hash = sec.get('sha256')?.trim();
  if (hash) state.sha256 = hash;
  if (sec.has('content')) state.content = Buffer.from((sec.get('content') ?? '').replace(/\s+/g, ''), 'base64');
  if (sec.has('stale-tmp')) state.staleTemp = true;
  return state;
}
