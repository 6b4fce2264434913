import test from 'ava';
import { UsageError } from '../../../src/core/errors.ts';
import { selected } from '../../../src/engine/host-run.ts';
import { allTags, checkTags, listTags, tagList, type StepIds } from '../../../src/cli/tags.ts';

const steps: StepIds = new Map([
  ['web1', new Map([['base', ['motd', 'packages']], ['consul', ['install', 'config']]])],
  // another host: a step only its vars produce, and a role without steps
  ['web2', new Map([['base', ['motd', 'swap']], ['empty', []]])],
]);

test('selected: --tags picks roles or steps, --skip-tags wins', (t) => {
  t.true(selected(undefined, 'base', 'motd'));
  t.true(selected(['base'], 'base', 'motd'));
  t.false(selected(['consul'], 'base', 'motd'));
  t.true(selected(['base/motd'], 'base', 'motd'));
  t.false(selected(undefined, 'base', 'motd', ['base']));
  t.false(selected(['base'], 'base', 'motd', ['base/motd']));
  t.true(selected(['base'], 'base', 'packages', ['base/motd']));
});

test('allTags: each role before its steps, the union over hosts', (t) => {
  t.deepEqual(allTags(steps), ['base', 'base/motd', 'base/packages', 'base/swap', 'consul', 'consul/install', 'consul/config', 'empty']);
});

test('listTags applies --tags and --skip-tags', (t) => {
  t.deepEqual(listTags(steps, { tags: ['consul', 'base/motd'] }), ['base', 'base/motd', 'consul', 'consul/install', 'consul/config']);
  t.deepEqual(listTags(steps, { skipTags: ['base', 'consul/config'] }), ['consul', 'consul/install', 'empty']);
});

test('known names pass', (t) => {
  t.notThrows(() => checkTags(steps, { tags: ['base', 'consul/config', 'empty'], skipTags: ['base/swap'] }));
});

test('an unknown role or step is a usage error with a suggestion, every one at once', (t) => {
  const err = t.throws(() => checkTags(steps, { tags: ['consl', 'base/mtod', 'zzz/x'], skipTags: ['bse'] }), { instanceOf: UsageError });
  t.deepEqual(err!.message.split('\n'), [
    "--tags 'consl': no selected host runs a role or step of that name; did you mean 'consul'?",
    "--tags 'base/mtod': role 'base' has no step 'mtod'; did you mean 'base/motd'?",
    "--tags 'zzz/x': no selected host runs a role 'zzz'; the roles: 'base', 'consul' and 'empty'",
    "--skip-tags 'bse': no selected host runs a role or step of that name; did you mean 'base'?",
    '  fix: name a role or a role/step (see them with --list-tags; --limit narrows the hosts)',
  ]);
});

test('a step far from any: the role\'s steps are listed', (t) => {
  const err = t.throws(() => checkTags(steps, { tags: ['consul/restart'] }), { instanceOf: UsageError });
  t.true(err!.message.startsWith("--tags 'consul/restart': role 'consul' has no step 'restart'; its steps: 'consul/install' and 'consul/config'"), err!.message);
});

test('tagList: comma separated, trimmed, repeatable; empty refused', (t) => {
  const parse = tagList('--tags');
  t.deepEqual(parse(' a, b/c ,'), ['a', 'b/c']);
  t.deepEqual(parse('d', ['a']), ['a', 'd']);
  t.throws(() => parse(' , '), { message: /--tags takes role or role\/step names/ });
});
