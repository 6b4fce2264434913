import test from 'ava';
import { InvalidArgumentError } from 'commander';
import { UsageError } from '../../../src/core/errors.ts';
import { checkCliRoles, withCliRoles } from '../../../src/engine/cli-roles.ts';
import { parseRolesFlag } from '../../../src/cli/roles-flag.ts';

test('--roles: comma separated, repeatable, each role once', (t) => {
  t.deepEqual(parseRolesFlag('base, consul'), ['base', 'consul']);
  t.deepEqual(parseRolesFlag('consul,nomad', ['base', 'consul']), ['base', 'consul', 'nomad']);
  t.throws(() => parseRolesFlag('base,,consul'), { instanceOf: InvalidArgumentError, message: /separated by commas/ });
  t.throws(() => parseRolesFlag('a b'), { instanceOf: InvalidArgumentError, message: /'a b' is not a role name/ });
});

test('--roles: added after the groups\' roles; an unknown role is a usage error with the closest name', (t) => {
  t.deepEqual(withCliRoles(['base', 'consul'], ['consul', 'nomad']), ['base', 'consul', 'nomad']);
  t.notThrows(() => checkCliRoles(['base'], new Set(['base', 'consul'])));
  t.throws(() => checkCliRoles(['consol'], new Set(['base', 'consul'])), { instanceOf: UsageError, message: /unknown role 'consol' \(did you mean 'consul'\?\)/ });
});
