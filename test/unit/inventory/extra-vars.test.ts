import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError, UsageError } from '../../../src/core/errors.ts';
import { isSecret } from '../../../src/core/secret.ts';
import { parseExtraVars } from '../../../src/inventory/vars.ts';

const macro = test.macro((t, list: string[], expected: unknown) => {
  t.deepEqual(parseExtraVars(list), expected);
});

// key=value: the value is the text as given (like Ansible), never YAML
test('a number stays text', macro, ['n=3'], { n: '3' });
test('a boolean stays text', macro, ['on=true'], { on: 'true' });
test('string', macro, ['dc=dc1'], { dc: 'dc1' });
test('a flow list stays text', macro, ['l=[a,b]'], { l: '[a,b]' });
test('a flow map stays text', macro, ['m={a: 1}'], { m: '{a: 1}' });
test('a template stays text', macro, ['m={{x}}'], { m: '{{x}}' });
test('shell operators are kept', macro, ['cmd=&& x'], { cmd: '&& x' });
test('a # is not a comment', macro, ['v=#comment'], { v: '#comment' });
test('quotes are kept', macro, ['v="a"'], { v: '"a"' });
test('spaces around the value are kept', macro, ['v= a b '], { v: ' a b ' });
test('an unclosed bracket is text', macro, ['l=[a,'], { l: '[a,' });
test('empty value is an empty string', macro, ['e='], { e: '' });
test('text with = and : stays text', macro, ['msg=a: b=c'], { msg: 'a: b=c' });
test('a block-list look-alike stays text', macro, ['msg=- x'], { msg: '- x' });
test('null is text', macro, ['v=null'], { v: 'null' });
test('nested keys', macro, ['consul.datacenter=dc2', 'consul.ui=true'], { consul: { datacenter: 'dc2', ui: 'true' } });
test('later entries win', macro, ['a=1', 'a=2'], { a: '2' });
test('spaces around the key are trimmed', macro, [' k =v'], { k: 'v' });
test('no entries', macro, [], {});

// a whole map, inline: typed as YAML/JSON
test('a YAML flow map', macro, ['{a: 1, b: [x]}'], { a: 1, b: ['x'] });
test('a JSON map', macro, ['{"json": 1, "on": true, "n": null}'], { json: 1, on: true, n: null });
test('maps merge with key=value, later wins', macro, ['{a: {b: 1, c: 2}}', 'a.c=3'], { a: { b: 1, c: '3' } });

test('!secret_env gives a Secret', (t) => {
  const v = parseExtraVars(['pw=!secret_env PW'], { PW: 's3cret-value' });
  t.true(isSecret(v['pw']));
});

test('!secret gives a Secret', (t) => {
  const v = parseExtraVars(['pw=!secret hunter22'], {});
  t.true(isSecret(v['pw']));
  t.is((v['pw'] as { reveal(): string }).reveal(), 'hunter22');
});

test('every malformed entry is named with a fix, in one UsageError', (t) => {
  const err = t.throws(() => parseExtraVars(['novalue', 'ok=1', '=x', 'bad key=1', '[a]', 'a..b=1', '{a: 1', '{a: 1, a: 2}', '@']), { instanceOf: UsageError });
  const lines = err!.message.split('\n').filter((l) => l.startsWith('invalid'));
  t.deepEqual(
    lines.map((l) => /value '([^']*)'/.exec(l)?.[1]),
    ['novalue', '=x', 'bad key=1', '[a]', 'a..b=1', '{a: 1', '{a: 1, a: 2}', '@'],
  );
  t.true(err!.message.includes("invalid -e (--extra-vars) value 'novalue': expected key=value\n  fix: write -e name=value"));
});

test('an unset !secret_env is a usage error', (t) => {
  const err = t.throws(() => parseExtraVars(['pw=!secret_env NOPE'], {}), { instanceOf: UsageError });
  t.regex(err!.message, /NOPE .*is not set/);
});

const dir = mkdtempSync(join(tmpdir(), 'cairn-ev-'));
const write = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

test('@file: YAML vars, typed, in order with the other entries', (t) => {
  const f = write('v.yml', 'n: 3\nl: [a, b]\nconsul: { datacenter: dc1, ui: true }\npw: !secret_env PW\n');
  const v = parseExtraVars(['n=1', `@${f}`, 'consul.ui=no'], { PW: 'pw-value-123' });
  t.like(v, { n: 3, l: ['a', 'b'], consul: { datacenter: 'dc1', ui: 'no' } });
  t.true(isSecret(v['pw']));
});

test('@file: JSON vars', (t) => {
  const f = write('v.json', '{"a": {"b": [1, 2]}, "c": "x"}');
  t.deepEqual(parseExtraVars([`@${f}`]), { a: { b: [1, 2] }, c: 'x' });
});

test('@file: an empty file sets nothing', (t) => {
  t.deepEqual(parseExtraVars([`@${write('empty.yml', '# nothing\n')}`]), {});
});

test('@file: a syntax error names file:line', (t) => {
  const f = write('bad.yml', 'a: 1\nb: [x, y\nc: 2\n');
  const err = t.throws(() => parseExtraVars([`@${f}`]), { instanceOf: InvalidInputError });
  t.regex(err!.message, new RegExp(`^${f}:\\d+:\\d+: YAML syntax error`));
});

test('@file: a duplicate key names file:line', (t) => {
  const f = write('dup.yml', 'a: 1\nb: 2\na: 3\n');
  const err = t.throws(() => parseExtraVars([`@${f}`]), { instanceOf: InvalidInputError });
  t.true(err!.message.startsWith(`${f}:3:1: key 'a' appears twice`), err!.message);
});

test('@file: a list at the top is refused with file:line', (t) => {
  const f = write('list.yml', '- a\n- b\n');
  const err = t.throws(() => parseExtraVars([`@${f}`]), { instanceOf: InvalidInputError });
  t.true(err!.message.startsWith(`${f}:1:1: a vars file must be a map of names to values, got a list`), err!.message);
});

test('@file: a missing file is named', (t) => {
  const err = t.throws(() => parseExtraVars(['@/nonexistent/vars.yml']), { instanceOf: InvalidInputError });
  t.regex(err!.message, /^\/nonexistent\/vars\.yml: cannot read the vars file of -e @\/nonexistent\/vars\.yml: no such file/);
});
