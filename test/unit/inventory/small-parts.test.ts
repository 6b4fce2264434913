import test from 'ava';
import fc from 'fast-check';
import { parseDuration } from '../../../src/inventory/duration.ts';
import { resolveUserPath } from '../../../src/inventory/paths.ts';
import { closest, didYouMean, editDistance, listChoices } from '../../../src/inventory/suggest.ts';

test('durations', (t) => {
  t.is(parseDuration('500ms'), 500);
  t.is(parseDuration('10s'), 10_000);
  t.is(parseDuration('2m'), 120_000);
  t.is(parseDuration('1.5h'), 5_400_000);
  t.is(parseDuration(3), 3000);
  for (const bad of ['10', '10 seconds', '-1s', '0s', 0, -3, '', 's', null, true, Infinity]) t.is(parseDuration(bad), undefined, String(bad));
});

test('duration property: n seconds as text or number agree', (t) => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 1e6 }), (n) => parseDuration(`${n}s`) === n * 1000 && parseDuration(n) === n * 1000));
  t.pass();
});

test('user paths', (t) => {
  t.is(resolveUserPath('~', '/inv', '/home/me'), '/home/me');
  t.is(resolveUserPath('~/.ssh/k', '/inv', '/home/me'), '/home/me/.ssh/k');
  t.is(resolveUserPath('keys/k', '/inv', '/home/me'), '/inv/keys/k');
  t.is(resolveUserPath('/abs/k', '/inv', '/home/me'), '/abs/k');
});

test('edit distance and suggestions', (t) => {
  t.is(editDistance('prot', 'port'), 1);
  t.is(editDistance('', 'abc'), 3);
  t.is(closest('prot', ['address', 'port', 'user']), 'port');
  t.is(closest('zzz', ['address', 'port']), undefined);
  t.is(closest('Port', ['port']), 'port');
  t.is(didYouMean('consull', ['consul', 'nomad']), "did you mean 'consul'?");
  t.is(listChoices(['a', 'b', 'c']), "'a', 'b' and 'c'");
  t.is(listChoices([]), '(none)');
  t.is(listChoices(['a', 'b', 'c'], 2), "'a' and 'b' (and 1 more)");
});

test('edit distance property: symmetric and zero only for equal words', (t) => {
  fc.assert(fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (a, b) => editDistance(a, b) === editDistance(b, a) && (editDistance(a, b) === 0) === (a === b)));
  t.pass();
});
