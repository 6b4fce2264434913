import test from 'ava';
import { FACT_KEYS, parseOnly, pickFacts } from '../../../src/cli/facts-only.ts';
import { stubFacts } from '../../../src/facts/stub.ts';

test('FACT_KEYS are the top-level keys of the facts', (t) => {
  t.deepEqual([...FACT_KEYS].sort(), Object.keys(stubFacts[0]!).sort());
});

test('--only: keys kept in the order given, repeats once', (t) => {
  const keys = parseOnly('arch, os', parseOnly('os'));
  t.deepEqual(keys, ['os', 'arch']);
  t.deepEqual(pickFacts(stubFacts[0]!, ['arch', 'init']), { arch: 'amd64', init: 'openrc' });
});

test('--only: unknown keys are refused with a suggestion and the list', (t) => {
  const err = t.throws(() => parseOnly('os,arhc,nope'));
  t.true(err!.message.startsWith("unknown fact keys 'arhc' (did you mean 'arch'?), 'nope'; the keys are 'hostname', 'os',"), err!.message);
  t.throws(() => parseOnly(','), { message: /--only takes fact keys/ });
});
