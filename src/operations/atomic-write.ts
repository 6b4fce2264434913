import { posix } from 'node:path';
import { sh, joinCommands, type ShellCommand } from '../shell/sh.ts';

export interface AtomicWriteOptions {
  /** Octal mode string such as '0644'. */
  mode?: string;
  owner?: string;
  group?: string;
  /** Keep the replaced file as `<path>.cairn-bak.<epoch>` (default true). */
  backup?: boolean;
}

/**
 * Commands that write `content` to `path` atomically: decode into a temp file in
 * the same directory, set mode/owner, keep a backup of what is replaced, rename.
 * Content travels base64-encoded inside the command (busybox and coreutils both
 * have `base64 -d`), so it needs no separate upload round trip.
 */
export function atomicWrite(path: string, content: Buffer | string, opts: AtomicWriteOptions = {}): ShellCommand {
  const b64 = Buffer.from(content).toString('base64');
  const tmp = `${path}.cairn-tmp`;
  return atomicInstall(sh`printf %s ${b64} | base64 -d > ${tmp}`, tmp, path, opts);
}

/**
 * Finish an atomic install of `tmp` (already on the host, same filesystem) to `path`:
 * mode, owner, backup of the old file, rename. `produce` creates `tmp`.
 */
export function atomicInstall(produce: ShellCommand, tmp: string, path: string, opts: AtomicWriteOptions = {}): ShellCommand {
  const steps: ShellCommand[] = [produce];
  // owner before mode: chown clears setuid/setgid bits, even as root
  if (opts.owner || opts.group) {
    const who = `${opts.owner ?? ''}${opts.group ? `:${opts.group}` : ''}`;
    steps.push(sh`chown ${who} ${tmp}`);
  }
  if (opts.mode) steps.push(sh`chmod ${opts.mode} ${tmp}`);
  if (opts.backup !== false) {
    steps.push(sh`{ [ ! -f ${path} ] || cp -p ${path} ${path}.cairn-bak.$(date +%s); }`);
  }
  // durable: the new bytes reach the disk before the rename, the rename before we go on
  // (an SD card losing power is the common fault on boards); `sync FILE` where the
  // system's sync takes names (coreutils, busybox >= 1.29), else a whole sync
  steps.push(sh`{ sync ${tmp} 2>/dev/null || sync; }`);
  steps.push(sh`mv -f ${tmp} ${path}`);
  steps.push(sh`{ sync ${posix.dirname(path)} 2>/dev/null || sync; }`);
  // Steps chained with && (NOT `set -e`: POSIX shells ignore it on the left of ||),
  // in a subshell so umask stays local; any failure removes the temp file and fails.
  const body = joinCommands([sh`umask 077`, ...steps], '&&');
  return sh`( ${body} ) || { rm -f ${tmp}; exit 1; }`;
}
