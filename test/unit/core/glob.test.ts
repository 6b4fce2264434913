import test from 'ava';
import { globMatch, hasWildcard } from '../../../src/core/glob.ts';

const matches = test.macro({
  exec(t, text: string, pattern: string, expected: boolean, ignoreCase?: boolean) {
    t.is(globMatch(text, pattern, { ignoreCase: ignoreCase ?? false }), expected);
  },
  title: (given, text: string, pattern: string, expected: boolean, ignoreCase?: boolean) =>
    given ?? `${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(text)}${ignoreCase ? ' (ignoring case)' : ''}`,
});

// host names (ssh_config Host lines, known_hosts)
test(matches, 'web1.example', '*.example', true);
test(matches, 'web1', 'web?', true);
test(matches, 'web10', 'web?', false);
test(matches, 'web', 'web?', false);
test(matches, 'a', '*', true);
test(matches, '', '*', true);
test(matches, '', '', true);
test(matches, 'a', '', false);
test(matches, '', '?', false);
test(matches, 'abcabd', '*abd', true);
test(matches, 'abcabc', '*abd', false);
test(matches, 'db1.example', 'db?.*', true);
test(matches, 'a.b.c', '*.*', true);
test(matches, 'abc', 'a**c', true);
test(matches, 'abc', '*?*', true);
test(matches, 'ab', '???', false);
// case: sensitive unless asked (host names are compared ignoring case)
test(matches, 'WEB1', 'web1', false);
test(matches, 'WEB1', 'web1', true, true);
test(matches, 'web1', 'WEB?', true, true);
// --limit: inventory names
test(matches, 'alp1', 'alp*', true);
test(matches, 'alp1', 'alp?', true);
test(matches, 'rpi1', 'alp*', false);
test(matches, 'alp1', 'alp1', true);
// Include file names: regex and glob specials other than * and ? are literal
test(matches, '10-a.conf', '*.conf', true);
test(matches, '10-aXconf', '*.conf', false);
test(matches, 'a+b', 'a+b', true);
test(matches, 'aab', 'a+b', false);
test(matches, '[ab]', '[ab]', true);
test(matches, 'a', '[ab]', false);
test(matches, 'a\\b', 'a\\b', true);
test(matches, '!x', '!x', true);
test(matches, 'x', '!x', false);
test(matches, 'line\nbreak', 'line*', true);
test(matches, 'a\nb', 'a?b', true);
test('a star in the text is no wildcard', matches, 'a*xc', 'a*c', true);

test('no blow-up on many stars', (t) => {
  const started = Date.now();
  t.false(globMatch('a'.repeat(5000), `${'*a'.repeat(50)}b`));
  t.true(Date.now() - started < 1000);
});

test('hasWildcard', (t) => {
  t.true(hasWildcard('web*'));
  t.true(hasWildcard('db?'));
  t.false(hasWildcard('web1.example'));
  t.false(hasWildcard('[ab]'));
  t.false(hasWildcard(''));
});
