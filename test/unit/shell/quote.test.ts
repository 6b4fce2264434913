import test from 'ava';
import { quote } from '../../../src/shell/quote.ts';
import { sh, joinCommands, ShellCommand } from '../../../src/shell/sh.ts';
import { Secret } from '../../../src/core/secret.ts';

test('safe words stay bare, everything else is single-quoted', (t) => {
  t.is(quote('abc-1.2_/x:y@z%+=,'), 'abc-1.2_/x:y@z%+=,');
  t.is(quote(''), "''");
  t.is(quote('a b'), "'a b'");
  t.is(quote("it's"), `'it'\\''s'`);
  t.is(quote('$(id)'), "'$(id)'");
  t.is(quote('-rf'), '-rf', 'a leading dash is data for the shell; the command must use -- where it matters');
  t.is(quote('*'), "'*'");
  t.is(quote('~'), "'~'");
  t.is(quote('a\nb'), "'a\nb'");
});

test('sh: literal text kept, each value one word', (t) => {
  t.is(sh`install -m ${'0644'} ${'/tmp/a b'} ${'/etc/x'}`.text, `install -m 0644 '/tmp/a b' /etc/x`);
  t.is(sh`echo ${42} ${true} ${10n}`.text, 'echo 42 true 10');
});

test('arrays become separately quoted words', (t) => {
  t.is(sh`apk add ${['curl', 'a b', "it's"]}`.text, `apk add curl 'a b' 'it'\\''s'`);
  t.is(sh`x ${[]}`.text, 'x ');
  t.is(sh`x ${[['a', 'b'], 'c d']}`.text, `x a b 'c d'`);
});

test('nested ShellCommands are embedded as built, not re-quoted', (t) => {
  const inner = sh`printf %s ${'a b'}`;
  t.is(sh`${inner} | wc -c`.text, `printf %s 'a b' | wc -c`);
  t.true(sh`${inner}` instanceof ShellCommand);
});

test('joinCommands with a fixed separator', (t) => {
  t.is(joinCommands([sh`a`, sh`b ${'c d'}`], '&&').text, `a && b 'c d'`);
  t.is(joinCommands([sh`a`, sh`b`]).text, 'a\nb');
});

test('secrets: real value in text, masked in display', (t) => {
  const s = new Secret('s3cr3t-quote-test');
  const c = sh`echo ${s}`;
  t.is(c.text, 'echo s3cr3t-quote-test');
  t.false(c.display.includes('s3cr3t-quote-test'));
  t.is(String(c), c.display);
});
