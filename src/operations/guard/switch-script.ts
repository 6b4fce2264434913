import { createHash } from 'node:crypto';
import { sh, asWord, joinCommands, type ShellCommand } from '../../shell/sh.ts';

/** One file a guarded switch puts in place. */
export interface GuardedFile {
  readonly path: string;
  readonly content: Buffer;
  /** Octal mode of the new file, e.g. '0644'. */
  readonly mode: string;
}

export interface SwitchScript {
  readonly files: readonly GuardedFile[];
  /** Where the previous files, the pending switch, the confirm marker and the rollback log are kept. */
  readonly stateDir: string;
  /** The host-side timer restores the previous files this long after the switch unless confirmed. */
  readonly seconds: number;
  /** Run once the new files are in place, before anything uses them (e.g. `sshd -t`): on failure the old files come back at once. */
  readonly validate?: ShellCommand;
  /** Makes the files take effect (e.g. sshd reloads); run again by the timer after it restores. On failure the old files come back at once. */
  readonly activate?: ShellCommand;
  /** The process name of the timer (shows in ps). */
  readonly timerName: string;
  /**
   * The activation may cut the connection that runs the switch (the network's
   * configuration): it runs detached, a moment after the switch has answered, and
   * writes its exit code and output to "$d/activated-<token>" (guard/confirm.ts
   * reads it over a fresh login). Its failure does not restore at once: the switch
   * is not confirmed, and the timer restores.
   */
  readonly detachActivation?: boolean;
}

/** The detached activation ($1 state dir, $2 token): its exit code, then its output, in "$1/activated-$2". */
const DETACHED_ACTIVATION = `sleep 1
out=$(sh "$1/activate" 2>&1 </dev/null); c=$?
printf '%s\n%s\n' "$c" "$out" > "$1/activated-$2.tmp" && mv -f "$1/activated-$2.tmp" "$1/activated-$2"`;

/** sha256 of what cairn writes (the timer restores a file only while it still holds this). */
export function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/**
 * The restore of every file in "$d/files" (lines: index sha256 path) that still holds
 * what cairn wrote; sets `restored` and `skipped` (space-separated paths). Shared by
 * the timer and by the switch itself when validation or activation fails.
 */
const RESTORE = sh`restored=''; skipped=''
while read -r i want p; do
  h=$(sha256sum < "$p" 2>/dev/null) || h=''
  case "$h" in "$want"*) ;; *) skipped="$skipped $p"; continue ;; esac
  if [ -f "$d/before-$i.absent" ]; then rm -f "$p"
  else cp -pP "$d/before-$i" "$p.cairn-rollback" && mv -f "$p.cairn-rollback" "$p"; fi
  restored="$restored $p"
done < "$d/files"
restored=\${restored# }; skipped=\${skipped# }`;

/** The detached timer ($1 state dir, $2 token, $3 seconds): restores unless the confirm marker beat it. */
const TIMER = `d=$1; tok=$2; n=$3
sleep "$n"
# the confirm marker is a directory: mkdir is atomic, so either the controller
# confirmed (it exists) or this timer decides, never both
mkdir "$d/confirm-$tok" 2>/dev/null || exit 0
read -r cur _ < "$d/pending" 2>/dev/null || exit 0
[ "$cur" = "$tok" ] || exit 0
${RESTORE.text}
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
log=''
if [ -n "$restored" ]; then
  log="$now $tok restored the previous $restored: the switch was not confirmed within $n s"
  if [ ! -s "$d/activate" ]; then :
  elif out=$(sh "$d/activate" 2>&1 </dev/null); then log="$log
$now $tok ran the activation again after the restore"
  else log="$log
$now $tok the activation after the restore failed: $out"; fi
fi
[ -z "$skipped" ] || log="$log\${log:+
}$now $tok not restored: $skipped changed again after the switch"
# done: the pending switch goes first, then every line in one write (activated first):
# whoever watches the log sees them together, and sees no pending switch once they are there
rm -f "$d/pending"
[ -z "$log" ] || printf '%s\n' "$log" >> "$d/rollback.log"`;

/**
 * The switch, one /bin/sh -c script: stop an older pending timer, keep the current
 * files, write the new ones beside them, start the detached timer (setsid, stdio on
 * /dev/null: it survives the SSH connection and does not hold its channel), rename
 * the new files into place, validate, activate. Prints the token. A failed
 * validation or activation restores the old files at once (and activates them again).
 */
export function switchCommand(s: SwitchScript): ShellCommand {
  const manifest = s.files.map((f, i) => `${i} ${sha256Hex(f.content)} ${f.path}`).join('\n');
  const paths = s.files.map((f) => f.path).join('\n');
  const writes = s.files.map(
    (f, i) => sh`# the file as it was before cairn first switched it, kept for good (before-N is only the last one)
o="$d/"${`original${f.path.replaceAll('/', '%')}`}
if [ ! -e "$o" ] && [ ! -e "$o.absent" ]; then if [ -e ${f.path} ] || [ -L ${f.path} ]; then cp -pP ${f.path} "$o"; else : > "$o.absent"; fi; fi
if [ -z "$keep" ]; then
  rm -f "$d/before-${i}" "$d/before-${i}.absent"
  if [ -e ${f.path} ] || [ -L ${f.path} ]; then cp -pP ${f.path} "$d/before-${i}"; else : > "$d/before-${i}.absent"; fi
fi
printf %s ${f.content.toString('base64')} | base64 -d > ${`${f.path}.cairn-tmp`}
chmod ${f.mode} ${`${f.path}.cairn-tmp`}`,
  );
  const renames = s.files.map((f) => sh`mv -f ${`${f.path}.cairn-tmp`} ${f.path}`);
  const activate = s.activate ? s.activate.text : '';
  const body = sh`set -e
d=${s.stateDir}; n=${String(s.seconds)}
mkdir -p "$d"
keep=''
if [ -f "$d/pending" ]; then
  # an earlier switch was never confirmed (its timer died with a reboot?): stop its
  # timer, and keep ITS copies of the files from before cairn's switch (same files only)
  read -r otok opid < "$d/pending" || :
  # the timer's process group (setsid made it the leader), only if that pid still is
  # our timer (its command line carries the token: after a reboot the pid may be reused)
  case "$opid" in ''|*[!0-9]*|0|1) ;; *) if tr '\\000' ' ' < "/proc/$opid/cmdline" 2>/dev/null | grep -q -F -e "$otok"; then kill -TERM "-$opid" 2>/dev/null || :; fi ;; esac
  rm -f "$d/pending"
  if [ "$(cat "$d/paths" 2>/dev/null)" = ${paths} ]; then keep=yes; fi
fi
rm -rf "$d"/confirm-* "$d"/activated-*
${joinCommands(writes)}
printf '%s\\n' ${manifest} > "$d/files"
printf '%s\\n' ${paths} > "$d/paths"
printf %s ${activate} > "$d/activate"
tok="$(date +%s)-$$"
setsid sh -c ${TIMER} ${s.timerName} "$d" "$tok" "$n" </dev/null >/dev/null 2>&1 &
echo "$tok $!" > "$d/pending"
set +e
${joinCommands(renames)}
# a failed validation or activation: the old files back now, the timer stopped
undo() {
  mkdir "$d/confirm-$tok" 2>/dev/null
  kill -TERM "-$(cut -d' ' -f2 "$d/pending")" 2>/dev/null
  rm -f "$d/pending"
  ${RESTORE}
  if [ -s "$d/activate" ]; then sh "$d/activate" </dev/null >&2; fi
  echo "$1; restored at once: \${restored:-nothing}" >&2
  exit 1
}
${s.validate ? sh`out=$( { ${s.validate}
} 2>&1 ) || undo "the new files do not validate ($(echo "$out" | tail -n 5))"` : sh`:`}
${
    s.detachActivation
      ? sh`if [ -s "$d/activate" ]; then setsid sh -c ${DETACHED_ACTIVATION} cairn-activate "$d" "$tok" </dev/null >/dev/null 2>&1 & fi`
      : sh`if [ -s "$d/activate" ]; then out=$(sh "$d/activate" 2>&1 </dev/null) || undo "the activation failed ($(echo "$out" | tail -n 5))"; fi`
  }
printf 'switched %s; the previous files come back in %s s unless confirmed (token %s)\\n' ${s.files.map((f) => f.path).join(', ')} "$n" "$tok"`;
  const cleanup = s.files.map((f) => sh`rm -f ${`${f.path}.cairn-tmp`}`);
  return sh`/bin/sh -c ${asWord(body)} || { ${joinCommands(cleanup, ';')}; exit 1; }`;
}
