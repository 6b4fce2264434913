import { sh, type ShellCommand } from '../shell/sh.ts';
import { Secret, isSecret, mask } from '../core/secret.ts';
import { rejectCoercedSecret } from './kit.ts';
import { atomicInstall, type AtomicWriteOptions } from './atomic-write.ts';
import { upload, type Command } from './operation.ts';

/**
 * A file's content as the file-family operations read, show and write it: how
 * much of it the probe returns, when it is text a diff can show, when it holds a
 * secret, and the write command that picks inline / secret / upload.
 */

/** File content above this is uploaded instead of travelling inside the command:
 * a command is ONE argv word for `sh -c` (local and over SSH), and Linux caps one
 * word at 128 KiB (MAX_ARG_STRLEN); base64 grows content by a third. */
export const INLINE_MAX_BYTES = 64 * 1024;

/** The probe returns a file's content (for diffs / line edits) only up to this size. */
export const DIFF_MAX_BYTES = 64 * 1024;

/** Text for diffs: undefined when the bytes are not UTF-8 text (NUL bytes or invalid UTF-8). */
export function asText(content: Buffer): string | undefined {
  if (content.includes(0)) return undefined;
  const text = content.toString('utf8');
  return Buffer.from(text, 'utf8').equals(content) ? text : undefined;
}

/** True when the text holds a registered secret (so it must never be displayed). */
export function holdsSecret(text: string): boolean {
  return mask(text) !== text;
}

/**
 * Commands writing `content` to `path` atomically (temp + rename + backup, see
 * atomic-write.ts). Small content travels inside the command; secret content too,
 * but shown masked (the base64 would otherwise reveal it in logs); content above
 * INLINE_MAX_BYTES is uploaded to `<path>.cairn-tmp` first.
 */
export function writeFileCommands(path: string, content: Buffer | ControllerFile, opts: AtomicWriteOptions & { secret: boolean; description: string }): Command[] {
  const { secret, description, mode, owner, group, backup } = opts;
  const tmp = `${path}.cairn-tmp`;
  // atomicInstall sets owner before mode (chown clears setuid/setgid bits, even as root)
  const install = (produce: ShellCommand) =>
    atomicInstall(produce, tmp, path, { ...(mode ? { mode } : {}), ...(owner ? { owner } : {}), ...(group ? { group } : {}), backup: backup !== false });
  if (!Buffer.isBuffer(content)) {
    // read as it is sent, not held; a file changed since planning is not sent whole (see FilePiece)
    return [upload(tmp, { file: content.file, size: content.size, stamp: content.stamp }, description, 0o600), install(sh`test -f ${tmp}`)];
  }
  if (content.length > INLINE_MAX_BYTES) {
    return [upload(tmp, content, description, 0o600), install(sh`test -f ${tmp}`)];
  }
  const b64 = content.toString('base64');
  // secret content: the base64 would reveal it in logs, so it is shown masked
  return [install(sh`printf %s ${secret ? new Secret(b64) : b64} | base64 -d > ${tmp}`)];
}

/** A file on the controller sent unread (its stamp makes sure what is sent is what was planned). */
export interface ControllerFile {
  readonly file: string;
  readonly size: number;
  readonly stamp: string;
}

/**
 * A text or Secret `content` param as bytes, and whether it is secret (a Secret always
 * is); undefined for any other value. Text holding a coerced secret is refused.
 */
export function textContent(kind: string, id: string, content: unknown): { bytes: Buffer; secret: boolean } | undefined {
  if (isSecret(content)) {
    rejectCoercedSecret(kind, id, 'content', content.reveal());
    return { bytes: Buffer.from(content.reveal()), secret: true };
  }
  if (typeof content !== 'string') return undefined;
  rejectCoercedSecret(kind, id, 'content', content);
  return { bytes: Buffer.from(content), secret: false };
}
