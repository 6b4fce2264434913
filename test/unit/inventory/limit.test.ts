import test from 'ava';
import fc from 'fast-check';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../../src/core/errors.ts';
import { selectHosts } from '../../../src/inventory/limit.ts';
import { loadInventory } from '../../../src/inventory/load.ts';

const inv = loadInventory(join(fileURLToPath(new URL('../../fixtures/inventory/', import.meta.url)), 'site.yml'));
const ALL = ['alp1', 'alp2', 'rpi1', 'laptop', 'image'];

const select = test.macro({
  exec(t, pattern: string | undefined, expected: string[]) {
    t.deepEqual(
      selectHosts(inv, pattern).map((h) => h.name),
      expected,
    );
  },
  title: (given, pattern) => given ?? `--limit ${JSON.stringify(pattern)}`,
});

test(select, undefined, ALL);
test(select, '', ALL);
test(select, 'all', ALL);
test(select, '*', ALL);
test(select, 'rpi1', ['rpi1']);
test(select, 'servers', ['alp1', 'alp2']);
test(select, 'rpi1,servers', ['alp1', 'alp2', 'rpi1']);
test(select, 'rpi1:servers', ['alp1', 'alp2', 'rpi1']);
test(select, 'alp*', ['alp1', 'alp2']);
test(select, 'alp?', ['alp1', 'alp2']);
test('globs match group names too', select, 'cli*', ['alp2', 'rpi1']);
test(select, 'servers,!alp1', ['alp2']);
test(select, 'servers:&clients', ['alp2']);
test(select, 'servers,clients,&servers', ['alp1', 'alp2']);
test('only exclusions start from all', select, '!servers', ['rpi1', 'laptop', 'image']);
test('only an intersection starts from all', select, '&clients', ['alp2', 'rpi1']);
test(select, ' rpi1 , laptop ', ['rpi1', 'laptop']);

test('a term matching nothing lists the names and suggests one', (t) => {
  const err = t.throws(() => selectHosts(inv, 'servers,alp9'), { instanceOf: UsageError });
  t.true(err!.message.startsWith("--limit 'servers,alp9': 'alp9' matches no host or group (did you mean 'alp1'?)"));
  t.true(err!.message.includes("hosts 'alp1', 'alp2', 'rpi1', 'laptop' and 'image'; groups 'servers', 'clients' and 'images'"));
});

test('globs are case-sensitive, like the names', (t) => {
  t.throws(() => selectHosts(inv, 'ALP*'), { instanceOf: UsageError, message: /'ALP\*' matches no host or group/ });
});

test('an exclusion of an unknown name is an error too', (t) => {
  t.throws(() => selectHosts(inv, 'all,!srvers'), { instanceOf: UsageError, message: /'srvers' matches no host or group \(did you mean 'servers'\?\)/ });
});

test('a pattern that selects nothing is an error', (t) => {
  t.throws(() => selectHosts(inv, 'rpi1,!rpi1'), { instanceOf: UsageError, message: /selects no host/ });
});

test('property: the selection is in inventory order and within the inventory', (t) => {
  const term = fc.constantFrom('all', 'servers', 'clients', 'images', 'alp*', 'rpi1', 'laptop', 'image');
  const pattern = fc.array(fc.tuple(fc.constantFrom('', '!', '&'), term), { minLength: 1, maxLength: 4 }).map((ts) => ts.map(([p, x]) => p + x).join(','));
  fc.assert(
    fc.property(pattern, (p) => {
      let names: string[];
      try {
        names = selectHosts(inv, p).map((h) => h.name);
      } catch (err) {
        return err instanceof UsageError;
      }
      const idx = names.map((n) => ALL.indexOf(n));
      return idx.every((i, k) => i >= 0 && (k === 0 || i > idx[k - 1]!));
    }),
  );
  t.pass();
});
