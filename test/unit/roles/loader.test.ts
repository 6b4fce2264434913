import test from 'ava';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRoles } from '../../../src/roles/loader.ts';
import { CAIRN_PACKAGE } from '../../../src/core/package-root.ts';
import pkg from '../../../package.json' with { type: 'json' };

/** A folder outside the repository (no node_modules above it) with one role importing `spec`. */
function projectWithRole(spec: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-loader-'));
  writeFileSync(join(dir, 'package.json'), '{"type": "module"}\n');
  mkdirSync(join(dir, 'roles', 'x'), { recursive: true });
  writeFileSync(join(dir, 'roles', 'x', 'index.ts'), `import { defineRole } from '${spec}';\nexport default defineRole({ name: 'x', steps: () => [] });\n`);
  return dir;
}

test('the package name cairn knows is the one in package.json', (t) => {
  t.is(CAIRN_PACKAGE, pkg.name);
});

test("a role outside any project that imports the package: the problem says how to install it", async (t) => {
  const dir = projectWithRole(CAIRN_PACKAGE);
  const { roles, problems } = await loadRoles(['x'], dir, join(dir, 'inventory.yml'));
  t.is(roles.size, 0);
  t.is(problems.length, 1);
  const [p] = problems;
  t.is(p!.location.file, join(dir, 'roles', 'x', 'index.ts'));
  t.regex(p!.message, new RegExp(`index\\.ts imports '${CAIRN_PACKAGE}', which cannot be found from ${join(dir, 'roles', 'x')}`));
  t.regex(p!.fix ?? '', new RegExp(`npm i -D ${CAIRN_PACKAGE}.*cairn init`));
});

test("a role importing the old name 'cairn' is told the package's name", async (t) => {
  const dir = projectWithRole('cairn');
  const { problems } = await loadRoles(['x'], dir, join(dir, 'inventory.yml'));
  t.regex(problems[0]!.message, new RegExp(`imports 'cairn', which is not this package: cairn is published as '${CAIRN_PACKAGE}'`));
  t.regex(problems[0]!.fix ?? '', new RegExp(`import from '${CAIRN_PACKAGE}'`));
});

test('a role in the repository imports the package by name (self-reference) and loads', async (t) => {
  const { roles, problems } = await loadRoles(['motd', 'base'], join(import.meta.dirname, '../../../inventory'), 'inventory/demo.yml');
  t.deepEqual(problems, []);
  t.deepEqual([...roles.keys()], ['motd', 'base']);
  t.false(roles.get('motd')!.builtin);
  t.true(roles.get('base')!.builtin);
});
