import { readLocalFile, type LocalFile } from '../core/local-file.ts';
import { posix } from 'node:path';
import type { CommandResult } from '../core/result.ts';
import { sh, asWord, joinCommands, type ShellCommand } from '../shell/sh.ts';
import { checkId, paramError, parseSections, section, paramNames, rejectUnknownParams, probeFailed } from './kit.ts';
import { change, fail, noop, upload, type Command, type Operation, type OpContext, type Plan } from './operation.ts';
import { checkAbsPath } from './path-params.ts';

export type ArchiveFormat = 'tar.gz' | 'zip';

export interface ArchiveParams {
  readonly id: string;
  /** The archive on the controller (uploaded). Exactly one of src / hostSrc. */
  readonly src?: string;
  /** The archive already on the host (e.g. placed by an artifact step earlier in the run). */
  readonly hostSrc?: string;
  /** Directory the archive's content goes into (created when missing, merged when present). */
  readonly dest: string;
  /** Skip when this path exists on the host. */
  readonly creates?: string;
  /** Drop this many leading path components (tar --strip-components; for zip, single top directories). */
  readonly stripComponents?: number;
  /** Default: from the file name (.tar.gz, .tgz, .zip). */
  readonly format?: ArchiveFormat;
  readonly notify?: readonly string[];
}

const KIND = 'archive';
const PARAMS = paramNames<ArchiveParams>({ id: true, src: true, hostSrc: true, dest: true, creates: true, stripComponents: true, format: true, notify: true });

/**
 * Extract a .tar.gz/.tgz or .zip into `dest`: into a temp dir next to dest first,
 * then moved into place (a rename when dest is new; entry by entry otherwise, so
 * a running binary is replaced, not overwritten). A marker file in dest records
 * the archive's sha256: the same archive is not extracted twice.
 */
export function archive(params: ArchiveParams): Operation {
  const id = checkId(KIND, params.id);
  rejectUnknownParams(KIND, id, params, PARAMS);
  if ((params.src === undefined) === (params.hostSrc === undefined)) {
    throw paramError(KIND, id, 'src', 'and `hostSrc` are exclusive and one is required', 'give src: <archive on the controller> or hostSrc: <archive already on the host>');
  }
  const dest = checkAbsPath(KIND, id, 'dest', params.dest);
  if (dest === '/') throw paramError(KIND, id, 'dest', 'cannot be /', 'extract into a directory such as /opt/app');
  const creates = params.creates === undefined ? undefined : checkAbsPath(KIND, id, 'creates', params.creates);
  const strip = params.stripComponents ?? 0;
  if (!Number.isInteger(strip) || strip < 0 || strip > 10) {
    throw paramError(KIND, id, 'stripComponents', `must be an integer from 0 to 10, got ${JSON.stringify(params.stripComponents)}`, 'e.g. stripComponents: 1');
  }
  const name = params.src ?? params.hostSrc ?? '';
  const format = params.format ?? formatOf(name);
  if (format !== 'tar.gz' && format !== 'zip') {
    throw paramError(KIND, id, 'format', `cannot be told from ${JSON.stringify(name)} (got ${JSON.stringify(params.format)})`, "name the archive .tar.gz, .tgz or .zip, or give format: 'tar.gz' | 'zip'");
  }
  let local: LocalFile | undefined;
  if (params.src !== undefined) {
    if (typeof params.src !== 'string' || params.src === '') {
      throw paramError(KIND, id, 'src', `must be a path on the controller, got ${JSON.stringify(params.src)}`, 'give the path of a local archive');
    }
    try {
      local = readLocalFile(params.src);
    } catch (err) {
      throw paramError(KIND, id, 'src', `cannot be read (${(err as Error).message})`, 'check the path on the controller');
    }
  }
  const hostSrc = params.hostSrc === undefined ? undefined : checkAbsPath(KIND, id, 'hostSrc', params.hostSrc);
  const parent = posix.dirname(dest);
  const base = posix.basename(dest);
  const work = `${parent}/.${base}.cairn-extract`;
  const uploaded = `${parent}/.${base}.cairn-archive`;
  const marker = `${dest}/.cairn-archive.${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.sha256`;

  return {
    kind: KIND,
    id,
    // an archive placed on the host by an earlier step of the run must be seen
    ...(hostSrc !== undefined ? { barrier: true } : {}),
    ...(params.notify ? { notify: params.notify } : {}),
    // the extraction copes with whatever is at dest when it runs; `creates` is looked at again
    ...(creates !== undefined ? { paths: [creates] } : {}),
    probe() {
      const parts: ShellCommand[] = [
        section('dest', sh`if [ -d ${dest} ]; then echo dir; elif [ -e ${dest} ] || [ -L ${dest} ]; then echo other; else echo absent; fi`),
        sh`if [ -f ${marker} ]; then`,
        section('marker', sh`cat ${marker} || exit 1`),
        sh`fi`,
      ];
      if (creates !== undefined) parts.push(section('creates', sh`if [ -e ${creates} ] || [ -L ${creates} ]; then echo exists; else echo absent; fi`));
      if (hostSrc !== undefined) {
        parts.push(section('src', sh`if [ -f ${hostSrc} ]; then h=$(sha256sum < ${hostSrc}) || exit 1; set -- $h; echo "$1"; else echo missing; fi`));
      }
      return joinCommands([...parts, sh`exit 0`], '\n');
    },
    plan(probe: CommandResult | undefined, ctx: OpContext): Plan {
      if (!probe) return fail(`${KIND} '${id}': no probe result`);
      if (probe.exitCode !== 0) return probeFailed(KIND, id, probe);
      const sec = parseSections(probe.stdout);
      if (creates !== undefined && sec.get('creates')?.trim() === 'exists') return noop(`${creates} exists`);
      const destType = sec.get('dest')?.trim();
      if (destType === 'other') return fail(`${KIND} '${id}': ${dest} exists and is not a directory`);
      if (destType !== 'dir' && destType !== 'absent') return fail(`${KIND} '${id}': unreadable probe output`);
      const sha = local?.sha256 ?? sec.get('src')?.trim();
      if (!sha || sha === 'missing') {
        if (ctx.pendingChanges) return change(`extract ${hostSrc} into ${params.dest} (once an earlier step has put it on the host)`, []);
        return fail(`${KIND} '${id}': ${hostSrc} does not exist on the host`);
      }
      if (sec.get('marker')?.trim() === sha) return noop(`${dest} already has the content of ${posix.basename(name)} (sha256 ${sha.slice(0, 12)})`);
      const archivePath = hostSrc ?? uploaded;
      const commands: Command[] = [];
      if (local) {
        // sent from the file as it is read; the extraction checks its sha256 first
        commands.push(sh`mkdir -p ${parent}`, upload(uploaded, { file: local.path, size: local.size, stamp: local.stamp }, `${posix.basename(name)} (${local.size} bytes)`, 0o600));
      }
      commands.push(extractCommand({ archivePath, format, strip, work, dest, marker, sha, removeArchive: local !== undefined }));
      const reason = `extract ${posix.basename(name)} into ${dest}${destType === 'dir' ? sec.has('marker') ? ' (new archive)' : ' (merge)' : ''}`;
      // what the archive holds is not known here: later steps reading dest probe again
      return change(reason, commands, undefined, undefined, [{ path: dest, kind: 'unknown', tree: true }]);
    },
  };
}

function formatOf(name: string): ArchiveFormat | undefined {
  if (/\.(tar\.gz|tgz)$/i.test(name)) return 'tar.gz';
  if (/\.zip$/i.test(name)) return 'zip';
  return undefined;
}

/**
 * The host-side extraction: verify the sha256, extract into `work`, strip, then a
 * rename of the whole tree (new dest) or a merge entry by entry (files renamed
 * over, directories copied into), write the marker last, clean up.
 */
function extractCommand(o: { archivePath: string; format: ArchiveFormat; strip: number; work: string; dest: string; marker: string; sha: string; removeArchive: boolean }): ShellCommand {
  const raw = `${o.work}.raw`;
  const unpack =
    o.format === 'tar.gz'
      ? o.strip > 0
        ? sh`tar -xzof "$a" -C "$x" --strip-components=${o.strip}`
        : sh`tar -xzof "$a" -C "$x"`
      : o.strip > 0
        ? sh`mkdir -p ${raw}
unzip -q -o "$a" -d ${raw}
s=${raw}; i=0
while [ "$i" -lt ${o.strip} ]; do
  set -- "$s"/*
  if [ "$#" -ne 1 ] || [ ! -d "$1" ]; then echo "archive: cannot strip ${o.strip} component(s): $s does not hold exactly one directory" >&2; exit 1; fi
  s=$1; i=$((i+1))
done
rmdir "$x"; mv "$s" "$x"`
        : sh`unzip -q -o "$a" -d "$x"`;
  const tool = o.format === 'zip' ? sh`command -v unzip >/dev/null 2>&1 || { echo 'archive: unzip not found on the host (apt-get install unzip)' >&2; exit 1; }` : sh`:`;
  const body = sh`set -e
a=${o.archivePath}; x=${o.work}; d=${o.dest}
${tool}
h=$(sha256sum < "$a"); set -- $h
if [ "$1" != ${o.sha} ]; then echo "archive: $a has sha256 $1, expected "${o.sha} >&2; exit 1; fi
rm -rf "$x" ${raw}; mkdir -p "$x"
${unpack}
if [ ! -d "$d" ]; then
  mv "$x" "$d"
else
  for e in "$x"/* "$x"/.[!.]* "$x"/..?*; do
    if [ ! -e "$e" ] && [ ! -L "$e" ]; then continue; fi
    n=$(basename "$e")
    if [ -d "$e" ] && [ ! -L "$e" ] && [ -d "$d/$n" ] && [ ! -L "$d/$n" ]; then cp -a "$e/." "$d/$n/"
    elif [ -d "$d/$n" ] && [ ! -L "$d/$n" ]; then echo "archive: $d/$n is a directory, the archive has a file there" >&2; exit 1
    else mv -f "$e" "$d/$n"; fi
  done
  rm -rf "$x"
fi
printf '%s\n' ${o.sha} > ${o.marker}`;
  const cleanup = o.removeArchive ? sh`rm -rf ${o.work} ${raw}; rm -f ${o.archivePath}` : sh`rm -rf ${o.work} ${raw}`;
  // its own sh: `set -e` is ignored in a subshell on the left of && / ||
  return sh`/bin/sh -c ${asWord(body)} && { ${cleanup}; } || { ${cleanup}; exit 1; }`;
}
