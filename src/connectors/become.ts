import { sh, asWord, ShellCommand } from '../shell/sh.ts';

export { asWord };
import { CommandFailedError } from '../core/errors.ts';
import type { CommandResult } from '../core/result.ts';
import type { Become } from '../inventory/types.ts';

/** `/bin/sh -c '<command>'`: what every connector actually executes. */
export function shDashC(cmd: ShellCommand): ShellCommand {
  return sh`/bin/sh -c ${asWord(cmd)}`;
}

/**
 * Wrap a command to run as root, non-interactively (a password prompt fails
 * instead of hanging):
 *
 *   sudo: sudo -n -- /bin/sh -c '<command>'
 *   doas: doas -n /bin/sh -c '<command>'
 *
 * With `password` (sudo only, see become-password.ts): the password is the
 * first line of the command's stdin; sudo reads that line and no more, the
 * command gets the rest. -k: a cached timestamp never leaves the line unread.
 *
 *   sudo -k -S -p '' -- /bin/sh -c '<command>'
 */
export function wrapBecome(cmd: ShellCommand, become: Become, o: { password?: boolean } = {}): ShellCommand {
  if (become === 'sudo' && o.password) return sh`sudo -k -S -p '' -- /bin/sh -c ${asWord(cmd)}`;
  if (become === 'sudo') return sh`sudo -n -- /bin/sh -c ${asWord(cmd)}`;
  if (become === 'doas') return sh`doas -n /bin/sh -c ${asWord(cmd)}`;
  return cmd;
}

/** become failed before the command ran (password needed, no rule, tool missing). */
export class BecomeError extends CommandFailedError {
  readonly become: 'sudo' | 'doas';
  readonly user: string;
  constructor(host: string, result: CommandResult, become: 'sudo' | 'doas', user: string, what: string) {
    super(host, result, what);
    this.name = 'BecomeError';
    this.become = become;
    this.user = user;
  }
}

const SUDO_PASSWORD = /^sudo: (a password is required|a terminal is required to read the password)/m;
const SUDO_DENIED = /(is not in the sudoers file|^Sorry, user \S+ is not allowed to execute|^sudo: sorry, you must have a tty to run sudo)/m;
const DOAS_PASSWORD = /^doas: (Authentication|Authori[sz]ation) required/m;
const DOAS_DENIED = /^doas: (Operation not permitted|not permitted)/m;

/**
 * Recognise a become failure in a result: sudo/doas wrote its own refusal and
 * the command never ran. Returns an error that says what to do, or undefined.
 */
export function becomeFailure(host: string, result: CommandResult, become: Become, user: string, o: { password?: boolean } = {}): BecomeError | undefined {
  if (!become || result.exitCode === 0) return undefined;
  const err = result.stderr;
  if (result.exitCode === 127 && new RegExp(`(^|\\W)${become}: (command )?not found`).test(err)) {
    return new BecomeError(host, result, become, user, `become with ${become}: ${become} is not installed on ${host} (install it, or set become to ${become === 'sudo' ? "'doas'" : "'sudo'"} or false)`);
  }
  if (result.exitCode !== 1 || result.stdout !== '') return undefined;
  if (become === 'sudo') {
    if (SUDO_PASSWORD.test(err))
      return new BecomeError(host, result, become, user, `become with sudo needs passwordless sudo for user ${user} (add "${user} ALL=(ALL) NOPASSWD: ALL" to /etc/sudoers.d/${user} on ${host})`);
    if (SUDO_DENIED.test(err))
      return new BecomeError(host, result, become, user, `become with sudo: user ${user} may not run commands as root with sudo on ${host} (add "${user} ALL=(ALL) NOPASSWD: ALL" to /etc/sudoers.d/${user})`);
  } else {
    if (DOAS_PASSWORD.test(err) && o.password)
      return new BecomeError(host, result, become, user, `become with doas: doas asks user ${user} for a password on ${host}, and doas reads a password only from a terminal, which cairn does not open (become_password is for sudo): add "permit nopass ${user} as root" to /etc/doas.conf or /etc/doas.d/${user}.conf, or use become: sudo`);
    if (DOAS_PASSWORD.test(err))
      return new BecomeError(host, result, become, user, `become with doas needs passwordless doas for user ${user} (add "permit nopass ${user} as root" to /etc/doas.conf or /etc/doas.d/${user}.conf on ${host})`);
    if (DOAS_DENIED.test(err))
      return new BecomeError(host, result, become, user, `become with doas: no doas rule lets user ${user} run commands as root on ${host} (add "permit nopass ${user} as root" to /etc/doas.conf or /etc/doas.d/${user}.conf)`);
  }
  return undefined;
}
