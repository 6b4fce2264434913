import { createHash } from 'node:crypto';
import { sh, joinCommands, type ShellCommand } from '../shell/sh.ts';
import { SECTION_PREFIX } from '../facts/gather.ts';
import { splitSections } from '../facts/parse.ts';

/**
 * Handlers notified on a host and not yet run, kept ON THE HOST: a notification is
 * written in the same command as the change that notifies (before it: a restart too
 * many is harmless, a lost one is not) and removed only after its handler succeeded.
 * A run that fails, or a controller killed between change and handler, leaves it
 * there; the next apply runs it, check reports it as drift.
 */
export interface PendingHandler {
  readonly role: string;
  readonly handler: string;
  /** `role/id` of the step that notified it. */
  readonly step: string;
}

/** Where notes live: /var/lib/cairn/pending for root, the user's state dir otherwise. */
const DIR = sh`if [ "$(id -u)" = 0 ]; then d=/var/lib/cairn/pending; else d="\${XDG_STATE_HOME:-$HOME/.local/state}/cairn/pending"; fi`;

/** One note's file name: a hash of what it says (no quoting of names in paths). */
export function noteName(p: PendingHandler): string {
  return `${createHash('sha256').update(`${p.role}\0${p.handler}\0${p.step}`).digest('hex').slice(0, 24)}.note`;
}

/** Write the notes (each atomically: temp + rename). */
export function writeNotes(notes: readonly PendingHandler[]): ShellCommand {
  const writes = notes.map((p) => {
    const name = noteName(p);
    return sh`printf '%s\n' ${JSON.stringify(p)} > "$d"/${`${name}.tmp`} && mv -f "$d"/${`${name}.tmp`} "$d"/${name}`;
  });
  return sh`( ${DIR}; mkdir -p "$d" && ${joinCommands(writes, '&&')} )`;
}

/** Remove the notes of handlers that ran. */
export function clearNotes(notes: readonly PendingHandler[]): ShellCommand {
  return sh`( ${DIR}; cd "$d" 2>/dev/null || exit 0; rm -f ${notes.map(noteName)} )`;
}

/** Read every note (a section each). Read-only. */
export function readNotes(): ShellCommand {
  return sh`( ${DIR}; i=0; for f in "$d"/*.note; do [ -f "$f" ] || continue; i=$((i+1)); printf '\n%s%s\n' ${`${SECTION_PREFIX}note-`} "$i"; cat "$f"; done; exit 0 )`;
}

/** The notes in readNotes' output; unreadable ones are named, not guessed. */
export function parseNotes(stdout: string): { notes: PendingHandler[]; unreadable: string[] } {
  const notes: PendingHandler[] = [];
  const unreadable: string[] = [];
  for (const [name, lines] of splitSections(stdout)) {
    if (!name.startsWith('note-')) continue;
    const text = lines.join('\n').trim();
    try {
      const p = JSON.parse(text) as Partial<PendingHandler>;
      if (typeof p.role === 'string' && typeof p.handler === 'string' && typeof p.step === 'string') notes.push({ role: p.role, handler: p.handler, step: p.step });
      else unreadable.push(text);
    } catch {
      unreadable.push(text);
    }
  }
  return { notes, unreadable };
}
