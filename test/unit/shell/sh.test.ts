import test from 'ava';
import { sh, joinCommands, asWord } from '../../../src/shell/sh.ts';
import { quote } from '../../../src/shell/quote.ts';
import { Secret } from '../../../src/core/secret.ts';

test('literal text is kept, values are quoted', (t) => {
  t.is(sh`echo ${"it's"} ${'$(rm -rf /)'}`.text, `echo 'it'\\''s' '$(rm -rf /)'`);
});

test('arrays become separately quoted words', (t) => {
  t.is(sh`apk add ${['a b', 'c']}`.text, `apk add 'a b' c`);
});

test('an empty string is one empty word', (t) => {
  t.is(quote(''), "''");
  t.is(sh`printf %s ${''}`.text, "printf %s ''");
});

test('nested commands embed as built', (t) => {
  const inner = sh`echo ${'x y'}`;
  t.is(sh`time ${inner}`.text, `time echo 'x y'`);
  t.is(sh`sh -c ${asWord(inner)}`.text, `sh -c 'echo '\\''x y'\\'''`);
  t.is(joinCommands([inner, sh`true`], '&&').text, `echo 'x y' && true`);
});

test('secrets are real in text and masked in display', (t) => {
  const s = new Secret('hunter2-very-secret');
  const c = sh`login --password ${s}`;
  t.true(c.text.includes('hunter2-very-secret'));
  t.false(c.display.includes('hunter2-very-secret'));
  t.false(String(c).includes('hunter2-very-secret'));
});

test('other values are refused', (t) => {
  t.throws(() => sh`echo ${{ a: 1 } as never}`, { instanceOf: TypeError });
});
