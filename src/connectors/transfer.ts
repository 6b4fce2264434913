import { sh, ShellCommand } from '../shell/sh.ts';

/**
 * Moving files with plain commands, for hosts without SFTP and for become
 * (the file must be written as root): `cat` with the bytes on stdin.
 */

/** Exit code of catDownloadCommand() when the file does not exist. */
export const MISSING_FILE_EXIT = 66;

/** A mode as the four octal digits chmod takes. */
export function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/** Write stdin to exactly `path`; with a mode, the file is created private and then chmod'ed. */
export function catUploadCommand(path: string, mode?: number): ShellCommand {
  if (mode === undefined) return sh`cat > ${path}`;
  return sh`umask 077 && cat > ${path} && chmod ${octal(mode)} ${path}`;
}

/** Print the file; exit 66 if it does not exist. */
export function catDownloadCommand(path: string): ShellCommand {
  return sh`if [ -e ${path} ]; then exec cat -- ${path}; else exit ${MISSING_FILE_EXIT}; fi`;
}
