import type { CommandResult } from '../core/result.ts';
import { pieces, type Piece, type Stdin } from './stdin.ts';
import type { Secret } from '../core/secret.ts';
import { originOf } from '../core/secret-origin.ts';
import { sh, type ShellCommand } from '../shell/sh.ts';
import { BecomeError, becomeFailure } from './become.ts';

/**
 * sudo with a password, over exec channels that have no terminal.
 *
 * sudo's timestamps do not help: with no tty (Debian's default timestamp_type
 * is tty) a timestamp falls back to the parent process, which is another shell
 * for every channel (checked on Debian 12, sudo 1.9.13: `sudo -S -v` and then
 * `sudo -n` in the next channel asks again). So every command is
 * `sudo -k -S -p ''` with the password as the first line of its stdin (sudo
 * reads exactly that line; the command gets the rest, uploads included).
 *
 * Before the first such command, once per connector:
 * 1. probe `sudo -k -n -- /bin/sh -c true`: success means the rule needs no
 *    password (NOPASSWD), so commands keep `sudo -n` and never see the password;
 * 2. verify `sudo -k -S -p '' -- /bin/sh -c true` fed the password line alone:
 *    a wrong password is ONE failed attempt (sudo would read a second line as a
 *    second try, so no other input follows it), and the error is kept: no later
 *    command asks sudo again.
 */
export type SudoMode = 'nopasswd' | 'password';

/** Runs a command as the login user (no become), with stdin. */
export type RunAsUser = (cmd: ShellCommand, stdin: Buffer | undefined) => Promise<CommandResult>;

const PROBE = sh`sudo -k -n -- /bin/sh -c true`;
const VERIFY = sh`sudo -k -S -p '' -- /bin/sh -c true`;
const WRONG_PASSWORD = /incorrect password attempt|^Sorry, try again/m;
const ASKS_PASSWORD = /^sudo: (a password is required|a terminal is required to read the password)/m;

/** The stdin prefix sudo -S reads: the password and a newline. */
export function passwordLine(password: Secret): Buffer {
  return Buffer.from(`${password.reveal()}\n`);
}

/** stdin for a `sudo -k -S` command: the password line, then the command's own input. */
export function withPasswordLine(password: Secret, stdin: Stdin | undefined): Piece[] {
  return [passwordLine(password), ...pieces(stdin)];
}

/** How sudo is used for `user` on `host`: probe, then verify the password once. Throws a BecomeError. */
export async function sudoMode(host: string, user: string, password: Secret, run: RunAsUser): Promise<SudoMode> {
  const probe = await run(PROBE, undefined);
  if (probe.exitCode === 0) return 'nopasswd';
  if (!ASKS_PASSWORD.test(probe.stderr)) {
    const failure = becomeFailure(host, probe, 'sudo', user);
    if (failure) throw failure;
  }
  const verify = await run(VERIFY, passwordLine(password));
  if (verify.exitCode === 0) return 'password';
  const origin = originOf(password);
  if (WRONG_PASSWORD.test(verify.stderr)) {
    throw new BecomeError(
      host,
      verify,
      'sudo',
      user,
      `become with sudo: sudo on ${host} refused the become password of user ${user} (tried once, not again): check the password${origin ? ` (${origin})` : ''}`,
    );
  }
  throw (
    becomeFailure(host, verify, 'sudo', user) ??
    new BecomeError(host, verify, 'sudo', user, `become with sudo: checking the become password of user ${user} on ${host} failed (exit ${verify.exitCode}): ${verify.stderr.trim() || 'no message'}`)
  );
}
