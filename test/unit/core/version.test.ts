import test from 'ava';
import { compareVersions, parseVersion } from '../../../src/core/version.ts';

const compare = test.macro({
  exec(t, a: string, b: string, expected: -1 | 0 | 1) {
    t.is(compareVersions(a, b), expected);
    t.is(compareVersions(b, a), (expected === 0 ? 0 : -expected) as -1 | 0 | 1, 'the other way round');
  },
  title: (given, a: string, b: string, expected: number) => given ?? `${a} ${expected < 0 ? '<' : expected > 0 ? '>' : '=='} ${b}`,
});

// what the CNI bridge gate compared (cni-plugins.ts)
test(compare, '1.3.0', '1.2.9', 1);
test(compare, '1.10.0', '1.9.9', 1);
test(compare, '1.3.0', '1.3.0', 0);
test(compare, '1.4.0', '1.3.0', 1);
test(compare, '1.2.0', '1.3.0', -1);
// what the OpenRC output_log check compared (supervisor.ts): Alpine VERSION_ID against 3.8
test(compare, '3.7.3', '3.8', -1);
test(compare, '3.19.4', '3.8', 1);
test(compare, '3.8', '3.8.0', 0);
test(compare, '3.8.0.0', '3.8', 0);
test(compare, '3.8.1', '3.8', 1);
test(compare, '3.21_alpha20240807', '3.8', 1);
test(compare, '10', '9.99', 1);
// what the Nomad stand-in compared (test/agent/standin.ts): the fingerprint's v1.4.0
test(compare, 'v1.4.0', '1.3.0', 1);
test(compare, 'v1.2.0', '1.3.0', -1);
test(compare, 'v1.3.0', '1.3.0', 0);
// suffixes do not order
test(compare, '1.3.0-rc1', '1.3.0', 0);
test(compare, '1.9.7+ent', '1.9.7', 0);
test(compare, '1.4-rc1', '1.3.9', 1);
test(compare, '1.10.0+ent', '1.9.0', 1);
test(compare, '1.2.3.4', '1.2.3', 1);

test('parseVersion: parts and suffix', (t) => {
  t.deepEqual(parseVersion('v1.4.0-rc1'), { text: 'v1.4.0-rc1', parts: [1, 4, 0], suffix: '-rc1' });
  t.deepEqual(parseVersion('1.9.7+ent'), { text: '1.9.7+ent', parts: [1, 9, 7], suffix: '+ent' });
  t.deepEqual(parseVersion('3.21_alpha20240807'), { text: '3.21_alpha20240807', parts: [3, 21], suffix: '_alpha20240807' });
  t.deepEqual(parseVersion('12'), { text: '12', parts: [12], suffix: '' });
  t.deepEqual(parseVersion('01.002'), { text: '01.002', parts: [1, 2], suffix: '' }, 'leading zeros are numbers');
});

test('parseVersion: not versions', (t) => {
  for (const s of ['', 'v', 'edge', 'unknown', '1.', '1.2.', '.1', '1..2', '1.x', 'x1.2', 'V1.2', ' 1.2', 'vv1']) {
    t.is(parseVersion(s), undefined, JSON.stringify(s));
  }
});

test('compareVersions: a non-version throws, naming it', (t) => {
  t.throws(() => compareVersions('unknown', '1.3.0'), { message: /"unknown" is not a version; expected dotted numbers such as 1\.4\.0/ });
  t.throws(() => compareVersions('1.3.0', '1.x'), { message: /"1\.x" is not a version/ });
});

test('compareVersions: parsed versions too', (t) => {
  t.is(compareVersions(parseVersion('v2.0')!, '1.99.99'), 1);
});

test('sorts', (t) => {
  t.deepEqual(['1.10.0', 'v1.2.0', '1.9', '1.9.0-rc1', '0.9'].sort(compareVersions), ['0.9', 'v1.2.0', '1.9', '1.9.0-rc1', '1.10.0']);
});
