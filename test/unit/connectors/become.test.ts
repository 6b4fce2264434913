import test from 'ava';
import { sh } from '../../../src/shell/sh.ts';
import { Secret } from '../../../src/core/secret.ts';
import { asWord, becomeFailure, BecomeError, shDashC, wrapBecome } from '../../../src/connectors/become.ts';
import { CommandFailedError } from '../../../src/core/errors.ts';
import type { CommandResult } from '../../../src/core/result.ts';

const cmd = sh`echo ${"it's"} > ${'/etc/x y'}`;

test('sudo: non-interactive, the command as one quoted word for /bin/sh -c', (t) => {
  t.is(wrapBecome(cmd, 'sudo').text, `sudo -n -- /bin/sh -c 'echo '\\''it'\\''\\'\\'''\\''s'\\'' > '\\''/etc/x y'\\'''`);
});

test('doas: non-interactive', (t) => {
  t.is(wrapBecome(sh`id -u`, 'doas').text, `doas -n /bin/sh -c 'id -u'`);
});

test('no become: unchanged', (t) => {
  t.is(wrapBecome(cmd, false), cmd);
});

test('asWord / shDashC quote the whole text once more', (t) => {
  t.is(asWord(sh`a b`).text, `'a b'`);
  t.is(shDashC(sh`echo ${'x'}; exit 3`).text, `/bin/sh -c 'echo x; exit 3'`);
});

test('secrets stay masked in the display of wrapped commands', (t) => {
  const s = new Secret('hunter2-become');
  const w = wrapBecome(sh`echo ${s}`, 'sudo');
  t.true(w.text.includes('hunter2-become'));
  t.false(w.display.includes('hunter2-become'));
  t.false(shDashC(w).display.includes('hunter2-become'));
});

function res(exitCode: number, stderr: string, stdout = ''): CommandResult {
  return { command: 'x', exitCode, stdout, stderr, durationMs: 1 };
}

test('sudo password prompt -> clear error', (t) => {
  const e = becomeFailure('web1', res(1, 'sudo: a password is required\n'), 'sudo', 'deploy');
  t.true(e instanceof BecomeError);
  t.true(e instanceof CommandFailedError);
  t.regex(e!.message, /become with sudo needs passwordless sudo for user deploy/);
  t.regex(e!.message, /NOPASSWD/);
});

test('sudo: not in sudoers / not allowed', (t) => {
  t.regex(becomeFailure('h', res(1, 'deploy is not in the sudoers file.  This incident will be reported.\n'), 'sudo', 'deploy')!.message, /may not run commands as root/);
  t.regex(becomeFailure('h', res(1, "Sorry, user deploy is not allowed to execute '/bin/sh -c id' as root on h.\n"), 'sudo', 'deploy')!.message, /may not run/);
});

test('doas (OpenDoas and OpenBSD wording)', (t) => {
  t.regex(becomeFailure('h', res(1, 'doas: Authentication required\n'), 'doas', 'tester')!.message, /become with doas needs passwordless doas for user tester/);
  t.regex(becomeFailure('h', res(1, 'doas: Authorization required\n'), 'doas', 'tester')!.message, /passwordless doas/);
  t.regex(becomeFailure('h', res(1, 'doas: Operation not permitted\n'), 'doas', 'tester')!.message, /no doas rule lets user tester/);
});

test('tool not installed', (t) => {
  t.regex(becomeFailure('h', res(127, 'sh: sudo: not found\n'), 'sudo', 'u')!.message, /sudo is not installed on h/);
  t.regex(becomeFailure('h', res(127, '/bin/sh: 1: doas: not found\n'), 'doas', 'u')!.message, /doas is not installed/);
});

test('ordinary failures are not become failures', (t) => {
  t.is(becomeFailure('h', res(1, 'grep: x: No such file\n'), 'sudo', 'u'), undefined);
  t.is(becomeFailure('h', res(0, 'sudo: a password is required\n'), 'sudo', 'u'), undefined);
  t.is(becomeFailure('h', res(1, 'sudo: a password is required\n', 'output'), 'sudo', 'u'), undefined, 'the command ran and printed');
  t.is(becomeFailure('h', res(1, 'doas: Authentication required\n'), false, 'u'), undefined);
  t.is(becomeFailure('h', res(127, 'sh: foo: not found\n'), 'sudo', 'u'), undefined);
});
