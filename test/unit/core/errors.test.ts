import test from 'ava';
import { CommandFailedError, describeFailure, FAILURE_OUTPUT_LINES, NOT_RUN_AFTER_FAILURE } from '../../../src/core/errors.ts';
import { Secret } from '../../../src/core/secret.ts';

const base = { what: 'install nomad', exitCode: 1, stdout: '', stderr: '' };

test('reason, host, exit code, command, output', (t) => {
  t.is(
    describeFailure({ ...base, host: 'web1', command: '/usr/local/bin/nomad version', exitCode: 127, stderr: 'sh: /usr/local/bin/nomad: not found\n' }),
    'install nomad: command failed on web1 with exit code 127 (command not found)\n  $ /usr/local/bin/nomad version\n  sh: /usr/local/bin/nomad: not found',
  );
});

test('the exit code meaning only when there is one', (t) => {
  t.is(describeFailure(base), 'install nomad: command failed with exit code 1');
  t.is(describeFailure({ ...base, exitCode: 126 }), 'install nomad: command failed with exit code 126 (command found but not executable)');
  t.is(describeFailure({ ...base, exitCode: 137 }), 'install nomad: command failed with exit code 137 (killed by signal 9)');
});

test('stderr first, stdout when stderr is empty or blank', (t) => {
  t.is(describeFailure({ ...base, stdout: 'out', stderr: 'err' }), 'install nomad: command failed with exit code 1\n  err');
  t.is(describeFailure({ ...base, stdout: 'out\n', stderr: ' \n' }), 'install nomad: command failed with exit code 1\n  out');
});

test(`the last ${FAILURE_OUTPUT_LINES} lines, saying how many were left out`, (t) => {
  const stderr = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`).join('\n');
  const lines = describeFailure({ ...base, stderr }).split('\n');
  t.is(lines.length, 2 + FAILURE_OUTPUT_LINES);
  t.is(lines[1], '  ... (5 earlier lines not shown)');
  t.is(lines[2], '  line 6');
  t.is(lines.at(-1), '  line 20');
  t.is(describeFailure({ ...base, stderr: 'a\n\nb' }), 'install nomad: command failed with exit code 1\n  a\n\n  b', 'blank lines stay, unindented');
});

test('a multi-line command stays indented under its $', (t) => {
  t.is(describeFailure({ ...base, command: 'set -e\ntrue\nfalse' }), 'install nomad: command failed with exit code 1\n  $ set -e\n    true\n    false');
});

test('secrets are masked', (t) => {
  const s = new Secret('hunter2-failure');
  t.is(describeFailure({ ...base, command: `login ${s.reveal()}`, stderr: `bad password ${s.reveal()}` }), 'install nomad: command failed with exit code 1\n  $ login ********\n  bad password ********');
});

test('CommandFailedError says it the same way and keeps the result', (t) => {
  const result = { command: 'cat /etc/x', exitCode: 1, stdout: '', stderr: 'cat: /etc/x: No such file or directory\n', durationMs: 3 };
  const e = new CommandFailedError('web1', result, 'download of /etc/x');
  t.is(e.message, describeFailure({ what: 'download of /etc/x', host: 'web1', ...result }));
  t.is(e.message, 'download of /etc/x: command failed on web1 with exit code 1\n  $ cat /etc/x\n  cat: /etc/x: No such file or directory');
  t.is(e.result, result);
  t.is(e.host, 'web1');
  t.is(e.name, 'CommandFailedError');
});

test('the skip reason after a failure', (t) => {
  t.is(NOT_RUN_AFTER_FAILURE, 'not run: an earlier step failed');
});
