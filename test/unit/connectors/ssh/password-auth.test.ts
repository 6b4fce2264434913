import test from 'ava';
import { passwordAuth, passwordFailure } from '../../../../src/connectors/ssh/password-auth.ts';
import { Secret } from '../../../../src/core/secret.ts';

const pw = new Secret('plan-pw-41');

test('the plan: none first to learn the methods, then password once, then nothing', (t) => {
  const p = passwordAuth('ops', pw, () => t.fail());
  t.like(p.next(null), { type: 'none', username: 'ops' });
  t.like(p.next(['publickey', 'keyboard-interactive', 'password']), { type: 'password', username: 'ops', password: 'plan-pw-41' });
  t.is(p.next(['publickey', 'keyboard-interactive', 'password']), undefined, 'never a second try, not by keyboard-interactive either');
  t.is(p.state.sent, 'password');
});

test('keyboard-interactive when password is not accepted; prompts answered with the password', (t) => {
  const p = passwordAuth('ops', pw, () => t.fail());
  const m = p.next(['publickey', 'keyboard-interactive']) as { type: string; prompt: (...a: unknown[]) => void };
  t.is(m.type, 'keyboard-interactive');
  let answers: string[] = [];
  m.prompt('', '', '', [{ prompt: "ops@web1's password: ", echo: false }], (a: string[]) => (answers = a));
  t.deepEqual(answers, ['plan-pw-41']);
  m.prompt('', '', '', [], (a: string[]) => (answers = a));
  t.deepEqual(answers, [], 'an information round: no answers');
});

test('a prompt cairn cannot answer aborts, and the failure says which', (t) => {
  let why = '';
  const p = passwordAuth('ops', pw, (w) => (why = w));
  const m = p.next(['keyboard-interactive']) as { prompt: (...a: unknown[]) => void };
  m.prompt('', '', '', [{ prompt: 'OTP code: ', echo: true }], () => t.fail('answered'));
  t.regex(why, /OTP code:/);
  t.regex(passwordFailure(p.state, 'ops@web1:22', undefined)!, /asked 'OTP code:', which cairn cannot answer/);
});

test('no password method offered by the server: nothing to send', (t) => {
  const p = passwordAuth('ops', pw, () => t.fail());
  t.is(p.next(['publickey']), undefined);
  t.is(passwordFailure(p.state, 'ops@web1:22', 'x'), undefined);
});
