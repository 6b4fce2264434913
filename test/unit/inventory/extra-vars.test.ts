import test from 'ava';
import { UsageError } from '../../../src/core/errors.ts';
import { isSecret } from '../../../src/core/secret.ts';
import { parseExtraVars } from '../../../src/inventory/vars.ts';

const macro = test.macro((t, list: string[], expected: unknown) => {
  t.deepEqual(parseExtraVars(list), expected);
});

test('number', macro, ['n=3'], { n: 3 });
test('boolean', macro, ['on=true'], { on: true });
test('string', macro, ['dc=dc1'], { dc: 'dc1' });
test('flow list', macro, ['l=[a,b]'], { l: ['a', 'b'] });
test('flow map', macro, ['m={a: 1}'], { m: { a: 1 } });
test('empty value is an empty string', macro, ['e='], { e: '' });
test('text with = and : stays text', macro, ['msg=a: b=c'], { msg: 'a: b=c' });
test('a block-list look-alike stays text', macro, ['msg=- x'], { msg: '- x' });
test('quoted number stays text', macro, ['v="3"'], { v: '3' });
test('null', macro, ['v=null'], { v: null });
test('nested keys', macro, ['consul.datacenter=dc2', 'consul.ui=true'], { consul: { datacenter: 'dc2', ui: true } });
test('later entries win', macro, ['a=1', 'a=2'], { a: 2 });
test('a whole map', macro, ['{a: 1, b: [x]}'], { a: 1, b: ['x'] });
test('no entries', macro, [], {});
test('spaces around the key are trimmed', macro, [' k =v'], { k: 'v' });

test('!secret_env gives a Secret', (t) => {
  const v = parseExtraVars(['pw=!secret_env PW'], { PW: 's3cret-value' });
  t.true(isSecret(v['pw']));
});

test('every malformed entry is named with a fix, in one UsageError', (t) => {
  const err = t.throws(() => parseExtraVars(['novalue', 'ok=1', '=x', 'bad key=1', 'l=[a,', 'a..b=1', '{a: 1']), { instanceOf: UsageError });
  const lines = err!.message.split('\n').filter((l) => l.startsWith('invalid'));
  t.deepEqual(
    lines.map((l) => /value '([^']*)'/.exec(l)?.[1]),
    ['novalue', '=x', 'bad key=1', 'l=[a,', 'a..b=1', '{a: 1'],
  );
  t.true(err!.message.includes("invalid -e (--extra-vars) value 'novalue': expected key=value\n  fix: write -e name=value"));
});

test('an unset !secret_env is a usage error', (t) => {
  const err = t.throws(() => parseExtraVars(['pw=!secret_env NOPE'], {}), { instanceOf: UsageError });
  t.regex(err!.message, /NOPE .*is not set/);
});
