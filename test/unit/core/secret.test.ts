import test from 'ava';
import { inspect } from 'node:util';
import { MASK, Secret, bytesHoldSecret, holdsCoercedSecret, mask, secretText } from '../../../src/core/secret.ts';
import { sh } from '../../../src/shell/sh.ts';

test('a Secret shows only the mask, reveal() gives the value', (t) => {
  const s = new Secret('core-secret-value-1');
  t.is(s.reveal(), 'core-secret-value-1');
  t.is(String(s), MASK);
  t.is(`${s}`, MASK);
  t.is(JSON.stringify({ s }), `{"s":"${MASK}"}`);
  t.is(inspect(s), `Secret(${MASK})`);
  t.is(mask('x core-secret-value-1 y'), `x ${MASK} y`);
});

test('secretText: the real text for the host, the masked text everywhere else', (t) => {
  const pw = new Secret('core-secret-value-2');
  const s = secretText`pw=${pw} port=${5432}`;
  t.true(s instanceof Secret);
  t.is(s.reveal(), 'pw=core-secret-value-2 port=5432');
  t.is(String(s), `pw=${MASK} port=5432`);
  t.is(JSON.stringify(s), `"pw=${MASK} port=5432"`);
  t.is(inspect(s), `Secret(pw=${MASK} port=5432)`);
  // the composed text is not registered whole: mask() keeps its plain parts
  t.is(mask(s.reveal()), `pw=${MASK} port=5432`);
});

test('secretText nests, and without a Secret inside the whole text is secret', (t) => {
  const pw = new Secret('core-secret-value-3');
  const inner = secretText`user:${pw}`;
  const outer = secretText`Authorization: Basic ${inner}`;
  t.is(outer.reveal(), 'Authorization: Basic user:core-secret-value-3');
  t.is(String(outer), `Authorization: Basic user:${MASK}`);
  const plain = secretText`no-secret-inside-${'x'}-core-4`;
  t.is(String(plain), MASK);
  t.is(mask('a no-secret-inside-x-core-4 b'), `a ${MASK} b`);
  // a plain Secret built afterwards is masked as usual (the hand-over does not leak)
  t.is(String(new Secret('core-secret-value-5')), MASK);
});

test('secretText refuses values that are not text', (t) => {
  t.throws(() => secretText`a${{}}`, { message: /^secretText: value 1 is object; fix: / });
});

test('secretText takes a var typed unknown (ctx.vars.pw)', (t) => {
  const vars: Record<string, unknown> = { pw: new Secret('core-secret-value-8') };
  t.is(secretText`pw=${vars.pw}`.reveal(), 'pw=core-secret-value-8');
});

test('sh: a secretText is one word, real in the text, masked in the display', (t) => {
  const tok = new Secret('core-secret-value-6');
  const cmd = sh`curl -H ${secretText`Authorization: Bearer ${tok}`} https://x`;
  t.is(cmd.text, "curl -H 'Authorization: Bearer core-secret-value-6' https://x");
  t.is(cmd.display, `curl -H 'Authorization: Bearer ${MASK}' https://x`);
});

test('holdsCoercedSecret: the mask on its own, not a banner of stars', (t) => {
  const pw = new Secret('core-secret-value-7');
  t.true(holdsCoercedSecret('pw=' + pw));
  t.true(holdsCoercedSecret(`${pw}`));
  t.true(holdsCoercedSecret(`a\n${String(pw)}\nb`));
  t.false(holdsCoercedSecret('pw=' + pw.reveal()));
  t.false(holdsCoercedSecret('*'.repeat(40)));
  t.false(holdsCoercedSecret('******* seven'));
  t.false(holdsCoercedSecret('/* comment */'));
});

test('bytesHoldSecret: a registered value inside bytes (binary around it), asked again after a new secret is registered', (t) => {
  const bytes = Buffer.concat([Buffer.from([0, 0xff, 0xfe]), Buffer.from('key=core-secret-bytes-1;'), Buffer.from([0x80])]);
  const other = Buffer.from('nothing secret here (core-secret-bytes-2 comes later)');
  t.false(bytesHoldSecret(bytes));
  t.false(bytesHoldSecret(bytes), 'the same answer from the cache');
  new Secret('core-secret-bytes-1');
  t.true(bytesHoldSecret(bytes), 'a secret registered after the first answer is seen');
  t.false(bytesHoldSecret(Buffer.from([0, 1, 2])));
  t.false(bytesHoldSecret(Buffer.from('core-secret-bytes-')), 'part of a value is not the value');
  new Secret('core-secret-bytes-2');
  t.true(bytesHoldSecret(other));
});
