import test from 'ava';
import { InvalidInputError } from '../../../src/core/errors.ts';
import { formatLocation } from '../../../src/core/errors.ts';
import { isSecret } from '../../../src/core/secret.ts';
import { parseInventoryText } from '../../../src/inventory/load.ts';

function problemsOf(text: string, env: NodeJS.ProcessEnv = {}) {
  try {
    parseInventoryText(text, 'inv.yml', { env });
  } catch (e) {
    if (e instanceof InvalidInputError) return e.problems;
    throw e;
  }
  throw new Error('expected InvalidInputError');
}

test('password and become_password from !secret_env become Secrets on the HostSpec', (t) => {
  const inv = parseInventoryText('hosts:\n  a: { user: ops, password: !secret_env PW, become: sudo, become_password: !secret_env BPW }\n', 'inv.yml', {
    env: { PW: 'login-pw-1', BPW: 'sudo-pw-2' },
  });
  const a = inv.hosts.get('a')!;
  t.true(isSecret(a.password));
  t.true(isSecret(a.becomePassword));
  t.is(a.password!.reveal(), 'login-pw-1');
  t.is(a.becomePassword!.reveal(), 'sudo-pw-2');
  t.false(JSON.stringify(a).includes('login-pw-1'));
});

test('!secret "text" is accepted too', (t) => {
  const inv = parseInventoryText('hosts:\n  a: { password: !secret "pw3" }\n', 'inv.yml', { env: {} });
  t.is(inv.hosts.get('a')!.password!.reveal(), 'pw3');
});

test('no password: the fields are absent', (t) => {
  const a = parseInventoryText('hosts:\n  a:\n', 'inv.yml', { env: {} }).hosts.get('a')!;
  t.false('password' in a);
  t.false('becomePassword' in a);
});

test('a plain-text password is refused at its file:line, without repeating it, with the fix', (t) => {
  const problems = problemsOf('hosts:\n  a:\n    user: ops\n    password: hunter2-plain\n');
  t.is(problems.length, 1);
  const p = problems[0]!;
  t.is(formatLocation(p.location), 'inv.yml:4:15');
  t.regex(p.message, /host 'a': password must be a secret \(!secret_env NAME or !secret "text"\), got a plain text/);
  t.regex(p.fix!, /use password: !secret_env CAIRN_PASSWORD/);
  t.false(JSON.stringify(problems).includes('hunter2-plain'));
});

test('a plain-text become_password is refused the same way', (t) => {
  const problems = problemsOf('hosts:\n  a: { become: sudo, become_password: "s3cr3t-plain" }\n');
  t.is(problems.length, 1);
  t.regex(problems[0]!.message, /host 'a': become_password must be a secret/);
  t.regex(problems[0]!.fix!, /become_password: !secret_env CAIRN_BECOME_PASSWORD/);
  t.false(JSON.stringify(problems).includes('s3cr3t-plain'));
});

test('a number or a map as password is refused too', (t) => {
  t.regex(problemsOf('hosts:\n  a: { password: 1234 }\n')[0]!.message, /password must be a secret .*got 1234/);
  t.regex(problemsOf('hosts:\n  a: { password: { x: 1 } }\n')[0]!.message, /password must be a secret .*got a map/);
});

test('an unset !secret_env password is a problem that names the variable', (t) => {
  const problems = problemsOf('hosts:\n  a: { password: !secret_env NOPE_PW }\n');
  t.regex(problems.map((p) => p.message).join('\n'), /NOPE_PW/);
});
