import test from 'ava';
import { spawnSync } from 'node:child_process';
import { Script, comment, doubleQuoted, inDoubleQuotes, joinScripts, script, varName } from '../../../src/shell/script.ts';
import { Secret } from '../../../src/core/secret.ts';
import { sh } from '../../../src/shell/sh.ts';

const HOSTILE = ['a b', "it's", '"dq"', '$(touch /tmp/PWNED-script-test)', '`id`', '\\', '$HOME', 'two\nlines', ''];
const shOut = (text: string) => spawnSync('/bin/sh', ['-c', text], { encoding: 'utf8' }).stdout;

test('script: literal text kept, each value one single-quoted word, Scripts embedded as built', (t) => {
  t.is(script`exec ${['/bin/x', 'a b', "it's"]}\n`.text, `exec /bin/x 'a b' 'it'\\''s'\n`);
  t.is(script`ulimit -n ${65536}`.text, 'ulimit -n 65536');
  t.is(script`a ${script`b ${'c d'}`}`.text, `a b 'c d'`);
  t.is(joinScripts([script`a`, script`b`]).text, 'a\nb');
  t.is(joinScripts([script`a`, script`b`], '').text, 'ab');
});

test('script: values of other types are refused (Secrets, ShellCommands, objects)', (t) => {
  t.throws(() => script`x ${new Secret('script-test-secret') as never}`, { instanceOf: TypeError });
  t.throws(() => script`x ${sh`rm -rf /` as never}`, { instanceOf: TypeError });
  t.throws(() => script`x ${{ text: 'rm -rf /' } as never}`, { instanceOf: TypeError });
});

test('doubleQuoted and inDoubleQuotes give the value back, as data, to sh', (t) => {
  for (const v of HOSTILE) {
    t.is(shOut(`x=${doubleQuoted(v).text}; printf %s "$x"`), v, JSON.stringify(v));
    t.is(shOut(`printf %s "${inDoubleQuotes(v).text}"`), v, JSON.stringify(v));
    t.is(shOut(script`printf %s ${v}`.text), v, JSON.stringify(v));
  }
  t.is(doubleQuoted(script`-n ${'a b'}`).text, `"-n 'a b'"`);
});

test('comment refuses line breaks; varName refuses anything but a name', (t) => {
  t.is(comment('it is "fine" $(x)').text, 'it is "fine" $(x)');
  t.throws(() => comment('a\nrm -rf /'), { message: /line break/ });
  t.throws(() => comment('a\rb'), { message: /line break/ });
  t.is(varName('GOMAXPROCS').text, 'GOMAXPROCS');
  for (const bad of ['A B', '1A', 'A=1', 'A;B', '', '$(x)']) t.throws(() => varName(bad), { message: /not a shell variable name/ }, bad);
});

test('Script cannot be constructed from outside', (t) => {
  const Ctor = Script as unknown as new (...a: unknown[]) => Script;
  t.throws(() => new Ctor('rm -rf /'), { instanceOf: TypeError, message: /script tag/ });
});
